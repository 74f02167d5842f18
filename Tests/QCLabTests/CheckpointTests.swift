import XCTest
import Foundation
@testable import QCLab
#if canImport(Glibc)
import Glibc
#endif

/// `--checkpoint CK` (issue 9, item 4): a run killed at any moment, even while it writes
/// the checkpoint, resumes with the same command and ends with the same bits as an
/// uninterrupted run; a checkpoint of another run is refused; CK is gone at the end.
final class CheckpointTests: XCTestCase {
    func folder(trajectories: Int, tmax: Double = 4) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-ck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try ParallelDriverTests.jobJSON(trajectories: trajectories).replacingOccurrences(of: #""tmax": 2.0"#, with: #""tmax": \#(tmax)"#)
            .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Starts `qclab` with `arguments` in `folder`, SIGKILLs it after `delay` seconds unless
    /// it ended; returns whether it ended by itself, and its status.
    func runOrKill(_ arguments: [String], in folder: URL, after delay: Double,
                   once condition: (() -> Bool)? = nil) throws -> (finished: Bool, status: Int32) {
        let process = Process()
        process.executableURL = try QCLabCLI.executable()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(["QCLAB_CHECKPOINT_INTERVAL": "0"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(delay)
        while process.isRunning && Date() < deadline && !(condition?() ?? false) { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (false, process.terminationStatus)
        }
        return (true, process.terminationStatus)
    }

    func testKilledRunsResumeToTheSameBitsWithEveryDriver() throws {
        for driver in ["serial", "multiprocessing"] {
            let folder = try folder(trajectories: 64)
            let reference = try QCLabCLI.run(["run", "job.json", "--driver", driver, "--output", "reference.h5"], in: folder)
            XCTAssertEqual(reference.status, 0, reference.errors)
            let command = ["run", "job.json", "--driver", driver, "--output", "out.h5", "--checkpoint", "ck"]
            var kills = 0, resumedFromCheckpoint = 0
            // Kill at many moments (with a checkpoint written after every batch, some of
            // these land inside a write), resuming each time with the same command.
            for delay in [0.15, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 60] {
                if FileManager.default.fileExists(atPath: folder.appendingPathComponent("ck").path) { resumedFromCheckpoint += 1 }
                let outcome = try runOrKill(command, in: folder, after: delay)
                if outcome.finished {
                    XCTAssertEqual(outcome.status, 0, driver)
                    break
                }
                kills += 1
                // Killed before the output was written: there is none. Killed in the moment
                // between renaming the finished output into place and exiting: it is whole.
                let out = folder.appendingPathComponent("out.h5").path
                if FileManager.default.fileExists(atPath: out) {
                    let written = try SimulationData(contentsOf: out)
                    let whole = try SimulationData(contentsOf: folder.appendingPathComponent("reference.h5").path)
                    XCTAssertEqual(ParallelDriverTests.withoutLog(written), ParallelDriverTests.withoutLog(whole),
                                   "\(driver): an output that exists after a kill is the whole result")
                }
            }
            XCTAssertGreaterThan(kills, 0, "\(driver): the run was interrupted")
            XCTAssertGreaterThan(resumedFromCheckpoint, 0, "\(driver): some run resumed from a checkpoint")
            let out = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path)
            let whole = try SimulationData(contentsOf: folder.appendingPathComponent("reference.h5").path)
            XCTAssertEqual(ParallelDriverTests.withoutLog(out), ParallelDriverTests.withoutLog(whole), driver)
            if driver == "serial" {
                // The serial log, too, but for the line each resumed run adds.
                let lines = out.log.split(separator: "\n", omittingEmptySubsequences: false)
                // (A run killed before it checkpointed again leaves no trace of its resuming.)
                XCTAssertGreaterThan(lines.filter { $0.hasPrefix("Resumed from checkpoint 'ck': ") }.count, 0)
                XCTAssertEqual(lines.filter { !$0.hasPrefix("Resumed from checkpoint 'ck': ") }.joined(separator: "\n"), whole.log,
                               "the serial log, too")
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
                           ["job.json", "out.h5", "reference.h5"], "\(driver): the checkpoint and any temporary file are gone")
        }
    }

    func testKilledMPIRunsResumeToTheSameBits() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = try folder(trajectories: 256)
        let reference = try QCLabCLI.run(["run", "job.json", "--output", "reference.h5"], in: folder)
        XCTAssertEqual(reference.status, 0, reference.errors)
        let arguments = ["--oversubscribe", "-n", "3", "-x", "QCLAB_CHECKPOINT_INTERVAL=0", qclab, "run", "job.json",
                         "--driver", "mpi", "--output", "out.h5", "--checkpoint", "ck"]
        var interrupted = 0, resumed = 0
        let ck = folder.appendingPathComponent("ck").path
        func stamp() -> Date? { (try? FileManager.default.attributesOfItem(atPath: ck))?[.modificationDate] as? Date }
        // A time limit: SIGTERM to mpirun ends every rank; the same command resumes. The
        // first two runs are ended once they have written (or rewritten) the checkpoint, the
        // last one runs to the end.
        for round in 0..<3 {
            if FileManager.default.fileExists(atPath: ck) { resumed += 1 }
            let before = stamp()
            let process = Process()
            process.executableURL = mpirun
            process.arguments = arguments
            process.currentDirectoryURL = folder
            process.environment = ProcessInfo.processInfo.environment.merging(
                ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if round < 2 {
                let deadline = Date().addingTimeInterval(120)
                while process.isRunning && stamp() == before && Date() < deadline { usleep(2_000) }
                usleep(UInt32(30_000 * round))
            }
            if round == 2 || !process.isRunning {
                process.waitUntilExit()
                XCTAssertEqual(process.terminationStatus, 0)
                break
            }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            interrupted += 1
        }
        XCTAssertGreaterThan(interrupted, 0)
        XCTAssertGreaterThan(resumed, 0, "some run resumed from rank 0's checkpoint")
        let out = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path)
        let whole = try SimulationData(contentsOf: folder.appendingPathComponent("reference.h5").path)
        XCTAssertEqual(ParallelDriverTests.withoutLog(out), ParallelDriverTests.withoutLog(whole))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("ck").path))
    }

    func testAForeignCheckpointIsRefused() throws {
        let folder = try folder(trajectories: 64)
        let ck = folder.appendingPathComponent("ck").path
        let outcome = try runOrKill(["run", "job.json", "--output", "out.h5", "--checkpoint", "ck"], in: folder, after: 60,
                                    once: { FileManager.default.fileExists(atPath: ck) })
        XCTAssertFalse(outcome.finished, "the run was interrupted")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("ck").path))
        // Another job file.
        try ParallelDriverTests.jobJSON(trajectories: 64).replacingOccurrences(of: #""A": 10"#, with: #""A": 12"#)
            .replacingOccurrences(of: #""tmax": 2.0"#, with: #""tmax": 4"#)
            .write(to: folder.appendingPathComponent("other.json"), atomically: true, encoding: .utf8)
        for (arguments, message) in [(["run", "other.json"], "is of another job: model.constants.A is 10 there but 12 in this one"),
                                     (["run", "job.json", "--seeds", "100:164"], "is of other seeds")] {
            let refused = try QCLabCLI.run(arguments + ["--output", "out.h5", "--checkpoint", "ck"], in: folder)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertEqual(refused.errorLines.count, 1, refused.errors)
            XCTAssertTrue(refused.errors.contains("checkpoint 'ck' \(message)"), refused.errors)
        }
        var bytes = try Data(contentsOf: folder.appendingPathComponent("ck"))
        bytes[4] = 9
        try bytes.write(to: folder.appendingPathComponent("ck"))
        let newer = try QCLabCLI.run(["run", "job.json", "--output", "out.h5", "--checkpoint", "ck"], in: folder)
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
        var run = try ParallelRun(simulation: simulation, plan: plan, data: SimulationData(), driver: "serial", tasks: 1,
                                  checkpoint: checkpoint)
        for batch in 0..<3 {
            try run.store(simulation.runBatch(seeds: plan.seeds(ofBatch: batch)), forBatch: batch)
            try run.checkpointIfDue()
        }
        var ran: [Int] = []
        let observer = ParallelRunObserver(batchDispatched: { batch, _, _ in ran.append(batch) })
        let resumed = try parallelDriverMultiprocessing(simulation, numTasks: 2, checkpoint: checkpoint, observer: observer)
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
        var run = try ParallelRun(simulation: simulation, plan: plan, data: SimulationData(), driver: "serial", tasks: 1,
                                  checkpoint: checkpoint)
        try run.store(simulation.runBatch(seeds: plan.seeds(ofBatch: 0)), forBatch: 0)
        try run.checkpointIfDue()
        let good = try Data(contentsOf: URL(fileURLWithPath: checkpoint.path))
        // What a write killed mid-way leaves: a partial temporary file of a dead process.
        let stale = folder.appendingPathComponent(".ck.tmp-999999")
        try good.prefix(good.count / 2).write(to: stale)
        let resumed = try serialDriver(simulation, checkpoint: checkpoint)
        XCTAssertEqual(ParallelDriverTests.withoutLog(resumed), ParallelDriverTests.withoutLog(try serialDriver(simulation)))
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
