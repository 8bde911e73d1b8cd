"""Packaging: the metadata lives in pyproject.toml; this file maps the CUDA sources into the package.

`csrc/` (the .cu/.cuh/.h files NVRTC compiles at run time) is installed as `fdsl_gen/_csrc`, so that a
wheel carries it; `fdsl_gen.backends.cuda_modules.csrc_dir()` finds it there, or in a source checkout.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["fdsl_gen", "fdsl_gen.*"]) + ["fdsl_gen._csrc", "fdsl_gen._csrc.common"],
    package_dir={"fdsl_gen._csrc": "csrc", "fdsl_gen._csrc.common": "csrc/common"},
    package_data={"fdsl_gen": ["data/*.safetensors"], "fdsl_gen._csrc": ["*.cu"], "fdsl_gen._csrc.common": ["*.cuh", "*.h"]},
)
