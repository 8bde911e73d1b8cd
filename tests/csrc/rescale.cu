// rescale.cu: ifs2d_rescale_fast (csrc/common/ifs2d.cuh) against the exact ifs2d_rescale, host only, for
// tests/test_parity.py: random points and bounds of every scale, and values planted at integer boundaries.
#include "common/ifs2d.cuh"

// Over n cases drawn from seed: how many differ (want == 0), and in *near how many the fast path's value
// lay within 2^-20 of an integer (its guard hands those to the exact division; the planted cases make some).
extern "C" long long rescale_mismatches(unsigned long long seed, long long n, long long* near) {
    uint64_t s = seed;
    auto next = [&]() { return fdsl_host::splitmix64(s); };
    auto unit = [&]() { return (double)(next() >> 11) * 0x1p-53; };
    long long bad = 0;
    for (long long k = 0; k < n; ++k) {
        const int extent = 16 + (int)(next() % 4081), pad = 6;
        const double span = std::ldexp(0.5 + unit(), (int)(next() % 80) - 40);
        const double lo = (next() & 1) ? -unit() * span : std::ldexp(unit(), (int)(next() % 60) - 30) * span;
        const double hi = lo + span;
        double v = lo + unit() * span;
        if (next() % 4 == 0) {  // a value whose exact result lies on, or next to, an integer
            const double scale = extent - 2 * pad;
            const double target = std::floor(unit() * scale) / scale;
            v = (lo < 0.0 ? lo : 0.0) + target * (hi - lo);
            for (int step = (int)(next() % 5); step > 0; --step) v = std::nextafter(v, (next() & 1) ? 1e300 : -1e300);
        }
        const double inv = ifs2d_rescale_inverse(lo, hi);
        bad += ifs2d_rescale_fast(v, lo, hi, inv, extent, pad) != ifs2d_rescale(v, lo, hi, extent, pad);
        const double value = ((lo < 0.0 ? v - lo : v) * inv) * (extent - 2 * pad) + pad;
        const double frac = value - std::floor(value);
        *near += value >= 0.0 && value < 16777216.0 && (frac <= 0x1p-20 || frac >= 1.0 - 0x1p-20);
    }
    return bad;
}
