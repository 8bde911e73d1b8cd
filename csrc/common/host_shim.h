// host_shim.h: compile the project's CUDA sources for the CPU, so that the tests can run every kernel's
// logic without a GPU and compare it with the NumPy reference.
//
// A kernel is written as a sequence of phases (device functions) separated by __syncthreads(); the
// host driver of each kernel (`fdsl_host::Grid`) runs phase 1 for every thread of a block, then phase
// 2, ..., block after block. The order of the blocks, and of the threads in every phase, is a seeded
// random permutation once `fdsl_shim_set_order` has set a seed (0: the plain order), so that an output
// which depends on the order shows. The dynamic shared memory is one buffer the driver owns, refilled
// with a poison pattern before every block (the GPU gives no zeros either). Atomics are plain
// read-modify-writes (one thread runs at a time). The float64/float32 intrinsics that pin rounding on
// the GPU (__dmul_rn, ...) are the plain operations here; the host build uses -ffp-contract=off so that
// nothing is fused.
//
// Kernel code holds every pointer to global memory as gmem<T> and every pointer to shared memory as
// smem<T>: plain T* on the GPU and in the plain host build, tracked pointers that report each access
// to the race checker (racecheck.h) in the checking build (-DFDSL_RACECHECK).
#pragma once

// FDSL_MARK(n), n in 0..15: the start of a region of work that benchmarks/gpu_model.py counts. Only a
// build with -DFDSL_MODEL_MARKS (the cost model's) plants a marker instruction (PTX pmevent, SASS PMTRIG);
// every other build compiles it to nothing.
#if defined(__CUDACC__) && defined(FDSL_MODEL_MARKS)
#define FDSL_MARK(n) asm volatile("pmevent " #n ";")
#else
#define FDSL_MARK(n)
#endif

#if defined(FDSL_RACECHECK) && !defined(__CUDACC__)
#include "racecheck.h"
template <class T> using gmem = fdsl_rc::Ptr<T, fdsl_rc::GLOBAL>;
template <class T> using smem = fdsl_rc::Ptr<T, fdsl_rc::SHARED>;
#else
template <class T> using gmem = T*;
template <class T> using smem = T*;
#endif

#ifndef __CUDACC__
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __restrict__

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
inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { unsigned int o = *p; *p = o + v; return o; }
inline int __popc(unsigned int v) { return __builtin_popcount(v); }

#ifdef FDSL_RACECHECK
template <fdsl_rc::Space S> unsigned int atomicMax(fdsl_rc::Ptr<unsigned int, S> p, unsigned int v) {
    fdsl_rc::record(p.raw(), sizeof(unsigned int), fdsl_rc::ATOMIC, nullptr, S);
    return atomicMax(p.raw(), v);
}
template <fdsl_rc::Space S> unsigned int atomicOr(fdsl_rc::Ptr<unsigned int, S> p, unsigned int v) {
    fdsl_rc::record(p.raw(), sizeof(unsigned int), fdsl_rc::ATOMIC, nullptr, S);
    return atomicOr(p.raw(), v);
}
template <fdsl_rc::Space S> unsigned int atomicAdd(fdsl_rc::Ptr<unsigned int, S> p, unsigned int v) {
    fdsl_rc::record(p.raw(), sizeof(unsigned int), fdsl_rc::ATOMIC, nullptr, S);
    return atomicAdd(p.raw(), v);
}
#endif

namespace fdsl_host {

inline bool shuffled = false;  // false: blocks and threads in the plain order
inline uint64_t order_state = 0;

inline uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// 0 .. n - 1 in the launch order: shuffled (Fisher-Yates) when a seed is set.
inline std::vector<int> launch_order(int n) {
    std::vector<int> order(n);
    for (int k = 0; k < n; ++k) order[k] = k;
    if (shuffled)
        for (int k = n - 1; k > 0; --k) std::swap(order[k], order[splitmix64(order_state) % (uint64_t)(k + 1)]);
    return order;
}

// One launch: a gx x gy grid of blocks of `threads` threads with `shared_bytes` of dynamic shared memory.
class Grid {
  public:
    Grid(int gx, int gy, int threads, int shared_bytes)
        : gx_(gx), gy_(gy), threads_(threads), shared_((size_t)shared_bytes / 16 + 1) {
#ifdef FDSL_RACECHECK
        fdsl_rc::shared_region(shared_.data(), (size_t)shared_bytes);
#endif
    }

    // The dynamic shared memory from `byte_offset` on, as an array of T (extern __shared__ T name[]).
    template <class T> smem<T> shared(size_t byte_offset = 0) {
        return (T*)((char*)shared_.data() + byte_offset);
    }

    // block(x, y) for every block, in the launch order, each starting on poisoned shared memory.
    template <class Block> void run(Block block) {
        for (int k : launch_order(gx_ * gy_)) {
            memset(shared_.data(), 0xA5, shared_.size() * sizeof(Chunk));
#ifdef FDSL_RACECHECK
            fdsl_rc::enter_block(k % gx_, k / gx_);
#endif
            block(k % gx_, k / gx_);
        }
    }

    // One phase of the current block (up to the next __syncthreads()): thread(t) for every thread.
    template <class Thread> void phase(Thread thread) {
#ifdef FDSL_RACECHECK
        fdsl_rc::enter_phase();
#endif
        for (int t : launch_order(threads_)) {
#ifdef FDSL_RACECHECK
            fdsl_rc::enter_thread(t);
#endif
            thread(t);
        }
    }

    // A kernel without barriers: thread(blockIdx.x * blockDim.x + threadIdx.x) for every thread.
    template <class Thread> void threads(Thread thread) {
        run([&](int x, int) { phase([&](int t) { thread(x * threads_ + t); }); });
    }

  private:
    struct alignas(16) Chunk { unsigned char bytes[16]; };  // as CUDA aligns dynamic shared memory
    int gx_, gy_, threads_;
    std::vector<Chunk> shared_;
};

}  // namespace fdsl_host

// The first parameters of every host driver: the launch's grid, block and dynamic shared memory.
#define FDSL_GRID_PARAMS int gx, int gy, int threads, int shared_bytes
#define FDSL_GRID_ARGS gx, gy, threads, shared_bytes

// Seeds the launch order of the later launches of this library (0: the plain order). Defined here, as
// each library is one translation unit.
extern "C" void fdsl_shim_set_order(unsigned long long seed) {
    fdsl_host::shuffled = seed != 0;
    fdsl_host::order_state = seed;
}
#endif
