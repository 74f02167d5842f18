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

    public init(
        settings: SimulationSettings = SimulationSettings(), model: any Model, algorithm: any Algorithm,
        initialWavefunction: [Complex<Double>], outputs: [Output] = []
    ) {
        self.settings = settings
        self.model = model
        self.algorithm = algorithm
        self.initialWavefunction = initialWavefunction
        self.outputs = outputs
    }

    /// Every output the run collects: the algorithm's defaults, then ``outputs``.
    public var allOutputs: [Output] { algorithm.defaultOutputs(for: model) + outputs }

    /// The step plan the algorithm's batches use for this model (logged by the drivers).
    package func stepPlan() -> StepPlan? { (algorithm as? any StepPlanningAlgorithm)?.stepPlan(for: model) }

    /// The time grid that is run.
    public var timeGrid: TimeGrid { TimeGrid(settings) }

    /// A batch may need at most this much memory (16 GiB).
    package static let batchMemoryLimit = 16.0 * 1_073_741_824

    /// Memory one batch needs, roughly: about ten complex `N x N` matrices and ten complex
    /// coordinate vectors per trajectory.
    package var estimatedBatchBytes: Double {
        let n = Double(model.numQuantumStates), coordinates = Double(model.numClassicalCoordinates)
        return Double(settings.batchSize) * 16 * 10 * (n * n + coordinates)
    }

    /// Memory a run of `trajectories` new trajectories needs, added to data that already
    /// holds `existingSeeds`, roughly, part by part: the state of one batch, the outputs
    /// (every output's exact sums, `T x N x N` complex for `dm_db`: the run's running total,
    /// one batch's result and the result being written), the seed lists and the time grid.
    package func estimatedRunBytes(trajectories: Int, existingSeeds: Int = 0) -> (
        total: Double, parts: [(setting: String, what: String, bytes: Double)]
    ) {
        let n = Double(model.numQuantumStates), coordinates = Double(model.numClassicalCoordinates)
        let rows = Double(Swift.min(settings.batchSize, Swift.max(trajectories, 1)))
        let collectPoints = Double(
            TimeGrid.counts(settings).totalSteps / Swift.max(TimeGrid.counts(settings).stepsPerCollect, 1) + 1)
        let elements = outputElementsPerCollectPoint
        let parts: [(setting: String, what: String, bytes: Double)] = [
            // Ten complex N x N matrices and coordinate vectors per row, and the collector's
            // per-row values of every output.
            ("batch_size", "batch state", rows * 16 * (10 * (n * n + coordinates) + elements)),
            // Three copies of every output's exact sums (a batch's, the running total, the
            // result being written), and its means and errors when it is written.
            (
                "tmax", "outputs",
                collectPoints * elements * 8 * (3 * Double(OutputAccumulator.exactValuesPerElement) + 2)
            ),
            ("num_trajs", "seed list", 3 * 8 * Double(trajectories + existingSeeds)),
            ("tmax", "time grid", 2 * 8 * collectPoints),
        ]
        return (parts.reduce(0) { $0 + $1.bytes }, parts)
    }

    /// Real numbers per collect point over all the run's outputs (complex ones count twice).
    package var outputElementsPerCollectPoint: Double {
        Double(allOutputs.reduce(0) { $0 + $1.elementCount * ($1.isComplex ? 2 : 1) })
    }

    /// The least an output file of this run can take on disk.
    ///
    /// It counts the means and standard errors of its outputs and `trajectories` seeds, without
    /// HDF5's own overhead or the (compressed) exact sums. A lower bound, so that a check against
    /// it refuses nothing that fits.
    package func estimatedOutputBytes(trajectories: Int) -> Double {
        let counts = TimeGrid.counts(settings)
        let collectPoints = Double(counts.totalSteps / Swift.max(counts.stepsPerCollect, 1) + 1)
        return collectPoints * 8 * 2 * outputElementsPerCollectPoint + 8 * Double(trajectories)
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
                "batch_size",
                "of \(settings.batchSize) with \(model.modelName) (\(n) states, \(model.numClassicalCoordinates) coordinates) needs about \(ByteCount.describe(bytes)) per batch, more than the \(ByteCount.describe(Self.batchMemoryLimit)) allowed; use a smaller batch_size"
            )
        }
        let defaults = algorithm.defaultOutputs(for: model)
        var names = Set<String>()
        for output in defaults + outputs where !names.insert(output.name).inserted {
            throw QCLabError.invalidSetting(
                "outputs", "names '\(output.name)' twice (the algorithm collects it already)")
        }
        let keepsSurfaces = defaults.contains { $0.requirement == .activeSurfaces }
        if let output = outputs.first(where: { $0.requirement == .activeSurfaces }), !keepsSurfaces {
            throw QCLabError.invalidSetting(
                "outputs", "'\(output.name)' needs active surfaces, which \(algorithm.algorithmName) does not keep")
        }
        let branches = algorithm.branchCount(for: model)
        if branches > 1 && settings.batchSize % branches != 0 {
            throw QCLabError.invalidSetting(
                "batch_size",
                "must be a multiple of the \(branches) quantum states in deterministic surface hopping, got \(settings.batchSize)"
            )
        }
    }
}

extension Simulation {
    /// Runs one batch of trajectories with the given seeds.
    ///
    /// Throws ``QCLabError/nonFinite(output:time:seeds:)`` when an output came out NaN or
    /// infinite (an overflowing temperature, say): such a result is never merged or written.
    public func runBatch(seeds: [Int]) throws -> SimulationData {
        try TestFailure.check()
        let result = try algorithm.runBatch(
            model: model, grid: timeGrid, initialWavefunction: initialWavefunction,
            seeds: seeds, outputs: allOutputs)
        try Self.checkFinite(result, seeds: seeds)
        return result
    }

    /// Throws for the first output (in output order) whose mean is NaN or infinite,
    /// naming it, the first collect time at which it is not finite, and the seeds.
    package static func checkFinite(_ data: SimulationData, seeds: [Int]) throws {
        let times = data.times
        for observable in data.observables {
            if data.normFactor > 0 && observable.meansAreCertainlyFinite { continue }  // without computing the means
            guard let mean = data.mean(observable.name), let index = mean.firstIndex(where: { !$0.isFinite }) else {
                continue
            }
            let perTime = Swift.max(1, mean.count / Swift.max(observable.shape.first ?? 1, 1))
            let point = index / perTime
            throw QCLabError.nonFinite(
                output: observable.name, value: mean[index],
                time: point < times.count ? times[point] : nil, seeds: seeds)
        }
    }
}
