// The argument types of AMQP 0-9-1 methods (§4.2.5): octets, shorts and longs (big-endian), short
// strings (1-octet length), long strings (4-octet length) and field tables (4-octet length, then
// name/type/value entries; the type letters of the 0-9-1 errata as RabbitMQ and Qpid use them).
// One reader, bounded by the method's payload: every length is checked against the octets left
// before anything is read, and tables nest at most `AMQPFields.maxTableDepth` deep.

/// A method's arguments that do not parse (AMQP 0-9-1 reply code 502 SYNTAX_ERROR).
public struct AMQPSyntaxError: Error, Hashable, Sendable {
    /// What was wrong, for people.
    public var detail: String
}

/// Readers and writers of the AMQP 0-9-1 argument types, over a method frame's payload.
enum AMQPFields {
    /// How deep field tables and arrays may nest inside one another.
    static let maxTableDepth = 16

    static func octet(_ bytes: RawSpan, _ cursor: inout Int, _ field: String) throws(AMQPSyntaxError) -> UInt8 {
        guard let value = bytes.readUInt8(at: &cursor) else { throw AMQPSyntaxError(detail: "\(field) is cut short") }
        return value
    }

    static func short(_ bytes: RawSpan, _ cursor: inout Int, _ field: String) throws(AMQPSyntaxError) -> UInt16 {
        guard let value = bytes.readBigEndian(width: 2, at: &cursor) else { throw AMQPSyntaxError(detail: "\(field) is cut short") }
        return UInt16(value)
    }

    static func long(_ bytes: RawSpan, _ cursor: inout Int, _ field: String) throws(AMQPSyntaxError) -> UInt32 {
        guard let value = bytes.readBigEndian(width: 4, at: &cursor) else { throw AMQPSyntaxError(detail: "\(field) is cut short") }
        return UInt32(value)
    }

    /// Where a shortstr's octets (at most 255) lie in `bytes`.
    static func shortString(_ bytes: RawSpan, _ cursor: inout Int, _ field: String) throws(AMQPSyntaxError) -> Range<Int> {
        let length = try octet(bytes, &cursor, field)
        return try octets(bytes, &cursor, count: UInt64(length), field)
    }

    /// Where a longstr's octets (at most what the frame holds) lie in `bytes`.
    static func longString(_ bytes: RawSpan, _ cursor: inout Int, _ field: String) throws(AMQPSyntaxError) -> Range<Int> {
        let length = try long(bytes, &cursor, field)
        return try octets(bytes, &cursor, count: UInt64(length), field)
    }

    static func string(_ octets: RawSpan) -> String {
        octets.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    private static func octets(_ bytes: RawSpan, _ cursor: inout Int, count: UInt64, _ field: String) throws(AMQPSyntaxError) -> Range<Int> {
        let start = cursor
        guard bytes.skip(count, at: &cursor) else {
            throw AMQPSyntaxError(detail: "\(field) declares \(count) octets; \(bytes.byteCount - start) remain")
        }
        return start..<cursor
    }

    /// A field table, checked entry by entry (§4.2.5.5). `visit` gets each top-level entry's name,
    /// type letter and value octets (a longstr's without its length; a table's or array's entries).
    static func table(_ bytes: RawSpan, _ cursor: inout Int, _ field: String, depth: Int = 0,
                      visit: (RawSpan, UInt8, RawSpan) -> Void = { _, _, _ in }) throws(AMQPSyntaxError) {
        let entries = bytes.extracting(try longString(bytes, &cursor, field))
        var index = 0
        while index < entries.byteCount {
            let name = entries.extracting(try shortString(entries, &index, "a field name in \(field)"))
            let type = try octet(entries, &index, "the type of field \(string(name)) in \(field)")
            let text = try value(type: type, entries, &index, "field \(string(name)) in \(field)", depth: depth)
            visit(name, type, entries.extracting(text))
        }
    }

    /// Skips one field value of `type`; returns where its octets lie (a longstr's, a table's or an
    /// array's after their length).
    private static func value(type: UInt8, _ bytes: RawSpan, _ cursor: inout Int, _ field: String, depth: Int) throws(AMQPSyntaxError) -> Range<Int> {
        let fixed: UInt64
        switch type {
        case UInt8(ascii: "V"): fixed = 0                                   // void
        case UInt8(ascii: "t"), UInt8(ascii: "b"), UInt8(ascii: "B"): fixed = 1 // boolean, short-short int/uint
        case UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "U"): fixed = 2 // short int (errata 's', spec 'U'), short uint
        case UInt8(ascii: "I"), UInt8(ascii: "i"), UInt8(ascii: "f"): fixed = 4 // long int, long uint, float
        case UInt8(ascii: "D"): fixed = 5                                   // decimal: scale, long uint
        case UInt8(ascii: "l"), UInt8(ascii: "L"), UInt8(ascii: "d"), UInt8(ascii: "T"): fixed = 8 // long long, double, timestamp
        case UInt8(ascii: "S"), UInt8(ascii: "x"): return try longString(bytes, &cursor, field) // long string, byte array (RabbitMQ)
        case UInt8(ascii: "F"), UInt8(ascii: "A"):
            guard depth < maxTableDepth else { throw AMQPSyntaxError(detail: "\(field) nests tables deeper than \(maxTableDepth)") }
            let start = cursor
            if type == UInt8(ascii: "F") {
                try table(bytes, &cursor, field, depth: depth + 1)
            } else {
                let elements = bytes.extracting(try longString(bytes, &cursor, field))
                var index = 0
                while index < elements.byteCount {
                    let elementType = try octet(elements, &index, "an element type in \(field)")
                    _ = try value(type: elementType, elements, &index, "an element of \(field)", depth: depth + 1)
                }
            }
            return (start + 4)..<cursor
        default:
            throw AMQPSyntaxError(detail: "\(field) has the unknown field type 0x\(String(type, radix: 16))")
        }
        return try octets(bytes, &cursor, count: fixed, field)
    }

    // MARK: Writers

    /// Appends a shortstr: `text`'s UTF-8, cut to 255 octets at a character boundary.
    static func appendShortString(_ text: String, to buffer: inout [UInt8]) {
        let octets = text.utf8Prefix(maxOctets: 255)
        buffer.append(UInt8(octets.count))
        buffer.append(contentsOf: octets)
    }

    /// Appends a longstr carrying `octets`.
    static func appendLongString(_ octets: some Collection<UInt8>, to buffer: inout [UInt8]) {
        buffer.appendBigEndian(UInt64(octets.count), width: 4)
        buffer.append(contentsOf: octets)
    }

    /// Appends a field table whose entries are all longstr (`S`) values.
    static func appendTable(_ entries: KeyValuePairs<String, String>, to buffer: inout [UInt8]) {
        var body: [UInt8] = []
        for (name, value) in entries {
            appendShortString(name, to: &body)
            body.append(UInt8(ascii: "S"))
            appendLongString(Array(value.utf8), to: &body)
        }
        appendLongString(body, to: &buffer)
    }
}
