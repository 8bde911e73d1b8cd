"""The CUDA sources, installed as the package data `fdsl_gen/_csrc` (NVRTC compiles them at run time)."""
