/// QC Lab's model classes by name, for job files.
public enum ModelRegistry {
    /// The names a job file may use.
    public static let names = [
        "SpinBoson", "HolsteinLattice", "HolsteinLatticeReciprocalSpace", "FMOComplex",
        "TullyProblemOne", "TullyProblemTwo", "TullyProblemThree",
        "ComplexAvoidedCrossingA", "ComplexAvoidedCrossingB", "ComplexAvoidedCrossingC",
    ]

    /// The model called `name` with QC Lab-named `constants`.
    public static func make(name: String, constants: [String: ParameterValue] = [:],
                            initialDistribution: InitialClassicalDistribution? = nil) throws -> any Model {
        let c = ModelConstants(model: name, constants)
        let harmonic = initialDistribution ?? .boltzmannHarmonic
        func harmonicOnly() throws {
            if harmonic == .definitePositionMomentum || harmonic == .wignerCoherentState {
                throw QCLabError.invalidConstant(model: name, name: "init_classical",
                                                 reason: "must be boltzmann_harmonic or wigner_harmonic for a harmonic bath")
            }
        }
        func scatteringOnly() throws {
            if let d = initialDistribution, d != .definitePositionMomentum {
                throw QCLabError.invalidConstant(model: name, name: "init_classical",
                                                 reason: "must be definite_position_momentum for a Tully problem")
            }
        }
        func coherentOnly() throws {
            if let d = initialDistribution, d != .wignerCoherentState {
                throw QCLabError.invalidConstant(model: name, name: "init_classical",
                                                 reason: "must be wigner_coherent_state for a complex avoided crossing")
            }
        }
        switch name {
        case "SpinBoson": try harmonicOnly(); return try SpinBoson(constants: c, initialDistribution: harmonic)
        case "HolsteinLattice": try harmonicOnly(); return try HolsteinLattice(constants: c, initialDistribution: harmonic)
        case "HolsteinLatticeReciprocalSpace":
            try harmonicOnly(); return try HolsteinLatticeReciprocalSpace(constants: c, initialDistribution: harmonic)
        case "FMOComplex": try harmonicOnly(); return try FMOComplex(constants: c, initialDistribution: harmonic)
        case "TullyProblemOne": try scatteringOnly(); return try TullyProblemOne(constants: c)
        case "TullyProblemTwo": try scatteringOnly(); return try TullyProblemTwo(constants: c)
        case "TullyProblemThree": try scatteringOnly(); return try TullyProblemThree(constants: c)
        case "ComplexAvoidedCrossingA": try coherentOnly(); return try ComplexAvoidedCrossingA(constants: c)
        case "ComplexAvoidedCrossingB": try coherentOnly(); return try ComplexAvoidedCrossingB(constants: c)
        case "ComplexAvoidedCrossingC": try coherentOnly(); return try ComplexAvoidedCrossingC(constants: c)
        default: throw QCLabError.unknownName(kind: "model", name: name, known: names)
        }
    }
}
