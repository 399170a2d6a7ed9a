// Counts heap allocations for the benchmarks by interposing malloc, calloc and realloc in
// the benchmark executable (and only there). Calls forward to glibc's own entry points,
// so the allocator is unchanged; while counting, the count is one relaxed atomic increment
// per call. Counting is off until malloc_counter_enable(): the benchmarks that do not count
// (the load drivers, the durable benchmark's threads) pay one read of a flag, not a shared
// atomic increment.
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include "malloc_counter.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static uint64_t allocations;
static int counting;

static inline void count(void) {
    if (__atomic_load_n(&counting, __ATOMIC_RELAXED)) __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t size) {
    count();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size) {
    count();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    count();
    return __libc_realloc(p, size);
}

void malloc_counter_enable(void) { __atomic_store_n(&counting, 1, __ATOMIC_RELAXED); }

uint64_t malloc_counter_allocations(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }
