import Numerics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The spin-boson model: two states coupled to a harmonic bath with a Debye spectral
/// density, discretized into `A` modes.
///
/// `H_q = [[E, V], [V, -E]]`, modes `ω_ξ = W tan((ξ + 1/2) π / (2A))`, coupling
/// `γ_0ξ = -γ_1ξ = ω_ξ sqrt(2 λ / A) / sqrt(2 m ω_ξ)`.
/// Tempelaar & Reichman, J. Chem. Phys. 148, 102309 (2018).
package struct SpinBoson: DiagonalLinearHarmonicModel {
    package var modelName: String { "SpinBoson" }
    package let kBT, V, E, W, lReorg, bosonMass: Double
    package let A: Int
    package let bath: HarmonicBath
    package let coupling: DiagonalLinearCoupling
    package let constantHamiltonian: [Complex<Double>]
    package var numQuantumStates: Int { 2 }

    package init(
        kBT: Double = 1.0, V: Double = 0.5, E: Double = 0.5, A: Int = 100, W: Double = 0.1,
        lReorg: Double = 0.005, bosonMass: Double = 1.0,
        initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic
    ) {
        (self.kBT, self.V, self.E, self.A, self.W, self.lReorg, self.bosonMass) = (kBT, V, E, A, W, lReorg, bosonMass)
        let frequency = (0..<A).map { W * tan((Double($0) + 0.5) * Double.pi * 0.5 / Double(A)) }
        bath = HarmonicBath(
            frequency: frequency, mass: Array(repeating: bosonMass, count: A),
            weight: frequency, kBT: kBT, distribution: initialDistribution)
        let gamma = frequency.map { w in
            w * (2.0 * lReorg / Double(A)).squareRoot() * (1.0 / (2.0 * bosonMass * w).squareRoot())
        }
        coupling = DiagonalLinearCoupling(gamma: [gamma, gamma.map { -$0 }])
        constantHamiltonian = [Complex(E), Complex(V), Complex(V), Complex(-E)]
    }

    /// Reads QC Lab's constants (`kBT`, `V`, `E`, `A`, `W`, `l_reorg`, `boson_mass`).
    package init(constants: ModelConstants, initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic)
        throws
    {
        var c = constants
        self.init(
            kBT: try c.double("kBT", default: 1.0, .nonNegative), V: try c.double("V", default: 0.5),
            E: try c.double("E", default: 0.5), A: try c.int("A", default: 100, minimum: 1),
            W: try c.double("W", default: 0.1, .positive),
            lReorg: try c.double("l_reorg", default: 0.005, .nonNegative),
            bosonMass: try c.double("boson_mass", default: 1.0, .positive),
            initialDistribution: initialDistribution)
        try c.finish()
    }
}

extension SpinBoson: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] {
        [
            "kBT": .number(kBT), "V": .number(V), "E": .number(E), "A": .number(Double(A)), "W": .number(W),
            "l_reorg": .number(lReorg), "boson_mass": .number(bosonMass),
        ]
    }
}
