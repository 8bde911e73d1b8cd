// ofdb3d.cu: the CUDA kernels of the ofdb3d database (the 3D IFS kernels of common/ifs3d.cuh under this prefix).
#include "common/ifs3d.cuh"

IFS3D_KERNELS(ofdb3d)
