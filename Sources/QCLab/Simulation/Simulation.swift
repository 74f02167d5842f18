import Foundation

/// A simulation: settings, model, algorithm and initial state (QC Lab's `Simulation`).
public struct Simulation: Sendable {
    public var settings: SimulationSettings
    public var model: any Model
    public var algorithm: any Algorithm
    /// The initial diabatic wavefunction (`initial_state["wf_db"]`), used as given.
    public var initialWavefunction: [Complex]
    /// Outputs collected beside the algorithm's defaults (a job file's `"outputs"`).
    public var outputs: [Output]

    public init(settings: SimulationSettings = SimulationSettings(), model: any Model, algorithm: any Algorithm,
                initialWavefunction: [Complex], outputs: [Output] = []) {
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

    /// Checks that settings, model, algorithm and initial state fit together.
    public func validate() throws {
        try settings.validate()
        let n = model.numQuantumStates
        guard initialWavefunction.count == n else {
            throw QCLabError.invalidInitialState(
                "wf_db has \(initialWavefunction.count) entries, but \(model.modelName) has \(n) quantum states")
        }
        guard initialWavefunction.allSatisfy({ $0.re.isFinite && $0.im.isFinite }) else {
            throw QCLabError.invalidInitialState("wf_db has a non-finite entry")
        }
        let bytes = estimatedBatchBytes
        guard bytes < Self.batchMemoryLimit else {
            throw QCLabError.invalidSetting(
                "batch_size", String(format: "of %d with %@ (%d states, %d coordinates) needs about %.0f GiB per batch; use a smaller batch_size",
                                     settings.batchSize, model.modelName, n, model.numClassicalCoordinates, bytes / 1_073_741_824))
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
        let seeds: [Int]
        if let explicitSeeds {
            guard !explicitSeeds.isEmpty else { throw QCLabError.invalidSetting("seeds", "must not be empty") }
            if let bad = explicitSeeds.first(where: { $0 < 0 || $0 > Int(UInt32.max) }) {
                throw QCLabError.invalidSetting("seeds", "must lie in 0...4294967295, got \(bad)")
            }
            guard Set(explicitSeeds).count == explicitSeeds.count else {
                throw QCLabError.invalidSetting("seeds", "must not repeat a seed")
            }
            seeds = explicitSeeds
        } else {
            let start = data.nextSeed
            seeds = Array(start..<start + simulation.settings.numTrajs)
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
    public func runBatch(seeds: [Int]) throws -> SimulationData {
        try algorithm.runBatch(model: model, grid: timeGrid, initialWavefunction: initialWavefunction, seeds: seeds,
                               outputs: allOutputs)
    }
}
