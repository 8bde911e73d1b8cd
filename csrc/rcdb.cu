// rcdb.cu: the CUDA kernel of the rcdb database (the contour kernel of common/contours.cuh under this prefix).
#include "common/contours.cuh"

CONTOUR_KERNELS(rcdb)
