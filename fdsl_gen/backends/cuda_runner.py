"""Launching the project's CUDA kernels on a GPU, and the one upload per launch group both runners share.

A kernel call is described once: its module (`csrc/<key>.cu`), name, grid, block, dynamic shared
memory and arguments, each tagged with its C type in a signature string ("p" pointer, "i" int32,
"u" uint32, "d" float64). `CudaRunner` launches it with CuPy on torch's current stream, over
torch-allocated memory; `host_runner.HostRunner` runs the same description on the CPU (tests).

Nothing here waits for the GPU. The host arrays of a render go up in one packed copy from pinned
memory (`upload`), issued on the current stream without blocking the host; constants (the map-choice
sequence, the colour table, ...) go up once per device (`constant`). Pointers reach CuPy as plain
64-bit integers, so no DLPack exchange (which would make one stream wait on another) takes place.
"""

from __future__ import annotations

import numpy as np

from . import cuda_modules

ALIGN = 256  # byte alignment of each array inside a packed upload (any C type, coalesced loads)
_NUMPY = {"i": np.int32, "u": np.uint32, "d": np.float64}
_TORCH_DTYPES = ("uint8", "int32", "uint32", "int64", "float32", "float64")


def pack_layout(arrays) -> tuple[list[int], int]:
    """Byte offsets of `arrays` inside one buffer (each aligned to ALIGN) and the buffer's size."""
    offsets, total = [], 0
    for a in arrays:
        offsets.append(total)
        total += -(-max(a.nbytes, 1) // ALIGN) * ALIGN
    return offsets, total


def pack_into(buffer: np.ndarray, arrays, offsets) -> None:
    """Copy C-contiguous images of `arrays` into the uint8 `buffer` at `offsets`."""
    for a, off in zip(arrays, offsets):
        a = np.ascontiguousarray(a)
        buffer[off: off + a.nbytes] = a.reshape(-1).view(np.uint8)


def grid_limits(grid) -> tuple[int, ...]:
    """`grid` as a 3-tuple, checked against CUDA's limits (x < 2**31, y and z <= 65,535, all >= 1)."""
    dims = tuple(int(g) for g in grid) + (1,) * (3 - len(grid))
    if not (1 <= dims[0] <= 2**31 - 1 and all(1 <= d <= 65535 for d in dims[1:])):
        raise ValueError(f"grid {dims} is outside CUDA's limits (x < 2**31, y and z <= 65,535)")
    return dims


def to_device(array, device, dtype=None):
    """`array` (NumPy, a list or a CPU tensor) as a torch tensor on `device`.

    To a GPU it goes through pinned memory as a non-blocking copy on the current stream, so the host
    never waits (the caching host allocator keeps the staging memory until the copy has run).
    """
    import torch

    if isinstance(array, torch.Tensor):
        host = array if dtype is None else array.to(dtype)
    else:
        host = torch.as_tensor(np.ascontiguousarray(array), dtype=dtype)
    if torch.device(device).type != "cuda":
        return host.to(device)
    return host.pin_memory().to(device, non_blocking=True)


class CudaRunner:
    """Kernels on the current CUDA device and stream; arrays are torch tensors."""

    _constants: dict = {}  # (device index, name) -> (tensor, event recorded after its upload)
    _shared_opt_in: dict = {}  # (device index, module, kernel) -> dynamic shared bytes allowed so far

    def __init__(self):
        import torch

        self.torch = torch
        self.device = torch.device("cuda", torch.cuda.current_device())
        self.cache_key = ("cuda", self.device.index)  # what a database's device-side data is kept under

    def identity(self) -> str:
        """The GPU and the software that compiles for it (a self-check verdict holds for these only)."""
        import cupy

        runtime = cupy.cuda.runtime
        return (f"{self.torch.cuda.get_device_name(self.device)} cupy {cupy.__version__} "
                f"cuda {runtime.runtimeGetVersion()} driver {runtime.driverGetVersion()}")

    def upload(self, *arrays):
        """One pinned, non-blocking host-to-device copy of every array; returns a tensor view per array."""
        torch = self.torch
        arrays = [np.ascontiguousarray(a) for a in arrays]
        for a in arrays:
            if a.dtype.name not in _TORCH_DTYPES:
                raise TypeError(f"cannot upload {a.dtype} arrays")
        offsets, total = pack_layout(arrays)
        staging = torch.empty(total, dtype=torch.uint8, pin_memory=True)  # packed straight into pinned memory
        pack_into(staging.numpy(), arrays, offsets)
        packed = staging.to(self.device, non_blocking=True)  # the host allocator keeps it until the copy ran
        return [packed[off: off + a.nbytes].view(getattr(torch, a.dtype.name)).view(a.shape)
                for a, off in zip(arrays, offsets)]

    def constant(self, name: str, make):
        """A read-only device copy of `make()` (a NumPy array), uploaded once per device and name."""
        key = (self.device.index, name)
        torch = self.torch
        if key not in self._constants:
            (tensor,) = self.upload(make())
            done = torch.cuda.Event()
            done.record()
            self._constants[key] = (tensor, done)
        tensor, done = self._constants[key]
        torch.cuda.current_stream().wait_event(done)  # a GPU-side wait, also for streams other than the first
        return tensor

    def empty(self, shape, dtype):
        return self.torch.empty(shape, dtype=getattr(self.torch, np.dtype(dtype).name), device=self.device)

    def fill(self, array, value) -> None:
        array.fill_(value)  # queued on the current stream

    def launch(self, key: str, name: str, grid, block: int, smem: int, signature: str, args: list) -> None:
        import cupy

        values = [np.uint64(a.data_ptr()) if kind == "p" else _NUMPY[kind](a)
                  for kind, a in zip(signature.split(), args)]
        stream = cuda_modules.torch_stream()
        with cupy.cuda.Device(self.device.index), stream:  # the function and its attribute on this device
            kernel = cuda_modules.kernel(key, name)
            opted = self._shared_opt_in.get((self.device.index, key, name), 48 * 1024)
            if smem > opted:  # a driver call: once per kernel and larger size, not per launch
                kernel.max_dynamic_shared_size_bytes = smem
                self._shared_opt_in[(self.device.index, key, name)] = smem
            kernel(grid_limits(grid), (block,), tuple(values), shared_mem=smem)

    def to_numpy(self, array) -> np.ndarray:
        """The array on the host (waits for the GPU: searches and tests only, never a render)."""
        return array.cpu().numpy()

    def result(self, array):
        return array
