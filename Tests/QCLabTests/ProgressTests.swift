import XCTest
import Foundation
@testable import QCLab

/// Progress within a batch: every driver reports counts before a batch ends,
/// the bar moves on a terminal during a run of one batch, and the results stay the same bits.
final class ProgressTests: XCTestCase {
    typealias P = ParallelDriverTests

    /// A mean-field job of `trajectories` seeds in one batch, with `tmax` setting its length.
    static func oneBatch(trajectories: Int, tmax: Double) throws -> Simulation {
        var simulation = try P.simulation(trajectories: trajectories, algorithm: "MeanField")
        simulation.settings.tmax = tmax
        simulation.settings.dtCollect = 0.1
        simulation.settings.batchSize = trajectories
        return simulation
    }

    /// The serial driver reports every count as a one-batch run passes its collect points,
    /// in order, ending with the total; the result is the same bits as without progress.
    func testSerialDriverReportsProgressWithinABatch() throws {
        let simulation = try Self.oneBatch(trajectories: 10, tmax: 10)
        var reported: [Int] = []
        let data = try serialDriver(
            simulation,
            progress: { done, total in
                XCTAssertEqual(total, 10)
                reported.append(done)
            })
        XCTAssertEqual(reported, Array(0...10), "each trajectory counts once, within the batch, in order")
        XCTAssertEqual(P.withoutLog(data), P.withoutLog(try serialDriver(simulation)), "progress changes no bit")
    }

    /// A batch run outside a driver reports to the sink set around it, and to none outside it.
    func testBatchProgressReachesOnlyTheBatchItIsSetFor() throws {
        let simulation = try Self.oneBatch(trajectories: 2, tmax: 1)
        var points: [Int] = []
        _ = try BatchProgress.reporting({ collected, total in
            XCTAssertEqual(total, simulation.timeGrid.collectCount)
            points.append(collected)
        }) { try simulation.runBatch(seeds: [0, 1]) }
        XCTAssertEqual(points, Array(1...simulation.timeGrid.collectCount), "one report per collect point, in order")
        _ = try simulation.runBatch(seeds: [0, 1])
        XCTAssertEqual(points.count, simulation.timeGrid.collectCount, "no sink, no report")
    }

    /// A forked worker tells the parent how far its batch has got, so a one-batch run
    /// reports counts before the batch ends; the result is the serial driver's bits.
    func testForkedWorkerReportsProgressWithinABatch() throws {
        // A worker sends the first count of its batch at once, the others as time passes:
        // at least one count within the batch, however fast the machine.
        let simulation = try Self.oneBatch(trajectories: 40, tmax: 10)
        var reported: [Int] = []
        var finished = false
        let data = try parallelDriverMultiprocessing(
            simulation, numTasks: 2,
            progress: { done, total in
                XCTAssertEqual(total, 40)
                XCTAssertTrue(!finished || done == 40, "after the batch came back, only the total: \(done)")
                reported.append(done)
            }, observer: ParallelRunObserver(batchFinished: { _, _ in finished = true }))
        let within = reported.filter { $0 > 0 && $0 < 40 }
        XCTAssertFalse(within.isEmpty, "counts within the batch: \(reported)")
        XCTAssertEqual(reported, reported.sorted(), "progress only grows")
        XCTAssertEqual(Set(reported).count, reported.count, "no count twice")
        XCTAssertEqual(reported.last, 40)
        XCTAssertEqual(P.withoutLog(data), P.withoutLog(try serialDriver(simulation)), "progress changes no bit")
    }

    /// A worker killed in the middle of a batch, after it has reported progress, is still
    /// reported with every seed lost: progress messages do not count as results.
    func testWorkerKilledAfterReportingProgressLosesItsWholeBatch() throws {
        let simulation = try Self.oneBatch(trajectories: 40, tmax: 10)
        var pid: pid_t = 0
        var killed = false
        XCTAssertThrowsError(
            try parallelDriverMultiprocessing(
                simulation, numTasks: 1,
                progress: { done, _ in
                    if done > 0 && !killed {
                        killed = true
                        kill(pid, SIGKILL)
                    }
                }, observer: ParallelRunObserver(workerStarted: { _, started in pid = started }))
        ) { error in
            guard case let QCLabError.workerFailed(worker, reason, lostSeeds) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(worker.hasPrefix("worker 1"), worker)
            XCTAssertTrue(reason.contains("signal 9"), reason)
            XCTAssertEqual(lostSeeds, Array(0..<40))
        }
        XCTAssertTrue(killed, "progress arrived before the batch ended")
    }

    /// Under MPI, rank 0's callback gets counts within batches (not only multiples of the
    /// batch size) and the total once, at the end: when rank 0 runs batches too, and with a
    /// checkpoint, when it only watches the others'.
    func testMPIRankZeroReportsProgressWithinBatches() throws {
        let mpirun = try P.mpirun()
        let probe = try QCLabCLI.executable(named: "MPIFailureProbe")
        let folder = try QCLabCLI.temporaryFolder(self)
        for checkpoint in [[], [folder.appendingPathComponent("ck").path]] {
            let outcome = try P.run(
                mpirun, ["--oversubscribe", "-n", "2", probe.path, "progress"] + checkpoint, in: folder,
                timeout: 120)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
            let counts = outcome.output.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("progress ") else { return nil }
                return Int(line.dropFirst("progress ".count).split(separator: "/")[0])
            }
            let label = checkpoint.isEmpty ? "without a checkpoint" : "with a checkpoint"
            XCTAssertTrue(outcome.output.contains("complete: 16 trajectories"), "\(label): \(outcome.output)")
            XCTAssertTrue(counts.contains { $0 % 8 != 0 }, "\(label): counts within a batch of 8: \(counts)")
            XCTAssertEqual(counts, counts.sorted(), "\(label): progress only grows")
            XCTAssertEqual(Set(counts).count, counts.count, "\(label): no count twice")
            XCTAssertEqual(counts.last, 16, label)
        }
    }

    /// On a terminal (a pseudo-terminal made by `script`), the bar of a one-batch run is
    /// drawn before the run ends, under both local drivers.
    func testProgressBarMovesDuringARunOfOneBatch() throws {
        let script = try TestEnvironment.requireTool(
            "/usr/bin/script", "util-linux's `script` (bsdutils), which makes a terminal,")
        let folder = try QCLabCLI.temporaryFolder(self)
        // 20 trajectories: each one done fills at least one more of the bar's 30 cells, and a
        // bar that gains a cell is redrawn at once, so the draws do not depend on speed.
        try BadJob.job(
            settings: #"{"tmax": 10, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 20, "batch_size": 20}"#
        )
        .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let qclab = try QCLabCLI.executable()
        for driver in ["serial", "multiprocessing"] {
            let command = "'\(qclab.path)' run job.json --output \(driver).h5 --driver \(driver) >/dev/null"
            let outcome = try QCLabCLI.run(["-qec", command, "/dev/null"], in: folder, program: script)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
            let draws = outcome.output.split(separator: "\r").compactMap { draw -> Int? in
                guard let range = draw.range(of: "/20 trajectories") else { return nil }
                return Int(draw[..<range.lowerBound].split(separator: " ").last ?? "")
            }
            XCTAssertTrue(
                draws.contains { $0 > 0 && $0 < 20 }, "\(driver): the bar moves within the batch: \(outcome.output)")
            XCTAssertEqual(draws.last, 20, "\(driver): \(outcome.output)")
        }
    }
}
