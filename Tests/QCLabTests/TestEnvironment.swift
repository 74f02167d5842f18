import Foundation
import XCTest

/// What the tests need from outside the package, as the test command (`scripts/test.sh`)
/// provides it: tools that `scripts/install-deps.sh` installs, and a Python with QC Lab
/// 1.3.0, h5py and pytest whose path it passes in `QCLAB_TEST_PYTHON`.
///
/// Under the test command (`QCLAB_TEST_COMMAND=1`) a missing requirement fails the test:
/// the command should have installed it. Run some other way (`swift test` alone), the
/// test is skipped, saying what is missing.
enum TestEnvironment {
    /// A requirement the test command should have met and did not.
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether the tests run under `scripts/test.sh`.
    static var underTestCommand: Bool { ProcessInfo.processInfo.environment["QCLAB_TEST_COMMAND"] == "1" }

    /// The error to throw when `reason` keeps a test from running: a failure under the
    /// test command, a skip elsewhere.
    static func unavailable(_ reason: String) -> Error {
        underTestCommand ? Missing(description: "\(reason); scripts/test.sh should have provided it") : XCTSkip(reason)
    }

    /// The installed tool at `path` (`what` says what it is and which package has it).
    static func requireTool(_ path: String, _ what: String) throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw unavailable("\(what) is not installed at \(path) (scripts/install-deps.sh installs it)")
        }
        return URL(fileURLWithPath: path)
    }

    /// The Python of `QCLAB_TEST_PYTHON`: qclab 1.3.0, h5py and pytest.
    static func requirePython() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["QCLAB_TEST_PYTHON"], !path.isEmpty else {
            throw unavailable("QCLAB_TEST_PYTHON is not set (the path of a python with qclab==1.3.0, h5py and pytest)")
        }
        guard path.hasPrefix("/"), FileManager.default.isExecutableFile(atPath: path) else {
            throw unavailable("QCLAB_TEST_PYTHON '\(path)' is not the absolute path of an executable")
        }
        return URL(fileURLWithPath: path)
    }

    /// Waits until `condition` holds, looking every millisecond or so.
    ///
    /// Returns false if `limit` seconds pass first. The limit only turns a hang into a failure:
    /// what the test does next depends on `condition`, never on how long it took.
    static func waitUntil(limit: Double = 300, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while !condition() {
            if Date() >= deadline { return false }
            usleep(1_000)
        }
        return true
    }
}

/// A process whose standard error a test reads as it is written, to act when a line shows
/// up (`qclab: paused at ...` of `QCLAB_TEST_PAUSE_AT`, a progress line).
final class WatchedProcess: @unchecked Sendable {
    let process = Process()
    private let condition = NSCondition()
    private var text = ""
    private var closed = false

    /// Starts `executable arguments...` in `folder`, with `environment` added to the test's.
    init(_ executable: URL, _ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        let reading = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let data = reading.availableData
                condition.lock()
                if data.isEmpty { closed = true } else { text += String(decoding: data, as: UTF8.self) }
                condition.broadcast()
                condition.unlock()
                if data.isEmpty { break }
            }
            try? reading.close()
        }
    }

    /// Standard error so far.
    var errors: String {
        condition.lock(); defer { condition.unlock() }
        return text
    }

    /// Waits until standard error contains `needle`; false if the process closed it first,
    /// or (a hang) `limit` seconds passed.
    func waitFor(_ needle: String, limit: Double = 300) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        condition.lock(); defer { condition.unlock() }
        while !text.contains(needle) {
            if closed || !condition.wait(until: deadline) { return text.contains(needle) }
        }
        return true
    }

    /// Sends `signal`, waits for the process to end (and standard error to close).
    func signalAndWait(_ signal: Int32) {
        kill(process.processIdentifier, signal)
        waitForExit()
    }

    /// Waits for the process to end and its standard error to close.
    func waitForExit() {
        process.waitUntilExit()
        let deadline = Date().addingTimeInterval(300)
        condition.lock(); defer { condition.unlock() }
        while !closed && condition.wait(until: deadline) {}
    }
}
