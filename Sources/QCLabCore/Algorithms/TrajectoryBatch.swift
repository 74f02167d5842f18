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
    /// `count` update steps of `dt` with no collect point between them, `collectsAfter`
    /// saying whether one follows the last: a batch may advance them in any order that
    /// gives each trajectory the same steps, such as tile by tile (the default steps the
    /// whole batch `count` times).
    mutating func steps(_ count: Int, dt: Double, collectsAfter: Bool) throws
    /// The state outputs see at a collect point at `time` (what QC Lab's collect recipe reads).
    func collectState(time: Double) -> CollectState
}

extension TrajectoryBatch {
    public mutating func step(dt: Double, collectsAfter: Bool) throws { try step(dt: dt) }

    public mutating func steps(_ count: Int, dt: Double, collectsAfter: Bool) throws {
        for index in 0..<count { try step(dt: dt, collectsAfter: collectsAfter && index == count - 1) }
    }
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
    for step in stride(from: 0, through: grid.totalSteps, by: grid.stepsPerCollect) {
        try collector.collect(
            batch.collectState(time: Double(step) * grid.dtUpdate), index: step / grid.stepsPerCollect)
        let count = min(grid.stepsPerCollect, grid.totalSteps - step)
        if count > 0 {
            try batch.steps(count, dt: grid.dtUpdate, collectsAfter: (step + count) % grid.stepsPerCollect == 0)
        }
    }
    return collector.data(seeds: seeds)
}
