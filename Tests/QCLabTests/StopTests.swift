import Foundation
import XCTest
@testable import QCLab
#if canImport(Glibc)
import Glibc
#endif

/// A run stopped by a signal says what happened, and resumes from its checkpoint to the same bits.
///
/// The signal is SIGTERM or SIGINT to a run (a time limit, Ctrl-C), to `mpirun`, or one that kills
/// a rank: qclab says in one line what happened; with a checkpoint, a last one holds every batch
/// done (only the batches in flight are lost), the same command resumes it, and the result is the
/// same bits as an uninterrupted run's. The runs are stopped on events (the checkpoint written, a
/// log line printed), never after a delay: `QCLAB_TEST_PAUSE_AT=checkpoint-2` holds a checkpointed
/// run once it has written its second checkpoint, until the signal arrives.
final class StopTests: XCTestCase {
    /// A process started with standard error in a file outside its folder.
    struct Started {
        let process: Process
        let errors: URL
        var errorText: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }
        var errorLines: [Substring] { errorText.split(separator: "\n") }
    }

    func start(_ program: URL, _ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws
        -> Started
    {
        let logs = try QCLabCLI.temporaryFolder(self, "qclab-stop-logs")
        let errors = logs.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let handle = try FileHandle(forWritingTo: errors)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(
            environment.merging(
                ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]) { $1 }
        ) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        addTeardownBlock { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        return Started(process: process, errors: errors)
    }

    /// Waits for `started` to end (within a safety deadline; killed if it does not).
    func waitForExit(_ started: Started, file: StaticString = #filePath, line: UInt = #line) {
        if !TestEnvironment.waitUntil(limit: 120, { !started.process.isRunning }) {
            kill(started.process.processIdentifier, SIGKILL)
            XCTFail("did not end after the signal", file: file, line: line)
        }
        started.process.waitUntilExit()
    }

    /// Trajectories the checkpoint at `path` holds, for the job in `folder`.
    func trajectories(inCheckpoint path: String, folder: URL) throws -> Int {
        let job = try Job(contentsOf: folder.appendingPathComponent("job.json").path)
        let plan = try RunPlan(simulation: job.simulation, seeds: job.seeds)
        guard
            let saved = try Checkpointing(path: path).load(
                simulation: job.simulation, plan: plan, job: job.simulation.jobRecord,
                batchSize: job.simulation.settings.batchSize)
        else { return 0 }
        return saved.done.reduce(0) { $0 + plan.batches[$1].count }
    }

    func folder(trajectories: Int) throws -> URL {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-stop")
        try ParallelDriverTests.jobJSON(trajectories: trajectories)
            .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        return folder
    }

    static let stalling = ["QCLAB_CHECKPOINT_INTERVAL": "0", "QCLAB_TEST_PAUSE_AT": "checkpoint-2"]

    /// Stops `arguments` (run by `program`) with `signal` once it has written its checkpoint `ck`.
    ///
    /// It checks what it says and leaves, then resumes it with the same command and compares with
    /// `reference.h5`. `signalTarget` picks the process to signal (default: the one started).
    /// Returns what the stopped run wrote on standard error.
    @discardableResult
    func stopAndResume(
        _ program: URL, _ arguments: [String], in folder: URL, signal: Int32, expectedStatus: Int32?,
        signalTarget: ((Started) -> pid_t?)? = nil, expecting words: [String] = [], saysCount: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let ck = folder.appendingPathComponent("ck").path
        let started = try start(program, arguments, in: folder, environment: Self.stalling)
        XCTAssertTrue(
            TestEnvironment.waitUntil(limit: 120) { FileManager.default.fileExists(atPath: ck) },
            "a checkpoint was written", file: file, line: line)
        let held = try trajectories(inCheckpoint: ck, folder: folder)
        XCTAssertGreaterThan(held, 0, file: file, line: line)
        let target = signalTarget?(started) ?? started.process.processIdentifier
        XCTAssertEqual(kill(target, signal), 0, file: file, line: line)
        waitForExit(started, file: file, line: line)
        if let expectedStatus {
            XCTAssertEqual(started.process.terminationReason, .exit, file: file, line: line)
            XCTAssertEqual(
                started.process.terminationStatus, expectedStatus, started.errorText, file: file, line: line)
        } else {
            XCTAssertNotEqual(started.process.terminationStatus, 0, file: file, line: line)
        }
        // Progress lines ("qclab: 8/40 trajectories", printed under MPI when standard error
        // is no terminal) aside, qclab says one line.
        let ours = started.errorLines.filter {
            $0.hasPrefix("qclab:") && !$0.hasPrefix("qclab: paused at")
                && $0.split(separator: " ").dropFirst().first?.contains("/") != true
        }
        XCTAssertEqual(ours.count, 1, "one line from qclab: \(started.errorText)", file: file, line: line)
        let message = String(ours.first ?? "")
        let kept = try trajectories(inCheckpoint: ck, folder: folder)
        XCTAssertGreaterThanOrEqual(
            kept, held, "the last checkpoint holds at least what the checkpoint held at the signal",
            file: file, line: line)
        // The serial and forked drivers say how many trajectories the last checkpoint
        // holds; MPI rank 0 says its line when the signal comes (it may be killed soon after).
        for word in ["stopped by", "checkpoint 'ck'", "run the same command to resume"] + words
            + (saysCount ? ["after \(kept) of"] : [])
        {
            XCTAssertTrue(message.contains(word), "'\(word)' in: \(message)", file: file, line: line)
        }
        XCTAssertEqual(
            QCLabCLI.contents(of: folder), ["ck", "job.json", "reference.h5"], "no temporary file, no output",
            file: file, line: line)
        // The same command resumes, to the bits of the uninterrupted run.
        let resumed = try QCLabCLI.run(
            arguments, in: folder, program: program, timeout: 300,
            environment: [
                "QCLAB_CHECKPOINT_INTERVAL": "0", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            ], file: file, line: line)
        XCTAssertEqual(resumed.status, 0, resumed.errors, file: file, line: line)
        let out = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path)
        let whole = try SimulationData(contentsOf: folder.appendingPathComponent("reference.h5").path)
        XCTAssertEqual(
            ParallelDriverTests.withoutLog(out), ParallelDriverTests.withoutLog(whole), file: file, line: line)
        XCTAssertEqual(
            QCLabCLI.contents(of: folder), ["job.json", "out.h5", "reference.h5"], "the checkpoint is gone",
            file: file, line: line)
        return started.errorText
    }

    func testASignalLeavesALastCheckpointThatResumesToTheSameBits() throws {
        let qclab = try QCLabCLI.executable()
        for (driver, signal) in [
            ("serial", SIGTERM), ("multiprocessing", SIGTERM), ("multiprocessing", SIGINT), ("serial", SIGINT),
        ] {
            let folder = try folder(trajectories: 40)
            let reference = try QCLabCLI.run(["run", "job.json", "--output", "reference.h5"], in: folder)
            XCTAssertEqual(reference.status, 0, reference.errors)
            let tasks = driver == "serial" ? [] : ["--num-tasks", "2"]
            try stopAndResume(
                qclab, ["run", "job.json", "--driver", driver, "--output", "out.h5", "--checkpoint", "ck"] + tasks,
                in: folder, signal: signal, expectedStatus: 128 + signal,
                expecting: [signal == SIGTERM ? "SIGTERM" : "SIGINT", "of 40 trajectories", "holds them"],
                saysCount: true)
        }
    }

    /// The serial driver leaves the batch in flight at its next collect point: a batch
    /// that would run for many minutes ends at once (the safety deadline would fail the
    /// test otherwise), nothing done is claimed, and no checkpoint or output appears.
    func testASerialBatchInFlightIsLeftAtItsNextCollectPoint() throws {
        let qclab = try QCLabCLI.executable()
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-stop")
        try ParallelDriverTests.jobJSON(trajectories: 8)
            .replacingOccurrences(
                of: #""tmax": 2.0, "dt_update": 0.01, "dt_collect": 0.1"#,
                with: #""tmax": 1000000.0, "dt_update": 0.01, "dt_collect": 100.0"#
            )
            .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let started = try start(
            qclab, ["run", "job.json", "--output", "out.h5", "--checkpoint", "ck", "--verbose"], in: folder)
        XCTAssertTrue(
            TestEnvironment.waitUntil(limit: 120) { started.errorText.contains("Running batch 1 ") }, started.errorText
        )
        kill(started.process.processIdentifier, SIGTERM)
        waitForExit(started)
        XCTAssertEqual(started.process.terminationReason, .exit)
        XCTAssertEqual(started.process.terminationStatus, 128 + SIGTERM)
        XCTAssertEqual(
            String(started.errorLines.last ?? ""),
            "qclab: stopped by SIGTERM before any of 8 trajectories was done; run the same command to start again")
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"])
    }

    /// Without a checkpoint there is nothing to keep: one line says the trajectories are lost.
    func testAStopWithoutACheckpointSaysWhatIsLost() throws {
        let qclab = try QCLabCLI.executable()
        for driver in ["serial", "multiprocessing"] {
            let folder = try folder(trajectories: 400_000)
            let tasks = driver == "serial" ? [] : ["--num-tasks", "2"]
            let started = try start(
                qclab, ["run", "job.json", "--driver", driver, "--output", "out.h5", "--verbose"] + tasks, in: folder)
            // Batches are running (the log says so) once the stops are caught.
            XCTAssertTrue(
                TestEnvironment.waitUntil(limit: 120) { started.errorText.contains("Running batch 3 ") },
                started.errorText)
            kill(started.process.processIdentifier, SIGTERM)
            waitForExit(started)
            XCTAssertEqual(started.process.terminationReason, .exit, driver)
            XCTAssertEqual(started.process.terminationStatus, 128 + SIGTERM, driver)
            let last = String(started.errorLines.last ?? "")
            XCTAssertTrue(
                last.hasPrefix("qclab: stopped by SIGTERM") && last.contains("no --checkpoint")
                    && last.contains("lost"), "\(driver): \(last)")
            XCTAssertEqual(started.errorLines.filter { $0.hasPrefix("qclab:") }.count, 1, started.errorText)
            XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"], "\(driver): nothing written")
        }
    }

    /// SIGTERM to `mpirun` (a batch system's time limit): Open MPI passes it on to every
    /// rank; rank 0 writes a last checkpoint and says so; the same command resumes.
    func testSIGTERMToMpirunLeavesRankZerosCheckpointThatResumes() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = try folder(trajectories: 40)
        let reference = try QCLabCLI.run(["run", "job.json", "--output", "reference.h5"], in: folder)
        XCTAssertEqual(reference.status, 0, reference.errors)
        try stopAndResume(
            mpirun,
            [
                "--oversubscribe", "-n", "2", "-x", "QCLAB_CHECKPOINT_INTERVAL", "-x", "QCLAB_TEST_PAUSE_AT",
                qclab, "run", "job.json", "--driver", "mpi", "--output", "out.h5", "--checkpoint", "ck",
            ],
            in: folder, signal: SIGTERM, expectedStatus: nil, expecting: ["SIGTERM", "keeps every batch done"])
    }

    /// SIGTERM to `mpirun` without a checkpoint: rank 0 says in one line that the
    /// trajectories are lost; nothing is written.
    func testSIGTERMToMpirunWithoutACheckpointSaysWhatIsLost() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = try folder(trajectories: 400_000)
        let started = try start(
            mpirun, ["--oversubscribe", "-n", "2", qclab, "run", "job.json", "--driver", "mpi", "--output", "out.h5"],
            in: folder)
        // Rank 0's first progress line: the driver runs, and stops are caught.
        XCTAssertTrue(
            TestEnvironment.waitUntil(limit: 120) { started.errorText.contains(" trajectories, ") }, started.errorText)
        kill(started.process.processIdentifier, SIGTERM)
        waitForExit(started)
        XCTAssertNotEqual(started.process.terminationStatus, 0)
        let stopped = started.errorLines.filter { $0.hasPrefix("qclab: stopped") }
        XCTAssertEqual(stopped.count, 1, started.errorText)
        XCTAssertTrue(
            stopped.first?.contains("SIGTERM") == true && stopped.first?.contains("no --checkpoint") == true
                && stopped.first?.contains("lost") == true, started.errorText)
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"], "nothing written")
    }

    /// One rank killed by a signal: Open MPI names it and ends the others; rank 0 writes a
    /// last checkpoint and says the same command resumes it.
    func testARankKilledBySignalLeavesTheResumeHint() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = try folder(trajectories: 40)
        let reference = try QCLabCLI.run(["run", "job.json", "--output", "reference.h5"], in: folder)
        XCTAssertEqual(reference.status, 0, reference.errors)
        let errors = try stopAndResume(
            mpirun,
            [
                "--oversubscribe", "-n", "3", "-x", "QCLAB_CHECKPOINT_INTERVAL", "-x", "QCLAB_TEST_PAUSE_AT",
                qclab, "run", "job.json", "--driver", "mpi", "--output", "out.h5", "--checkpoint", "ck",
            ],
            in: folder, signal: SIGKILL, expectedStatus: nil,
            signalTarget: { Self.rank(1, of: $0.process.processIdentifier) })
        XCTAssertTrue(
            errors.contains("rank 1") && errors.contains("signal 9"),
            "the launcher names the rank and the signal: \(errors)")
    }

    /// The process id of MPI rank `rank` among the children of `mpirun` (read from /proc).
    static func rank(_ rank: Int, of launcher: pid_t) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == launcher,
                let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
            else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}
