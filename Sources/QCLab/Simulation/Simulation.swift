import Foundation
import Numerics

/// A simulation: settings, model, algorithm and initial state (QC Lab's `Simulation`).
public struct Simulation: Sendable {
    public var settings: SimulationSettings
    public var model: any Model
    public var algorithm: any Algorithm
    /// The initial diabatic wavefunction (`initial_state["wf_db"]`), used as given.
    public var initialWavefunction: [Complex<Double>]
    /// Outputs collected beside the algorithm's defaults (a job file's `"outputs"`).
    public var outputs: [Output]

    public init(settings: SimulationSettings = SimulationSettings(), model: any Model, algorithm: any Algorithm,
                initialWavefunction: [Complex<Double>], outputs: [Output] = []) {
        self.settings = settings
        self.model = model
        self.algorithm = algorithm
        self.initialWavefunction = initialWavefunction
        self.outputs = outputs
    }

    /// Every output the run collects: the algorithm's defaults, then ``outputs``.
    public var allOutputs: [Output] { algorithm.defaultOutputs(for: model) + outputs }

    /// The step plan the algorithm's batches use for this model (logged by the drivers).
    public func stepPlan() -> StepPlan? { algorithm.stepPlan(for: model) }

    /// The time grid that is run.
    public var timeGrid: TimeGrid { TimeGrid(settings) }

    /// A batch may need at most this much memory (16 GiB).
    public static let batchMemoryLimit = 16.0 * 1_073_741_824

    /// Memory one batch needs, roughly: about ten complex `N x N` matrices and ten complex
    /// coordinate vectors per trajectory.
    public var estimatedBatchBytes: Double {
        let n = Double(model.numQuantumStates), coordinates = Double(model.numClassicalCoordinates)
        return Double(settings.batchSize) * 16 * 10 * (n * n + coordinates)
    }

    /// Memory a run of `trajectories` new trajectories needs, added to data that already
    /// holds `existingSeeds`, roughly, part by part: the state of one batch, the outputs
    /// (every output's exact sums, `T x N x N` complex for `dm_db`: the run's running total,
    /// one batch's result and the result being written), the seed lists and the time grid.
    public func estimatedRunBytes(trajectories: Int, existingSeeds: Int = 0) -> (total: Double, parts: [(setting: String, what: String, bytes: Double)]) {
        let n = Double(model.numQuantumStates), coordinates = Double(model.numClassicalCoordinates)
        let rows = Double(Swift.min(settings.batchSize, Swift.max(trajectories, 1)))
        let collectPoints = Double(TimeGrid.counts(settings).totalSteps / Swift.max(TimeGrid.counts(settings).stepsPerCollect, 1) + 1)
        let elements = outputElementsPerCollectPoint
        let parts: [(setting: String, what: String, bytes: Double)] = [
            // Ten complex N x N matrices and coordinate vectors per row, and the collector's
            // per-row values of every output.
            ("batch_size", "batch state", rows * 16 * (10 * (n * n + coordinates) + elements)),
            // Three copies of every output's exact sums (a batch's, the running total, the
            // result being written), and its means and errors when it is written.
            ("tmax", "outputs", collectPoints * elements * 8 * (3 * Double(OutputAccumulator.exactValuesPerElement) + 2)),
            ("num_trajs", "seed list", 3 * 8 * Double(trajectories + existingSeeds)),
            ("tmax", "time grid", 2 * 8 * collectPoints),
        ]
        return (parts.reduce(0) { $0 + $1.bytes }, parts)
    }

    /// Real numbers per collect point over all the run's outputs (complex ones count twice).
    var outputElementsPerCollectPoint: Double {
        Double(allOutputs.reduce(0) { $0 + $1.elementCount * ($1.isComplex ? 2 : 1) })
    }

    /// The least an output file of this run can take on disk: the means and standard
    /// errors of its outputs and `trajectories` seeds, without HDF5's own overhead or the
    /// (compressed) exact sums. A lower bound, so that a check against it refuses nothing that fits.
    public func estimatedOutputBytes(trajectories: Int) -> Double {
        let counts = TimeGrid.counts(settings)
        let collectPoints = Double(counts.totalSteps / Swift.max(counts.stepsPerCollect, 1) + 1)
        return collectPoints * 8 * 2 * outputElementsPerCollectPoint + 8 * Double(trajectories)
    }

    /// Throws unless a run of `trajectories` new trajectories fits in the memory this
    /// process may still use (``SystemMemory/available()``); the message gives both
    /// numbers and names the setting behind the largest part.
    public func checkMemory(trajectories: Int, existingSeeds: Int = 0) throws {
        guard let (available, limit) = SystemMemory.availability() else { return }
        let (needed, parts) = estimatedRunBytes(trajectories: trajectories, existingSeeds: existingSeeds)
        guard needed > available else { return }
        let largest = parts.max { $0.bytes < $1.bytes }!
        let detail = parts.filter { $0.bytes >= 0.01 * needed }
            .map { "\($0.what) \(ByteCount.describe($0.bytes))" }.joined(separator: ", ")
        throw QCLabError.invalidSetting(
            largest.setting, "makes the run need about \(ByteCount.describe(needed)) of memory (\(detail)), but only \(ByteCount.describe(available)) is available"
            + (limit.map { " (\($0))" } ?? ""))
    }

    /// Checks that settings, model, algorithm and initial state fit together.
    public func validate() throws {
        try settings.validate()
        let n = model.numQuantumStates
        guard initialWavefunction.count == n else {
            throw QCLabError.invalidInitialState(
                "wf_db has \(initialWavefunction.count) entries, but \(model.modelName) has \(n) quantum states")
        }
        guard initialWavefunction.allSatisfy({ $0.isFinite }) else {
            throw QCLabError.invalidInitialState("wf_db has a non-finite entry")
        }
        guard initialWavefunction.contains(where: { $0.real != 0 || $0.imaginary != 0 }) else {
            throw QCLabError.invalidInitialState("wf_db is zero: there is no initial state to propagate")
        }
        let bytes = estimatedBatchBytes
        guard bytes < Self.batchMemoryLimit else {
            throw QCLabError.invalidSetting(
                "batch_size", "of \(settings.batchSize) with \(model.modelName) (\(n) states, \(model.numClassicalCoordinates) coordinates) needs about \(ByteCount.describe(bytes)) per batch, more than the \(ByteCount.describe(Self.batchMemoryLimit)) allowed; use a smaller batch_size")
        }
        let defaults = algorithm.defaultOutputs(for: model)
        var names = Set<String>()
        for output in defaults + outputs where !names.insert(output.name).inserted {
            throw QCLabError.invalidSetting("outputs", "names '\(output.name)' twice (the algorithm collects it already)")
        }
        let keepsSurfaces = defaults.contains { $0.requirement == .activeSurfaces }
        if let output = outputs.first(where: { $0.requirement == .activeSurfaces }), !keepsSurfaces {
            throw QCLabError.invalidSetting("outputs", "'\(output.name)' needs active surfaces, which \(algorithm.algorithmName) does not keep")
        }
        let branches = algorithm.branchCount(for: model)
        if branches > 1 && settings.batchSize % branches != 0 {
            throw QCLabError.invalidSetting(
                "batch_size", "must be a multiple of the \(branches) quantum states in deterministic surface hopping, got \(settings.batchSize)")
        }
    }
}

/// Which seeds run, cut into batches: the rules all drivers share.
///
/// Without explicit seeds, the seeds are `0 ..< num_trajs`, or continue after the largest
/// seed of the data being added to; explicit seeds set `num_trajs`. Batches hold
/// `batch_size` seeds in order, the last one fewer. In deterministic surface hopping every
/// batch holds whole branch groups.
public struct RunPlan: Sendable, Equatable {
    /// Every seed of the run, in order.
    public let seeds: [Int]
    /// The batches, as index ranges into `seeds`.
    public let batches: [Range<Int>]

    public init(simulation: Simulation, seeds explicitSeeds: [Int]? = nil, continuing data: SimulationData = SimulationData()) throws {
        try simulation.validate()
        if !data.isEmpty, let difference = JobRecord.difference(data.job, simulation.jobRecord) {
            throw QCLabError.incompatibleData(
                "different jobs: \(difference.path) is \(difference.mine) in the data continued but \(difference.theirs) in this job")
        }
        // Data that records no job (QC Lab's) is checked on what it holds: its time grid.
        if !data.isEmpty && data.job == nil {
            let grid = simulation.timeGrid.collectTimes, times = data.times
            guard times.count == grid.count, zip(times, grid).allSatisfy({ abs($0 - $1) <= 1e-9 * Swift.max(1, abs($1)) }) else {
                throw QCLabError.incompatibleData(
                    "time grids differ: the data continued has \(SimulationData.describeTimeGrid(times)), this job \(SimulationData.describeTimeGrid(grid))")
            }
        }
        let seeds: [Int]
        if let explicitSeeds {
            guard !explicitSeeds.isEmpty else { throw QCLabError.invalidSetting("seeds", "must not be empty") }
            if let bad = explicitSeeds.first(where: { $0 < 0 || $0 > Int(UInt32.max) }) {
                throw QCLabError.invalidSetting("seeds", "must lie in 0...4294967295, got \(bad)")
            }
            guard Set(explicitSeeds).count == explicitSeeds.count else {
                throw QCLabError.invalidSetting("seeds", "must not repeat a seed")
            }
            try simulation.checkMemory(trajectories: explicitSeeds.count, existingSeeds: data.seeds.count)
            seeds = explicitSeeds
        } else {
            let start = data.nextSeed, count = simulation.settings.numTrajs
            // Seeds are 32-bit (QC Lab seeds NumPy's legacy generator with them).
            guard start <= Int(UInt32.max) + 1 - count else {
                throw QCLabError.invalidSetting(
                    "num_trajs", "of \(count) continuing after seed \(start - 1) would need seeds up to \(start + count - 1), beyond the largest seed 4294967295; give explicit 'seeds'")
            }
            try simulation.checkMemory(trajectories: count, existingSeeds: data.seeds.count)
            seeds = Array(start..<start + count)
        }
        if let overlap = seeds.first(where: Set(data.seeds).contains) {
            throw QCLabError.invalidSetting("seeds", "seed \(overlap) is already in the data being continued")
        }
        let branches = simulation.algorithm.branchCount(for: simulation.model)
        guard seeds.count % branches == 0 else {
            throw QCLabError.invalidSetting(
                "num_trajs", "must be a multiple of the \(branches) quantum states in deterministic surface hopping, got \(seeds.count)")
        }
        self.seeds = seeds
        let size = simulation.settings.batchSize
        batches = stride(from: 0, to: seeds.count, by: size).map { $0..<min($0 + size, seeds.count) }
    }

    /// The seeds of batch `index`.
    public func seeds(ofBatch index: Int) -> [Int] { Array(seeds[batches[index]]) }
}

extension Simulation {
    /// Runs one batch of trajectories with the given seeds.
    ///
    /// Throws ``QCLabError/nonFinite(output:time:seeds:)`` when an output came out NaN or
    /// infinite (an overflowing temperature, say): such a result is never merged or written.
    public func runBatch(seeds: [Int]) throws -> SimulationData {
        let result = try algorithm.runBatch(model: model, grid: timeGrid, initialWavefunction: initialWavefunction,
                                            seeds: seeds, outputs: allOutputs)
        try Self.checkFinite(result, seeds: seeds)
        return result
    }

    /// Throws for the first output (in output order) whose mean is NaN or infinite,
    /// naming it, the first collect time at which it is not finite, and the seeds.
    static func checkFinite(_ data: SimulationData, seeds: [Int]) throws {
        let times = data.times
        for observable in data.observables {
            if data.normFactor > 0 && observable.meansAreCertainlyFinite { continue }  // without computing the means
            guard let mean = data.mean(observable.name), let index = mean.firstIndex(where: { !$0.isFinite }) else { continue }
            let perTime = Swift.max(1, mean.count / Swift.max(observable.shape.first ?? 1, 1))
            let point = index / perTime
            throw QCLabError.nonFinite(output: observable.name, value: mean[index],
                                       time: point < times.count ? times[point] : nil, seeds: seeds)
        }
    }
}
