// philox.cuh: Philox-4x32-10, as fdsl_gen/rng.py (the reference) defines it.
//   key = (seed, stream id), counter = (step low, step high, instance, category);
//   word w of a sequence is word w % 4 of step w / 4.
#pragma once
#include "host_shim.h"

struct Philox4 { unsigned int w[4]; };

__device__ __forceinline__ Philox4 philox4x32_10(unsigned int c0, unsigned int c1, unsigned int c2, unsigned int c3,
                                                 unsigned int k0, unsigned int k1) {
    for (int r = 0; r < 10; ++r) {
        if (r > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const unsigned int hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const unsigned int hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        const unsigned int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    }
    Philox4 out = {{c0, c1, c2, c3}};
    return out;
}

// The four words of `step` of the sequence keyed by (seed, stream) at (category, instance).
__device__ __forceinline__ Philox4 philox_step(unsigned int seed, unsigned int stream, unsigned int category,
                                               unsigned int instance, unsigned long long step) {
    return philox4x32_10((unsigned int)step, (unsigned int)(step >> 32), instance, category, seed, stream);
}

// Word `lane` (0..3) of a Philox step, by selection (an indexed array would go to local memory).
__device__ __forceinline__ unsigned int philox_lane(const Philox4& w, int lane) {
    return lane == 0 ? w.w[0] : lane == 1 ? w.w[1] : lane == 2 ? w.w[2] : w.w[3];
}

// Integer in [0, n) from one word (multiply-shift), as rng.bounded.
__device__ __forceinline__ unsigned int bounded(unsigned int word, unsigned int n) {
    return (unsigned int)(((unsigned long long)word * n) >> 32);
}

// float64 in [0, 1) from two words, as rng.uniform53 (exact).
__device__ __forceinline__ double uniform53(unsigned int hi, unsigned int lo) {
    return ((double)(hi >> 5) * 67108864.0 + (double)(lo >> 6)) / 9007199254740992.0;
}
