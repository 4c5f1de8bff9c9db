/// A streaming UTF-8 validator (RFC 3629 §4): feed it octets one at a time; it rejects overlong
/// forms, surrogates (U+D800–U+DFFF), code points above U+10FFFF, and — at `isComplete` — a
/// sequence cut off by the end. Used for Close reasons (RFC 6455 §5.5.1, §8.1); fixed-size state.
struct UTF8Validator {
    /// Continuation octets still expected in the current sequence.
    private var remaining = 0
    /// The range the next octet must fall in (narrower than 0x80...0xBF right after some leads).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// Feeds one octet; false as soon as the input cannot be valid UTF-8.
    mutating func feed(_ octet: UInt8) -> Bool {
        if remaining > 0 {
            guard octet >= lower && octet <= upper else { return false }
            remaining -= 1
            lower = 0x80
            upper = 0xBF
            return true
        }
        switch octet {
        case 0x00...0x7F: return true
        case 0xC2...0xDF: remaining = 1
        case 0xE0: remaining = 2; lower = 0xA0           // no overlong 3-octet forms
        case 0xE1...0xEC, 0xEE...0xEF: remaining = 2
        case 0xED: remaining = 2; upper = 0x9F           // no surrogates
        case 0xF0: remaining = 3; lower = 0x90           // no overlong 4-octet forms
        case 0xF1...0xF3: remaining = 3
        case 0xF4: remaining = 3; upper = 0x8F           // nothing above U+10FFFF
        default: return false                             // 0x80–0xC1, 0xF5–0xFF
        }
        return true
    }

    /// Whether the octets fed end at a character boundary.
    var isComplete: Bool { remaining == 0 }
}
