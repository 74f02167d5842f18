import QCLabCore
import QCLabSystem
import QCLabIO

/// A way to run a simulation's trajectories: in this process (``SerialDriver``), in
/// forked worker processes (``MultiprocessingDriver``) or over the ranks of an MPI job
/// (`MPIDriver` in QCLabMPI).
///
/// Every driver runs the same batches of the same ``RunPlan`` and folds their results
/// with exact sums through one `ParallelRun`, so each returns the same bits. A driver
/// holds no physics: it hands out batches, moves their results (as `DriverMessage`s
/// between processes), keeps the checkpoint and reports progress.
package protocol Driver {
    /// Runs the trajectories of `simulation` with `seeds` (nil: the simulation's own, or
    /// continuing after those in `data`) and returns `data` with them merged in, in seed
    /// order; nil on a process that does not hold the result (an MPI rank other than 0).
    ///
    /// - Parameters:
    ///   - checkpoint: where to keep the run's progress; a checkpoint that exists is
    ///     resumed (only its missing batches run; the result is the same bits).
    ///   - progress: called with the trajectories done so far and the total, as the
    ///     count grows (never the same count twice).
    func run(
        _ simulation: Simulation, seeds: [Int]?, data: SimulationData, checkpoint: Checkpointing?,
        progress: ((Int, Int) -> Void)?
    ) throws -> SimulationData?

    /// Runs `plan`, made from `simulation` and `data` (which validated both): what
    /// ``run(_:seeds:data:checkpoint:progress:)`` does once it has made the plan.
    func run(
        _ simulation: Simulation, plan: RunPlan, data: SimulationData, checkpoint: Checkpointing?,
        progress: ((Int, Int) -> Void)?
    ) throws -> SimulationData?
}

extension Driver {
    package func run(
        _ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
        checkpoint: Checkpointing? = nil, progress: ((Int, Int) -> Void)? = nil
    ) throws -> SimulationData? {
        let plan = try RunPlan(simulation: simulation, seeds: seeds, continuing: data)
        return try run(simulation, plan: plan, data: data, checkpoint: checkpoint, progress: progress)
    }
}

/// Runs the batches one after another in this process (QC Lab's `serial_driver`), with
/// one BLAS thread.
///
/// A stop asked for by a signal (`StopRequest`) ends the run after the batch in
/// flight, with a last checkpoint, by throwing ``RunStopped``; or at the batch's next
/// collect point, if `StopRequest.withinBatch` is set. Progress comes after each batch
/// and within a batch at its collect points (a batch's trajectories count in proportion
/// to the collect points it has passed, rounded down).
package struct SerialDriver: Driver {
    package init() {}

    package func run(
        _ simulation: Simulation, plan: RunPlan, data: SimulationData, checkpoint: Checkpointing?,
        progress: ((Int, Int) -> Void)?
    ) throws -> SimulationData? {
        var run = try ParallelRun(
            simulation: simulation, plan: plan, data: data, driver: "serial", tasks: 1, checkpoint: checkpoint)
        var reported = -1
        func report(_ done: Int) {
            guard done > reported else { return }
            reported = done
            progress?(done, plan.seeds.count)
        }
        try withLinearAlgebraThreads(1) {
            for index in run.missingBatches {
                let batchSeeds = plan.seeds(ofBatch: index)
                run.note(batchLine(index, seeds: batchSeeds), forBatch: index, level: .debug)
                let before = run.trajectoriesDone
                let stopsWithin = StopRequest.withinBatch
                let watch: ((Int, Int) -> Void)? =
                    progress == nil && stopsWithin == nil
                    ? nil
                    : { [run] collected, total in
                        report(
                            before
                                + BatchProgress.trajectories(of: batchSeeds.count, collected: collected, total: total))
                        if let stopsWithin, StopRequest.signal != nil, let stopped = try? run.stopping() {
                            stopsWithin(stopped)
                        }
                    }
                let result = try BatchProgress.reporting(watch) {
                    try simulation.runBatch(seeds: batchSeeds)
                }
                try run.store(result, forBatch: index)
                try run.checkpointIfDue()
                report(run.trajectoriesDone)
                try run.stopIfAsked()
            }
        }
        return try run.finish()
    }
}
