// ifs3d.cuh: the 3D IFS kernels shared by ofdb3d and exfractaldb (each .cu instantiates them with its prefix).
// Must equal fdsl_gen/databases/ifs3d/render_ref.py bit for bit.
//
// models   (one thread per model): the chaos game is run three times from the same Philox uniforms, so
//          that no float64 cloud is stored: bounds (and finiteness), then the normalised values' sums
//          (left to right, as the reference), then the centred float32 points.
// views    (one block per image and band of rows; images on the grid's x, bands on y): each thread
//          projects a share of the points and sets the bits of the band's pixels they light in a bitmap in
//          shared memory (atomicOr); after a barrier every thread writes its own pixels, 255 or 0. The
//          launcher sizes the bands so that a band's bitmap fits its shared memory; an image larger than
//          one band (over 886² at 96 KB) has every band project every point.
// evaluate (one thread per search candidate): two more runs give the mean and the variance of each axis.
#pragma once
#include "philox.cuh"

#define IFS3D_MAX_MAPS 7
#define IFS3D_ROW 13  // a .. l, p

struct Ifs3dChain {
    gmem<const double> sys;
    int n_maps;
    double cum[IFS3D_MAX_MAPS];
    unsigned int seed, stream, cat, model;
    double x, y, z;
    int i;  // index of the uniform the next step uses
    Philox4 words;
};

// The running sums are unrolled over IFS3D_MAX_MAPS (and the map count below predicated) so that `cum`
// stays in registers; a loop with a run-time bound would put it in local memory.
__device__ __forceinline__ void ifs3d_start(Ifs3dChain& ch) {
    double total = 0.0;
#pragma unroll
    for (int k = 0; k < IFS3D_MAX_MAPS; ++k) {
        if (k < ch.n_maps) total = __dadd_rn(total, ch.sys[k * IFS3D_ROW + 12]);
        ch.cum[k] = total;
    }
    ch.x = ch.y = ch.z = 0.0;
    ch.i = 0;
}

// Advance to the next stored point (render_ref.chaos_game; uniform i from words 2i, 2i + 1).
__device__ __forceinline__ void ifs3d_next(Ifs3dChain& ch) {
    if ((ch.i & 1) == 0) ch.words = philox_step(ch.seed, ch.stream, ch.cat, ch.model, (unsigned long long)(ch.i >> 1));
    const double u = (ch.i & 1) ? uniform53(ch.words.w[2], ch.words.w[3]) : uniform53(ch.words.w[0], ch.words.w[1]);
    ++ch.i;
    int j = 0;
#pragma unroll
    for (int k = 0; k < IFS3D_MAX_MAPS; ++k) j += (k < ch.n_maps) & (u > ch.cum[k]);
    if (j < ch.n_maps) {
        const gmem<const double> m = ch.sys + j * IFS3D_ROW;
        const double x = ch.x, y = ch.y, z = ch.z;
        ch.x = __dadd_rn(__dadd_rn(__dadd_rn(__dmul_rn(x, m[0]), __dmul_rn(y, m[1])), __dmul_rn(z, m[2])), m[9]);
        ch.y = __dadd_rn(__dadd_rn(__dadd_rn(__dmul_rn(x, m[3]), __dmul_rn(y, m[4])), __dmul_rn(z, m[5])), m[10]);
        ch.z = __dadd_rn(__dadd_rn(__dadd_rn(__dmul_rn(x, m[6]), __dmul_rn(y, m[7])), __dmul_rn(z, m[8])), m[11]);
    }
}

__device__ __forceinline__ double ifs3d_unit(double v, double lo, double hi) {
    return __dsub_rn(__dmul_rn(__ddiv_rn(__dsub_rn(v, lo), __dsub_rn(hi, lo)), 2.0), 1.0);
}

struct Ifs3dCloud { double lo, hi, centre[3]; bool finite; };

// Runs 1 and 2 of a model's chain: bounds (NaN-propagating, as np.min / np.max) and centring offsets.
__device__ __forceinline__ Ifs3dCloud ifs3d_cloud(Ifs3dChain ch, int n_points) {
    Ifs3dCloud cl;
    bool has_nan = false;
    ifs3d_start(ch);
    ifs3d_next(ch);
    cl.lo = cl.hi = ch.x;
    for (int p = 0; p < n_points - 1; ++p) {
        if (p > 0) ifs3d_next(ch);
        const double v[3] = {ch.x, ch.y, ch.z};
        for (int r = 0; r < 3; ++r) {
            has_nan = has_nan || v[r] != v[r];
            cl.lo = v[r] < cl.lo ? v[r] : cl.lo;
            cl.hi = v[r] > cl.hi ? v[r] : cl.hi;
        }
    }
    if (has_nan) cl.lo = cl.hi = nan("");  // np.min / np.max of an array holding a NaN
    double sums[3] = {0.0, 0.0, 0.0};
    ifs3d_start(ch);
    for (int p = 0; p < n_points - 1; ++p) {
        ifs3d_next(ch);
        sums[0] = __dadd_rn(sums[0], ifs3d_unit(ch.x, cl.lo, cl.hi));
        sums[1] = __dadd_rn(sums[1], ifs3d_unit(ch.y, cl.lo, cl.hi));
        sums[2] = __dadd_rn(sums[2], ifs3d_unit(ch.z, cl.lo, cl.hi));
    }
    for (int r = 0; r < 3; ++r) cl.centre[r] = __ddiv_rn(sums[r], (double)n_points);
    cl.finite = true;
    return cl;
}

// The chain of system s, its uniforms keyed by keys[s] = (category, model).
__device__ __forceinline__ Ifs3dChain ifs3d_chain(gmem<const double> systems, gmem<const long long> n_maps,
                                                  gmem<const unsigned int> keys, int s, unsigned int seed,
                                                  unsigned int stream) {
    Ifs3dChain ch;
    ch.sys = systems + (long long)s * IFS3D_MAX_MAPS * IFS3D_ROW;
    ch.n_maps = (int)n_maps[s];
    ch.seed = seed;
    ch.stream = stream;
    ch.cat = keys[2 * s];
    ch.model = keys[2 * s + 1];
    return ch;
}

struct Ifs3dModelArgs {
    gmem<const double> systems; gmem<const long long> n_maps; gmem<const unsigned int> keys; gmem<float> points;
    gmem<int> finite;
    int n_sys, n_points; unsigned int seed, stream;
};

__device__ void ifs3d_model_thread(const Ifs3dModelArgs& a, int s) {
    Ifs3dChain ch = ifs3d_chain(a.systems, a.n_maps, a.keys, s, a.seed, a.stream);
    const Ifs3dCloud cl = ifs3d_cloud(ch, a.n_points);
    const int m = a.n_points - 1;
    const gmem<float> out = a.points + (long long)s * 3 * m;
    bool finite = true;
    ifs3d_start(ch);
    for (int p = 0; p < m; ++p) {
        ifs3d_next(ch);
        const double v[3] = {ch.x, ch.y, ch.z};
        for (int r = 0; r < 3; ++r) {
            const double q = __dsub_rn(ifs3d_unit(v[r], cl.lo, cl.hi), cl.centre[r]);
            finite = finite && __dsub_rn(q, q) == 0.0;
            out[(long long)r * m + p] = (float)q;
        }
    }
    a.finite[s] = finite ? 1 : 0;
}

struct Ifs3dViewArgs {
    gmem<const float> points; gmem<const int> finite; gmem<const long long> system_of; gmem<const double> mvp;
    gmem<unsigned char> out;
    int n_points, size, band_rows;
};

// Shared memory `lit`: bit k % 32 of word k / 32 for pixel k of the band (row-major from its first row).
__device__ void ifs3d_view_clear(const Ifs3dViewArgs& a, int t, int nt, smem<unsigned int> lit) {
    for (int k = t; k < (a.band_rows * a.size + 31) / 32; k += nt) lit[k] = 0u;
}

__device__ void ifs3d_view_project(const Ifs3dViewArgs& a, int b, int band, int t, int nt, smem<unsigned int> lit) {
    const long long s = a.system_of[b];
    if (!a.finite[s]) return;
    const int m = a.n_points - 1, S = a.size, r0 = band * a.band_rows, r1 = r0 + a.band_rows;
    const gmem<const float> pts = a.points + s * 3 * m;
    const gmem<const double> M = a.mvp + 16LL * b;
    const double half = (double)S / 2.0;
    for (int i = t; i < m; i += nt) {
        FDSL_MARK(1);  // model: one point projected (and lit when it falls in the band)
        const double x = pts[i], y = pts[m + i], z = pts[2 * m + i];
        double c[4];
        for (int r = 0; r < 4; ++r)
            c[r] = __dadd_rn(__dadd_rn(__dadd_rn(__dmul_rn(M[4 * r], x), __dmul_rn(M[4 * r + 1], y)),
                                       __dmul_rn(M[4 * r + 2], z)), M[4 * r + 3]);
        if (!(c[3] > 0 && fabs(c[0]) <= c[3] && fabs(c[1]) <= c[3] && fabs(c[2]) <= c[3])) continue;
        const double col = floor(__ddiv_rn(floor(__dadd_rn(__dmul_rn(__dmul_rn(__dadd_rn(__ddiv_rn(c[0], c[3]), 1.0),
                                 half), 256.0), 0.5)), 256.0));
        const double row = floor(__ddiv_rn(floor(__dadd_rn(__dmul_rn(__dmul_rn(__dadd_rn(__ddiv_rn(c[1], c[3]), 1.0),
                                 half), 256.0), 0.5)), 256.0));
        if (col >= 0 && col < S && row >= r0 && row < r1 && row < S) {
            const int k = ((int)row - r0) * S + (int)col;
            atomicOr(&lit[k >> 5], 1u << (k & 31));
        }
    }
    FDSL_MARK(15);
}

__device__ void ifs3d_view_write(const Ifs3dViewArgs& a, int b, int band, int t, int nt,
                                 smem<const unsigned int> lit) {
    const int S = a.size, r0 = band * a.band_rows;
    const int rows = r0 + a.band_rows <= S ? a.band_rows : S - r0;
    const gmem<unsigned char> img = a.out + ((long long)b * S + r0) * S;
    for (int k = t; k < rows * S; k += nt) {
        FDSL_MARK(2);  // model: one pixel written
        img[k] = (lit[k >> 5] >> (k & 31)) & 1u ? 255 : 0;
    }
    FDSL_MARK(15);
}

struct Ifs3dEvalArgs {
    gmem<const double> systems; gmem<const long long> n_maps; gmem<const unsigned int> keys; gmem<int> accepted;
    int n_sys, n_points; unsigned int seed, stream; double threshold;
};

__device__ void ifs3d_eval_thread(const Ifs3dEvalArgs& a, int s) {
    Ifs3dChain ch = ifs3d_chain(a.systems, a.n_maps, a.keys, s, a.seed, a.stream);
    const Ifs3dCloud cl = ifs3d_cloud(ch, a.n_points);
    const int m = a.n_points - 1;
    double sums[3] = {0.0, 0.0, 0.0};
    bool finite = true;
    ifs3d_start(ch);
    for (int p = 0; p < m; ++p) {  // run 3: the centred values' sums (and finiteness)
        ifs3d_next(ch);
        const double v[3] = {ch.x, ch.y, ch.z};
        for (int r = 0; r < 3; ++r) {
            const double q = __dsub_rn(ifs3d_unit(v[r], cl.lo, cl.hi), cl.centre[r]);
            finite = finite && __dsub_rn(q, q) == 0.0;
            sums[r] = __dadd_rn(sums[r], q);
        }
    }
    double mean[3], acc[3] = {0.0, 0.0, 0.0};
    for (int r = 0; r < 3; ++r) mean[r] = __ddiv_rn(sums[r], (double)m);
    ifs3d_start(ch);
    for (int p = 0; p < m && finite; ++p) {  // run 4: squared deviations
        ifs3d_next(ch);
        const double v[3] = {ch.x, ch.y, ch.z};
        for (int r = 0; r < 3; ++r) {
            const double d = __dsub_rn(__dsub_rn(ifs3d_unit(v[r], cl.lo, cl.hi), cl.centre[r]), mean[r]);
            acc[r] = __dadd_rn(acc[r], __dmul_rn(d, d));
        }
    }
    bool ok = finite;
    for (int r = 0; r < 3; ++r) ok = ok && __ddiv_rn(acc[r], (double)m) > a.threshold;
    a.accepted[s] = ok ? 1 : 0;
}

#define IFS3D_MODEL_PARAMS                                                                                  \
    const double *systems, const long long *n_maps, const unsigned int *keys, float *points, int *finite,   \
        int n_sys, int n_points, unsigned int seed, unsigned int stream
#define IFS3D_MODEL_ARGS {systems, n_maps, keys, points, finite, n_sys, n_points, seed, stream}
#define IFS3D_VIEW_PARAMS                                                                                   \
    const float *points, const int *finite, const long long *system_of, const double *mvp, unsigned char *out, \
        int n_points, int size, int band_rows
#define IFS3D_VIEW_ARGS {points, finite, system_of, mvp, out, n_points, size, band_rows}
#define IFS3D_EVAL_PARAMS                                                                                   \
    const double *systems, const long long *n_maps, const unsigned int *keys, int *accepted, int n_sys,     \
        int n_points, unsigned int seed, unsigned int stream, double threshold
#define IFS3D_EVAL_ARGS {systems, n_maps, keys, accepted, n_sys, n_points, seed, stream, threshold}

#ifndef __CUDACC__
#define IFS3D_KERNELS(prefix)                                                                               \
    extern "C" void prefix##_models_host(FDSL_GRID_PARAMS, IFS3D_MODEL_PARAMS) {                            \
        const Ifs3dModelArgs a = IFS3D_MODEL_ARGS;                                                          \
        fdsl_host::Grid(FDSL_GRID_ARGS).threads([&](int s) { if (s < n_sys) ifs3d_model_thread(a, s); });   \
    }                                                                                                       \
    extern "C" void prefix##_views_host(FDSL_GRID_PARAMS, IFS3D_VIEW_PARAMS) {                              \
        const Ifs3dViewArgs a = IFS3D_VIEW_ARGS;                                                            \
        fdsl_host::Grid g(FDSL_GRID_ARGS);                                                                  \
        const smem<unsigned int> lit = g.shared<unsigned int>();                                            \
        g.run([&](int b, int band) {                                                                        \
            g.phase([&](int t) { ifs3d_view_clear(a, t, threads, lit); });                                  \
            g.phase([&](int t) { ifs3d_view_project(a, b, band, t, threads, lit); });                       \
            g.phase([&](int t) { ifs3d_view_write(a, b, band, t, threads, lit); });                         \
        });                                                                                                 \
    }                                                                                                       \
    extern "C" void prefix##_evaluate_host(FDSL_GRID_PARAMS, IFS3D_EVAL_PARAMS) {                           \
        const Ifs3dEvalArgs a = IFS3D_EVAL_ARGS;                                                            \
        fdsl_host::Grid(FDSL_GRID_ARGS).threads([&](int s) { if (s < n_sys) ifs3d_eval_thread(a, s); });    \
    }
#else
#define IFS3D_KERNELS(prefix)                                                                               \
    extern "C" __global__ void prefix##_models(IFS3D_MODEL_PARAMS) {                                        \
        const Ifs3dModelArgs a = IFS3D_MODEL_ARGS;                                                          \
        const int s = blockIdx.x * blockDim.x + threadIdx.x;                                                \
        if (s < n_sys) ifs3d_model_thread(a, s);                                                            \
    }                                                                                                       \
    extern "C" __global__ void prefix##_views(IFS3D_VIEW_PARAMS) {                                          \
        extern __shared__ unsigned int lit[];                                                               \
        const Ifs3dViewArgs a = IFS3D_VIEW_ARGS;                                                            \
        const int b = blockIdx.x, band = blockIdx.y, t = threadIdx.x, nt = blockDim.x;                      \
        ifs3d_view_clear(a, t, nt, lit);                                                                    \
        __syncthreads();                                                                                    \
        ifs3d_view_project(a, b, band, t, nt, lit);                                                         \
        __syncthreads();                                                                                    \
        ifs3d_view_write(a, b, band, t, nt, lit);                                                           \
    }                                                                                                       \
    extern "C" __global__ void prefix##_evaluate(IFS3D_EVAL_PARAMS) {                                       \
        const Ifs3dEvalArgs a = IFS3D_EVAL_ARGS;                                                            \
        const int s = blockIdx.x * blockDim.x + threadIdx.x;                                                \
        if (s < n_sys) ifs3d_eval_thread(a, s);                                                             \
    }
#endif
