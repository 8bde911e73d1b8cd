// contours.cuh: the contour kernel shared by rcdb and visual_atom (each .cu instantiates it with its prefix).
// Must equal fdsl_gen/databases/contours/render_ref.py bit for bit.
//
// One block per image. The orbits run in order; inside an orbit the threads share the vertices: each
// draws its vertices' noise (Philox words, the float32 noise of noise.py with __f*_rn intrinsics), moves
// them (float64 with __d*_rn), and, after a barrier, draws their segments with plain byte stores of the
// orbit's gray. Threads of one orbit only ever write the same gray, and a barrier separates orbits, so
// the highest orbit wins every pixel without atomics (the race checker's "same-value stores", which
// tests/test_racecheck.py allows this kernel). The per-vertex cos, sin and wave terms come from
// the host (libm, as the reference), so that no GPU transcendental enters the geometry.
#pragma once
#include "philox.cuh"

#define CONTOUR_VISUAL_ATOM 0
#define CONTOUR_RCDB 1
#define CONTOUR_MAX_VERTICES 4096
#define CONTOUR_NOISE_SCALE 2.3283064365386962890625e-06  // 10000 / 2**32

template <class Table>
__device__ __forceinline__ float contour_pnoise1(float x, Table gradient) {
    const float fl = floorf(x);
    const int i = ((int)fl) % 1024;
    const int ii = (i + 1) % 1024;
    const float t = __fsub_rn(x, fl);
    const float fade = __fmul_rn(__fmul_rn(__fmul_rn(t, t), t),
                                 __fadd_rn(__fmul_rn(t, __fsub_rn(__fmul_rn(t, 6.0f), 15.0f)), 10.0f));
    const float a = __fmul_rn(gradient[i & 255], t);
    const float b = __fmul_rn(gradient[ii & 255], __fsub_rn(t, 1.0f));
    return __fmul_rn(__fadd_rn(a, __fmul_rn(fade, __fsub_rn(b, a))), 0.4f);
}


// Pixel (x, y) of the canvas, if it is on it (one unsigned comparison per axis).
__device__ __forceinline__ bool contour_on(int v, int S) { return (unsigned int)v < (unsigned int)S; }
__device__ __forceinline__ bool contour_on(long long v, int S) { return (unsigned long long)v < (unsigned long long)S; }

// render_ref.line_pixels from (x0, y0) to (x1, y1), clipped per pixel, in the integer type T: int when every
// coordinate is within 2^28 (then the error term stays within int), long long otherwise. The cost model
// counts the int version; the other, the rare path, only opens an uncounted region (marker 13).
template <class T>
__device__ __forceinline__ void contour_bresenham(gmem<unsigned char> img, int S, T x0, T y0, T x1, T y1,
                                                  unsigned char gray) {
    constexpr bool common = sizeof(T) == 4;
    if (!common) FDSL_MARK(13);  // model: the rare path starts (not counted)
    T dx = x1 - x0, dy = y1 - y0, xs = 1, ys = 1;
    if (dx < 0) { dx = -dx; xs = -1; }
    if (dy < 0) { dy = -dy; ys = -1; }
    T x = x0, y = y0;
    if (dx == 0 || dy == 0) {
        const T sx = dx ? xs : 0, sy = dy ? ys : 0, n = dx > dy ? dx : dy;
        for (T k = 0; k < n; ++k) {
            if (common) FDSL_MARK(7);  // model: one pixel of a horizontal or vertical segment
            if (contour_on(x, S) && contour_on(y, S)) img[(int)y * S + (int)x] = gray;
            x += sx;
            y += sy;
        }
    } else if (dx > dy) {
        T e = 2 * dy - dx;
        for (T k = 0; k < dx; ++k) {
            if (common) FDSL_MARK(5);  // model: one pixel of a flat segment
            if (contour_on(x, S) && contour_on(y, S)) img[(int)y * S + (int)x] = gray;
            if (e >= 0) { y += ys; e -= 2 * dx; }
            e += 2 * dy;
            x += xs;
        }
    } else {
        T e = 2 * dx - dy;
        for (T k = 0; k < dy; ++k) {
            if (common) FDSL_MARK(6);  // model: one pixel of a steep segment
            if (contour_on(x, S) && contour_on(y, S)) img[(int)y * S + (int)x] = gray;
            if (e >= 0) { x += xs; e -= 2 * dy; }
            e += 2 * dx;
            y += ys;
        }
    }
    if (common) FDSL_MARK(14);  // model: a segment's last pixel
    if (contour_on(x1, S) && contour_on(y1, S)) img[(int)y1 * S + (int)x1] = gray;
    if (common) FDSL_MARK(15);
}

// A segment whose bounding box misses the canvas is skipped (no pixel of it is on the canvas).
__device__ void contour_segment(gmem<unsigned char> img, int S, long long x0, long long y0, long long x1,
                                long long y1, unsigned char gray) {
    if ((x0 > x1 ? x0 : x1) < 0 || (x0 < x1 ? x0 : x1) >= S || (y0 > y1 ? y0 : y1) < 0 || (y0 < y1 ? y0 : y1) >= S)
        return;
    const long long small = 1LL << 28;
    if (x0 > -small && x0 < small && y0 > -small && y0 < small && x1 > -small && x1 < small && y1 > -small &&
        y1 < small)
        contour_bresenham<int>(img, S, (int)x0, (int)y0, (int)x1, (int)y1, gray);
    else
        contour_bresenham<long long>(img, S, x0, y0, x1, y1, gray);
}

struct ContourArgs {
    gmem<const long long> vertices; gmem<const long long> orbits; gmem<const double> eta; gmem<const double> c;
    gmem<const double> r0; gmem<const double> sx; gmem<const double> sy; gmem<const double> xc;
    gmem<const double> yc; gmem<const long long> table_offset;
    gmem<const double> tables;  // per image at table_offset[b]: cos [q], sin [q], wave1 [q], wave2 [q]
    gmem<const unsigned int> key; gmem<const float> gradient; gmem<unsigned char> out;
    int size, kind, gray_levels;
    unsigned int seed, stream;
};

// What every phase reads of image b, loaded once per thread and phase.
struct ContourImage {
    int q;
    double eta, c, r0, sx, sy, xc, yc;
    unsigned int cat, inst;
    gmem<const double> cs;  // cos [q], sin [q], wave1 [q], wave2 [q]
};

__device__ __forceinline__ ContourImage contour_image(const ContourArgs& a, int b) {
    ContourImage im;
    im.q = (int)a.vertices[b];
    im.eta = a.eta[b]; im.c = a.c[b]; im.r0 = a.r0[b]; im.sx = a.sx[b]; im.sy = a.sy[b];
    im.xc = a.xc[b]; im.yc = a.yc[b];
    im.cat = a.key[2 * b]; im.inst = a.key[2 * b + 1];
    im.cs = a.tables + a.table_offset[b];
    return im;
}

// Orbit k's first word: each orbit reserves whole Philox steps (1 gray word + 2 noise words per vertex).
__device__ __forceinline__ long long contour_orbit_base(int q, int k) { return 4LL * ((1 + 2 * q + 3) / 4) * k; }

// Shared scratch: px, py [q] float64, then ix, iy [q] int64, then the noise gradients [256] float32.
__device__ void contour_init(const ContourArgs& a, int b, int t, int nt, smem<double> px, smem<double> py,
                             smem<float> grad) {
    const ContourImage im = contour_image(a, b);  // (the launcher fills the canvas with the background)
    for (int k = t; k < 256; k += nt) grad[k] = a.gradient[k];
    for (int v = t; v < im.q; v += nt) {
        const double x = __dmul_rn(__dmul_rn(im.cs[v], im.r0), im.sx);
        const double y = __dmul_rn(__dmul_rn(im.cs[im.q + v], im.r0), im.sy);
        px[v] = a.kind == CONTOUR_RCDB ? x : __dadd_rn(x, im.xc);
        py[v] = a.kind == CONTOUR_RCDB ? y : __dadd_rn(y, im.yc);
    }
}

__device__ __forceinline__ double contour_offset(int kind, const ContourImage& im, double p, double w1, double w2) {
    if (kind == CONTOUR_RCDB) return __dsub_rn(__dmul_rn(__dmul_rn(p, im.eta), 2.0), im.eta);
    return __dsub_rn(__dsub_rn(__dsub_rn(__dmul_rn(p, im.eta), im.eta), w1), w2);
}

// Orbit k moves every vertex. Thread t takes groups g = t, t + nt, ... of 4 vertices, 4g - 1 .. 4g + 2,
// whose x-noise words base + 4g .. base + 4g + 3 are one Philox step (base is a multiple of 4); their
// y-noise words span at most two steps.
__device__ void contour_move(const ContourArgs& a, int b, int k, int t, int nt, smem<double> px, smem<double> py,
                             smem<long long> ix, smem<long long> iy, smem<const float> grad,
                             smem<unsigned int> gray) {
    const ContourImage im = contour_image(a, b);
    const int q = im.q;
    const long long base = contour_orbit_base(q, k);
    for (int g = t; 4 * g - 1 < q; g += nt) {
        FDSL_MARK(1);  // model: one group of 4 vertices (their x-noise step)
        const Philox4 wx = philox_step(a.seed, a.stream, im.cat, im.inst, (unsigned long long)((base >> 2) + g));
        if (g == 0) {  // word 0 of the orbit, before vertex 0's x-noise, is its gray: kept for contour_draw
            const unsigned int level = bounded(wx.w[0], (unsigned int)a.gray_levels);
            gray[0] = level > 255u ? 255u : level;
        }
        Philox4 wy = wx;
        long long y_step = -1;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int v = 4 * g - 1 + j;
            if (v < 0 || v >= q) continue;
            const long long y_word = base + 1 + q + v;
            if ((y_word >> 2) != y_step) {
                FDSL_MARK(3);  // model: one y-noise step
                y_step = y_word >> 2;
                wy = philox_step(a.seed, a.stream, im.cat, im.inst, (unsigned long long)y_step);
            }
            FDSL_MARK(2);  // model: one vertex moved
            const unsigned int x_noise = wx.w[j], y_noise = philox_lane(wy, (int)(y_word & 3));
            const double nx = (double)contour_pnoise1((float)((double)x_noise * CONTOUR_NOISE_SCALE), grad);
            const double ny = (double)contour_pnoise1((float)((double)y_noise * CONTOUR_NOISE_SCALE), grad);
            const double w1 = im.cs[2 * q + v], w2 = im.cs[3 * q + v];
            const double ox = contour_offset(a.kind, im, nx, w1, w2);
            const double oy = contour_offset(a.kind, im, ny, w1, w2);
            const double x = __dsub_rn(px[v], __dmul_rn(im.cs[v], __dsub_rn(ox, im.c)));
            const double y = __dsub_rn(py[v], __dmul_rn(im.cs[q + v], __dsub_rn(oy, im.c)));
            px[v] = x;
            py[v] = y;
            ix[v] = (long long)(a.kind == CONTOUR_RCDB ? __dadd_rn(x, im.xc) : x);
            iy[v] = (long long)(a.kind == CONTOUR_RCDB ? __dadd_rn(y, im.yc) : y);
        }
    }
    FDSL_MARK(15);
}

__device__ void contour_draw(const ContourArgs& a, int b, int t, int nt, smem<const long long> ix,
                             smem<const long long> iy, smem<const unsigned int> gray) {
    const int S = a.size, q = (int)a.vertices[b];
    const unsigned char level = (unsigned char)gray[0];  // the orbit's, from contour_move
    const gmem<unsigned char> img = a.out + (long long)b * S * S;
    for (int v = t; v < q; v += nt) {
        FDSL_MARK(4);  // model: one segment set up (and skipped when off the canvas)
        const int w1 = v + 1 < q ? v + 1 : 0;
        contour_segment(img, S, ix[v], iy[v], ix[w1], iy[w1], level);
    }
}

#define CONTOUR_PARAMS                                                                                      \
    const long long *vertices, const long long *orbits, const double *eta, const double *c, const double *r0, \
        const double *sx, const double *sy, const double *xc, const double *yc, const long long *table_offset, \
        const double *tables, const unsigned int *key, const float *gradient, unsigned char *out, int size,  \
        int kind, int gray_levels, unsigned int seed, unsigned int stream
#define CONTOUR_ARGS                                                                                        \
    {vertices, orbits, eta, c, r0, sx, sy, xc, yc, table_offset, tables, key, gradient, out, size, kind,    \
     gray_levels, seed, stream}

// shared memory: 2 q float64 + 2 q int64 + 256 float32 + the orbit's gray = 32 q + 1028 bytes
// (q <= CONTOUR_MAX_VERTICES; render_cuda.shared_bytes)
#ifndef __CUDACC__
#define CONTOUR_KERNELS(prefix)                                                                             \
    extern "C" void prefix##_render_host(FDSL_GRID_PARAMS, int max_q, CONTOUR_PARAMS) {                     \
        const ContourArgs a = CONTOUR_ARGS;                                                                 \
        fdsl_host::Grid g(FDSL_GRID_ARGS);                                                                  \
        const smem<double> fx = g.shared<double>(), fy = fx + max_q;                                        \
        const smem<long long> ix = g.shared<long long>(16 * (size_t)max_q), iy = ix + max_q;                \
        const smem<float> grad = g.shared<float>(32 * (size_t)max_q);                                       \
        const smem<unsigned int> gray = g.shared<unsigned int>(32 * (size_t)max_q + 1024);                  \
        g.run([&](int b, int) {                                                                             \
            g.phase([&](int t) { contour_init(a, b, t, threads, fx, fy, grad); });                          \
            for (int k = 0; k < (int)orbits[b]; ++k) {                                                      \
                g.phase([&](int t) { contour_move(a, b, k, t, threads, fx, fy, ix, iy, grad, gray); });     \
                g.phase([&](int t) { contour_draw(a, b, t, threads, ix, iy, gray); });                      \
            }                                                                                               \
        });                                                                                                 \
    }
#else
#define CONTOUR_KERNELS(prefix)                                                                             \
    extern "C" __global__ void prefix##_render(int max_q, CONTOUR_PARAMS) {                                 \
        extern __shared__ double scratch[];                                                                 \
        const ContourArgs a = CONTOUR_ARGS;                                                                 \
        smem<double> fx = scratch;                                                                          \
        smem<double> fy = scratch + max_q;                                                                  \
        smem<long long> ix = (long long*)(scratch + 2 * max_q);                                             \
        smem<long long> iy = ix + max_q;                                                                    \
        smem<float> grad = (float*)(scratch + 4 * max_q);                                                   \
        smem<unsigned int> gray = (unsigned int*)(grad + 256);                                              \
        const int b = blockIdx.x, t = threadIdx.x, nt = blockDim.x;                                         \
        contour_init(a, b, t, nt, fx, fy, grad);                                                            \
        __syncthreads();                                                                                    \
        for (int k = 0; k < (int)orbits[b]; ++k) {                                                          \
            contour_move(a, b, k, t, nt, fx, fy, ix, iy, grad, gray);                                       \
            __syncthreads();                                                                                \
            contour_draw(a, b, t, nt, ix, iy, gray);                                                        \
            __syncthreads();                                                                                \
        }                                                                                                   \
    }
#endif
