// ifs3d.cuh: the 3D IFS kernels shared by ofdb3d and exfractaldb (each .cu instantiates them with its prefix).
// Must equal fdsl_gen/databases/ifs3d/render_ref.py bit for bit.
//
// models   (one thread per model): the chaos game is run three times from the same Philox uniforms, so
//          that no float64 cloud is stored: bounds (and finiteness), then the normalised values' sums
//          (left to right, as the reference), then the centred float32 points.
// views    (one block per image): each thread projects a share of the points; lit pixels are plain byte
//          stores of 255, which no order can change.
// evaluate (one thread per search candidate): two more runs give the mean and the variance of each axis.
#pragma once
#include "philox.cuh"

#define IFS3D_MAX_MAPS 7
#define IFS3D_ROW 13  // a .. l, p

struct Ifs3dChain {
    const double* sys;
    int n_maps;
    double cum[IFS3D_MAX_MAPS];
    unsigned int seed, stream, cat, model;
    double x, y, z;
    int i;  // index of the uniform the next step uses
    Philox4 words;
};

__device__ __forceinline__ void ifs3d_start(Ifs3dChain& ch) {
    double total = 0.0;
    for (int k = 0; k < ch.n_maps; ++k) {
        total = __dadd_rn(total, ch.sys[k * IFS3D_ROW + 12]);
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
    for (int k = 0; k < ch.n_maps; ++k) j += u > ch.cum[k];
    if (j < ch.n_maps) {
        const double* m = ch.sys + j * IFS3D_ROW;
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
__device__ Ifs3dCloud ifs3d_cloud(Ifs3dChain ch, int n_points) {
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
__device__ __forceinline__ Ifs3dChain ifs3d_chain(const double* systems, const long long* n_maps,
                                                  const unsigned int* keys, int s, unsigned int seed,
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
    const double* systems; const long long* n_maps; const unsigned int* keys; float* points; int* finite;
    int n_sys, n_points; unsigned int seed, stream;
};

__device__ void ifs3d_model_thread(const Ifs3dModelArgs& a, int s) {
    Ifs3dChain ch = ifs3d_chain(a.systems, a.n_maps, a.keys, s, a.seed, a.stream);
    const Ifs3dCloud cl = ifs3d_cloud(ch, a.n_points);
    const int m = a.n_points - 1;
    float* out = a.points + (long long)s * 3 * m;
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
    const float* points; const int* finite; const long long* system_of; const double* mvp; unsigned char* out;
    int n_points, size;
};

__device__ void ifs3d_view_clear(const Ifs3dViewArgs& a, int b, int t, int nt) {
    unsigned char* img = a.out + (long long)b * a.size * a.size;
    for (int k = t; k < a.size * a.size; k += nt) img[k] = 0;
}

__device__ void ifs3d_view_project(const Ifs3dViewArgs& a, int b, int t, int nt) {
    const long long s = a.system_of[b];
    if (!a.finite[s]) return;
    const int m = a.n_points - 1, S = a.size;
    const float* pts = a.points + s * 3 * m;
    const double* M = a.mvp + 16LL * b;
    const double half = (double)S / 2.0;
    unsigned char* img = a.out + (long long)b * S * S;
    for (int i = t; i < m; i += nt) {
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
        if (col >= 0 && col < S && row >= 0 && row < S) img[(long long)row * S + (long long)col] = 255;
    }
}

struct Ifs3dEvalArgs {
    const double* systems; const long long* n_maps; const unsigned int* keys; int* accepted;
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
        int n_points, int size
#define IFS3D_VIEW_ARGS {points, finite, system_of, mvp, out, n_points, size}
#define IFS3D_EVAL_PARAMS                                                                                   \
    const double *systems, const long long *n_maps, const unsigned int *keys, int *accepted, int n_sys,     \
        int n_points, unsigned int seed, unsigned int stream, double threshold
#define IFS3D_EVAL_ARGS {systems, n_maps, keys, accepted, n_sys, n_points, seed, stream, threshold}

#ifndef __CUDACC__
#define IFS3D_KERNELS(prefix)                                                                               \
    extern "C" void prefix##_models_host(int gx, int gy, int threads, IFS3D_MODEL_PARAMS) {                 \
        const Ifs3dModelArgs a = IFS3D_MODEL_ARGS;                                                          \
        for (int s = 0; s < gx * threads && s < n_sys; ++s) ifs3d_model_thread(a, s);                       \
    }                                                                                                       \
    extern "C" void prefix##_views_host(int gx, int gy, int threads, IFS3D_VIEW_PARAMS) {                   \
        const Ifs3dViewArgs a = IFS3D_VIEW_ARGS;                                                            \
        for (int b = 0; b < gx; ++b) {                                                                      \
            for (int t = 0; t < threads; ++t) ifs3d_view_clear(a, b, t, threads);                           \
            for (int t = 0; t < threads; ++t) ifs3d_view_project(a, b, t, threads);                         \
        }                                                                                                   \
    }                                                                                                       \
    extern "C" void prefix##_evaluate_host(int gx, int gy, int threads, IFS3D_EVAL_PARAMS) {                \
        const Ifs3dEvalArgs a = IFS3D_EVAL_ARGS;                                                            \
        for (int s = 0; s < gx * threads && s < n_sys; ++s) ifs3d_eval_thread(a, s);                        \
    }
#else
#define IFS3D_KERNELS(prefix)                                                                               \
    extern "C" __global__ void prefix##_models(IFS3D_MODEL_PARAMS) {                                        \
        const Ifs3dModelArgs a = IFS3D_MODEL_ARGS;                                                          \
        const int s = blockIdx.x * blockDim.x + threadIdx.x;                                                \
        if (s < n_sys) ifs3d_model_thread(a, s);                                                            \
    }                                                                                                       \
    extern "C" __global__ void prefix##_views(IFS3D_VIEW_PARAMS) {                                          \
        const Ifs3dViewArgs a = IFS3D_VIEW_ARGS;                                                            \
        ifs3d_view_clear(a, blockIdx.x, threadIdx.x, blockDim.x);                                           \
        __syncthreads();                                                                                    \
        ifs3d_view_project(a, blockIdx.x, threadIdx.x, blockDim.x);                                         \
    }                                                                                                       \
    extern "C" __global__ void prefix##_evaluate(IFS3D_EVAL_PARAMS) {                                       \
        const Ifs3dEvalArgs a = IFS3D_EVAL_ARGS;                                                            \
        const int s = blockIdx.x * blockDim.x + threadIdx.x;                                                \
        if (s < n_sys) ifs3d_eval_thread(a, s);                                                             \
    }
#endif
