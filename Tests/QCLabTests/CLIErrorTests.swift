import Foundation
import XCTest
@testable import QCLab

/// Runs the built `qclab` executable, for end-to-end tests.
enum QCLabCLI {
    struct Outcome {
        let status: Int32
        /// Whether a signal ended the process (then `status` is the signal's number).
        var signaled = false
        let output: String
        /// Standard error as users see it: an error line `qclab: error[CODE]: ...` (the runs
        /// set `QCLAB_ERROR_CODES=1`) is given as `qclab: error: ...`, its code in ``errorCode``.
        let errors: String
        /// The code of the (last) error line: a ``QCLabError/Code`` raw value, `usage` or `other`.
        let errorCode: String?

        init(status: Int32, signaled: Bool = false, output: String, errors: String) {
            self.status = status
            self.signaled = signaled
            self.output = output
            var code: String?
            let lines = errors.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
                guard line.hasPrefix("qclab: error["), let end = line.firstIndex(of: "]"),
                    line[end...].hasPrefix("]: ")
                else { return line }
                code = String(line[line.index(line.startIndex, offsetBy: "qclab: error[".count)..<end])
                return "qclab: error: " + line[line.index(end, offsetBy: 3)...]
            }
            self.errors = lines.joined(separator: "\n")
            self.errorCode = code
        }

        /// The non-empty lines of standard error.
        var errorLines: [Substring] { errors.split(separator: "\n", omittingEmptySubsequences: true) }
    }

    /// The codes an error line may carry: ``QCLabError/Code``'s raw values, `usage`, `other`.
    static let errorCodes = QCLabError.Code.allCases.map(\.rawValue) + ["usage", "other"]

    struct MissingExecutable: Error, CustomStringConvertible {
        let name: String
        let searched: [String]
        var description: String {
            "the \(name) executable is not built (run `swift build` before `swift test`); looked for \(searched.joined(separator: ", "))"
        }
    }

    /// The built executable `name` (`qclab`, or a test helper).
    ///
    /// It is looked for in the build-products folder that holds this test bundle (so any
    /// `--scratch-path` works), else in `.build/debug` of the package.
    /// A missing executable throws, which fails the test: it is never skipped.
    static func executable(named name: String = "qclab") throws -> URL {
        var candidates = [Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent(name)]
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                candidates.append(folder.appendingPathComponent(".build/debug/\(name)"))
                break
            }
            folder.deleteLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw MissingExecutable(name: name, searched: candidates.map(\.path))
        }
        return found
    }

    /// Runs `qclab arguments...` in `folder` with a time limit.
    ///
    /// The limit is a safety net against a hang, not a timing the test relies on. Standard
    /// output and error go to files in a separate folder, so that `folder` holds only what
    /// qclab writes.
    /// `environment` is added to this process's (with `QCLAB_ERROR_CODES=1` unless it says
    /// otherwise), less the variables named in `removingEnvironment`.
    static func run(
        _ arguments: [String], in folder: URL, program: URL? = nil, timeout: Double = 300,
        environment: [String: String] = [:], removingEnvironment removed: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = try program ?? executable()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.filter { !removed.contains($0.key) }
            .merging(["QCLAB_ERROR_CODES": "1"].merging(environment) { _, given in given }) { _, given in given }
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-cli-logs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: logs) }
        let outURL = logs.appendingPathComponent("stdout"), errURL = logs.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        try process.run()
        // `timeout` only turns a hang into a failure.
        if ended.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            if ended.wait(timeout: .now() + 10) == .timedOut { kill(process.processIdentifier, SIGKILL) }
            XCTFail(
                "qclab \(arguments.joined(separator: " ")) did not finish within \(timeout) s", file: file, line: line)
        }
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
            output: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            errors: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// A fresh empty folder, removed when the test ends.
    static func temporaryFolder(_ test: XCTestCase, _ label: String = "qclab-cli") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    /// A small tmpfs, mounted for `test` and unmounted after it; skips unless root.
    static func smallFileSystem(_ test: XCTestCase, kilobytes: Int) throws -> URL {
        let folder = try temporaryFolder(test, "qclab-tmpfs")
        let mount = Process()
        mount.executableURL = try TestEnvironment.requireTool("/bin/mount", "util-linux's mount")
        let umount = try TestEnvironment.requireTool("/bin/umount", "util-linux's umount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", folder.path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            throw TestEnvironment.unavailable("cannot mount a tmpfs (needs root)")
        }
        test.addTeardownBlock {
            let unmount = Process()
            unmount.executableURL = umount
            unmount.arguments = [folder.path]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        return folder
    }

    /// Everything in `folder`, hidden files included.
    static func contents(of folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }
}

/// Every bad input, end to end through the `qclab` executable: a non-zero exit status,
/// exactly one line on standard error that names the culprit, and nothing left in the
/// output folder (neither the output nor a temporary file).
final class CLIErrorTests: XCTestCase {
    func testEveryBadJobFileIsRefusedWithOneLineNamingTheCulprit() throws {
        for bad in BadJob.all {
            try assertRefused(
                ["run", "job.json", "--output", "out/result.h5"], files: ["job.json": bad.json],
                code: bad.code.rawValue, naming: [bad.culprit], bad.name)
        }
    }

    func testAJobFileThatIsNotUTF8IsRefused() throws {
        try assertRefused(
            ["run", "job.json", "--output", "out/result.h5"], binaryFiles: ["job.json": [0xFF, 0xFE, 0x7B, 0x7D]],
            code: "malformedJob", naming: ["job.json", "not UTF-8"], "binary job file")
    }

    func testMissingJobFile() throws {
        try assertRefused(
            ["run", "nothere.json", "--output", "out/result.h5"], code: "invalidPath",
            naming: ["nothere.json", "does not exist"],
            "missing job file")
    }

    func testJobPathThatIsAFolder() throws {
        try assertRefused(
            ["run", "out", "--output", "out/result.h5"], code: "invalidPath", naming: ["'out'", "folder"],
            "job path is a folder")
    }

    func testOutputFolderThatDoesNotExist() throws {
        try assertRefused(
            ["run", "job.json", "--output", "missing/result.h5"], files: ["job.json": BadJob.valid],
            code: "invalidPath", naming: ["missing", "does not exist"], "missing output folder")
    }

    func testOutputPathThatIsAFolder() throws {
        try assertRefused(
            ["run", "job.json", "--output", "out"], files: ["job.json": BadJob.valid],
            code: "invalidPath", naming: ["'out'", "is a folder"], "output path is a folder")
    }

    func testAppendToAMissingFile() throws {
        try assertRefused(
            ["run", "job.json", "--output", "out/result.h5", "--append", "earlier.h5"],
            files: ["job.json": BadJob.valid], code: "invalidPath", naming: ["earlier.h5", "does not exist"],
            "--append missing file")
    }

    func testAppendToAFileThatIsNotHDF5() throws {
        try assertRefused(
            ["run", "job.json", "--output", "out/result.h5", "--append", "earlier.h5"],
            files: ["job.json": BadJob.valid, "earlier.h5": "not an HDF5 file\n"],
            code: "hdf5", naming: ["earlier.h5", "not an HDF5 file"], "--append non-HDF5 file")
        try assertRefused(
            ["run", "job.json", "--output", "out/result.h5", "--append", "job.json"],
            files: ["job.json": BadJob.valid], code: "hdf5", naming: ["job.json", "not an HDF5 file"],
            "--append a job file")
    }

    func testAppendWithASeedAlreadyPresent() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let first = try QCLabCLI.run(["run", "job.json", "--output", "first.h5"], in: folder)
        XCTAssertEqual(first.status, 0, first.errors)
        let seeded = BadJob.job(extra: #", "seeds": [2, 9]"#)
        try seeded.write(to: folder.appendingPathComponent("seeded.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("out"), withIntermediateDirectories: true)
        let outcome = try QCLabCLI.run(
            ["run", "seeded.json", "--output", "out/again.h5", "--append", "first.h5"], in: folder)
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
        XCTAssertTrue(outcome.errors.contains("seed 2"), outcome.errors)
        XCTAssertEqual(QCLabCLI.contents(of: folder.appendingPathComponent("out")), [])
    }

    func testMistakesOnTheCommandLineGetOneLine() throws {
        let job = ["job.json": BadJob.valid]
        try assertRefused(
            ["run", "job.json", "--output", "out/r.h5", "--bogus"], files: job, code: "usage", naming: ["--bogus"],
            "unknown option")
        try assertRefused(
            ["run", "job.json", "--output", "out/r.h5", "--driver", "threads"], files: job,
            code: "usage", naming: ["threads", "--driver"], "unknown driver")
        try assertRefused(
            ["run", "job.json", "--output", "out/r.h5", "--driver", "multiprocessing", "--num-tasks", "0"],
            files: job, code: "usage", naming: ["--num-tasks"], "zero tasks")
        try assertRefused(["frobnicate"], code: "usage", naming: ["frobnicate"], "unknown subcommand")
        try assertRefused(
            ["merge", "--output", "out/all.h5"], code: "usage", naming: ["merge"], "merge without inputs")
        try assertRefused(["info"], code: "usage", naming: ["<file>"], "info without a file")
    }

    func testMergeInfoAndPlotRefuseBadFiles() throws {
        let notHDF5 = ["a.h5": "text\n"]
        try assertRefused(
            ["info", "missing.h5"], code: "invalidPath", naming: ["missing.h5", "does not exist"],
            "info of a missing file")
        try assertRefused(
            ["info", "a.h5"], files: notHDF5, code: "hdf5", naming: ["a.h5", "not an HDF5 file"], "info of a text file"
        )
        try assertRefused(
            ["plot", "missing.h5", "--output", "out/p.svg"], code: "invalidPath", naming: ["missing.h5"],
            "plot of a missing file")
        try assertRefused(
            ["plot", "a.h5", "--output", "out/p.svg"], files: notHDF5, code: "hdf5",
            naming: ["a.h5", "not an HDF5 file"],
            "plot of a text file")
        try assertRefused(
            ["plot", "a.h5", "--output", "nowhere/p.svg"], files: notHDF5, code: "invalidPath",
            naming: ["nowhere", "does not exist"],
            "plot into a missing folder")
        try assertRefused(
            ["merge", "a.h5", "missing.h5", "--output", "out/all.h5"], files: notHDF5, code: "hdf5", naming: ["a.h5"],
            "merge of a text file")
        try assertRefused(
            ["merge", "missing.h5", "--output", "out/all.h5"], code: "invalidPath",
            naming: ["missing.h5", "does not exist"],
            "merge of a missing file")
        try assertRefused(
            ["merge", "a.h5", "--output", "nowhere/all.h5"], files: notHDF5, code: "invalidPath",
            naming: ["nowhere", "does not exist"],
            "merge into a missing folder")
    }

    func testPlotAndMergeRefuseAFileWithoutTrajectories() throws {
        // A valid HDF5 file in our layout that holds nothing.
        let source = try QCLabCLI.temporaryFolder(self)
        let empty = source.appendingPathComponent("empty.h5")
        try SimulationData().save(to: empty.path)
        let bytes = try [UInt8](Foundation.Data(contentsOf: empty))
        try assertRefused(
            ["plot", "empty.h5", "--output", "out/p.svg"], binaryFiles: ["empty.h5": bytes],
            code: "unusableData", naming: ["'empty.h5'", "nothing to plot"], "plot of a file without trajectories")
        try assertRefused(
            ["merge", "empty.h5", "--output", "out/all.h5"], binaryFiles: ["empty.h5": bytes],
            code: "incompatibleData", naming: ["'empty.h5' holds no trajectories"],
            "merge of a file without trajectories")
    }

    /// A successful run with standard error redirected to a file (not a terminal) writes
    /// nothing there: no progress bar, no log lines, whichever driver.
    func testProgressBarIsQuietWhenStandardErrorIsNotATerminal() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        for driver in ["serial", "multiprocessing"] {
            let outcome = try QCLabCLI.run(
                ["run", "job.json", "--output", "\(driver).h5", "--driver", driver], in: folder)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
            XCTAssertEqual(outcome.errors, "", "\(driver): standard error must stay empty when it is not a terminal")
            XCTAssertTrue(outcome.output.contains("wrote \(driver).h5: 4 trajectories"), outcome.output)
        }
        XCTAssertEqual(
            QCLabCLI.contents(of: folder), ["job.json", "multiprocessing.h5", "serial.h5"], "no temporary files left")
    }

    /// On a terminal (a pseudo-terminal made by `script`), one bar counts up to all
    /// trajectories of the run, whichever driver, and its line is ended once.
    func testProgressBarOnATerminalCountsTheWholeRun() throws {
        let script = try TestEnvironment.requireTool(
            "/usr/bin/script", "util-linux's `script` (bsdutils), which makes a terminal,")
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.job(settings: #"{"tmax": 0.2, "dt_update": 0.01, "num_trajs": 6, "batch_size": 2}"#)
            .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let qclab = try QCLabCLI.executable()
        for driver in ["serial", "multiprocessing"] {
            let command = "'\(qclab.path)' run job.json --output \(driver).h5 --driver \(driver) >/dev/null"
            let outcome = try QCLabCLI.run(["-qec", command, "/dev/null"], in: folder, program: script)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
            // `script` copies the terminal to its standard output.
            let terminal = outcome.output
            XCTAssertTrue(terminal.contains("6/6 trajectories"), "\(driver): \(terminal)")
            XCTAssertFalse(
                terminal.contains("/12 trajectories") || terminal.contains("/2 trajectories"),
                "\(driver): one bar for the whole run, not one per batch or worker: \(terminal)")
        }
    }
}

extension XCTestCase {
    /// Runs `arguments` in a fresh folder holding `files` and expects it refused with `code`.
    ///
    /// One line on standard error naming each of `culprits`; outputs go to `out/`, left empty.
    func assertRefused(
        _ arguments: [String], files: [String: String] = [:], binaryFiles: [String: [UInt8]] = [:],
        code: String, naming culprits: [String], _ label: String, timeout: Double = 120,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        for (name, bytes) in binaryFiles {
            try Foundation.Data(bytes).write(to: folder.appendingPathComponent(name))
        }
        let before = QCLabCLI.contents(of: folder)
        let outcome = try QCLabCLI.run(arguments, in: folder, timeout: timeout, file: file, line: line)
        XCTAssertNotEqual(outcome.status, 0, "\(label): exit status", file: file, line: line)
        XCTAssertEqual(
            outcome.errorLines.count, 1, "\(label): one line on standard error, got:\n\(outcome.errors)",
            file: file, line: line)
        XCTAssertTrue(
            outcome.errors.hasPrefix("qclab: error: "), "\(label): \(outcome.errors)", file: file, line: line)
        XCTAssertTrue(
            QCLabCLI.errorCodes.contains(code), "\(label): '\(code)' is no error code", file: file, line: line)
        XCTAssertEqual(outcome.errorCode, code, "\(label): \(outcome.errors)", file: file, line: line)
        XCTAssertFalse(
            outcome.errors.contains("Backtrac") || outcome.errors.contains("Fatal error"),
            "\(label): a backtrace", file: file, line: line)
        XCTAssertFalse(outcome.signaled, "\(label): ended by signal \(outcome.status)", file: file, line: line)
        for culprit in culprits {
            XCTAssertTrue(
                outcome.errors.contains(culprit), "\(label): '\(outcome.errors)' does not name '\(culprit)'",
                file: file, line: line)
        }
        XCTAssertEqual(QCLabCLI.contents(of: out), [], "\(label): debris in the output folder", file: file, line: line)
        XCTAssertEqual(
            QCLabCLI.contents(of: folder), before, "\(label): debris beside the inputs", file: file, line: line)
    }
}
