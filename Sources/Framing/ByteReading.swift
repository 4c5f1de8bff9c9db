// Bounds-checked readers over borrowed bytes, shared by every dialect: big-endian integers and
// QUIC variable-length integers (RFC 9000 §16). Each reader takes a cursor it advances only on
// success and returns nil when the bytes end first, so a caller can tell "truncated" apart
// from every other failure and decide whether that means "wait for more" or "malformed".

extension RawSpan {
    /// The octet at `cursor`, advancing it by one; nil when no octet is left.
    @inlinable
    func readUInt8(at cursor: inout Int) -> UInt8? {
        guard cursor < byteCount else { return nil }
        defer { cursor += 1 }
        return unsafeLoad(fromByteOffset: cursor, as: UInt8.self)
    }

    /// `width` octets (1...8) at `cursor` read as a big-endian unsigned integer; nil when fewer remain.
    /// With 8 octets in hand it is one unaligned load, a byte swap and a shift.
    @inlinable @inline(__always)
    func readBigEndian(width: Int, at cursor: inout Int) -> UInt64? {
        let available = byteCount &- cursor
        guard width <= available else { return nil }
        let value: UInt64
        if available >= 8 {
            let word = UInt64(bigEndian: unsafeLoadUnaligned(fromByteOffset: cursor, as: UInt64.self))
            value = word >> UInt64(truncatingIfNeeded: 64 &- 8 &* width)
        } else {
            var octets: UInt64 = 0
            for index in cursor..<(cursor &+ width) {
                octets = octets << 8 | UInt64(unsafeLoad(fromByteOffset: index, as: UInt8.self))
            }
            value = octets
        }
        cursor &+= width
        return value
    }

    /// A QUIC variable-length integer at `cursor` (RFC 9000 §16); nil when it is cut short.
    @inlinable @inline(__always)
    func readVarint(at cursor: inout Int) -> Varint? {
        guard cursor < byteCount else { return nil }
        let width = Varint.encodedLength(firstByte: unsafeLoad(fromByteOffset: cursor, as: UInt8.self))
        var end = cursor
        guard let raw = readBigEndian(width: width, at: &end) else { return nil }
        cursor = end
        return Varint(value: raw & Varint.valueMask(width: width), encodedLength: width)
    }

    /// Skips `count` octets at `cursor`; false (cursor unchanged) when fewer remain.
    @inlinable
    func skip(_ count: UInt64, at cursor: inout Int) -> Bool {
        guard count <= UInt64(byteCount &- cursor) else { return false }
        cursor += Int(count)
        return true
    }

    /// Whether these bytes begin the same as `prefix` for as many octets as both have.
    @inlinable
    func agrees(withPrefix prefix: borrowing Span<UInt8>) -> Bool {
        let shared = Swift.min(byteCount, prefix.count)
        for index in 0..<shared where unsafeLoad(fromByteOffset: index, as: UInt8.self) != prefix[index] {
            return false
        }
        return true
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` as `width` (1...8) big-endian octets (the low `width` octets of `value`),
    /// with one store.
    @inlinable @inline(__always)
    mutating func appendBigEndian(_ value: UInt64, width: Int) {
        appendOctets(count: width) { out in
            out.storeBytes(of: (value << UInt64(truncatingIfNeeded: 64 &- 8 &* width)).bigEndian, as: UInt64.self)
        }
    }

    /// Appends `count` octets that `body` writes at the pointer it gets, which has room for
    /// `max(count, 8)` octets (so that a narrower value can be written with one 8-octet store): one
    /// capacity and uniqueness check for the lot, with geometric growth, no per-octet append.
    @inlinable @inline(__always)
    mutating func appendOctets(count: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        appendOctets(atMost: count) { out in
            body(out.baseAddress.unsafelyUnwrapped)
            return count
        }
    }

    /// Appends the octets that `body` writes at the start of the raw memory it gets, which has
    /// room for `max(limit, 8)` octets; `body` returns how many it wrote (at most `limit`). One
    /// capacity and uniqueness check, with geometric growth: how the `[UInt8]` encoders reuse the
    /// raw-memory ones (`PongWriting`).
    @inlinable @inline(__always)
    mutating func appendOctets(atMost limit: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        let room = Swift.max(limit, 8)
        append(addingCapacity: room) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                let written = body(UnsafeMutableRawBufferPointer(buffer))
                precondition(written >= 0 && written <= limit, "wrote \(written) octets, past the \(limit) reserved")
                initialized = written
            }
        }
    }

    /// Appends the octets of `bytes`.
    @inlinable
    mutating func append(_ bytes: RawSpan) {
        bytes.withUnsafeBytes { append(contentsOf: $0) }
    }
}

extension String {
    /// The string's UTF-8 octets, cut to at most `maxOctets` at a character boundary (a length-
    /// prefixed string field: an AMQP shortstr, an MQTT UTF-8 string), so the result is valid UTF-8.
    func utf8Prefix(maxOctets: Int) -> [UInt8] {
        var octets = Array(utf8)
        guard octets.count > maxOctets else { return octets }
        var end = maxOctets
        while end > 0 && octets[end] & 0xC0 == 0x80 { end -= 1 }
        octets.removeSubrange(end...)
        return octets
    }
}
