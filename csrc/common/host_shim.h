// host_shim.h: compile the project's CUDA sources for the CPU, so that the tests can run every kernel's
// logic without a GPU and compare it with the NumPy reference.
//
// A kernel is written as a sequence of phases (device functions) separated by __syncthreads(); the
// host driver of each kernel runs phase 1 for every thread of a block, then phase 2, ..., block after
// block. Shared memory is a buffer the driver owns; atomics are plain read-modify-writes (one thread
// runs at a time). The float64/float32 intrinsics that pin rounding on the GPU (__dmul_rn, ...) are the
// plain operations here; the host build uses -ffp-contract=off so that nothing is fused.
#pragma once

#ifndef __CUDACC__
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__

struct FdslDim3 { unsigned x = 1, y = 1, z = 1; };

inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
inline unsigned int atomicMax(unsigned int* p, unsigned int v) { unsigned int o = *p; if (v > o) *p = v; return o; }
inline unsigned int atomicOr(unsigned int* p, unsigned int v) { unsigned int o = *p; *p = o | v; return o; }
inline int __popc(unsigned int v) { return __builtin_popcount(v); }
#endif
