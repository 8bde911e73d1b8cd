// planted_race.cu: races planted for tests/test_racecheck.py, each beside a twin made safe by a barrier, an
// atomic or separate memory; the race checker must catch the first kind and pass the second. Built like
// csrc/<key>.cu, through the same shim; host only.
//
// Every plant runs 4 phases in every block: thread 0 zeroes the shared word, phases 1 and 2 hold the
// plant, and thread 0 copies the shared word to out[block], so that an order-dependent result shows.
#include "common/host_shim.h"

enum Plant {
    SHARED_WRITE_WRITE,          // race: two threads store different values to one shared word in one phase
    SHARED_WRITE_WRITE_BARRIER,  // safe: the second store is a phase later
    SHARED_WRITE_WRITE_ATOMIC,   // safe: both are atomicMax (and thread 0 reads the result after a barrier)
    SHARED_ATOMIC_READ,          // race: one thread updates atomically, another loads, in one phase
    SHARED_READ_WRITE,           // race: one thread stores, another loads, in one phase
    SHARED_READ_WRITE_BARRIER,   // safe: the load is a phase later
    SHARED_INCREMENT,            // race: every thread adds 1 (a load and a store)
    SHARED_PER_BLOCK,            // safe: both blocks store different values, each to its own shared memory
    GLOBAL_TWO_BLOCKS,           // race: each block stores its index + 1 to out[2], in different phases
    GLOBAL_TWO_BLOCKS_ATOMIC,    // safe: both are atomicOr
    GLOBAL_SAME_VALUE,           // same-value store: every thread of every block stores 255 to out[2]
    GLOBAL_SAME_VALUE_READ,      // race: as the last, and thread 1 of block 0 loads out[2] in the same phase
    STRAY,                       // stray: a store one word past the end of out
};

__device__ void planted(int plant, int phase, int b, int t, smem<unsigned int> s, gmem<unsigned int> out) {
    if (phase == 0 || phase == 3) {
        if (t == 0 && phase == 0) s[0] = 0u;
        if (t == 0 && phase == 3) out[b] = s[0];
        return;
    }
    const bool first = phase == 1, t0 = first && t == 0, t1 = first && t == 1;
    switch (plant) {
        case SHARED_WRITE_WRITE: if (t0 || t1) s[0] = t + 1u; break;
        case SHARED_WRITE_WRITE_BARRIER: if (phase == t + 1) s[0] = t + 1u; break;
        case SHARED_WRITE_WRITE_ATOMIC: if (t0 || t1) atomicMax(&s[0], t + 1u); break;
        case SHARED_ATOMIC_READ: if (t0) atomicMax(&s[0], 5u); if (t1) out[2 + b] = s[0]; break;
        case SHARED_READ_WRITE: if (t0) s[0] = 7u; if (t1) out[2 + b] = s[0]; break;
        case SHARED_READ_WRITE_BARRIER: if (t0) s[0] = 7u; if (!first && t == 1) out[2 + b] = s[0]; break;
        case SHARED_INCREMENT: if (first) s[0] += 1u; break;
        case SHARED_PER_BLOCK: if (t0) s[0] = b + 1u; break;
        case GLOBAL_TWO_BLOCKS: if (t == 0 && phase == b + 1) out[2] = b + 1u; break;
        case GLOBAL_TWO_BLOCKS_ATOMIC: if (t0) atomicOr(&out[2], b + 1u); break;
        case GLOBAL_SAME_VALUE: if (first) out[2] = 255u; break;
        case GLOBAL_SAME_VALUE_READ: if (first) out[2] = 255u; if (t1 && b == 0) s[0] = out[2]; break;
        case STRAY: if (t0) out[4] = 1u; break;
    }
}

// out [4]; launched on 2 blocks of a few threads with 4 bytes of shared memory.
extern "C" void planted_host(FDSL_GRID_PARAMS, unsigned int* out, int plant) {
    fdsl_host::Grid g(FDSL_GRID_ARGS);
    const smem<unsigned int> s = g.shared<unsigned int>();
    g.run([&](int b, int) {
        for (int phase = 0; phase < 4; ++phase) g.phase([&](int t) { planted(plant, phase, b, t, s, out); });
    });
}
