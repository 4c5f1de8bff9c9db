import MallocCounter

/// Allocations the calling thread makes while `body` runs. The allocator is interposed by the
/// test-only `MallocCounter` target, so this counts every malloc of the Swift runtime as well.
func allocations(during body: () throws -> Void) rethrows -> UInt64 {
    let before = malloc_counter_thread_allocations()
    try body()
    return malloc_counter_thread_allocations() - before
}
