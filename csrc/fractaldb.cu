// fractaldb.cu: the CUDA kernels of the fractaldb database (the 2D IFS kernels of common/ifs2d.cuh under this prefix).
#include "common/ifs2d.cuh"

IFS2D_KERNELS(fractaldb)
