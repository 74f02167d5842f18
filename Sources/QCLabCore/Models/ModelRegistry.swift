/// QC Lab's model classes by name, for job files, and the models a program registers.
///
/// A program that imports the library can make its own model usable from job files:
/// ```swift
/// ModelRegistry.register("ThreeStateCrossing") { constants, distribution in
///     try ThreeStateCrossing(constants: constants)
/// }
/// let job = try Job(contentsOf: "three-state.json")   // "model": {"name": "ThreeStateCrossing", ...}
/// ```
public enum ModelRegistry {
    /// Makes a model from QC Lab-named constants and an optional initial distribution
    /// (`model.init_classical`); throws ``QCLabError`` for a bad constant.
    public typealias Factory =
        @Sendable (
            _ constants: [String: ParameterValue],
            _ initialDistribution: InitialClassicalDistribution?
        ) throws -> any Model

    private static let registry = Registry<Factory>(
        kind: "model", aliases: NameMatching.modelAliases,
        [
            (
                "SpinBoson",
                { c, d in
                    try SpinBoson(
                        constants: ModelConstants(model: "SpinBoson", c), initialDistribution: harmonic("SpinBoson", d)
                    )
                }
            ),
            (
                "HolsteinLattice",
                { c, d in
                    try HolsteinLattice(
                        constants: ModelConstants(model: "HolsteinLattice", c),
                        initialDistribution: harmonic("HolsteinLattice", d))
                }
            ),
            (
                "HolsteinLatticeReciprocalSpace",
                { c, d in
                    try HolsteinLatticeReciprocalSpace(
                        constants: ModelConstants(model: "HolsteinLatticeReciprocalSpace", c),
                        initialDistribution: harmonic("HolsteinLatticeReciprocalSpace", d))
                }
            ),
            (
                "FMOComplex",
                { c, d in
                    try FMOComplex(
                        constants: ModelConstants(model: "FMOComplex", c),
                        initialDistribution: harmonic("FMOComplex", d))
                }
            ),
            (
                "TullyProblemOne",
                { c, d in
                    try scattering("TullyProblemOne", d);
                    return try TullyProblemOne(constants: ModelConstants(model: "TullyProblemOne", c))
                }
            ),
            (
                "TullyProblemTwo",
                { c, d in
                    try scattering("TullyProblemTwo", d);
                    return try TullyProblemTwo(constants: ModelConstants(model: "TullyProblemTwo", c))
                }
            ),
            (
                "TullyProblemThree",
                { c, d in
                    try scattering("TullyProblemThree", d);
                    return try TullyProblemThree(constants: ModelConstants(model: "TullyProblemThree", c))
                }
            ),
            (
                "ComplexAvoidedCrossingA",
                { c, d in
                    try coherent("ComplexAvoidedCrossingA", d);
                    return try ComplexAvoidedCrossingA(constants: ModelConstants(model: "ComplexAvoidedCrossingA", c))
                }
            ),
            (
                "ComplexAvoidedCrossingB",
                { c, d in
                    try coherent("ComplexAvoidedCrossingB", d);
                    return try ComplexAvoidedCrossingB(constants: ModelConstants(model: "ComplexAvoidedCrossingB", c))
                }
            ),
            (
                "ComplexAvoidedCrossingC",
                { c, d in
                    try coherent("ComplexAvoidedCrossingC", d);
                    return try ComplexAvoidedCrossingC(constants: ModelConstants(model: "ComplexAvoidedCrossingC", c))
                }
            ),
            (
                "LinearVibronicCoupling",
                { c, d in
                    try LinearVibronicCoupling.make(
                        constants: ModelConstants(model: "LinearVibronicCoupling", c), initialDistribution: d)
                }
            ),
        ])

    /// The names a job file may use: QC Lab's models, then the registered ones.
    public static var names: [String] { registry.names }

    /// QC Lab's models, the ones the library provides (whatever a program registers).
    public static var builtInNames: [String] { registry.builtInNames }

    /// Registers a model under `name`, so that job files can use it; replaces an earlier
    /// registration of that name (a built-in one too).
    public static func register(_ name: String, _ factory: @escaping Factory) { registry.register(name, factory) }

    /// The model called `name` with QC Lab-named `constants`.
    ///
    /// Names match ignoring case and `_`, `-`, spaces and dots, and common aliases (`tully1`,
    /// `fmo`, `holstein`) stand for QC Lab's names (``canonicalName(_:)``).
    public static func make(
        name: String, constants: [String: ParameterValue] = [:],
        initialDistribution: InitialClassicalDistribution? = nil
    ) throws -> any Model {
        try registry.lookup(name).factory(constants, initialDistribution)
    }

    /// The registered name that `name` stands for: `"SpinBoson"` for `"spin_boson"` or
    /// `"spinboson"`, `"TullyProblemOne"` for `"tully1"`; throws
    /// ``QCLabError/unknownName(kind:name:known:)``, whose message names the closest names.
    public static func canonicalName(_ name: String) throws -> String { try registry.canonicalName(name) }

    /// The aliases job files may use for model `name` (`tully1` for `TullyProblemOne`).
    public static func aliases(of name: String) -> [String] {
        NameMatching.modelAliasList.filter { $0.name == name }.map(\.alias)
    }

    /// A harmonic bath's distribution: Boltzmann unless another harmonic one is asked for.
    private static func harmonic(_ name: String, _ d: InitialClassicalDistribution?) throws
        -> InitialClassicalDistribution
    {
        if d == .definitePositionMomentum || d == .wignerCoherentState {
            throw QCLabError.invalidConstant(
                model: name, name: "init_classical",
                reason: "must be boltzmann_harmonic or wigner_harmonic for a harmonic bath")
        }
        return d ?? .boltzmannHarmonic
    }

    private static func scattering(_ name: String, _ d: InitialClassicalDistribution?) throws {
        if let d, d != .definitePositionMomentum {
            throw QCLabError.invalidConstant(
                model: name, name: "init_classical",
                reason: "must be definite_position_momentum for a Tully problem")
        }
    }

    private static func coherent(_ name: String, _ d: InitialClassicalDistribution?) throws {
        if let d, d != .wignerCoherentState {
            throw QCLabError.invalidConstant(
                model: name, name: "init_classical",
                reason: "must be wigner_coherent_state for a complex avoided crossing")
        }
    }
}
