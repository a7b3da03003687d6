/* Dense dot products and axpy (and a prefetch), compiled for several
 * instruction sets.
 *
 * The default build targets any x86-64 (SSE2: two doubles per instruction).
 * With GCC on x86-64, target_clones also compiles AVX2 and AVX-512 versions
 * and picks one when the module loads, so one wheel runs everywhere and uses
 * the wide registers where they exist. Independent partial sums (eight
 * doubles; sixteen floats for float32 rows, whose relative error grows with
 * the row length: ~1e-8 at 1e3 features, ~1e-6 at 1e6) keep the additions
 * from waiting on each other; the summation order is fixed by
 * the code, not by the instruction set, and -ffp-contract=off (meson.build)
 * keeps the compiler from fusing multiply-adds, so every version gives the
 * same bits.
 *
 * Each operation's loop is written once (a *_BODY macro) and compiled twice:
 * inline, for short rows, where calling a clone (an indirect call, and every
 * floating-point register of the caller saved around it) costs more than
 * the arithmetic, and as the clones, for rows longer than SGDCLF_INLINE_MAX.
 */
#ifndef SGDCLF_DENSE_H
#define SGDCLF_DENSE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h> /* _mm_prefetch */
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SGDCLF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SGDCLF_CLONES
#endif

/* Rows up to this many values use the inline versions (an epoch on
 * iris's 4 features ~5% faster, wine's 13 ~2%; at 64, digits' rows, the
 * AVX-512 clones are ~25% faster than the inline SSE2 code). */
#define SGDCLF_INLINE_MAX 32

/* Ask the CPU to start loading [p, p + n_bytes) into the cache.
 *
 * GCC's interprocedural analysis treats __builtin_prefetch as free of side
 * effects: a function made only of prefetches is deemed "const" and its calls
 * are deleted (our first Cython version compiled to nothing at -O1 and up).
 * A volatile asm statement is never deleted. */
static inline void prefetch_bytes(const void* p, ptrdiff_t n_bytes) {
    const char* c = (const char*)p;
    ptrdiff_t k;
    for (k = 0; k < n_bytes; k += 64) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __asm__ volatile("prefetcht0 %0" : : "m"(*(c + k)));
#elif defined(__GNUC__) && defined(__aarch64__)
        __asm__ volatile("prfm pldl1keep, %0" : : "Q"(*(c + k)));
#elif defined(_MSC_VER) && !defined(__clang__) && (defined(_M_X64) || defined(_M_IX86))
        _mm_prefetch(c + k, _MM_HINT_T0);
#elif defined(_MSC_VER) && !defined(__clang__)
        (void)c; /* no prefetch on MSVC for other processors */
#else
        __builtin_prefetch(c + k);
#endif
    }
}

/* sum_j w[j] x[j] in double: eight partial sums. The last n % 8 products
 * also go to different partial sums (4, 2, 1 of them), so that no partial sum
 * adds more than one more product: a row's margin waits on this sum, and the
 * serial tail of 30-feature rows (six additions into s[0]) cost ~2% of an
 * epoch on breast cancer. (A tail loop indexing s[k] by a counter keeps s in
 * memory instead of registers: 5% slower.) */
#define SGDCLF_DOT_F64_BODY                                                   \
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                   \
    ptrdiff_t j = 0, k;                                                       \
    for (; j + 8 <= n; j += 8)                                                \
        for (k = 0; k < 8; k++)                                               \
            s[k] += w[j + k] * x[j + k];                                      \
    if (j + 4 <= n) {                                                         \
        for (k = 0; k < 4; k++)                                               \
            s[k] += w[j + k] * x[j + k];                                      \
        j += 4;                                                               \
    }                                                                         \
    if (j + 2 <= n) {                                                         \
        s[4] += w[j] * x[j];                                                  \
        s[5] += w[j + 1] * x[j + 1];                                          \
        j += 2;                                                               \
    }                                                                         \
    if (j < n)                                                                \
        s[6] += w[j] * x[j];                                                  \
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));

/* float32 rows: the products and sixteen partial sums stay in float (one
 * AVX-512 register), the partial sums are added in double. Converting every
 * product to double cost more than the rest of the dot. */
#define SGDCLF_DOT_F32_BODY                                                   \
    float s[16] = {0};                                                        \
    double total = 0.0;                                                       \
    ptrdiff_t j = 0, k;                                                       \
    for (; j + 16 <= n; j += 16)                                              \
        for (k = 0; k < 16; k++)                                              \
            s[k] += w[j + k] * x[j + k];                                      \
    for (; j < n; j++)                                                        \
        total += (double)w[j] * (double)x[j];                                 \
    for (k = 0; k < 16; k++)                                                  \
        total += (double)s[k];                                                \
    return total;

/* w += a x */
#define SGDCLF_AXPY_BODY                                                      \
    ptrdiff_t j;                                                              \
    for (j = 0; j < n; j++)                                                   \
        w[j] += a * x[j];

SGDCLF_CLONES static double dense_dot_f64_wide(const double* w, const double* x,
                                               ptrdiff_t n) { SGDCLF_DOT_F64_BODY }
SGDCLF_CLONES static double dense_dot_f32_wide(const float* w, const float* x,
                                               ptrdiff_t n) { SGDCLF_DOT_F32_BODY }
SGDCLF_CLONES static void dense_axpy_f64_wide(double* w, double a, const double* x,
                                              ptrdiff_t n) { SGDCLF_AXPY_BODY }
SGDCLF_CLONES static void dense_axpy_f32_wide(float* w, float a, const float* x,
                                              ptrdiff_t n) { SGDCLF_AXPY_BODY }

static inline double dense_dot_f64_short(const double* w, const double* x,
                                         ptrdiff_t n) { SGDCLF_DOT_F64_BODY }
static inline double dense_dot_f32_short(const float* w, const float* x,
                                         ptrdiff_t n) { SGDCLF_DOT_F32_BODY }
static inline void dense_axpy_f64_short(double* w, double a, const double* x,
                                        ptrdiff_t n) { SGDCLF_AXPY_BODY }
static inline void dense_axpy_f32_short(float* w, float a, const float* x,
                                        ptrdiff_t n) { SGDCLF_AXPY_BODY }

/* The margins of several models with one row (one-vs-rest, multinomial):
 * out[m] = W[rows[m]] . x, each summed exactly as dense_dot_* sums it (the
 * same bits). Long rows call the clone once for all models rather than once
 * a model: ~7-11% of a default digits epoch (10 classes, 64 features). */
#define SGDCLF_DOTS_BODY(dot)                                                 \
    ptrdiff_t m;                                                              \
    for (m = 0; m < k; m++)                                                   \
        out[m] = dot(W + rows[m] * stride, x, n);
#define SGDCLF_DOTS(name, T, dot)                                             \
    SGDCLF_CLONES static void name##_wide(const T* W, ptrdiff_t stride,       \
                                          const int64_t* rows, ptrdiff_t k,   \
                                          const T* x, ptrdiff_t n,            \
                                          double* out) {                      \
        SGDCLF_DOTS_BODY(dot)                                                 \
    }                                                                         \
    static inline void name(const T* W, ptrdiff_t stride,                     \
                            const int64_t* rows, ptrdiff_t k, const T* x,     \
                            ptrdiff_t n, double* out) {                       \
        if (n > SGDCLF_INLINE_MAX) {                                          \
            name##_wide(W, stride, rows, k, x, n, out);                       \
            return;                                                           \
        }                                                                     \
        SGDCLF_DOTS_BODY(dot)                                                 \
    }
SGDCLF_DOTS(dense_dots_f64, double, dense_dot_f64_short)
SGDCLF_DOTS(dense_dots_f32, float, dense_dot_f32_short)

static inline double dense_dot_f64(const double* w, const double* x, ptrdiff_t n) {
    return n <= SGDCLF_INLINE_MAX ? dense_dot_f64_short(w, x, n)
                                  : dense_dot_f64_wide(w, x, n);
}
static inline double dense_dot_f32(const float* w, const float* x, ptrdiff_t n) {
    return n <= SGDCLF_INLINE_MAX ? dense_dot_f32_short(w, x, n)
                                  : dense_dot_f32_wide(w, x, n);
}
static inline void dense_axpy_f64(double* w, double a, const double* x, ptrdiff_t n) {
    if (n <= SGDCLF_INLINE_MAX)
        dense_axpy_f64_short(w, a, x, n);
    else
        dense_axpy_f64_wide(w, a, x, n);
}
static inline void dense_axpy_f32(float* w, float a, const float* x, ptrdiff_t n) {
    if (n <= SGDCLF_INLINE_MAX)
        dense_axpy_f32_short(w, a, x, n);
    else
        dense_axpy_f32_wide(w, a, x, n);
}

/* w += a x, then sum_j w[j]^2 and sum_j |w[j]| of the new w in double: eight
 * partial sums each (a dense L1 step with the objective tracked recomputes
 * the norms in the same pass instead of following every weight's change
 * through one chain of additions). */
#define SGDCLF_AXPY_NORMS_BODY(T)                                             \
    double q[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0}; \
    ptrdiff_t j = 0, k;                                                       \
    for (; j + 8 <= n; j += 8)                                                \
        for (k = 0; k < 8; k++) {                                             \
            T v = w[j + k] + a * x[j + k];                                    \
            w[j + k] = v;                                                     \
            q[k] += (double)v * (double)v;                                    \
            b[k] += fabs((double)v);                                          \
        }                                                                     \
    for (; j < n; j++) {                                                      \
        T v = w[j] + a * x[j];                                                \
        w[j] = v;                                                             \
        q[0] += (double)v * (double)v;                                        \
        b[0] += fabs((double)v);                                              \
    }                                                                         \
    *sq_norm = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7])); \
    *abs_norm = ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));

#define SGDCLF_AXPY_NORMS(name, attributes, T)                                \
    attributes void name(T* restrict w, T a, const T* restrict x, ptrdiff_t n, \
                         double* restrict sq_norm, double* restrict abs_norm) { \
        SGDCLF_AXPY_NORMS_BODY(T)                                             \
    }
SGDCLF_AXPY_NORMS(dense_axpy_norms_f64_wide, SGDCLF_CLONES static, double)
SGDCLF_AXPY_NORMS(dense_axpy_norms_f32_wide, SGDCLF_CLONES static, float)
SGDCLF_AXPY_NORMS(dense_axpy_norms_f64_short, static inline, double)
SGDCLF_AXPY_NORMS(dense_axpy_norms_f32_short, static inline, float)

static inline void dense_axpy_norms_f64(double* w, double a, const double* x,
                                        ptrdiff_t n, double* sq_norm,
                                        double* abs_norm) {
    if (n <= SGDCLF_INLINE_MAX)
        dense_axpy_norms_f64_short(w, a, x, n, sq_norm, abs_norm);
    else
        dense_axpy_norms_f64_wide(w, a, x, n, sq_norm, abs_norm);
}
static inline void dense_axpy_norms_f32(float* w, float a, const float* x,
                                        ptrdiff_t n, double* sq_norm,
                                        double* abs_norm) {
    if (n <= SGDCLF_INLINE_MAX)
        dense_axpy_norms_f32_short(w, a, x, n, sq_norm, abs_norm);
    else
        dense_axpy_norms_f32_wide(w, a, x, n, sq_norm, abs_norm);
}

/* The cumulative L1 truncation (truncate_l1 in _kernel.pyx) of every weight
 * of a dense row, with the objective not followed: for each j with
 * w = s v_j != 0, w moves towards 0 by its pending penalty u +- q_j, never
 * across, and v_j, q_j (and the average's A_j) record it. Branch-free
 * (every product computed, then selected: GCC does not vectorise a
 * floating-point operation it may only execute under a condition, except
 * with AVX-512's masks), so the loop runs in vector registers; the
 * arithmetic of each weight is that of the scalar loop, so the bits are too.
 * (A weight at 0, or NaN, is left as it is.) Both multiply by 1 / s rather
 * than divide by s: an L1 epoch on digits (AVX-512) takes ~9% less time. */
#define SGDCLF_TRUNCATE_L1(name, T)                                           \
    SGDCLF_CLONES void name(T* restrict v, T* restrict q, T* restrict A,      \
                            ptrdiff_t n, double s, double u, double avg_alpha) { \
        ptrdiff_t j;                                                          \
        double inv_s = 1.0 / s;                                               \
        for (j = 0; j < n; j++) {                                             \
            double z = v[j], w = s * z;                                       \
            double down = w - (u + q[j]), up = w + (u - q[j]);                \
            double moved = w > 0.0 ? (down < 0.0 ? 0.0 : down)                \
                                   : (up > 0.0 ? 0.0 : up);                   \
            int changed = (w > 0.0) | (w < 0.0);                              \
            T moved_v = (T)(moved * inv_s);                                   \
            T vn = changed ? moved_v : v[j];                                  \
            T dq = (T)(s * ((double)vn - z));                                 \
            v[j] = vn;                                                        \
            q[j] += changed ? dq : (T)0;                                      \
            if (A != NULL) {                                                  \
                T dA = (T)(avg_alpha * ((double)vn - z));                     \
                A[j] -= changed ? dA : (T)0;                                  \
            }                                                                 \
        }                                                                     \
    }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif
static SGDCLF_TRUNCATE_L1(truncate_l1_dense_f64, double)
static SGDCLF_TRUNCATE_L1(truncate_l1_dense_f32, float)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* One SAGA step of a dense row (see the SAGA section of _kernel.pyx):
 *     w_j = soft(c w_j - eta (delta x_j + s_j / n), tau);  s_j += delta x_j
 * The pointers never overlap (restrict), and the threshold is a select, so
 * the loop runs in vector registers. tau = 0 leaves v as it is. */
#define SGDCLF_SAGA_STEP(name, T)                                             \
    SGDCLF_CLONES void name(T* restrict w, double* restrict s,                \
                            const T* restrict x, ptrdiff_t n, double c,       \
                            double eta, double delta, double inv_n,           \
                            double tau) {                                     \
        ptrdiff_t j;                                                          \
        if (tau > 0.0) {                                                      \
            for (j = 0; j < n; j++) {                                         \
                double v = c * w[j] - eta * (delta * x[j] + s[j] * inv_n);    \
                v = v > tau ? v - tau : (v < -tau ? v + tau : 0.0);           \
                w[j] = (T)v;                                                  \
                s[j] += delta * x[j];                                         \
            }                                                                 \
        } else {                                                              \
            for (j = 0; j < n; j++) {                                         \
                w[j] = (T)(c * w[j] - eta * (delta * x[j] + s[j] * inv_n));   \
                s[j] += delta * x[j];                                         \
            }                                                                 \
        }                                                                     \
    }
static SGDCLF_SAGA_STEP(saga_step_f64, double)
static SGDCLF_SAGA_STEP(saga_step_f32, float)

#endif
