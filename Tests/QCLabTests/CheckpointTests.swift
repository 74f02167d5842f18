import XCTest
import Foundation
@testable import QCLab
#if canImport(Glibc)
import Glibc
#endif

/// `--checkpoint CK`: a run killed at any moment, even while it writes
/// the checkpoint, resumes with the same command and ends with the same bits as an
/// uninterrupted run; a checkpoint of another run is refused; CK is gone at the end.
final class CheckpointTests: XCTestCase {
    func folder(trajectories: Int, tmax: Double = 4) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-ck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try ParallelDriverTests.jobJSON(trajectories: trajectories).replacingOccurrences(
            of: #""tmax": 2.0"#, with: #""tmax": \#(tmax)"#
        )
        .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Runs `qclab arguments...` in `folder` (a checkpoint after every batch).
    ///
    /// With `moment`, the run pauses there (`QCLAB_TEST_PAUSE_AT`) and is SIGKILLed once it
    /// says so; returns whether it was, and its status.
    func run(_ arguments: [String], in folder: URL, killedAt moment: String?) throws -> (killed: Bool, status: Int32) {
        var environment = ["QCLAB_CHECKPOINT_INTERVAL": "0"]
        environment["QCLAB_TEST_PAUSE_AT"] = moment
        let run = try WatchedProcess(QCLabCLI.executable(), arguments, in: folder, environment: environment)
        if let moment {
            let paused = run.waitFor("qclab: paused at \(moment)\n")
            if run.process.isRunning { run.signalAndWait(SIGKILL) }
            XCTAssertTrue(paused, "the run reached \(moment): \(run.errors)")
            return (paused, run.process.terminationStatus)
        }
        run.waitForExit()
        return (false, run.process.terminationStatus)
    }

    func testKilledRunsResumeToTheSameBitsWithEveryDriver() throws {
        for driver in ["serial", "multiprocessing"] {
            let folder = try folder(trajectories: 64)
            let reference = try QCLabCLI.run(
                ["run", "job.json", "--driver", driver, "--output", "reference.h5"], in: folder)
            XCTAssertEqual(reference.status, 0, reference.errors)
            let command = ["run", "job.json", "--driver", driver, "--output", "out.h5", "--checkpoint", "ck"]
            let ck = folder.appendingPathComponent("ck").path, out = folder.appendingPathComponent("out.h5").path
            // Killed just after the first checkpoint, then after the second of the resumed
            // run, then with the output written under its temporary name (all batches
            // done, the checkpoint not yet removed); each time resumed with the same command.
            for moment in ["checkpoint-1", "checkpoint-2", "write-out.h5"] {
                XCTAssertEqual(
                    FileManager.default.fileExists(atPath: ck), moment != "checkpoint-1", "\(driver), \(moment)")
                let killed = try run(command, in: folder, killedAt: moment)
                XCTAssertTrue(killed.killed, "\(driver): killed at \(moment)")
                XCTAssertTrue(
                    FileManager.default.fileExists(atPath: ck), "\(driver), \(moment): the checkpoint is kept")
                XCTAssertFalse(
                    FileManager.default.fileExists(atPath: out), "\(driver), \(moment): no output before the rename")
            }
            XCTAssertTrue(
                QCLabCLI.contents(of: folder).contains { $0.hasPrefix(".out.h5.tmp-") },
                "\(driver): the killed write left its temporary file")
            let last = try run(command, in: folder, killedAt: nil)
            XCTAssertEqual(last.status, 0, driver)
            let written = try SimulationData(contentsOf: out)
            let whole = try SimulationData(contentsOf: folder.appendingPathComponent("reference.h5").path)
            XCTAssertEqual(ParallelDriverTests.withoutLog(written), ParallelDriverTests.withoutLog(whole), driver)
            if driver == "serial" {
                // The serial log, too, but for the line each resumed run adds.
                let lines = written.log.split(separator: "\n", omittingEmptySubsequences: false)
                let resumed = { (line: Substring) in line.hasPrefix("Resumed from checkpoint 'ck': ") }
                XCTAssertGreaterThan(lines.filter(resumed).count, 0)
                XCTAssertEqual(lines.filter { !resumed($0) }.joined(separator: "\n"), whole.log, "the serial log, too")
            }
            XCTAssertEqual(
                try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
                ["job.json", "out.h5", "reference.h5"], "\(driver): the checkpoint and any temporary file are gone")
        }
    }

    func testKilledMPIRunsResumeToTheSameBits() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = try folder(trajectories: 256)
        let reference = try QCLabCLI.run(["run", "job.json", "--output", "reference.h5"], in: folder)
        XCTAssertEqual(reference.status, 0, reference.errors)
        let arguments = [
            "--oversubscribe", "-n", "3", "-x", "QCLAB_CHECKPOINT_INTERVAL=0", qclab, "run", "job.json",
            "--driver", "mpi", "--output", "out.h5", "--checkpoint", "ck",
        ]
        var interrupted = 0, resumed = 0
        let ck = folder.appendingPathComponent("ck").path
        // A time limit: SIGTERM to mpirun ends every rank; the same command resumes. The
        // first two runs are ended once rank 0 has written its first (then second)
        // checkpoint and paused there; the last one runs to the end.
        for moment in ["checkpoint-1", "checkpoint-2", nil] {
            if FileManager.default.fileExists(atPath: ck) { resumed += 1 }
            let pause = moment.map { ["-x", "QCLAB_TEST_PAUSE_AT=\($0)"] } ?? []
            let run = try WatchedProcess(
                mpirun, pause + arguments, in: folder,
                environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"])
            guard let moment else {
                run.waitForExit()
                XCTAssertEqual(run.process.terminationStatus, 0, run.errors)
                break
            }
            XCTAssertTrue(run.waitFor("qclab: paused at \(moment)\n"), "rank 0 paused at \(moment): \(run.errors)")
            run.signalAndWait(SIGTERM)
            XCTAssertNotEqual(run.process.terminationStatus, 0)
            XCTAssertTrue(FileManager.default.fileExists(atPath: ck), "the checkpoint is kept")
            interrupted += 1
        }
        XCTAssertEqual(interrupted, 2)
        XCTAssertEqual(resumed, 2, "the second and third runs resumed from rank 0's checkpoint")
        let out = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path)
        let whole = try SimulationData(contentsOf: folder.appendingPathComponent("reference.h5").path)
        XCTAssertEqual(ParallelDriverTests.withoutLog(out), ParallelDriverTests.withoutLog(whole))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("ck").path))
    }

    func testAForeignCheckpointIsRefused() throws {
        let folder = try folder(trajectories: 64)
        let ck = folder.appendingPathComponent("ck").path
        let outcome = try run(
            ["run", "job.json", "--output", "out.h5", "--checkpoint", "ck"], in: folder, killedAt: "checkpoint-1")
        XCTAssertTrue(outcome.killed, "the run was interrupted")
        XCTAssertTrue(FileManager.default.fileExists(atPath: ck))
        // Another job file.
        try ParallelDriverTests.jobJSON(trajectories: 64).replacingOccurrences(of: #""A": 10"#, with: #""A": 12"#)
            .replacingOccurrences(of: #""tmax": 2.0"#, with: #""tmax": 4"#)
            .write(to: folder.appendingPathComponent("other.json"), atomically: true, encoding: .utf8)
        for (arguments, message) in [
            (["run", "other.json"], "is of another job: model.constants.A is 10 there but 12 in this one"),
            (["run", "job.json", "--seeds", "100:164"], "is of other seeds"),
        ] {
            let refused = try QCLabCLI.run(arguments + ["--output", "out.h5", "--checkpoint", "ck"], in: folder)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertEqual(refused.errorLines.count, 1, refused.errors)
            XCTAssertEqual(refused.errorCode, "invalidPath", refused.errors)
            XCTAssertTrue(refused.errors.contains("checkpoint 'ck' \(message)"), refused.errors)
        }
        var bytes = try Data(contentsOf: folder.appendingPathComponent("ck"))
        bytes[4] = 9
        try bytes.write(to: folder.appendingPathComponent("ck"))
        let newer = try QCLabCLI.run(["run", "job.json", "--output", "out.h5", "--checkpoint", "ck"], in: folder)
        XCTAssertEqual(newer.errorCode, "invalidPath", newer.errors)
        XCTAssertTrue(newer.errors.contains("has format version 9"), newer.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.h5").path))
    }

    func testTheLibraryResumesACheckpoint() throws {
        var simulation = try ParallelDriverTests.simulation(trajectories: 23)
        simulation.settings.batchSize = 4
        let folder = try folder(trajectories: 1)
        let checkpoint = Checkpointing(path: folder.appendingPathComponent("ck").path, interval: 0)
        let whole = try serialDriver(simulation)
        // Half a run: the first three batches, checkpointed, as a killed run leaves them.
        let plan = try RunPlan(simulation: simulation)
        var run = try ParallelRun(
            simulation: simulation, plan: plan, data: SimulationData(), driver: "serial", tasks: 1,
            checkpoint: checkpoint)
        for batch in 0..<3 {
            try run.store(simulation.runBatch(seeds: plan.seeds(ofBatch: batch)), forBatch: batch)
            try run.checkpointIfDue()
        }
        var ran: [Int] = []
        let observer = ParallelRunObserver(batchDispatched: { batch, _, _ in ran.append(batch) })
        let resumed = try parallelDriverMultiprocessing(
            simulation, numTasks: 2, checkpoint: checkpoint, observer: observer)
        XCTAssertEqual(ran.sorted(), [3, 4, 5], "only the missing batches run")
        XCTAssertEqual(ParallelDriverTests.withoutLog(resumed), ParallelDriverTests.withoutLog(whole))
        checkpoint.remove()
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint.path))
    }

    /// A write killed half-way leaves at most a temporary file beside CK (CK itself is only
    /// ever replaced whole, by rename): the resumed run ignores and removes it; a CK damaged
    /// some other way is refused, never half-read.
    func testAKilledCheckpointWriteLeavesNothingThatMatters() throws {
        var simulation = try ParallelDriverTests.simulation(trajectories: 23)
        simulation.settings.batchSize = 4
        let folder = try folder(trajectories: 1)
        let checkpoint = Checkpointing(path: folder.appendingPathComponent("ck").path, interval: 0)
        let plan = try RunPlan(simulation: simulation)
        var run = try ParallelRun(
            simulation: simulation, plan: plan, data: SimulationData(), driver: "serial", tasks: 1,
            checkpoint: checkpoint)
        try run.store(simulation.runBatch(seeds: plan.seeds(ofBatch: 0)), forBatch: 0)
        try run.checkpointIfDue()
        let good = try Data(contentsOf: URL(fileURLWithPath: checkpoint.path))
        // What a write killed mid-way leaves: a partial temporary file of a dead process.
        let stale = folder.appendingPathComponent(".ck.tmp-999999")
        try good.prefix(good.count / 2).write(to: stale)
        let resumed = try serialDriver(simulation, checkpoint: checkpoint)
        XCTAssertEqual(
            ParallelDriverTests.withoutLog(resumed), ParallelDriverTests.withoutLog(try serialDriver(simulation)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), "the stale temporary file is removed")
        // A truncated checkpoint is refused with a message, whatever the cut.
        for length in [0, 3, 10, good.count / 2, good.count - 1] {
            try good.prefix(length).write(to: URL(fileURLWithPath: checkpoint.path))
            XCTAssertThrowsError(try serialDriver(simulation, checkpoint: checkpoint)) { error in
                XCTAssertTrue("\(error)".hasPrefix("checkpoint '\(checkpoint.path)'"), "\(error)")
            }
        }
        checkpoint.remove()
    }
}
