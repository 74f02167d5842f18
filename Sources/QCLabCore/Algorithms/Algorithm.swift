import Numerics

/// A dynamics algorithm: QC Lab's `Algorithm` with its initialization, update and
/// collect recipes, run on one batch of trajectories at a time.
///
/// An algorithm declares the outputs it collects by default (QC Lab's collect recipe) and
/// collects whatever outputs the run asks for through an ``OutputCollector``; the pieces
/// the built-in ones are made of (``AdiabaticFrame``, ``ClassicalRK4``,
/// ``LegacyRandomStreams``, ``StepPlan``) are public, and ``AlgorithmRegistry`` makes an
/// algorithm usable from job files.
public protocol Algorithm: Sendable {
    /// QC Lab's class name, such as `MeanField`.
    var algorithmName: String { get }
    /// Trajectories (rows of a batch) that share one set of initial conditions: 1, or
    /// the number of states in deterministic surface hopping.
    func branchCount(for model: any Model) -> Int
    /// The outputs QC Lab's collect recipe gives (for mean field and surface hopping: `t`,
    /// `dm_db`, `quantum_energy`, `classical_energy`). Default: `t` alone.
    func defaultOutputs(for model: any Model) -> [Output]
    /// Runs the trajectories of `seeds` as one batch and returns the sums of `outputs`
    /// (the default outputs and the simulation's own, in that order), collected with an
    /// ``OutputCollector``.
    ///
    /// An algorithm implements this, or only ``runBatch(model:grid:initialWavefunction:seeds:)``
    /// if it collects nothing but its defaults.
    func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData
    /// Runs the trajectories of `seeds` as one batch with the default outputs.
    func runBatch(model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int]) throws
        -> SimulationData
}

extension Algorithm {
    public func defaultOutputs(for model: any Model) -> [Output] { [.time] }

    public func runBatch(model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int]) throws
        -> SimulationData
    {
        try runBatch(
            model: model, grid: grid, initialWavefunction: initialWavefunction, seeds: seeds,
            outputs: defaultOutputs(for: model))
    }

    /// For algorithms that implement only the default outputs' `runBatch`: runs it, and
    /// throws if `outputs` asks for more.
    public func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData {
        let defaults = defaultOutputs(for: model).map(\.name)
        let extra = outputs.map(\.name).filter { !defaults.contains($0) }
        guard extra.isEmpty else {
            throw QCLabError.invalidSetting(
                "outputs", "\(algorithmName) collects only its own outputs, not \(extra.joined(separator: ", "))")
        }
        return try runBatch(model: model, grid: grid, initialWavefunction: initialWavefunction, seeds: seeds)
    }
}

/// A built-in algorithm whose batches follow a ``StepPlan`` chosen per model.
package protocol StepPlanningAlgorithm: Algorithm {
    /// The step plan its batches use for `model`, or `nil` when it has none.
    func stepPlan(for model: any Model) -> StepPlan?
}

/// QC Lab's algorithm classes by name, for job files, and the algorithms a program registers.
public enum AlgorithmRegistry {
    /// Makes an algorithm from its job-file `settings` (QC Lab's names); throws
    /// ``QCLabError`` for an unknown or bad setting.
    public typealias Factory = @Sendable (_ settings: [String: JSONValue]) throws -> any Algorithm

    /// QC Lab's algorithms, in the order job files, the catalog and docs/Reference.md list them.
    package static var builtIns: [any DeclaredAlgorithm.Type] {
        [MeanField.self, FewestSwitchesSurfaceHopping.self, MultiStateMappingApproachToSurfaceHopping.self]
    }

    private static let registry = Registry<Factory>(
        kind: "algorithm", aliases: NameMatching.algorithmAliases, builtIns.map { ($0.jobName, $0.factory) })

    /// The names a job file may use: QC Lab's algorithms, then the registered ones.
    public static var names: [String] { registry.names }

    /// QC Lab's algorithms, the ones the library provides (whatever a program registers).
    public static var builtInNames: [String] { registry.builtInNames }

    /// Registers an algorithm under `name`, so that job files can use it; replaces an
    /// earlier registration of that name.
    public static func register(_ name: String, _ factory: @escaping Factory) { registry.register(name, factory) }

    /// The algorithm called `name` with job-file `settings`.
    ///
    /// Names match ignoring case and `_`, `-`, spaces and dots, and common aliases (`mf`, `mft`,
    /// `fssh`, `msmash`) stand for QC Lab's names (``canonicalName(_:)``).
    public static func make(name: String, settings: [String: JSONValue] = [:]) throws -> any Algorithm {
        try registry.lookup(name).factory(settings)
    }

    /// The registered name that `name` stands for: `"FewestSwitchesSurfaceHopping"` for
    /// `"fssh"` or `"fewest_switches_surface_hopping"`; throws
    /// ``QCLabError/unknownName(kind:name:known:)``, whose message names the closest names.
    public static func canonicalName(_ name: String) throws -> String { try registry.canonicalName(name) }

    /// The aliases job files may use for algorithm `name` (`fssh` for `FewestSwitchesSurfaceHopping`).
    public static func aliases(of name: String) -> [String] {
        NameMatching.algorithmAliasList.filter { $0.name == name }.map(\.alias)
    }
}
