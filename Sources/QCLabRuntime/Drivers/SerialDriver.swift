import QCLabCore
import QCLabSystem
import QCLabIO
import Logging

/// Runs a simulation's trajectories batch by batch in this process and merges them into
/// `data` (QC Lab's `serial_driver`), with one BLAS thread: ``SerialDriver``.
///
/// - Parameters:
///   - seeds: explicit trajectory seeds; they set `num_trajs`. Without them, seeds are
///     `0 ..< num_trajs`, or continue after the largest seed already in `data`.
///   - data: results to add the new trajectories to.
///   - checkpoint: where to keep the run's progress; a checkpoint that exists is resumed
///     (only its missing batches run; the result is the same bits). A stop asked for by
///     a signal (`StopRequest`) ends the run after the batch in flight, with a last
///     checkpoint, by throwing ``RunStopped``; or at the batch's next collect point, if
///     `StopRequest.withinBatch` is set.
///   - progress: called with the number of trajectories done so far and the total, as
///     the count grows: after each batch, and within a batch at its collect points (a
///     batch's trajectories count in proportion to the collect points it has passed,
///     rounded down). Counts only grow, and the same count is not reported twice.
/// - Returns: `data` with the new trajectories merged in, batch by batch in seed order.
public func serialDriver(
    _ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
    checkpoint: Checkpointing? = nil, progress: ((Int, Int) -> Void)? = nil
) throws -> SimulationData {
    // The serial driver always holds the result.
    try SerialDriver().run(simulation, seeds: seeds, data: data, checkpoint: checkpoint, progress: progress)!
}

/// The log line for a batch that starts.
package func batchLine(_ index: Int, seeds: [Int]) -> String {
    "Running batch \(index + 1) with seeds \(SeedList.describe(seeds))."
}

/// The log a run leaves in its ``SimulationData`` (the HDF5 file's `log` attribute), mirrored to
/// swift-log.
package struct RunLog {
    package private(set) var text = ""
    /// Where the lines about each batch are in `text`: batch index, then the line's UTF-8 offsets.
    private var batchLines: [(batch: Int, range: Range<Int>)] = []

    /// A log that carries on from `text` (a resumed run's).
    package init(resuming text: String) { self.text = text }

    package init(simulation: Simulation, plan: RunPlan, driver: String, tasks: Int) {
        let grid = simulation.timeGrid
        line(
            "QCLab for Swift: \(simulation.algorithm.algorithmName) on \(simulation.model.modelName), \(driver) driver, \(tasks) task(s)."
        )
        line(
            "Time grid: tmax=\(grid.tmax), dt_update=\(grid.dtUpdate), dt_collect=\(grid.dtCollect), \(grid.collectCount) collect points."
        )
        for warning in simulation.warnings { line("Warning: " + warning, level: .warning) }
        if let stepPlan = simulation.stepPlan() {
            line("Step plan: \(stepPlan).")
        }
        line(
            "Running \(plan.batches.count) batches of up to \(simulation.settings.batchSize) seeds (\(SeedList.describe(plan.seeds)))."
        )
    }

    /// Adds a line to the log; it goes to swift-log at `level` (per-batch lines at
    /// `.debug`, so that a program that leaves swift-log at its default sees only the run).
    package mutating func line(_ message: String, level: Logger.Level = .info, batch: Int? = nil) {
        let start = text.utf8.count
        text += message + "\n"
        if let batch { batchLines.append((batch, start..<text.utf8.count)) }
        qclabLogger.log(level: level, "\(message)")
    }

    /// The log without the lines of batches that are not done (`done[batch]` false): what
    /// a checkpoint keeps, since a resumed run runs those batches, and logs them, again.
    package func text(withBatchesDone done: [Bool]) -> String {
        var kept = Array(text.utf8)
        for line in batchLines.reversed() where !done[line.batch] { kept.removeSubrange(line.range) }
        return String(decoding: kept, as: UTF8.self)
    }

    package mutating func finished() -> String {
        line("Simulation complete.")
        return text
    }
}
