import Foundation
import NIOCore
import Testing

/// The repository's root: the package this one depends on by path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `hb` executable: `$HB_BINARY` if set, otherwise built from the root package with
/// `swift build --product hb` (a no-op when CI's first step already built it).
let hbBinary: Result<String, HBBuildError> = {
    if let path = ProcessInfo.processInfo.environment["HB_BINARY"] { return .success(path) }
    let build = runToCompletion("/usr/bin/env", ["swift", "build", "--package-path", repositoryRoot.path, "--product", "hb"])
    guard build.status == 0 else { return .failure(HBBuildError(output: build.output)) }
    let binPath = runToCompletion("/usr/bin/env", ["swift", "build", "--package-path", repositoryRoot.path, "--show-bin-path"])
    guard binPath.status == 0 else { return .failure(HBBuildError(output: binPath.output)) }
    return .success(binPath.output.trimmingCharacters(in: .whitespacesAndNewlines) + "/hb")
}()

/// `swift build --product hb` failed.
struct HBBuildError: Error, CustomStringConvertible {
    var output: String
    var description: String { "building hb failed:\n\(output)" }
}

/// Runs a command to its end; its standard output and error together.
func runToCompletion(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A running process (`hb`, `nghttpd`) whose output is collected as it comes.
final class TestProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var collected = ""
    private var exited: CheckedContinuation<Int32, Never>?
    private var status: Int32?

    /// Starts `hb arguments...`.
    convenience init(hb arguments: [String]) throws {
        try self.init(executable: try hbBinary.get(), arguments)
    }

    /// Starts `executable arguments...`.
    init(executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.collected += String(decoding: data, as: UTF8.self) }
        }
        process.terminationHandler = { [weak self] process in
            guard let self else { return }
            let waiter = self.lock.withLock { () -> CheckedContinuation<Int32, Never>? in
                self.status = process.terminationStatus
                defer { self.exited = nil }
                return self.exited
            }
            waiter?.resume(returning: process.terminationStatus)
        }
        try process.run()
    }

    /// Everything it printed so far.
    var output: String { lock.withLock { collected } }

    /// Waits (at most `limit`) until its output contains `text`; the output then.
    func waitForOutput(containing text: String, limit: Duration = .seconds(60)) async throws -> String {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            let output = self.output
            if output.contains(text) { return output }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure("\(process.executableURL?.lastPathComponent ?? "") never printed \"\(text)\"; it printed:\n\(output)")
    }

    /// Waits for it to exit; its status.
    func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            let known = lock.withLock { () -> Int32? in
                if status == nil { exited = continuation }
                return status
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    /// Stops it (SIGKILL: a child of the test runner may inherit SIGTERM and SIGINT ignored, as
    /// nghttpd did here) and waits for it.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A test expectation that could not even be checked.
struct ProcessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `hb serve --dialect <dialect>` on a free loopback port; returns it and the port.
func startServe(dialect: String, interval: String = "0.3") async throws -> (TestProcess, Int) {
    let serve = try TestProcess(hb: ["serve", "--dialect", dialect, "--port", "0", "--interval", interval])
    do {
        let output = try await serve.waitForOutput(containing: "listening on")
        guard let line = output.split(separator: "\n").first(where: { $0.contains("listening on") }),
              let address = line.split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") }),
              let port = Int(address.split(separator: ":").last ?? "") else {
            throw ProcessFailure("no port in hb serve's output:\n\(output)")
        }
        return (serve, port)
    } catch {
        serve.stop()
        throw error
    }
}

extension EventLoopFuture where Value: Sendable {
    /// The future's value, failing after `limit` so a missing answer fails the test instead of hanging it.
    func get(within limit: TimeAmount) async throws -> Value {
        let promise = eventLoop.makePromise(of: Value.self)
        let timeout = eventLoop.scheduleTask(in: limit) { promise.fail(ProcessFailure("no answer within \(limit)")) }
        cascade(to: promise)
        defer { timeout.cancel() }
        return try await promise.futureResult.get()
    }
}
