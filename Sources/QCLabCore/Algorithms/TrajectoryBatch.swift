/// A batch of trajectories that an algorithm sets up and advances: what the one time loop
/// of every algorithm, ``runTimeLoop(batch:grid:outputs:seeds:branches:)``, asks of it.
///
/// Mean field (``MeanFieldBatch``), FSSH (``SurfaceHoppingBatch``) and MSMASH batches
/// conform, and so can an algorithm written outside the library: its `runBatch` sets up
/// its batch (QC Lab's initialization recipe) and hands it to the loop.
public protocol TrajectoryBatch {
    /// One update step of `dt` (QC Lab's update recipe).
    mutating func step(dt: Double) throws
    /// One update step of `dt`, saying whether a collect point follows it: a batch may then
    /// leave what only ``collectState(time:)`` reads unwritten until it is needed (the
    /// default is ``step(dt:)``, which writes everything).
    mutating func step(dt: Double, collectsAfter: Bool) throws
    /// The state outputs see at a collect point at `time` (what QC Lab's collect recipe reads).
    func collectState(time: Double) -> CollectState
}

extension TrajectoryBatch {
    public mutating func step(dt: Double, collectsAfter: Bool) throws { try step(dt: dt) }
}

/// QC Lab's time loop over one batch: collects `outputs` at every collect point of `grid`
/// (the first before any step) and steps the batch in between; returns the sums of the
/// `seeds.count` rows, in independent groups of `branches` (see ``OutputCollector``).
@inlinable
public func runTimeLoop<Batch: TrajectoryBatch>(
    batch: inout Batch, grid: TimeGrid, outputs: [Output], seeds: [Int],
    branches: Int = 1
) throws -> SimulationData {
    var collector = OutputCollector(outputs: outputs, grid: grid, rows: seeds.count, branches: branches)
    for step in 0...grid.totalSteps {
        if step % grid.stepsPerCollect == 0 {
            try collector.collect(
                batch.collectState(time: Double(step) * grid.dtUpdate), index: step / grid.stepsPerCollect)
        }
        if step < grid.totalSteps {
            try batch.step(dt: grid.dtUpdate, collectsAfter: (step + 1) % grid.stepsPerCollect == 0)
        }
    }
    return collector.data(seeds: seeds)
}
