// exfractaldb.cu: the CUDA kernels of the exfractaldb database (the 3D IFS kernels of common/ifs3d.cuh under this prefix).
#include "common/ifs3d.cuh"

IFS3D_KERNELS(exfractaldb)
