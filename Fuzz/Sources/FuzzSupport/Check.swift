/// Traps with `message` when `condition` is false: libFuzzer reports the trap as a crash and saves
/// the input. Invariant checks stay on in every build (unlike `assert`).
@inline(__always)
public func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                  file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz invariant broken: \(message())", file: file, line: line) }
}
