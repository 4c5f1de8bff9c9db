// Swift side of the test-only allocator interposer, shared by every test target.
import MallocCounter

/// Whether allocations can be counted in this build: false under AddressSanitizer and
/// ThreadSanitizer, whose runtimes own the allocator. Gate counting tests with
/// `.enabled(if: allocationCountingIsAvailable)`.
public let allocationCountingIsAvailable = malloc_counter_is_available() != 0

/// Allocations the calling thread makes while `body` runs. The allocator is interposed by the
/// test-only `MallocCounter` target, so this counts every malloc of the Swift runtime as well.
public func allocations(during body: () throws -> Void) rethrows -> UInt64 {
    let before = malloc_counter_thread_allocations()
    try body()
    return malloc_counter_thread_allocations() - before
}

/// Octets the calling thread's allocations request while `body` runs (0 where counting is unavailable).
public func allocatedBytes(during body: () throws -> Void) rethrows -> UInt64 {
    let before = malloc_counter_thread_allocated_bytes()
    try body()
    return malloc_counter_thread_allocated_bytes() - before
}

/// Allocations the calling thread has made since it started (read it twice, on the same thread,
/// to count a window that is not one closure: callbacks on an event loop's thread, for one).
public func threadAllocationCount() -> UInt64 { malloc_counter_thread_allocations() }
