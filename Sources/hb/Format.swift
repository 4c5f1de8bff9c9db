import Glibc

/// `value` with `digits` decimals, without Foundation.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int64(scaled / scale)
    let fraction = Int64(scaled) - whole * Int64(scale)
    var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let digitsText = String(fraction)
        text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
    }
    return text
}

/// Milliseconds with three decimals.
func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return fixed(Double(seconds) * 1e3 + Double(attoseconds) * 1e-15, 3)
}

/// A JSON string literal for `text` (see `String.jsonLiteral`).
func jsonString(_ text: String) -> String { text.jsonLiteral }

/// Writes a line to standard output and flushes it (output may be a pipe read live).
func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// Writes a line to standard error.
func complain(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// `--format` of `probe` and `serve`: lines for people, or one JSON object per line for scripts.
enum OutputFormat: String, Sendable {
    case text
    case jsonl
}

/// One JSON object written on one line, its members in the order they are added.
struct JSONLine {
    private var text = "{"

    /// An object whose first member is `"event": event`.
    init(event: String) {
        add("event", event)
    }

    /// An empty object.
    init() {}

    private mutating func key(_ name: String) {
        if text.count > 1 { text += "," }
        text += jsonString(name) + ":"
    }

    /// Adds a string member.
    mutating func add(_ name: String, _ value: String) {
        key(name)
        text += jsonString(value)
    }

    /// Adds an integer member.
    mutating func add(_ name: String, _ value: Int) {
        key(name)
        text += String(value)
    }

    /// Adds a number member with `digits` decimals (null when not finite).
    mutating func add(_ name: String, _ value: Double, digits: Int = 3) {
        key(name)
        text += value.isFinite ? fixed(value, digits) : "null"
    }

    /// Adds a member whose value is already JSON (an array, an object, `null`).
    mutating func add(_ name: String, json value: String) {
        key(name)
        text += value
    }

    /// The object's text.
    var line: String { text + "}" }
}
