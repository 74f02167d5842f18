import Logging

/// Runs a simulation's trajectories batch by batch in this process and merges them into
/// `data` (QC Lab's `serial_driver`).
///
/// - Parameters:
///   - seeds: explicit trajectory seeds; they set `num_trajs`. Without them, seeds are
///     `0 ..< num_trajs`, or continue after the largest seed already in `data`.
///   - data: results to add the new trajectories to.
///   - progress: called after each batch with the number of trajectories done so far.
/// - Returns: `data` with the new trajectories merged in, batch by batch in seed order.
public func serialDriver(_ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
                         progress: ((Int, Int) -> Void)? = nil) throws -> SimulationData {
    let plan = try RunPlan(simulation: simulation, seeds: seeds, continuing: data)
    var log = RunLog(simulation: simulation, plan: plan, driver: "serial", tasks: 1)
    var result = data
    var done = 0
    // One BLAS thread while the batches run: the matrices are small, and BLAS threads
    // would only spin and compete.
    try withLinearAlgebraThreads(1) {
        for index in plan.batches.indices {
            let batchSeeds = plan.seeds(ofBatch: index)
            log.batchStarted(index, seeds: batchSeeds)
            try result.add(simulation.runBatch(seeds: batchSeeds))
            done += batchSeeds.count
            progress?(done, plan.seeds.count)
        }
    }
    result.log += log.finished()
    return result
}

/// The log a run leaves in its ``SimulationData`` (the HDF5 file's `log` attribute), mirrored to
/// swift-log.
struct RunLog {
    private var text = ""

    init(simulation: Simulation, plan: RunPlan, driver: String, tasks: Int) {
        let grid = simulation.timeGrid
        line("QCLab for Swift: \(simulation.algorithm.algorithmName) on \(simulation.model.modelName), \(driver) driver, \(tasks) task(s).")
        line("Time grid: tmax=\(grid.tmax), dt_update=\(grid.dtUpdate), dt_collect=\(grid.dtCollect), \(grid.collectCount) collect points.")
        if let stepPlan = simulation.stepPlan() {
            line("Step plan: \(stepPlan).")
        }
        line("Running \(plan.batches.count) batches of up to \(simulation.settings.batchSize) seeds (\(SeedList.describe(plan.seeds))).")
    }

    /// Adds a line to the log; it goes to swift-log at `level` (per-batch lines at
    /// `.debug`, so that a program that leaves swift-log at its default sees only the run).
    mutating func line(_ message: String, level: Logger.Level = .info) {
        text += message + "\n"
        qclabLogger.log(level: level, "\(message)")
    }

    mutating func batchStarted(_ index: Int, seeds: [Int]) {
        line("Running batch \(index + 1) with seeds \(SeedList.describe(seeds)).", level: .debug)
    }

    mutating func finished() -> String {
        line("Simulation complete.")
        return text
    }
}
