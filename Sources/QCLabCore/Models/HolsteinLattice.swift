import Numerics

/// A nearest-neighbour tight-binding lattice of `N` sites, each with one optical phonon
/// mode coupled Holstein-style to the site population.
///
/// `H_q` has `-J` between neighbouring sites (and between the ends when `periodic`),
/// modes of frequency `w`, coupling `γ_nn = g w sqrt(w / h)`.
/// Krotz et al., J. Chem. Phys. 154, 224101 (2021).
package struct HolsteinLattice: DiagonalLinearHarmonicModel {
    package var modelName: String { "HolsteinLattice" }
    package let kBT, g, w, J, phononMass: Double
    package let N: Int
    package let periodic: Bool
    package let bath: HarmonicBath
    package let coupling: DiagonalLinearCoupling
    package let constantHamiltonian: [Complex<Double>]
    package var numQuantumStates: Int { N }

    package init(
        kBT: Double = 1.0, g: Double = 0.5, w: Double = 0.5, N: Int = 10, J: Double = 1.0,
        phononMass: Double = 1.0, periodic: Bool = true,
        initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic
    ) {
        (self.kBT, self.g, self.w, self.N, self.J, self.phononMass, self.periodic) = (
            kBT, g, w, N, J, phononMass, periodic
        )
        let weight = [Double](repeating: w, count: N)
        bath = HarmonicBath(
            frequency: weight, mass: Array(repeating: phononMass, count: N),
            weight: weight, kBT: kBT, distribution: initialDistribution)
        coupling = DiagonalLinearCoupling(
            gamma: (0..<N).map { n in
                (0..<N).map { $0 == n ? g * w * (w / weight[n]).squareRoot() : 0 }
            })
        var h = [Complex<Double>](repeating: .zero, count: N * N)
        for n in 0..<max(N - 1, 0) {
            h[n * N + n + 1] = Complex(-J)
            h[(n + 1) * N + n] = Complex(-J)
        }
        if periodic {
            h[N - 1] = Complex(-J)
            h[(N - 1) * N] = Complex(-J)
        }
        constantHamiltonian = h
    }

    /// Reads QC Lab's constants (`kBT`, `g`, `w`, `N`, `J`, `phonon_mass`, `periodic`).
    package init(constants: ModelConstants, initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic)
        throws
    {
        var c = constants
        self.init(
            kBT: try c.double("kBT", default: 1.0, .nonNegative), g: try c.double("g", default: 0.5),
            w: try c.double("w", default: 0.5, .positive), N: try c.int("N", default: 10, minimum: 1, maximum: 4096),
            J: try c.double("J", default: 1.0),
            phononMass: try c.double("phonon_mass", default: 1.0, .positive),
            periodic: try c.bool("periodic", default: true), initialDistribution: initialDistribution)
        try c.finish()
    }
}

extension HolsteinLattice: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] {
        [
            "kBT": .number(kBT), "g": .number(g), "w": .number(w), "N": .number(Double(N)), "J": .number(J),
            "phonon_mass": .number(phononMass), "periodic": .bool(periodic),
        ]
    }
}
