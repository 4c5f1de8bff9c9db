#ifndef RUNTIME_BENCH_COUNTERS_H
#define RUNTIME_BENCH_COUNTERS_H
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign) made by all
/// threads of the process so far. Counting interposes glibc's allocator for the whole executable
/// that links this target (the Swift runtime and SwiftNIO included); benchmarks only.
uint64_t runtime_bench_allocations(void);

/// Voluntary plus involuntary context switches of all threads of the process so far.
int64_t runtime_bench_context_switches(void);

#endif
