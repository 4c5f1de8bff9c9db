// Interposes glibc's allocator for the whole test binary and counts allocations, per thread and
// per process. Linked only into test targets; it forwards every call to glibc's own functions.
//
// Under AddressSanitizer or ThreadSanitizer the sanitizer runtime owns malloc and free: defining
// them here as well would hand it pointers it never allocated. There the interposer steps aside,
// `malloc_counter_is_available()` returns 0, and tests that count allocations are skipped.
#include "MallocCounter.h"

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#    define MALLOC_COUNTER_UNDER_SANITIZER 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define MALLOC_COUNTER_UNDER_SANITIZER 1
#endif

#ifdef MALLOC_COUNTER_UNDER_SANITIZER

int malloc_counter_is_available(void) { return 0; }
uint64_t malloc_counter_thread_allocations(void) { return 0; }
uint64_t malloc_counter_thread_allocated_bytes(void) { return 0; }
uint64_t malloc_counter_process_allocations(void) { return 0; }

#else

#include <errno.h>
#include <stddef.h>
#include <stdatomic.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread uint64_t thread_allocations __attribute__((tls_model("initial-exec")));
static __thread uint64_t thread_allocated_bytes __attribute__((tls_model("initial-exec")));
static _Atomic uint64_t process_allocations;

static inline void counted(size_t size) {
    thread_allocations += 1;
    thread_allocated_bytes += size;
    atomic_fetch_add_explicit(&process_allocations, 1, memory_order_relaxed);
}

int malloc_counter_is_available(void) { return 1; }
uint64_t malloc_counter_thread_allocations(void) { return thread_allocations; }
uint64_t malloc_counter_thread_allocated_bytes(void) { return thread_allocated_bytes; }
uint64_t malloc_counter_process_allocations(void) {
    return atomic_load_explicit(&process_allocations, memory_order_relaxed);
}

void *malloc(size_t size) { counted(size); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { counted(count * size); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { counted(size); return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { counted(size); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { counted(size); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    counted(size);
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *out = pointer;
    return 0;
}

#endif
