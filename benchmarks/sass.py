"""The compiled kernels, read without a GPU: registers and SASS per kernel, instruction counts per region.

`compile_module(key)` builds csrc/<key>.cu for sm_90 with nvcc and the production options (those NVRTC
gets, `fdsl_gen.backends.cuda_modules.compile_options`) plus -DFDSL_MODEL_MARKS, which turns every FDSL_MARK(n) of the kernels
into a marker instruction (SASS PMTRIG 1 << n) at the start of a region of work. ptxas reports
registers, spills and stack; cuobjdump (the CUDA toolkit's, or the one Triton ships) gives the SASS.
`regions(kernel)` counts the instructions from each marker to the next one in address order, by class
(`CLASSES`), all branches included: an upper bound on what one run of the region issues. Where the
compiler duplicated a region (unrolled or specialised code), the largest copy counts.
"""

from __future__ import annotations

import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fdsl_gen.backends import cuda_modules


# SASS opcode (before the first dot) -> class; a class is executed by one pipe of the SM (gpu_model.PIPES)
_CLASS_OF = {
    **dict.fromkeys(("DADD", "DMUL", "DFMA", "DSETP", "DMNMX"), "fp64"),
    **dict.fromkeys(("FADD", "FMUL", "FFMA", "FSETP", "FMNMX", "FSEL", "FCHK", "HFMA2", "HADD2", "HMUL2"), "fp32"),
    **dict.fromkeys(("IMAD", "IMUL", "IDP"), "imad"),
    **dict.fromkeys(("MUFU",), "sfu"),
    **dict.fromkeys(("F2F", "F2I", "I2F", "I2I", "F2FP", "FRND"), "conv"),
    **dict.fromkeys(("LDS", "STS", "LDSM"), "shared"),
    **dict.fromkeys(("ATOMS",), "atoms"),
    **dict.fromkeys(("LDG", "STG", "ATOMG", "RED", "LD", "ST", "LDL", "STL", "ATOM"), "global"),
    **dict.fromkeys(("BAR", "MEMBAR"), "barrier"),
    **dict.fromkeys(("BRA", "BSSY", "BSYNC", "EXIT", "RET", "CALL", "JMP", "BRX", "WARPSYNC", "NOP", "YIELD"),
                    "control"),
}
CLASSES = ("fp64", "fp32", "imad", "int", "sfu", "conv", "shared", "atoms", "global", "barrier", "control", "uniform")
_LINE = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*)((?:\.[A-Z0-9_]+)*)\s*([^;]*);")


def op_class(op: str) -> str:
    if op in _CLASS_OF:
        return _CLASS_OF[op]
    if op.startswith("U") or op in ("S2R", "S2UR", "CS2R", "R2UR", "LDC", "VOTEU"):
        return "uniform"
    return "int"  # IADD3, LOP3, SHF, ISETP, LEA, SEL, MOV, PRMT, POPC, FLO, ...


@dataclass
class Kernel:
    name: str
    registers: int
    stack: int
    instructions: list = field(default_factory=list)  # (address, opcode, modifiers, operands)

    def regions(self) -> dict[int, collections.Counter]:
        """{marker n: instructions by class} from each PMTRIG to the next (the largest copy of a region)."""
        found: dict[int, collections.Counter] = {}
        marker, counts = None, collections.Counter()
        for _, op, mods, operands in self.instructions + [(None, "PMTRIG", "", "0x0")]:
            if op == "PMTRIG":
                if marker is not None and sum(counts.values()) > sum(found.get(marker, {}).values()):
                    found[marker] = counts
                mask = int(operands.strip(), 16)
                marker, counts = (mask.bit_length() - 1 if mask else None), collections.Counter()
                continue
            if marker is not None:
                counts[op_class(op)] += 1
        return found

    def total(self) -> int:
        return sum(1 for _, op, _, _ in self.instructions if op != "PMTRIG")


def nvcc() -> str:
    """The CUDA toolkit's nvcc."""
    found = shutil.which("nvcc") or next(iter(sorted(glob.glob("/usr/local/cuda*/bin/nvcc"))), None)
    if found:
        return found
    raise FileNotFoundError("nvcc was not found (the CUDA toolkit)")


def cuobjdump() -> str:
    """The cuobjdump of the CUDA toolkit, or the one Triton ships."""
    found = shutil.which("cuobjdump") or next(iter(glob.glob("/usr/local/cuda*/bin/cuobjdump")), None)
    if found:
        return found
    for base in sys.path:
        path = Path(base) / "triton" / "backends" / "nvidia" / "bin" / "cuobjdump"
        if path.exists():
            return str(path)
    raise FileNotFoundError("cuobjdump was not found (CUDA toolkit, or pip install triton)")


def compile_module(key: str, marks: bool = True) -> dict[str, Kernel]:
    """{kernel name: Kernel} of csrc/<key>.cu for sm_90."""
    with tempfile.TemporaryDirectory() as tmp:
        cubin = os.path.join(tmp, f"{key}.cubin")
        flags = ["-DFDSL_MODEL_MARKS"] if marks else []
        r = subprocess.run([nvcc(), "-arch=sm_90", "-cubin", *cuda_modules.compile_options(), *flags, "-Xptxas", "-v",
                            "-o", cubin, str(cuda_modules.csrc_dir() / f"{key}.cu")], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(r.stderr)
        sass = subprocess.run([cuobjdump(), "-sass", cubin], capture_output=True, text=True, check=True).stdout
    kernels = {}
    for name, body in re.findall(r"Compiling entry function '(\w+)' for 'sm_90'\n(.*?)(?=ptxas info    : Compiling|\Z)",
                                 r.stderr, re.S):
        regs = re.search(r"Used (\d+) registers", body)
        stack = re.search(r"(\d+) bytes stack frame", body)
        kernels[name] = Kernel(name, int(regs.group(1)) if regs else 0, int(stack.group(1)) if stack else 0)
    for chunk in re.split(r"\n\s*Function : ", sass)[1:]:
        name = chunk.split()[0]
        if name in kernels:
            kernels[name].instructions = [(int(a, 16), op, mods, rest) for a, op, mods, rest in _LINE.findall(chunk)]
    return kernels
