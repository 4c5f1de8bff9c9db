import CTransportsShims
import Glibc

/// 64 bits from the kernel's secure generator (getrandom(2)), for what a dialect's encoder must make
/// unpredictable; falls back to the monotonic clock only if the call fails.
func secureRandomSeed() -> UInt64 {
    var seed: UInt64 = 0
    let count = withUnsafeMutableBytes(of: &seed) { getrandom($0.baseAddress, $0.count, 0) }
    if count == MemoryLayout<UInt64>.size { return seed }
    return UInt64(bitPattern: EventLoop.now().nanoseconds) &* 0x9E37_79B9_7F4A_7C15
}
