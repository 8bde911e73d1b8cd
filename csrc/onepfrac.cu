// onepfrac.cu: the CUDA kernels of the onepfrac database (the 2D IFS kernels of common/ifs2d.cuh under this prefix).
#include "common/ifs2d.cuh"

IFS2D_KERNELS(onepfrac)
