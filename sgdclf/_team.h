/* A team of threads inside one OpenMP parallel region (one thread without OpenMP).
 *
 * The multinomial epoch splits the classes of every example across the team
 * and synchronises once per example. An OpenMP barrier costs ~1 us there, so
 * the per-example barrier is a sense-reversing spin barrier on one cache line
 * (it yields the CPU after a while, in case the machine is oversubscribed).
 */
#ifndef SGDCLF_TEAM_H
#define SGDCLF_TEAM_H

#include <sched.h>

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
    if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == b->size) {
        __atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->sense, sense, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&b->sense, __ATOMIC_ACQUIRE) != sense) {
        if (++spins == 200) {
            sched_yield();
            spins = 0;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

#endif
