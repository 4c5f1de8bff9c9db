/// A hand-written parser for `hb`'s arguments: options (`--name value` or `--name=value`),
/// flags (`--name`), and positionals. No dependencies.
struct Arguments {
    private var options: [String: String] = [:]
    private var flags: Set<String> = []
    private(set) var positionals: [String] = []

    /// Parses `arguments`, knowing which names take a value.
    init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "-" || !argument.hasPrefix("-") {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                positionals += arguments[index...]
                break
            }
            var name = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            if flagOptions.contains(name) {
                guard value == nil else { throw UsageError("\(name) takes no value") }
                flags.insert(name)
            } else if valueOptions.contains(name) {
                if value == nil {
                    guard index < arguments.count else { throw UsageError("\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                options[name] = value
            } else {
                throw UsageError("unknown option \(name)")
            }
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func value(_ name: String) -> String? { options[name] }

    /// An option parsed by `parse`, with a message naming the option when it does not parse.
    func value<T>(_ name: String, default defaultValue: T, _ parse: (String) -> T?) throws(UsageError) -> T {
        guard let text = options[name] else { return defaultValue }
        guard let parsed = parse(text) else { throw UsageError("invalid value \"\(text)\" for \(name)") }
        return parsed
    }
}

/// The outcome of parsing a subcommand's arguments.
enum Parsed<Options> {
    /// Run the command with these options.
    case run(Options)
    /// Stop with this status: the help was printed (0), or a usage error with the usage (2).
    case exit(Int32)

    /// The status to stop with (for `.run`, none is due: 0).
    var exitStatus: Int32 {
        if case .exit(let status) = self { return status }
        return ExitStatus.success
    }
}

/// Parses `arguments` of `hb command`: `--help`/`-h` prints `usage`, a `UsageError` from `read`
/// prints its message and `usage`; otherwise `read`'s options.
func parseCommand<Options>(_ command: String, _ arguments: [String], usage: String, valueOptions: Set<String>,
                           flagOptions: Set<String> = [], _ read: (Arguments) throws(UsageError) -> Options) -> Parsed<Options> {
    do throws(UsageError) {
        let parsed = try Arguments(arguments, valueOptions: valueOptions, flagOptions: flagOptions.union(["--help", "-h"]))
        if parsed.flag("--help") || parsed.flag("-h") {
            say(usage)
            return .exit(ExitStatus.success)
        }
        return .run(try read(parsed))
    } catch {
        complain("hb \(command): \(error.message)\n\n\(usage)")
        return .exit(ExitStatus.usage)
    }
}

/// A command-line mistake: printed with the command's usage, exit status 2.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// `hb`'s exit statuses.
enum ExitStatus {
    static let success: Int32 = 0
    /// The peer is dead, a probe got no reply, the input is malformed, or an I/O error.
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// Parses seconds with a fraction, e.g. `0.5`, into a Duration.
func parseSeconds(_ text: String) -> Duration? {
    guard let value = Double(text), value.isFinite, value > 0, value <= 86_400 else { return nil }
    return .nanoseconds(Int64(value * 1e9))
}

import Framing
