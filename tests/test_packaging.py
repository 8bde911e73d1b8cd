"""The wheel carries what run time needs: the CUDA sources (NVRTC compiles them) and the published table."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT),
                        "-w", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (path,) = out.glob("fdsl_gen-*.whl")
    return path


def test_wheel_ships_cuda_sources_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for cu in (ROOT / "csrc").glob("*.cu"):
        assert f"fdsl_gen/_csrc/{cu.name}" in names
    for header in (ROOT / "csrc" / "common").iterdir():
        assert f"fdsl_gen/_csrc/common/{header.name}" in names
    assert "fdsl_gen/data/ifs2d_published_seed1.safetensors" in names


def test_installed_package_finds_its_sources(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = "from fdsl_gen.backends import cuda_modules; print(cuda_modules.csrc_dir())"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == tmp_path / "fdsl_gen" / "_csrc"
