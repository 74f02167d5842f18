import Foundation
import XCTest
@testable import QCLab

/// The environment turned against the built `qclab`, for real.
///
/// Full and closed standard streams, resource limits set by `ulimit` in a shell that then
/// becomes qclab, environment variables out of range, and an `rsvg-convert` that misbehaves.
/// Each ends in one line on standard error naming the culprit and a non-zero status (or in
/// success), never in a signal, a hang or a file left behind. A hang fails the test through the
/// runner's safety limit (`QCLabCLI.run`'s timeout), which nothing here waits out on success.
final class EnvironmentFaultTests: XCTestCase {
    // MARK: Helpers

    /// Runs `script` in bash with `$0` set to the built qclab, in `folder`.
    private func shell(
        _ script: String, in folder: URL, environment: [String: String] = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> QCLabCLI.Outcome {
        try QCLabCLI.run(
            ["-c", script, try QCLabCLI.executable().path], in: folder, program: URL(fileURLWithPath: "/bin/bash"),
            timeout: 120, environment: environment, file: file, line: line)
    }

    /// Asserts one error line of `code` holding every one of `parts`, a non-zero exit, no signal.
    private func assertOneLine(
        _ outcome: QCLabCLI.Outcome, code: String, _ parts: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertFalse(
            outcome.signaled, "ended by signal \(outcome.status): \(outcome.errors)", file: file, line: line)
        XCTAssertNotEqual(outcome.status, 0, "exited 0; stderr: \(outcome.errors)", file: file, line: line)
        XCTAssertEqual(outcome.errorLines.count, 1, "stderr: \(outcome.errors)", file: file, line: line)
        XCTAssertEqual(outcome.errorCode, code, "stderr: \(outcome.errors)", file: file, line: line)
        for part in parts {
            XCTAssertTrue(outcome.errors.contains(part), "'\(part)' not in: \(outcome.errors)", file: file, line: line)
        }
        XCTAssertFalse(outcome.errors.contains("Domain="), file: file, line: line)
    }

    /// A small job (`qclab init`, then `settings` changed) written as `name` in `folder`.
    private func writeJob(_ name: String = "job.json", in folder: URL, settings: [String: Any] = [:]) throws {
        let job = try QCLabCLI.run(["init", "SpinBoson", "MeanField"], in: folder)
        XCTAssertEqual(job.status, 0, job.errors)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(job.output.utf8)) as? [String: Any])
        var current = try XCTUnwrap(object["settings"] as? [String: Any])
        let small: [String: Any] = [
            "num_trajs": 4, "batch_size": 4, "tmax": 1.0, "dt_collect": 0.1, "progress_bar": false,
        ]
        for (key, value) in small.merging(settings, uniquingKeysWith: { $1 }) { current[key] = value }
        object["settings"] = current
        try JSONSerialization.data(withJSONObject: object).write(to: folder.appendingPathComponent(name))
    }

    /// A folder holding `job.json` and its output `out.h5`, readable by every user.
    private func folderWithOutput(_ label: String) throws -> URL {
        let folder = try QCLabCLI.temporaryFolder(self, label)
        try writeJob(in: folder)
        // Mergeable, so that appending to it is exact and says nothing.
        let run = try QCLabCLI.run(["run", "job.json", "--output", "out.h5", "--mergeable"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        return folder
    }

    // MARK: Standard output and standard error

    func testEveryStandardOutputWriteIsChecked() throws {
        let folder = try folderWithOutput("qclab-stdout")
        for command in [
            "init SpinBoson MeanField", "info out.h5", "info out.h5 --log", "models", "models SpinBoson", "--help",
            "run job.json --output again.h5",
        ] {
            let outcome = try shell("exec \"$0\" \(command) > /dev/full", in: folder)
            assertOneLine(outcome, code: "system", ["standard output", "No space left on device"])
        }
        // Closed: the write fails too (EBADF), and says so.
        assertOneLine(try shell("exec \"$0\" models >&-", in: folder), code: "system", ["standard output"])
    }

    func testStandardOutputToAFullDisk() throws {
        let disk = try QCLabCLI.smallFileSystem(self, kilobytes: 64)
        // Filled to the last block, so that the job's first write fails.
        let filled = try shell("head -c 1048576 /dev/zero > filler 2>/dev/null; test -s filler", in: disk)
        XCTAssertEqual(filled.status, 0, filled.errors)
        let outcome = try shell("exec \"$0\" init SpinBoson MeanField > job.json", in: disk)
        assertOneLine(outcome, code: "system", ["cannot write to standard output", "No space left on device"])
        let folder = try folderWithOutput("qclab-stdout-disk")
        let info = try shell("exec \"$0\" info '\(folder.path)/out.h5' --log > info.txt", in: disk)
        assertOneLine(info, code: "system", ["cannot write to standard output", "No space left on device"])
    }

    func testAReaderThatHasGoneIsAnErrorNotSIGPIPE() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-epipe")
        // A pipe whose only reader is closed before qclab starts: every write fails with EPIPE.
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let errors = Pipe()
        let process = Process()
        process.executableURL = try QCLabCLI.executable()
        process.arguments = ["models"]
        process.currentDirectoryURL = folder
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        try pipe.fileHandleForWriting.close()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "killed by signal \(process.terminationStatus)")
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        XCTAssertTrue(message.contains("cannot write to standard output: broken pipe"), message)
    }

    func testClosedOrFullStandardErrorNeverCrashes() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-stderr")
        // An error (a missing file) and a command-line mistake: the status still says so.
        for redirect in ["2>&-", "2>/dev/full"] {
            for command in ["info missing.h5", "run --seeds 5:5", "export"] {
                let outcome = try shell("exec \"$0\" \(command) \(redirect)", in: folder)
                XCTAssertFalse(outcome.signaled, "\(command) \(redirect): signal \(outcome.status)")
                XCTAssertNotEqual(outcome.status, 0, "\(command) \(redirect)")
            }
        }
        // A warning (tmax not a whole number of dt_collect) with nowhere to go: the run still succeeds.
        try writeJob("warns.json", in: folder, settings: ["tmax": 1.05])
        for redirect in ["2>&-", "2>/dev/full"] {
            let outcome = try shell("exec \"$0\" run warns.json --output warned.h5 \(redirect)", in: folder)
            XCTAssertFalse(outcome.signaled)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
            XCTAssertTrue(outcome.output.hasPrefix("wrote warned.h5"), outcome.output)
        }
    }

    // MARK: Environment variables

    func testEnvironmentVariablesAreParsedStrictly() throws {
        let folder = try folderWithOutput("qclab-env")
        let bad = [
            "inf", "9.3e18", "5000000000", "4294967295", "nan", "-1", "0", "", " 5", "1e2", "+5", "5s", "0x10",
            "86400.5",
        ]
        for value in bad {
            let outcome = try QCLabCLI.run(
                ["info", "out.h5"], in: folder, environment: ["QCLAB_INPUT_CHECK_SECONDS": value])
            assertOneLine(outcome, code: "invalidEnvironment", ["QCLAB_INPUT_CHECK_SECONDS='\(value)'", "(0, 86400]"])
            XCTAssertEqual(outcome.output, "")
        }
        for value in ["30", "86400", "2.5"] {
            let outcome = try QCLabCLI.run(
                ["info", "out.h5"], in: folder, environment: ["QCLAB_INPUT_CHECK_SECONDS": value])
            XCTAssertEqual(outcome.status, 0, "\(value): \(outcome.errors)")
            XCTAssertTrue(outcome.output.contains("error bars:   yes"), outcome.output)
        }
        // The others: refused before any work, with their ranges; nothing written.
        let cases: [(String, String, [String], String)] = [
            (
                "QCLAB_CHECKPOINT_INTERVAL", "inf", ["run", "job.json", "--output", "c.h5", "--checkpoint", "ck"],
                "[0, 86400]"
            ),
            (
                "QCLAB_CHECKPOINT_INTERVAL", "-2", ["run", "job.json", "--output", "c.h5", "--checkpoint", "ck"],
                "[0, 86400]"
            ),
            (
                "QCLAB_WORKER_STALL_SECONDS", "nan",
                ["run", "job.json", "--output", "c.h5", "--driver", "multiprocessing", "--num-tasks", "2"],
                "(0, 86400]"
            ),
            (
                "QCLAB_WORKER_STALL_SECONDS", "0",
                ["run", "job.json", "--output", "c.h5", "--driver", "multiprocessing", "--num-tasks", "2"],
                "(0, 86400]"
            ),
            ("QCLAB_RASTERIZER_SECONDS", "1e9", ["plot", "out.h5", "--output", "c.png"], "(0, 86400]"),
        ]
        // A rasterizer that would fail if it were ever started.
        let path = try fakeRasterizer(in: folder, script: "cat >/dev/null; exit 3")
        let before = QCLabCLI.contents(of: folder)
        for (name, value, arguments, range) in cases {
            let outcome = try QCLabCLI.run(arguments, in: folder, environment: [name: value, "PATH": path])
            assertOneLine(outcome, code: "invalidEnvironment", ["\(name)='\(value)'", range])
            XCTAssertEqual(QCLabCLI.contents(of: folder), before)
        }
    }

    func testABadVariableUnderMPIIsOneLineFromRankZero() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-env-mpi")
        try writeJob(in: folder)
        let outcome = try QCLabCLI.run(
            [
                "--oversubscribe", "-n", "2", "-x", "QCLAB_CHECKPOINT_INTERVAL",
                try QCLabCLI.executable().path, "run", "job.json", "--driver", "mpi",
                "--output", "out.h5", "--checkpoint", "ck",
            ],
            in: folder, program: try ParallelDriverTests.mpirun(),
            environment: [
                "QCLAB_CHECKPOINT_INTERVAL": "inf", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            ])
        XCTAssertNotEqual(outcome.status, 0)
        let ours = outcome.errorLines.filter { $0.hasPrefix("qclab: ") }
        XCTAssertEqual(ours.count, 1, outcome.errors)
        XCTAssertTrue(ours.first?.contains("QCLAB_CHECKPOINT_INTERVAL='inf'") == true, outcome.errors)
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"])
    }

    // MARK: Resource limits

    func testOpenFileLimit() throws {
        let folder = try folderWithOutput("qclab-nofile")
        // Six descriptors are enough for qclab, its check child and HDF5.
        for command in [
            "info out.h5", "plot out.h5 --output p.svg", "merge out.h5 --output m.h5",
            "run job.json --output a.h5 --append out.h5",
        ] {
            let outcome = try shell("ulimit -n 6; exec \"$0\" \(command)", in: folder)
            XCTAssertFalse(outcome.signaled, "\(command): signal \(outcome.status): \(outcome.errors)")
            XCTAssertEqual(outcome.status, 0, "\(command): \(outcome.errors)")
        }
        // Four are not: one line naming the limit, not "cannot be read", not a crash.
        let outcome = try shell("ulimit -n 4; exec \"$0\" info out.h5", in: folder)
        assertOneLine(outcome, code: "system", ["too many open files", "ulimit -n, is 4"])
        XCTAssertFalse(outcome.errors.contains("cannot be read"))
    }

    func testTooManyOpenFilesIsNamedWhenReadingHDF5() throws {
        let folder = try folderWithOutput("qclab-emfile")
        // In this process: every descriptor below a lowered limit taken, then the read.
        var limit = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit), 0)
        let saved = limit
        var taken: [Int32] = []
        limit.rlim_cur = 64
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit), 0)
        var message = ""
        do {
            defer {
                for descriptor in taken { close(descriptor) }
                var restored = saved
                _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &restored)
            }
            while true {
                let descriptor = open("/dev/null", O_RDONLY)
                if descriptor < 0 { break }
                taken.append(descriptor)
            }
            XCTAssertEqual(errno, EMFILE)
            do { _ = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path) } catch {
                message = "\(error)"
            }
            do { _ = try Job(contentsOf: folder.appendingPathComponent("job.json").path) } catch {
                message += " | \(error)"
            }
        }
        XCTAssertTrue(
            message.contains("cannot be read: too many open files (the open-file limit, ulimit -n, is 64)"), message)
        XCTAssertTrue(
            message.contains("job file") && message.components(separatedBy: "ulimit -n, is 64").count == 3, message)
    }

    /// Runs `script` as the unprivileged user nobody when this test runs as root (root is
    /// exempt from the process limit), else as is.
    private func unprivileged(_ script: String, in folder: URL, environment: [String: String] = [:]) throws
        -> QCLabCLI.Outcome
    {
        guard getuid() == 0 else { return try shell(script, in: folder, environment: environment) }
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
        let quoted = "'" + script.replacingOccurrences(of: "'", with: "'\\''") + "'"
        return try shell(
            "exec setpriv --reuid=65534 --regid=65534 --clear-groups /bin/bash -c \(quoted) \"$0\"", in: folder,
            environment: environment)
    }

    func testProcessLimitGivesOneLineNotAHang() throws {
        let folder = try folderWithOutput("qclab-nproc")
        // OpenBLAS, as it loads and before any of qclab's code, stops the process (SIGINT)
        // when it cannot start its threads; qclab sets OPENBLAS_NUM_THREADS=1 for itself
        // (restarting itself) once it runs, which this environment gives it from the start.
        let environment = ["OPENBLAS_NUM_THREADS": "1"]
        for command in ["info out.h5", "run job.json --output a.h5 --append out.h5"] {
            let outcome = try unprivileged("ulimit -u 1; exec \"$0\" \(command)", in: folder, environment: environment)
            assertOneLine(outcome, code: "system", ["too many processes", "ulimit -u, is 1"])
        }
        // Forked workers: the fork that fails is named with the limit and the seeds lost.
        let forked = try unprivileged(
            "ulimit -u 1; exec \"$0\" run job.json --output a.h5 --driver multiprocessing --num-tasks 2",
            in: folder, environment: environment)
        assertOneLine(
            forked, code: "workerFailed",
            ["fork failed: too many processes (the process limit, ulimit -u, is 1)", "lost seeds"])
        XCTAssertFalse(QCLabCLI.contents(of: folder).contains("a.h5"))
    }

    func testMemoryLimitDoesNotWedgeOpenBLAS() throws {
        let folder = try folderWithOutput("qclab-vmem")
        // Without a fixed BLAS thread count OpenBLAS's shutdown waits for ever at exit, and
        // the input check's child cannot read a good file.
        for command in ["info out.h5", "run job.json --output v.h5", "run job.json --output w.h5 --append out.h5"] {
            let outcome = try shell("ulimit -v 250000; exec \"$0\" \(command)", in: folder)
            XCTAssertFalse(outcome.signaled, "\(command): signal \(outcome.status)")
            XCTAssertEqual(outcome.status, 0, "\(command): \(outcome.errors)")
            XCTAssertEqual(outcome.errors, "", command)
        }
        // A run that cannot fit under the limit: refused before it starts, naming the limit.
        try writeJob("huge.json", in: folder, settings: ["num_trajs": 200_000, "batch_size": 100_000])
        let outcome = try shell("ulimit -v 250000; exec \"$0\" run huge.json --output x.h5", in: folder)
        assertOneLine(
            outcome, code: "invalidSetting",
            ["batch_size", "of memory", "(the address-space limit, ulimit -v, is 250000 KiB)"])
        XCTAssertFalse(QCLabCLI.contents(of: folder).contains("x.h5"))
    }

    func testFileSizeLimitIsAnErrorNotSIGXFSZ() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-fsize")
        // 1501 collect points with their exact sums: an output of about 330 KB, far past 100 KiB,
        // from little computing (401 points come to 100 KB since the sums are stored compactly).
        try writeJob(in: folder, settings: ["tmax": 150.0, "dt_collect": 0.1, "dt_update": 0.1])
        let outcome = try shell("ulimit -f 100; exec \"$0\" run job.json --output big.h5 --mergeable", in: folder)
        assertOneLine(outcome, code: "hdf5", ["big.h5", "file too large", "ulimit -f, is 102400 bytes"])
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"], "a temporary or partial file was left")
        // The plot's atomic write too.
        let small = try folderWithOutput("qclab-fsize-plot")
        let plot = try shell("ulimit -f 1; exec \"$0\" plot out.h5 --output p.svg", in: small)
        assertOneLine(plot, code: "invalidPath", ["p.svg", "file too large"])
        XCTAssertEqual(QCLabCLI.contents(of: small), ["job.json", "out.h5"])
    }

    // MARK: rsvg-convert

    /// A folder `bin` in `folder` holding an `rsvg-convert` that runs `script`; the PATH
    /// that finds it first.
    private func fakeRasterizer(in folder: URL, script: String) throws -> String {
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let program = bin.appendingPathComponent("rsvg-convert")
        try? FileManager.default.removeItem(at: program)
        try ("#!/bin/sh\n" + script + "\n").write(to: program, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program.path)
        return bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }

    func testRasterizerThatExitsWithoutReading() throws {
        let folder = try folderWithOutput("qclab-rsvg-exit")
        let path = try fakeRasterizer(in: folder, script: "exec 0<&-\nexit 0")
        let outcome = try QCLabCLI.run(
            ["plot", "out.h5", "--output", "p.png"], in: folder, environment: ["PATH": path])
        assertOneLine(outcome, code: "system", ["rsvg-convert could not render the plot: it exited (status 0)"])
        XCTAssertFalse(outcome.errors.contains("plot: exit status 0"))
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["bin", "job.json", "out.h5"])
        // One that fails says its own first line.
        _ = try fakeRasterizer(in: folder, script: "cat >/dev/null; echo 'rsvg-convert: bad SVG' >&2; exit 1")
        let failed = try QCLabCLI.run(
            ["plot", "out.h5", "--output", "p.png"], in: folder, environment: ["PATH": path])
        assertOneLine(failed, code: "system", ["rsvg-convert could not render the plot: rsvg-convert: bad SVG"])
    }

    func testRasterizerThatHangsIsKilledAndReaped() throws {
        let folder = try folderWithOutput("qclab-rsvg-hang")
        let pidFile = folder.appendingPathComponent("rsvg.pid")
        let path = try fakeRasterizer(in: folder, script: "echo $$ > '\(pidFile.path)'\nexec sleep 100000")
        let outcome = try QCLabCLI.run(
            ["plot", "out.h5", "--output", "p.png"], in: folder,
            environment: ["PATH": path, "QCLAB_RASTERIZER_SECONDS": "1"])
        assertOneLine(outcome, code: "system", ["rsvg-convert", "did not finish in 1 s", "QCLAB_RASTERIZER_SECONDS"])
        let pid = try XCTUnwrap(
            Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(kill(pid, 0), -1, "rsvg-convert (pid \(pid)) outlived qclab")
        XCTAssertEqual(errno, ESRCH)
        XCTAssertFalse(QCLabCLI.contents(of: folder).contains("p.png"))
    }

    // MARK: Messages

    func testSeedsSayWhy() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-seeds")
        try writeJob(in: folder)
        let cases: [(String, String)] = [
            ("5:5", "5:5 is empty"), ("10:5", "10:5 runs backwards"), ("-1:3", "A = -1 is negative"),
            ("0:4294967297", "B = 4294967297 is past the largest seed, 4294967295"),
            ("1e2:2e2", "A = '1e2' is not a whole number"), ("+1:3", "A = '+1' is not a whole number"),
            ("00:03", "A = 00 has a leading zero"), ("0:03", "B = 03 has a leading zero"),
            ("3", "give two whole numbers A:B"),
            ("4294967296:4294967296", "A = 4294967296 is past the largest seed"),
        ]
        for (value, reason) in cases {
            let outcome = try QCLabCLI.run(["run", "job.json", "--seeds=\(value)", "--output", "s.h5"], in: folder)
            assertOneLine(outcome, code: "usage", [reason])
        }
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"])
        // The last seed there is, alone.
        let last = try QCLabCLI.run(
            ["run", "job.json", "--seeds", "4294967295:4294967296", "--output", "s.h5"], in: folder)
        XCTAssertEqual(last.status, 0, last.errors)
        XCTAssertTrue(last.output.hasPrefix("wrote s.h5: 1 trajectories (seeds 4294967295)"), last.output)
    }

    func testPlotOfOneTimePointIsRefused() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-onepoint")
        try writeJob(in: folder, settings: ["tmax": 0.0])
        XCTAssertEqual(try QCLabCLI.run(["run", "job.json", "--output", "one.h5"], in: folder).status, 0)
        let info = try QCLabCLI.run(["info", "one.h5"], in: folder)
        XCTAssertTrue(info.output.contains("error bars:   yes"), info.output)
        let plot = try QCLabCLI.run(["plot", "one.h5", "--output", "one.svg"], in: folder)
        assertOneLine(plot, code: "unusableData", ["one.h5", "one time point"])
        XCTAssertFalse(QCLabCLI.contents(of: folder).contains("one.svg"))
        // Data with error bars is plotted as such even where the bands have no width (t = 0).
        let data = try SimulationData(
            contentsOf: folderWithOutput("qclab-bands").appendingPathComponent("out.h5").path)
        XCTAssertNotNil(try PlotSeries(data: data, quantity: .populations).standardErrors)
    }

    func testFoundationErrorsReadAsFileAndReason() {
        let posix = NSError(domain: NSPOSIXErrorDomain, code: Int(EMFILE))
        XCTAssertTrue(QCLabError.describe(posix).hasPrefix("too many open files"), QCLabError.describe(posix))
        let cocoa = NSError(
            domain: NSCocoaErrorDomain, code: NSFileReadUnknownError,
            userInfo: [
                NSFilePathErrorKey: "/data/job.json",
                NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC)),
            ])
        XCTAssertEqual(QCLabError.describe(cocoa), "'/data/job.json': No space left on device")
        XCTAssertEqual(QCLabError.describe(QCLabError.system("x")), "x")
    }
}
