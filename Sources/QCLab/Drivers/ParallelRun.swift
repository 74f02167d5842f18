import COpenBLAS

/// The bookkeeping every parallel driver shares: the run plan, the log, one result slot
/// per batch, and the merge that makes a parallel run bit-identical to a serial one.
///
/// Batch results arrive in any order; ``finish()`` adds them to the starting data in
/// batch (seed) order, exactly as ``serialDriver(_:seeds:data:progress:)`` does, so the
/// sums, and with them every mean, come out the same to the bit. Drivers in other modules
/// (the MPI driver) use it too, which is why it is public.
public struct ParallelRun {
    /// Which seeds run, in which batches.
    public let plan: RunPlan
    /// How many trajectories have come back so far.
    public private(set) var trajectoriesDone = 0
    private let start: SimulationData
    private var slots: [SimulationData?]
    private var log: RunLog

    /// Starts a run of `plan` (made with the same `data`) that adds to `data`, and starts
    /// its log with the driver's name and task count.
    public init(simulation: Simulation, plan: RunPlan, data: SimulationData, driver: String, tasks: Int) {
        self.plan = plan
        start = data
        slots = Array(repeating: nil, count: plan.batches.count)
        log = RunLog(simulation: simulation, plan: plan, driver: driver, tasks: tasks)
    }

    /// Adds a line to the run's log (and to swift-log).
    public mutating func note(_ message: String) { log.line(message) }

    /// Whether batch `index` has a result.
    public func hasResult(_ index: Int) -> Bool { slots[index] != nil }

    /// Indices of the batches that have no result yet, in order.
    public var missingBatches: [Int] { slots.indices.filter { slots[$0] == nil } }

    /// Seeds of the batches that have no result yet, in seed order.
    public var missingSeeds: [Int] { missingBatches.flatMap { plan.seeds(ofBatch: $0) } }

    /// Stores the result of batch `index`, checking that it holds exactly that batch's seeds.
    public mutating func store(_ result: SimulationData, forBatch index: Int) throws {
        guard plan.batches.indices.contains(index), slots[index] == nil else {
            throw QCLabError.incompatibleData("unexpected result for batch \(index + 1)")
        }
        guard result.seeds == plan.seeds(ofBatch: index) else {
            throw QCLabError.incompatibleData(
                "result for batch \(index + 1) holds seeds \(SeedList.describe(result.seeds)), expected \(SeedList.describe(plan.seeds(ofBatch: index)))")
        }
        slots[index] = result
        trajectoriesDone += result.seeds.count
    }

    /// Merges every batch into the starting data in batch order and closes the log.
    /// Throws if a batch is missing: a partial result is never returned as whole.
    public mutating func finish() throws -> SimulationData {
        if let missing = missingBatches.first {
            throw QCLabError.incompatibleData("batch \(missing + 1) has no result")
        }
        var result = start
        for index in slots.indices {
            try result.add(slots[index]!)
            slots[index] = nil
        }
        result.log += log.finished()
        return result
    }
}

/// Runs `body` with OpenBLAS limited to `count` threads, restoring the previous count after.
///
/// Parallel drivers run one batch per process, so each process uses one BLAS thread;
/// more would oversubscribe the cores (QC Lab's drivers run slower than serial for this reason).
public func withLinearAlgebraThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
    let previous = Int(openblas_get_num_threads())
    setLinearAlgebraThreads(count)
    defer { setLinearAlgebraThreads(previous) }
    return try body()
}
