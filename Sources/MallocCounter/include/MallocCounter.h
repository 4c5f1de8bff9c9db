#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>

/// Number of allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
/// made by the calling thread since it started. Test-only: this target interposes the allocator.
uint64_t malloc_counter_thread_allocations(void);

/// Number of allocations made by all threads since the process started.
uint64_t malloc_counter_process_allocations(void);

#endif
