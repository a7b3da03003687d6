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
 */
#ifndef SGDCLF_DENSE_H
#define SGDCLF_DENSE_H

#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SGDCLF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SGDCLF_CLONES
#endif

#define SGDCLF_DOT(name, T)                                                   \
    SGDCLF_CLONES double name(const T* w, const T* x, ptrdiff_t n) {          \
        double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};                               \
        ptrdiff_t j = 0, k;                                                   \
        for (; j + 8 <= n; j += 8)                                            \
            for (k = 0; k < 8; k++)                                           \
                s[k] += w[j + k] * x[j + k];                                  \
        for (; j < n; j++)                                                    \
            s[0] += w[j] * x[j];                                              \
        return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])); \
    }

#define SGDCLF_AXPY(name, T)                                                  \
    SGDCLF_CLONES void name(T* w, T a, const T* x, ptrdiff_t n) {             \
        ptrdiff_t j;                                                          \
        for (j = 0; j < n; j++)                                               \
            w[j] += a * x[j];                                                 \
    }

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
#else
        __builtin_prefetch(c + k);
#endif
    }
}

static SGDCLF_DOT(dense_dot_f64, double)

/* float32 rows: the products and sixteen partial sums stay in float (one
 * AVX-512 register), the partial sums are added in double. Converting every
 * product to double cost more than the rest of the dot. */
SGDCLF_CLONES static double dense_dot_f32(const float* w, const float* x, ptrdiff_t n) {
    float s[16] = {0};
    double total = 0.0;
    ptrdiff_t j = 0, k;
    for (; j + 16 <= n; j += 16)
        for (k = 0; k < 16; k++)
            s[k] += w[j + k] * x[j + k];
    for (; j < n; j++)
        total += (double)w[j] * (double)x[j];
    for (k = 0; k < 16; k++)
        total += (double)s[k];
    return total;
}
static SGDCLF_AXPY(dense_axpy_f64, double)
static SGDCLF_AXPY(dense_axpy_f32, float)

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
