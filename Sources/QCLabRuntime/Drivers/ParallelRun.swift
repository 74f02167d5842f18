@_spi(Benchmarks) import QCLabCore
import QCLabSystem
import QCLabIO
import COpenBLAS
import Foundation
import Logging

/// The bookkeeping every driver shares: the run plan, the log, which batches are done,
/// and one running sum of their results.
///
/// Results may arrive in any order and in any grouping (one batch, or a worker's or a
/// rank's fold of many): the sums are exact (``OutputAccumulator``), so the result is the same to
/// the bit whichever process ran which batch, and the process that reduces holds one
/// result, however many batches there are. Seeds come out in plan order.
package struct ParallelRun {
    /// Which seeds run, in which batches.
    package let plan: RunPlan
    /// How many trajectories have come back so far.
    package private(set) var trajectoriesDone = 0
    private let start: SimulationData
    private let job: String
    private var done: [Bool]
    private var total: SimulationData
    private var log: RunLog
    private let checkpoint: Checkpointing?
    private let batchSize: Int
    private var lastCheckpoint: Date?
    /// Checkpoints this process has written (for ``TestPause``).
    private var checkpointsWritten = 0
    /// The step plan's eigensolver, named in the log with its counts when it redoes trajectories
    /// with LAPACK (nil: none).
    private let eigensolver: BatchEigensolver.Strategy?

    /// Starts a run of `plan` (made with the same `data`) that adds to `data`, and starts
    /// its log with the driver's name and task count.
    ///
    /// With `checkpoint`, a checkpoint that exists is resumed (its batches count as done,
    /// its sums and log carry on; one of another run throws), and ``checkpointIfDue()``
    /// keeps it up to date.
    package init(
        simulation: Simulation, plan: RunPlan, data: SimulationData, driver: String, tasks: Int,
        checkpoint: Checkpointing? = nil
    ) throws {
        self.plan = plan
        start = data
        job = simulation.jobRecord
        batchSize = simulation.settings.batchSize
        eigensolver = simulation.stepPlan()?.eigensolver
        self.checkpoint = checkpoint
        done = Array(repeating: false, count: plan.batches.count)
        total = SimulationData()
        if let checkpoint,
            let saved = try checkpoint.load(simulation: simulation, plan: plan, job: job, batchSize: batchSize)
        {
            log = RunLog(resuming: saved.log)
            for batch in saved.done { done[batch] = true }
            total = saved.sums
            trajectoriesDone = saved.done.reduce(0) { $0 + plan.batches[$1].count }
            lastCheckpoint = Date()
            log.line(
                "Resumed from checkpoint '\(checkpoint.path)': \(trajectoriesDone) of \(plan.seeds.count) trajectories done "
                    + "(\(saved.done.count) of \(plan.batches.count) batches); \(driver) driver, \(tasks) task(s).")
            checkpoint.resumed?(trajectoriesDone, plan.seeds.count)
        } else {
            log = RunLog(simulation: simulation, plan: plan, driver: driver, tasks: tasks)
        }
    }

    /// Writes the checkpoint, if the run has one and one is due: at the first batch done,
    /// then at most every `interval` seconds.
    package mutating func checkpointIfDue() throws {
        // Once a stop is asked for, ``stopIfAsked()`` writes the last one, once.
        guard let checkpoint, !missingBatches.isEmpty, StopRequest.signal == nil else { return }
        if let last = lastCheckpoint, Date().timeIntervalSince(last) < checkpoint.interval { return }
        guard try save(checkpoint) else { return }
        lastCheckpoint = Date()
        checkpointsWritten += 1
        TestPause.at("checkpoint-\(checkpointsWritten)")
    }

    /// Ends the run if a signal asked it to stop and batches are still missing.
    ///
    /// The signal is SIGTERM or SIGINT (``StopRequest``). It writes a last checkpoint holding every
    /// batch done so far (if the run has a checkpoint), then throws ``RunStopped``. Drivers call it
    /// between batches.
    package func stopIfAsked() throws {
        if let stopped = try stopping() { throw stopped }
    }

    /// If a stop was asked for and batches are missing: writes the last checkpoint (if
    /// the run has one and a batch is done) and returns the stop to throw.
    package func stopping() throws -> RunStopped? {
        guard let signal = StopRequest.signal, !missingBatches.isEmpty else { return nil }
        if let checkpoint { try save(checkpoint) }
        return RunStopped(
            signal: signal, done: trajectoriesDone, total: plan.seeds.count, checkpoint: checkpoint?.path)
    }

    /// Writes the batches done, their sums and their log lines to `checkpoint`; false (and
    /// nothing written) while no batch is done.
    @discardableResult
    private func save(_ checkpoint: Checkpointing) throws -> Bool {
        let batches = done.indices.filter { done[$0] }
        guard !batches.isEmpty else { return false }
        try checkpoint.save(
            plan: plan, job: job, batchSize: batchSize, done: batches, sums: total,
            log: log.text(withBatchesDone: done))
        return true
    }

    /// Adds a line to the run's log (and to swift-log).
    package mutating func note(_ message: String) { log.line(message) }

    /// The error to throw for a batch that failed on `worker` (`worker 2 (pid 1234)`,
    /// `MPI rank 1`): a ``QCLabError`` the batch threw as itself (the same case as under
    /// the serial driver; the worker, batch and lost seeds go to the log at error level),
    /// any other error as ``QCLabError/workerFailed(worker:reason:lostSeeds:)`` naming the
    /// batch, its error, `others` failures besides, and every seed without a result.
    package func failure(of worker: String, batch: Int, _ failure: BatchFailure, others: Int = 0) -> Error {
        let seeds = plan.seeds(ofBatch: max(0, min(batch, plan.batches.count - 1)))
        let reason =
            "batch \(batch + 1) (seeds \(SeedList.describe(seeds))) threw: \(failure.description)"
            + (others > 0 ? "; \(others) more failure(s)" : "")
        let report = QCLabError.workerFailed(worker: worker, reason: reason, lostSeeds: missingSeeds)
        guard case let .error(error) = failure else { return report }
        qclabLogger.error("\(report)")
        return error
    }

    /// Adds a line to the run's log at `level`.
    package mutating func note(_ message: String, level: Logger.Level) { log.line(message, level: level) }

    /// Adds a line about batch `index` (that it starts) to the run's log.
    ///
    /// A checkpoint keeps it only once the batch is done, so that a resumed run, which runs the
    /// batch again, logs it once.
    package mutating func note(_ message: String, forBatch index: Int, level: Logger.Level = .info) {
        log.line(message, level: level, batch: index)
    }

    /// Whether batch `index` has a result.
    package func hasResult(_ index: Int) -> Bool { done[index] }

    /// Indices of the batches that have no result yet, in order.
    package var missingBatches: [Int] { done.indices.filter { !done[$0] } }

    /// Seeds of the batches that have no result yet, in seed order.
    package var missingSeeds: [Int] { missingBatches.flatMap { plan.seeds(ofBatch: $0) } }

    /// Adds the result of batch `index`, checking that it holds exactly that batch's seeds.
    package mutating func store(_ result: SimulationData, forBatch index: Int) throws {
        try store(result, forBatches: [index])
    }

    /// Adds a result that folds `batches` together (a worker's or a rank's), checking that
    /// it holds exactly their seeds, each batch once.
    package mutating func store(_ result: SimulationData, forBatches batches: [Int], countingProgress: Bool = true)
        throws
    {
        var expected: [Int] = []
        for index in batches {
            guard plan.batches.indices.contains(index), !done[index] else {
                throw QCLabError.incompatibleData("unexpected result for batch \(index + 1)")
            }
            expected += plan.seeds(ofBatch: index)
        }
        guard Set(result.seeds) == Set(expected), result.seeds.count == expected.count else {
            throw QCLabError.incompatibleData(
                "a result for batch(es) \(batches.map { "\($0 + 1)" }.joined(separator: ", ")) holds seeds \(SeedList.describe(result.seeds)), expected \(SeedList.describe(expected))"
            )
        }
        var counted = result
        counted.seeds = []
        counted.log = ""
        counted.job = nil
        try total.add(counted)
        for index in batches { done[index] = true }
        if countingProgress { trajectoriesDone += expected.count }
    }

    /// The log line of the eigensolver's counts, summed over every batch of the run.
    package static func eigensolverLine(_ eigensolver: BatchEigensolver.Strategy, _ counts: EigensolverCounts)
        -> String
    {
        "Eigensolver (\(eigensolver)): LAPACK redid \(counts.redoneByLAPACK) of \(counts.solves) trajectory solves."
    }

    /// Marks batches as done whose result arrives later, folded with others (progress only).
    package mutating func countProgress(ofBatch index: Int) {
        trajectoriesDone += plan.batches[index].count
    }

    /// Adds the running sum to the starting data, seeds in plan order, and closes the log.
    ///
    /// Throws if a batch is missing: a partial result is never returned as whole.
    package mutating func finish() throws -> SimulationData {
        if let missing = missingBatches.first {
            throw QCLabError.incompatibleData("batch \(missing + 1) has no result")
        }
        var result = start
        var sums = total
        sums.seeds = plan.seeds
        sums.job = job
        try result.add(sums, describedAs: "this run", mineAs: "the data continued")
        result.job = job
        if let eigensolver, eigensolver.redoesUncertifiedWithLAPACK, total.eigensolverCounts.solves > 0 {
            log.line(Self.eigensolverLine(eigensolver, total.eigensolverCounts))
        }
        result.log += log.finished()
        total = SimulationData()
        return result
    }
}

/// Runs `body` with OpenBLAS limited to `count` threads, restoring the previous count after.
///
/// Every driver runs its batches with one BLAS thread per process: parallel drivers run
/// one batch per process, and more threads would oversubscribe the cores (QC Lab's drivers
/// run slower than serial for this reason).
package func withLinearAlgebraThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
    let previous = Int(openblas_get_num_threads())
    setLinearAlgebraThreads(count)
    defer { setLinearAlgebraThreads(previous) }
    return try body()
}
