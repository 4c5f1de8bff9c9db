#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>

/// 1 when the allocator is interposed and the counters below count; 0 in a build under
/// AddressSanitizer or ThreadSanitizer, whose runtime owns malloc (the counters then stay 0).
int malloc_counter_is_available(void);

/// Number of allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
/// made by the calling thread since it started. Test-only: this target interposes the allocator.
uint64_t malloc_counter_thread_allocations(void);

/// Octets requested by the calling thread's allocations since it started (each realloc counts its
/// whole new size).
uint64_t malloc_counter_thread_allocated_bytes(void);

/// Number of allocations made by all threads since the process started.
uint64_t malloc_counter_process_allocations(void);

#endif
