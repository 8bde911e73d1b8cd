// ifs2d.cuh: the 2D IFS kernels shared by fractaldb, ofdb and onepfrac (each .cu instantiates them with its
// prefix). Must equal fdsl_gen/databases/ifs2d/render_ref.py bit for bit.
//
// trace  (one thread per system): the chaos game in float64 (__dmul_rn/__dadd_rn: never fused), keeping
//        a checkpoint every `chunk` points, the bounds and whether every value is finite. A system's
//        trace depends on its parameters only, so the launcher keeps it per category table.
// coords (one block per system and group of chunks): every thread re-runs one chunk from its checkpoint
//        (the same operations, so the same points), rescales and writes the pixel coordinates, x | y << 16,
//        of every point. The float64 work of an image is done here, once, whatever its bands.
// raster (one block per image and band of rows; the pair on the grid's x, bands of one image adjacent so
//        that they share the coordinates in L2): threads take groups of 4 consecutive points (one Philox
//        step of patch patterns), draw their 9-bit patches and keep per pixel the largest key
//        (point index + 1) << 1 | cell bit with atomicMax in shared memory: the last point wins, whatever
//        the thread order. Plain gray points need no key: a bitmap (atomicOr) holds the lit pixels. Then
//        the keys or bits become grays or colour-table entries. Systems that are not finite are drawn by
//        the CPU backend.
// fill   (one block per search candidate): the chain's points into a shared bitmap, then a popcount.
//
// The map of a step is chosen among at most 7 running sums held in registers (an unrolled, predicated
// count), never in local memory.
#pragma once
#include "philox.cuh"

#define IFS2D_MAX_MAPS 7
#define IFS2D_ROW 7  // a, b, c, d, e, f, p

struct Ifs2dState { double x, y; };

// One chaos-game step: map j is the first whose running sum of p reaches u; none repeats the point.
// `sys` is global or shared memory; the count over the running sums is unrolled so that `cum` stays in
// registers (a loop with a run-time bound would put it in local memory).
template <class Sys>
__device__ __forceinline__ Ifs2dState ifs2d_step(Sys sys, const double* cum, int n_maps, double u, Ifs2dState s) {
    int j = 0;
#pragma unroll
    for (int k = 0; k < IFS2D_MAX_MAPS; ++k) j += (k < n_maps) & (u > cum[k]);
    if (j < n_maps) {
        const Sys m = sys + j * IFS2D_ROW;
        const double nx = __dadd_rn(__dadd_rn(__dmul_rn(s.x, m[0]), __dmul_rn(s.y, m[1])), m[4]);
        const double ny = __dadd_rn(__dadd_rn(__dmul_rn(s.x, m[2]), __dmul_rn(s.y, m[3])), m[5]);
        s.x = nx;
        s.y = ny;
    }
    return s;
}

// cum[k] = p_0 + ... + p_k for k < n_maps (left to right, as the reference); the rest unused.
template <class Sys>
__device__ __forceinline__ void ifs2d_running_sums(Sys sys, int n_maps, double* cum) {
    double total = 0.0;
#pragma unroll
    for (int k = 0; k < IFS2D_MAX_MAPS; ++k) {
        if (k < n_maps) total = __dadd_rn(total, sys[k * IFS2D_ROW + 6]);
        cum[k] = total;
    }
}

__device__ __forceinline__ bool is_finite(double v) { return __dsub_rn(v, v) == 0.0; }

// NumPy's float64 -> uint16 cast on x86-64 (render_ref.c_cast_uint16).
__device__ __forceinline__ unsigned int c_cast_uint16(double v) {
    if (!(v > -2147483649.0 && v < 2147483648.0)) return 0u;
    return (unsigned int)((long long)v & 0xFFFF);
}

// The divisor of ifs2d_rescale for bounds [lo, hi] (the reference's (hi - lo) - 0 after a shift by lo < 0).
__device__ __forceinline__ double ifs2d_rescale_span(double lo, double hi) {
    return lo < 0.0 ? __dsub_rn(__dsub_rn(hi, lo), 0.0) : __dsub_rn(hi, lo);
}

// render_numba._rescale_finite: shift by lo < 0 (new minimum 0, new maximum hi - lo), then to [pad, extent - pad].
__device__ __forceinline__ unsigned int ifs2d_rescale(double v, double lo, double hi, int extent, int pad) {
    const double scale = (double)(extent - 2 * pad), off = (double)pad;
    const double num = lo < 0.0 ? __dsub_rn(v, lo) : v;
    return c_cast_uint16(__dadd_rn(__dmul_rn(__ddiv_rn(num, ifs2d_rescale_span(lo, hi)), scale), off));
}

// The exact rescale as a subroutine: the rare fallback of ifs2d_rescale_fast stays out of its caller's loop.
__device__ __noinline__ unsigned int ifs2d_rescale_exact(double v, double lo, double hi, int extent, int pad) {
    return ifs2d_rescale(v, lo, hi, extent, pad);
}

// ifs2d_rescale without its division where that is safe: `inv` = 1 / (the divisor) rounded. The quotient
// from the reciprocal is within 2^-50 (relative) of the correctly rounded one, so for a result below 2^24 the
// two final values differ by less than 2^-25; where the fast one's fraction is further than 2^-20 from an
// integer, both truncate to the same integer. Elsewhere (rare) the exact division decides.
__device__ __forceinline__ unsigned int ifs2d_rescale_fast(double v, double lo, double hi, double inv, int extent,
                                                          int pad) {
    const double scale = (double)(extent - 2 * pad), off = (double)pad;
    const double num = lo < 0.0 ? __dsub_rn(v, lo) : v;
    const double value = __dadd_rn(__dmul_rn(__dmul_rn(num, inv), scale), off);
    if (value >= 0.0 && value < 16777216.0) {
        const double whole = floor(value), frac = __dsub_rn(value, whole);
        if (frac > 0x1p-20 && frac < 1.0 - 0x1p-20) return (unsigned int)(long long)whole & 0xFFFFu;
    }
    return ifs2d_rescale_exact(v, lo, hi, extent, pad);
}

// The reciprocal of ifs2d_rescale's divisor for bounds [lo, hi].
__device__ __forceinline__ double ifs2d_rescale_inverse(double lo, double hi) {
    return __ddiv_rn(1.0, ifs2d_rescale_span(lo, hi));
}

// Points first .. last - 1 of a chain replayed from `ck` (the point at `first`, a trace's checkpoint) with
// the trace's operations, so the same points, and rescaled into the canvas by bounds `bd` (min x, max x,
// min y, max y): visit(i, x, y) with ifs2d_rescale's x and y. The coords and fill kernels share it.
template <class Sys, class Visit>
__device__ __forceinline__ void ifs2d_replay(Sys sys, int nm, gmem<const double> us, gmem<const double> ck,
                                             gmem<const double> bd, int first, int last, int size, int pad,
                                             Visit visit) {
    double cum[IFS2D_MAX_MAPS];
    ifs2d_running_sums(sys, nm, cum);
    const double xlo = bd[0], xhi = bd[1], ylo = bd[2], yhi = bd[3];
    const double xinv = ifs2d_rescale_inverse(xlo, xhi), yinv = ifs2d_rescale_inverse(ylo, yhi);
    Ifs2dState p = {ck[0], ck[1]};
    for (int i = first; i < last; ++i) {
        FDSL_MARK(1);  // model: one point's step and rescale (and the caller's visit)
        if (i > first) p = ifs2d_step(sys, cum, nm, us[i - 1], p);
        visit(i, ifs2d_rescale_fast(p.x, xlo, xhi, xinv, size, pad), ifs2d_rescale_fast(p.y, ylo, yhi, yinv, size, pad));
    }
    FDSL_MARK(15);
}

// ---- trace ------------------------------------------------------------------------------------------

// systems [U, 7, 7], n_maps [U], u [R, n] with u_row [U], checkpoints [U, n_chunks, 2], bounds [U, 4]
// (min x, max x, min y, max y), finite [U].
__device__ void ifs2d_trace_thread(int s, gmem<const double> __restrict__ systems,
                                   gmem<const long long> __restrict__ n_maps, gmem<const double> __restrict__ u,
                                   gmem<const long long> __restrict__ u_row, int n, int chunk, int n_chunks,
                                   gmem<double> checkpoints, gmem<double> bounds, gmem<int> finite) {
    const gmem<const double> sys = systems + (long long)s * IFS2D_MAX_MAPS * IFS2D_ROW;
    const int nm = (int)n_maps[s];
    const gmem<const double> us = u + u_row[s] * (long long)n;
    double cum[IFS2D_MAX_MAPS];
    ifs2d_running_sums(sys, nm, cum);
    Ifs2dState p = {0.0, 0.0};
    const gmem<double> ck = checkpoints + (long long)s * n_chunks * 2;
    ck[0] = 0.0;
    ck[1] = 0.0;
    double xlo = 0.0, xhi = 0.0, ylo = 0.0, yhi = 0.0;
    bool ok = true;
    for (int i = 0; i < n - 1; ++i) {
        p = ifs2d_step(sys, cum, nm, us[i], p);
        ok = ok && is_finite(p.x) && is_finite(p.y);
        xlo = p.x < xlo ? p.x : xlo;
        xhi = p.x > xhi ? p.x : xhi;
        ylo = p.y < ylo ? p.y : ylo;
        yhi = p.y > yhi ? p.y : yhi;
        if ((i + 1) % chunk == 0) {
            ck[2 * ((i + 1) / chunk)] = p.x;
            ck[2 * ((i + 1) / chunk) + 1] = p.y;
        }
    }
    const gmem<double> b = bounds + 4 * (long long)s;
    b[0] = xlo; b[1] = xhi; b[2] = ylo; b[3] = yhi;
    finite[s] = ok ? 1 : 0;
}

// ---- coords -----------------------------------------------------------------------------------------

struct Ifs2dCoordsArgs {
    gmem<const double> systems; gmem<const long long> n_maps; gmem<const double> u; gmem<const double> checkpoints;
    gmem<const double> bounds; gmem<const long long> table_index; gmem<unsigned int> coords;
    int n, chunk, n_chunks, size, pad;
};

// Shared `coef` [7 x 7]: the system of this block, read once from global memory.
__device__ void ifs2d_coords_load(const Ifs2dCoordsArgs& a, int sid, int t, int nt, smem<double> coef) {
    const gmem<const double> sys = a.systems + a.table_index[sid] * IFS2D_MAX_MAPS * IFS2D_ROW;
    for (int k = t; k < IFS2D_MAX_MAPS * IFS2D_ROW; k += nt) coef[k] = sys[k];
}

// Chunk c of system sid: coords[sid, i] = x | y << 16 for every point i of the chunk.
__device__ void ifs2d_coords_chunk(const Ifs2dCoordsArgs& a, int sid, int c, smem<const double> coef) {
    if (c >= a.n_chunks) return;
    const long long s = a.table_index[sid];
    const int first = c * a.chunk, last = first + a.chunk < a.n ? first + a.chunk : a.n;
    const gmem<unsigned int> out = a.coords + (long long)sid * a.n;
    ifs2d_replay(coef, (int)a.n_maps[s], a.u, a.checkpoints + (s * a.n_chunks + c) * 2, a.bounds + 4 * s, first,
                 last, a.size, a.pad, [&](int i, unsigned int x, unsigned int y) { out[i] = x | y << 16; });
}

// ---- raster -----------------------------------------------------------------------------------------

struct Ifs2dRasterArgs {
    gmem<const unsigned int> coords; gmem<const long long> image_index; gmem<const long long> system_of;
    gmem<const long long> flip; gmem<const unsigned int> patch_key; gmem<const unsigned char> color_table;
    gmem<unsigned char> out;
    int n, size, channels, patch, color, band_rows, system_base;
    unsigned int seed, stream;
    int bitmap, n_bands;  // derived (IFS2D_RASTER_ARGS): plain gray points; bands of band_rows covering size rows
};

// Shared memory of a raster block: the band's keys [band_rows * size] (for plain gray points, bits of the
// same pixels), then, when an image has several bands, a queue of the round's points that reach the band
// (index, coordinates) [2 * 4 * threads] and its two counters (rounds alternate between them).
__device__ __forceinline__ int ifs2d_band_words(const Ifs2dRasterArgs& a) {
    return a.bitmap ? (a.band_rows * a.size + 31) / 32 : a.band_rows * a.size;
}

// What every phase of the block of (image, band) `slot` knows (made once per block). The flips are arithmetic, so that no branch
// splits the drawing into variants: output row = fy0 + fy1 * y (drawing orientation), likewise columns.
struct Ifs2dBand {
    long long b;
    int r0, r1, d0, d1;  // the band's output rows [r0, r1), and the drawing rows [d0, d1) they come from
    int fy0, fy1, fx0, fx1;
    unsigned int cat, rid;
    gmem<const unsigned int> xy;  // the system's points, x | y << 16
};

__device__ __forceinline__ Ifs2dBand ifs2d_band(const Ifs2dRasterArgs& a, int slot) {
    Ifs2dBand k;
    k.b = a.image_index[slot / a.n_bands];
    const int S = a.size;
    k.r0 = (slot % a.n_bands) * a.band_rows;
    k.r1 = k.r0 + a.band_rows;
    const bool vflip = a.flip[k.b] == 0 || a.flip[k.b] == 2, hflip = a.flip[k.b] >= 2;
    k.d0 = vflip ? S - k.r1 : k.r0;
    k.d1 = vflip ? S - k.r0 : k.r1;
    k.fy0 = vflip ? S - 1 : 0; k.fy1 = vflip ? -1 : 1;
    k.fx0 = hflip ? S - 1 : 0; k.fx1 = hflip ? -1 : 1;
    k.cat = a.patch_key[2 * k.b];
    k.rid = a.patch_key[2 * k.b + 1];
    k.xy = a.coords + (a.system_of[k.b] - a.system_base) * a.n;
    return k;
}

__device__ void ifs2d_raster_clear(const Ifs2dRasterArgs& a, int t, int nt, smem<unsigned int> keys) {
    for (int k = t; k < ifs2d_band_words(a); k += nt) {
        FDSL_MARK(6);  // model: one word cleared
        keys[k] = 0u;
    }
    FDSL_MARK(15);
    if (t == 0 && a.n_bands > 1) {
        const smem<unsigned int> counters = keys + ifs2d_band_words(a) + 8 * nt;
        counters[0] = counters[1] = 0u;
    }
}

// Pixel k of the band (row-major from its first row): a key kept by atomicMax, or a bit of a bitmap.
template <bool BITMAP>
__device__ __forceinline__ void ifs2d_mark(smem<unsigned int> keys, int k, unsigned int key) {
    if (BITMAP)
        atomicOr(&keys[k >> 5], 1u << (k & 31));
    else
        atomicMax(&keys[k], key);
}

// ifs2d_mark where `on`: on the GPU one predicated shared-memory reduction (red.shared) at a 32-bit shared
// address, so that no branch surrounds each of a patch's nine cells.
template <bool BITMAP>
__device__ __forceinline__ void ifs2d_mark_if(smem<unsigned int> keys, int k, unsigned int key, bool on) {
#ifdef __CUDACC__
    const unsigned int base = (unsigned int)__cvta_generic_to_shared(keys);
    if (BITMAP)
        asm volatile("{\n\t.reg .pred p;\n\tsetp.ne.u32 p, %2, 0;\n\t@p red.shared.or.b32 [%0], %1;\n\t}"
                     :: "r"(base + 4u * (unsigned int)(k >> 5)), "r"(1u << (k & 31)), "r"((unsigned int)on) : "memory");
    else
        asm volatile("{\n\t.reg .pred p;\n\tsetp.ne.u32 p, %2, 0;\n\t@p red.shared.max.u32 [%0], %1;\n\t}"
                     :: "r"(base + 4u * (unsigned int)k), "r"(key), "r"((unsigned int)on) : "memory");
#else
    if (on) ifs2d_mark<BITMAP>(keys, k, key);
#endif
}

// Whether point (x, y) (drawing orientation, before the paste's offset) draws into the band.
__device__ __forceinline__ bool ifs2d_reaches(const Ifs2dRasterArgs& a, const Ifs2dBand& k, int x, int y) {
    if (!a.patch) return x < a.size && y < a.size && y >= k.d0 && y < k.d1;
    const int oy = (y + 1) & 0xFFFF;
    return oy + 2 >= k.d0 && oy < k.d1;  // some row of its 3x3 patch is in the band
}

// Point i at (x, y) into the band; `words` is Philox step i >> 2 of the image's patterns (patches only).
template <bool BITMAP>
__device__ __forceinline__ void ifs2d_draw(const Ifs2dRasterArgs& a, const Ifs2dBand& k, int i, int x, int y,
                                           const Philox4& words, smem<unsigned int> keys) {
    const int S = a.size;
    const unsigned int key = (unsigned int)(i + 1) << 1;
    if (!a.patch) {
        FDSL_MARK(4);  // model: one plain point marked
        ifs2d_mark<BITMAP>(keys, (k.fy0 + k.fy1 * y - k.r0) * S + k.fx0 + k.fx1 * x, key | 1u);
        return;
    }
    FDSL_MARK(3);  // model: one patch drawn into the band
    const unsigned int pattern = 1u + bounded(philox_lane(words, i & 3), 511u);
    const int ox = (x + 1) & 0xFFFF, oy = (y + 1) & 0xFFFF;
    // the original clips the paste at the canvas (oy + r, ox + q < S); the band takes its rows
    int base[3], col[3];
    bool row_in[3], col_in[3];
#pragma unroll
    for (int r = 0; r < 3; ++r) {
        const int row = k.fy0 + k.fy1 * (oy + r);
        row_in[r] = oy + r < S && row >= k.r0 && row < k.r1;
        base[r] = (row - k.r0) * S;
        col_in[r] = ox + r < S;
        col[r] = k.fx0 + k.fx1 * (ox + r);
    }
#pragma unroll
    for (int cell = 0; cell < 9; ++cell)  // MSB first: bit 8 - cell for row cell / 3, column cell % 3
        ifs2d_mark_if<BITMAP>(keys, base[cell / 3] + col[cell % 3], key | ((pattern >> (8 - cell)) & 1u),
                              row_in[cell / 3] && col_in[cell % 3]);
}

// An image in one band: threads take groups of 4 consecutive points (one Philox step of patterns).
template <bool BITMAP>
__device__ void ifs2d_raster_stamp(const Ifs2dRasterArgs& a, const Ifs2dBand& k, int t, int nt,
                                   smem<unsigned int> keys) {
    for (int g = t; 4 * g < a.n; g += nt) {
        Philox4 words = {{0u, 0u, 0u, 0u}};
        if (a.patch) {
            FDSL_MARK(2);  // model: one Philox step of patterns
            words = philox_step(a.seed, a.stream, k.cat, k.rid, (unsigned long long)g);
        }
        for (int i = 4 * g; i < 4 * g + 4 && i < a.n; ++i) {
            FDSL_MARK(1);  // model: one point read
            const unsigned int v = k.xy[i];
            const int x = (int)(v & 0xFFFFu), y = (int)(v >> 16);
            if (ifs2d_reaches(a, k, x, y)) ifs2d_draw<BITMAP>(a, k, i, x, y, words, keys);
        }
    }
    FDSL_MARK(15);
}

// Several bands: in round `round` thread t reads points 4g .. 4g + 3, g = round * nt + t, and queues those
// that reach the band, so that the drawing (`ifs2d_raster_draw`) keeps every lane busy however the points
// scatter over the bands.
__device__ void ifs2d_raster_queue(const Ifs2dRasterArgs& a, const Ifs2dBand& k, int round, int t, int nt,
                                   smem<unsigned int> keys) {
    const smem<unsigned int> queue = keys + ifs2d_band_words(a), counters = queue + 8 * nt;
    const int g = round * nt + t;
    unsigned int v[4];
    int reach = 0;  // bit j: point 4g + j reaches the band
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        v[j] = 0u;
        if (4 * g + j < a.n) {
            FDSL_MARK(7);  // model: one point read and tested against the band
            v[j] = k.xy[4 * g + j];
            reach |= ifs2d_reaches(a, k, (int)(v[j] & 0xFFFFu), (int)(v[j] >> 16)) << j;
        }
    }
    FDSL_MARK(15);
    if (!reach) return;
    unsigned int at = atomicAdd(&counters[round & 1], (unsigned int)__popc((unsigned int)reach));
#pragma unroll
    for (int j = 0; j < 4; ++j)
        if ((reach >> j) & 1) {
            queue[2 * at] = (unsigned int)(4 * g + j);
            queue[2 * at + 1] = v[j];
            ++at;
        }
}

template <bool BITMAP>
__device__ void ifs2d_raster_draw(const Ifs2dRasterArgs& a, const Ifs2dBand& k, int round, int t, int nt,
                                  smem<unsigned int> keys) {
    const smem<const unsigned int> queue = keys + ifs2d_band_words(a);
    const smem<unsigned int> counters = keys + ifs2d_band_words(a) + 8 * nt;
    const int queued = (int)counters[round & 1];
    for (int e = t; e < queued; e += nt) {
        FDSL_MARK(8);  // model: one queued point drawn (with its own Philox step)
        const int i = (int)queue[2 * e];
        const unsigned int v = queue[2 * e + 1];
        Philox4 words = {{0u, 0u, 0u, 0u}};
        if (a.patch) words = philox_step(a.seed, a.stream, k.cat, k.rid, (unsigned long long)(i >> 2));
        ifs2d_draw<BITMAP>(a, k, i, (int)(v & 0xFFFFu), (int)(v >> 16), words, keys);
    }
    FDSL_MARK(15);
    if (t == 0) counters[(round + 1) & 1] = 0u;  // for the next round (nobody reads it in this phase)
}

__device__ void ifs2d_raster_resolve(const Ifs2dRasterArgs& a, const Ifs2dBand& band, int t, int nt,
                                     smem<const unsigned int> keys) {
    const int S = a.size, rows = (band.r1 <= S ? band.r1 : S) - band.r0;  // the last band may end below the canvas
    const gmem<unsigned char> img = a.out + band.b * a.channels * S * S;
    for (int k = t; k < rows * S; k += nt) {
        FDSL_MARK(5);  // model: one pixel resolved
        const int pixel = band.r0 * S + k;
        if (a.bitmap) {
            img[pixel] = (unsigned char)(127u * ((keys[k >> 5] >> (k & 31)) & 1u));
            continue;
        }
        const unsigned int key = keys[k];
        const unsigned int bit = key & 1u;
        if (a.color) {
            const int idx = key ? (int)(((key >> 1) - 1) % 128) : 0;
            for (int ch = 0; ch < 3; ++ch) img[ch * S * S + pixel] = (unsigned char)(a.color_table[3 * idx + ch] * bit);
        } else {
            img[pixel] = (unsigned char)(127u * bit);
        }
    }
    FDSL_MARK(15);
}

// ---- fill (search) ----------------------------------------------------------------------------------

struct Ifs2dFillArgs {
    gmem<const double> systems; gmem<const long long> n_maps; gmem<const double> u; gmem<const long long> u_row;
    gmem<const double> checkpoints; gmem<const double> bounds; gmem<long long> filled;
    int n, chunk, n_chunks, size, pad;
};

__device__ void ifs2d_fill_clear(const Ifs2dFillArgs& a, int t, int nt, smem<unsigned int> bits) {
    for (int k = t; k < (a.size * a.size + 31) / 32; k += nt) bits[k] = 0u;
}

__device__ void ifs2d_fill_mark(const Ifs2dFillArgs& a, int s, int t, int nt, smem<unsigned int> bits) {
    const gmem<const double> sys = a.systems + (long long)s * IFS2D_MAX_MAPS * IFS2D_ROW;
    const int nm = (int)a.n_maps[s];
    const gmem<const double> us = a.u + a.u_row[s] * (long long)a.n;
    const unsigned int S = (unsigned int)a.size;
    for (int c = t; c < a.n_chunks; c += nt) {
        const int first = c * a.chunk, last = first + a.chunk < a.n ? first + a.chunk : a.n;
        ifs2d_replay(sys, nm, us, a.checkpoints + ((long long)s * a.n_chunks + c) * 2, a.bounds + 4 * (long long)s,
                     first, last, a.size, a.pad, [&](int, unsigned int x, unsigned int y) {
                         if (x < S && y < S) {
                             const unsigned int k = y * S + x;
                             atomicOr(&bits[k >> 5], 1u << (k & 31));
                         }
                     });
    }
}

__device__ void ifs2d_fill_count(const Ifs2dFillArgs& a, int s, int t, int nt, smem<unsigned int> bits) {
    // every thread sums a share of the words into word slot t of a second array, then thread 0 adds them
    const int words = (a.size * a.size + 31) / 32;
    const smem<unsigned int> partial = bits + words;
    unsigned int total = 0;
    for (int k = t; k < words; k += nt) total += (unsigned int)__popc(bits[k]);
    partial[t] = total;
}

__device__ void ifs2d_fill_sum(const Ifs2dFillArgs& a, int s, int t, int nt, smem<const unsigned int> bits) {
    if (t != 0) return;
    const int words = (a.size * a.size + 31) / 32;
    long long total = 0;
    for (int k = 0; k < nt; ++k) total += bits[words + k];
    a.filled[s] = total;
}

// ---- kernels and their host drivers, under one prefix per database ----------------------------------
// Kernels take plain arguments (no structs cross the launch), in the order of the Args structs. A host
// build (no __CUDACC__) defines, under the same prefix, drivers `<prefix>_<kernel>_host(grid x, grid y,
// threads per block, dynamic shared bytes, kernel arguments...)` that run each kernel's phases for every
// thread of every block (host_shim.h).

#define IFS2D_TRACE_PARAMS                                                                                  \
    int n_sys, const double *systems, const long long *n_maps, const double *u, const long long *u_row, int n, \
        int chunk, int n_chunks, double *checkpoints, double *bounds, int *finite
#define IFS2D_COORDS_PARAMS                                                                                 \
    const double *systems, const long long *n_maps, const double *u, const double *checkpoints,             \
        const double *bounds, const long long *table_index, unsigned int *coords, int n, int chunk,          \
        int n_chunks, int size, int pad
#define IFS2D_COORDS_ARGS {systems, n_maps, u, checkpoints, bounds, table_index, coords, n, chunk, n_chunks, size, pad}
#define IFS2D_RASTER_PARAMS                                                                                 \
    const unsigned int *coords, const long long *image_index, const long long *system_of,                   \
        const long long *flip, const unsigned int *patch_key, const unsigned char *color_table,             \
        unsigned char *out, int n, int size, int channels, int patch, int color, int band_rows,              \
        int system_base, unsigned int seed, unsigned int stream
#define IFS2D_RASTER_ARGS                                                                                   \
    {coords, image_index, system_of, flip, patch_key, color_table, out, n, size, channels, patch, color,      \
     band_rows, system_base, seed, stream, !patch && !color, (size + band_rows - 1) / band_rows}
#define IFS2D_FILL_PARAMS                                                                                   \
    const double *systems, const long long *n_maps, const double *u, const long long *u_row,                \
        const double *checkpoints, const double *bounds, long long *filled, int n, int chunk, int n_chunks,  \
        int size, int pad
#define IFS2D_FILL_ARGS {systems, n_maps, u, u_row, checkpoints, bounds, filled, n, chunk, n_chunks, size, pad}

#ifndef __CUDACC__
#define IFS2D_KERNELS(prefix)                                                                               \
    extern "C" void prefix##_trace_host(FDSL_GRID_PARAMS, IFS2D_TRACE_PARAMS) {                             \
        fdsl_host::Grid(FDSL_GRID_ARGS).threads([&](int s) {                                                \
            if (s < n_sys)                                                                                  \
                ifs2d_trace_thread(s, systems, n_maps, u, u_row, n, chunk, n_chunks, checkpoints, bounds, finite); \
        });                                                                                                 \
    }                                                                                                       \
    extern "C" void prefix##_coords_host(FDSL_GRID_PARAMS, IFS2D_COORDS_PARAMS) {                           \
        const Ifs2dCoordsArgs a = IFS2D_COORDS_ARGS;                                                        \
        fdsl_host::Grid g(FDSL_GRID_ARGS);                                                                  \
        const smem<double> coef = g.shared<double>();                                                       \
        g.run([&](int sid, int y) {                                                                         \
            g.phase([&](int t) { ifs2d_coords_load(a, sid, t, threads, coef); });                           \
            g.phase([&](int t) { ifs2d_coords_chunk(a, sid, y * threads + t, coef); });                     \
        });                                                                                                 \
    }                                                                                                       \
    extern "C" void prefix##_raster_host(FDSL_GRID_PARAMS, IFS2D_RASTER_PARAMS) {                           \
        const Ifs2dRasterArgs a = IFS2D_RASTER_ARGS;                                                        \
        fdsl_host::Grid g(FDSL_GRID_ARGS);                                                                  \
        const smem<unsigned int> keys = g.shared<unsigned int>();                                           \
        const int rounds = (n + 4 * threads - 1) / (4 * threads);                                           \
        g.run([&](int slot, int) {                                                                          \
            Ifs2dBand k;  /* every thread makes the same, as each does on the GPU */                        \
            g.phase([&](int t) {                                                                            \
                k = ifs2d_band(a, slot);                                                                    \
                ifs2d_raster_clear(a, t, threads, keys);                                                    \
            });                                                                                             \
            if (a.n_bands == 1) {                                                                           \
                g.phase([&](int t) {                                                                        \
                    if (a.bitmap)                                                                           \
                        ifs2d_raster_stamp<true>(a, k, t, threads, keys);                                   \
                    else                                                                                    \
                        ifs2d_raster_stamp<false>(a, k, t, threads, keys);                                  \
                });                                                                                         \
            } else {                                                                                        \
                for (int round = 0; round < rounds; ++round) {                                              \
                    g.phase([&](int t) { ifs2d_raster_queue(a, k, round, t, threads, keys); });             \
                    g.phase([&](int t) {                                                                    \
                        if (a.bitmap)                                                                       \
                            ifs2d_raster_draw<true>(a, k, round, t, threads, keys);                         \
                        else                                                                                \
                            ifs2d_raster_draw<false>(a, k, round, t, threads, keys);                        \
                    });                                                                                     \
                }                                                                                           \
            }                                                                                               \
            g.phase([&](int t) { ifs2d_raster_resolve(a, k, t, threads, keys); });                          \
        });                                                                                                 \
    }                                                                                                       \
    extern "C" void prefix##_fill_host(FDSL_GRID_PARAMS, IFS2D_FILL_PARAMS) {                               \
        const Ifs2dFillArgs a = IFS2D_FILL_ARGS;                                                            \
        fdsl_host::Grid g(FDSL_GRID_ARGS);                                                                  \
        const smem<unsigned int> bits = g.shared<unsigned int>();                                           \
        g.run([&](int s, int) {                                                                             \
            g.phase([&](int t) { ifs2d_fill_clear(a, t, threads, bits); });                                 \
            g.phase([&](int t) { ifs2d_fill_mark(a, s, t, threads, bits); });                               \
            g.phase([&](int t) { ifs2d_fill_count(a, s, t, threads, bits); });                              \
            g.phase([&](int t) { ifs2d_fill_sum(a, s, t, threads, bits); });                                \
        });                                                                                                 \
    }
#else
#define IFS2D_KERNELS(prefix)                                                                               \
    extern "C" __global__ void prefix##_trace(IFS2D_TRACE_PARAMS) {                                         \
        const int s = blockIdx.x * blockDim.x + threadIdx.x;                                                \
        if (s < n_sys)                                                                                      \
            ifs2d_trace_thread(s, systems, n_maps, u, u_row, n, chunk, n_chunks, checkpoints, bounds, finite); \
    }                                                                                                       \
    extern "C" __global__ void prefix##_coords(IFS2D_COORDS_PARAMS) {                                       \
        extern __shared__ double coef[];                                                                    \
        const Ifs2dCoordsArgs a = IFS2D_COORDS_ARGS;                                                        \
        const int sid = blockIdx.x, t = threadIdx.x, nt = blockDim.x;                                       \
        ifs2d_coords_load(a, sid, t, nt, coef);                                                             \
        __syncthreads();                                                                                    \
        ifs2d_coords_chunk(a, sid, blockIdx.y * nt + t, coef);                                              \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(1024, 1) prefix##_raster(IFS2D_RASTER_PARAMS) {            \
        extern __shared__ unsigned int keys[];                                                              \
        const Ifs2dRasterArgs a = IFS2D_RASTER_ARGS;                                                        \
        const int t = threadIdx.x, nt = blockDim.x;                                                         \
        const Ifs2dBand k = ifs2d_band(a, blockIdx.x);                                                      \
        ifs2d_raster_clear(a, t, nt, keys);                                                                 \
        __syncthreads();                                                                                    \
        if (a.n_bands == 1) {                                                                               \
            if (a.bitmap)                                                                                   \
                ifs2d_raster_stamp<true>(a, k, t, nt, keys);                                                \
            else                                                                                            \
                ifs2d_raster_stamp<false>(a, k, t, nt, keys);                                               \
            __syncthreads();                                                                                \
        } else {                                                                                            \
            for (int round = 0; 4 * round * nt < n; ++round) {                                              \
                ifs2d_raster_queue(a, k, round, t, nt, keys);                                               \
                __syncthreads();                                                                            \
                if (a.bitmap)                                                                               \
                    ifs2d_raster_draw<true>(a, k, round, t, nt, keys);                                      \
                else                                                                                        \
                    ifs2d_raster_draw<false>(a, k, round, t, nt, keys);                                     \
                __syncthreads();                                                                            \
            }                                                                                               \
        }                                                                                                   \
        ifs2d_raster_resolve(a, k, t, nt, keys);                                                            \
    }                                                                                                       \
    extern "C" __global__ void prefix##_fill(IFS2D_FILL_PARAMS) {                                           \
        extern __shared__ unsigned int bits[];                                                              \
        const Ifs2dFillArgs a = IFS2D_FILL_ARGS;                                                            \
        const int s = blockIdx.x, t = threadIdx.x, nt = blockDim.x;                                         \
        ifs2d_fill_clear(a, t, nt, bits);                                                                   \
        __syncthreads();                                                                                    \
        ifs2d_fill_mark(a, s, t, nt, bits);                                                                 \
        __syncthreads();                                                                                    \
        ifs2d_fill_count(a, s, t, nt, bits);                                                                \
        __syncthreads();                                                                                    \
        ifs2d_fill_sum(a, s, t, nt, bits);                                                                  \
    }
#endif
