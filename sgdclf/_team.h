/* A team of threads inside one OpenMP parallel region (one thread without OpenMP).
 *
 * The multinomial epoch splits the classes of every example across the team
 * and synchronises once per example. An OpenMP barrier costs ~1 us there, so
 * the per-example barrier is a sense-reversing spin barrier on one cache line
 * (it yields the CPU after a while, in case the machine is oversubscribed).
 */
#ifndef SGDCLF_TEAM_H
#define SGDCLF_TEAM_H

#ifdef _WIN32
/* kernel32's, declared rather than pulling <windows.h>'s macros into the
 * kernel (BOOL is int, WINAPI is __stdcall). */
__declspec(dllimport) int __stdcall SwitchToThread(void);
#define team_yield() ((void)SwitchToThread())
#else
#include <sched.h>
#define team_yield() ((void)sched_yield())
#endif

#if defined(_MSC_VER) && !defined(__clang__)
/* MSVC has no __atomic builtins: its interlocked intrinsics are full
 * barriers (stronger than acquire-release). A load that acquires is a plain
 * volatile load on x86 (its loads are not reordered with later accesses),
 * elsewhere an interlocked no-op. */
#include <intrin.h>
#define team_atomic_increment(p) _InterlockedIncrement((volatile long*)(p))
#define team_atomic_store_relaxed(p, v) ((void)_InterlockedExchange((volatile long*)(p), (v)))
#define team_atomic_store_release(p, v) ((void)_InterlockedExchange((volatile long*)(p), (v)))
static __forceinline int team_atomic_load_acquire(const int* p) {
#if defined(_M_X64) || defined(_M_IX86)
    int v = *(const volatile int*)p;
    _ReadWriteBarrier();
    return v;
#else
    return (int)_InterlockedCompareExchange((volatile long*)p, 0, 0);
#endif
}
#if defined(_M_X64) || defined(_M_IX86)
#define team_pause() _mm_pause()
#else
#define team_pause() ((void)0)
#endif
#else
#define team_atomic_increment(p) __atomic_add_fetch((p), 1, __ATOMIC_ACQ_REL)
#define team_atomic_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define team_atomic_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define team_atomic_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#if defined(__x86_64__) || defined(__i386__)
#define team_pause() __builtin_ia32_pause()
#else
#define team_pause() ((void)0)
#endif
#endif

#ifdef _OPENMP
#include <omp.h>
static inline int team_size(void) { return omp_get_num_threads(); }
static inline int team_rank(void) { return omp_get_thread_num(); }
static inline void team_omp_barrier(void) {
#pragma omp barrier
}
static inline int team_available(void) { return 1; }
#else
static inline int team_size(void) { return 1; }
static inline int team_rank(void) { return 0; }
static inline void team_omp_barrier(void) {}
static inline int team_available(void) { return 0; }
#endif

typedef struct {
    _Alignas(64) int count;     /* threads arrived in the current round */
    int sense;                  /* flips when a round completes */
    int size;                   /* threads in the team */
    char pad[64 - 3 * sizeof(int)];
} spin_barrier;

static inline void spin_barrier_wait(spin_barrier* b, int* local_sense) {
    int sense = !*local_sense;
    unsigned spins = 0;
    *local_sense = sense;
    if (team_atomic_increment(&b->count) == b->size) {
        team_atomic_store_relaxed(&b->count, 0);
        team_atomic_store_release(&b->sense, sense);
        return;
    }
    while (team_atomic_load_acquire(&b->sense) != sense) {
        if (++spins == 200) {
            team_yield();
            spins = 0;
        }
        team_pause();
    }
}

#endif
