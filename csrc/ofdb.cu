// ofdb.cu: the CUDA kernels of the ofdb database (the 2D IFS kernels of common/ifs2d.cuh under this prefix).
#include "common/ifs2d.cuh"

IFS2D_KERNELS(ofdb)
