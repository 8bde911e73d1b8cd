// visual_atom.cu: the CUDA kernel of the visual_atom database (the contour kernel of common/contours.cuh under this prefix).
#include "common/contours.cuh"

CONTOUR_KERNELS(visual_atom)
