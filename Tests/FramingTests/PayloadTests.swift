import Testing
import AllocationCounting
import Framing

@Suite struct HeartbeatPayloadTests {
    @Test func recommendedLayoutIsBigEndianSequenceThenTimestamp() {
        let payload = HeartbeatPayload(sequence: 0x0102_0304, timestampMilliseconds: 0x0506_0708)
        #expect(payload.rawValue == 0x0102_0304_0506_0708)
        #expect(payload.sequence == 0x0102_0304)
        #expect(payload.timestampMilliseconds == 0x0506_0708)
        #expect(payload.description == "0102030405060708")
    }
}

@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct AllocationCounterTests {
    @Test func countsArraysAndNotPlainLoops() {
        var sink = 0
        let none = allocations {
            for i in 0..<1000 { sink &+= i }
        }
        #expect(none == 0)
        var arrays: [[Int]] = []
        arrays.reserveCapacity(100)
        let some = allocations {
            for i in 0..<100 { arrays.append([i, sink]) }
        }
        #expect(some == 100)
    }
}
