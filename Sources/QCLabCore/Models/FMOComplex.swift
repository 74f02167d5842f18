import Numerics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Fenna-Matthews-Olson complex: seven chlorophyll sites, each coupled to its own
/// Debye bath of `N` modes; all energies in units of `kBT` at 300 K.
///
/// Site energies and couplings in cm⁻¹ from the paper, shifted so the lowest site
/// energy is zero. Mulvihill et al., J. Chem. Phys. 154, 204109 (2021).
package struct FMOComplex: DiagonalLinearHarmonicModel {
    package var modelName: String { "FMOComplex" }
    /// Conversion of cm⁻¹ to units of `kBT` at 300 K (CODATA 2022 constants).
    package static let invcmToKBT300: Double = {
        let h = 6.62607015e-34, c = 299_792_458.0, kB = 1.380649e-23
        return 100 * (h * c) / (kB * 300)
    }()
    /// The site Hamiltonian in cm⁻¹.
    package static let siteHamiltonianInvcm: [[Double]] = [
        [12410, -87.7, 5.5, -5.9, 6.7, -13.7, -9.9],
        [-87.7, 12530, 30.8, 8.2, 0.7, 11.8, 4.3],
        [5.5, 30.8, 12210.0, -53.5, -2.2, -9.6, 6.0],
        [-5.9, 8.2, -53.5, 12320, -70.7, -17.0, -63.3],
        [6.7, 0.7, -2.2, -70.7, 12480, 81.1, -1.3],
        [-13.7, 11.8, -9.6, -17.0, 81.1, 12630, 39.7],
        [-9.9, 4.3, 6.0, -63.3, -1.3, 39.7, 12440],
    ]

    package let kBT, mass, lReorg, wC: Double
    package let N: Int
    package let bath: HarmonicBath
    package let coupling: DiagonalLinearCoupling
    package let constantHamiltonian: [Complex<Double>]
    package var numQuantumStates: Int { 7 }

    package init(
        kBT: Double = 1.0, mass: Double = 1.0, lReorg: Double = 35.0 * FMOComplex.invcmToKBT300,
        wC: Double = 106.14 * FMOComplex.invcmToKBT300, N: Int = 200,
        initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic
    ) {
        (self.kBT, self.mass, self.lReorg, self.wC, self.N) = (kBT, mass, lReorg, wC, N)
        let modes = (0..<N).map { wC * tan((Double($0) + 0.5) * Double.pi * 0.5 / Double(N)) }
        let frequency = (0..<7).flatMap { _ in modes }
        bath = HarmonicBath(
            frequency: frequency, mass: Array(repeating: mass, count: 7 * N),
            weight: frequency, kBT: kBT, distribution: initialDistribution)
        var gamma = [[Double]](repeating: [Double](repeating: 0, count: 7 * N), count: 7)
        for site in 0..<7 {
            for mode in site * N..<(site + 1) * N {
                let w = frequency[mode]
                gamma[site][mode] = w * (2.0 * lReorg / Double(N)).squareRoot() * (1.0 / (2.0 * mass * w).squareRoot())
            }
        }
        coupling = DiagonalLinearCoupling(gamma: gamma)
        let scaled = Self.siteHamiltonianInvcm.map { $0.map { $0 * Self.invcmToKBT300 } }
        let lowest = (0..<7).map { scaled[$0][$0] }.min()!
        constantHamiltonian = (0..<49).map { index in
            let (a, b) = (index / 7, index % 7)
            return Complex(scaled[a][b] - (a == b ? lowest : 0))
        }
    }

    /// Reads QC Lab's constants (`kBT`, `mass`, `l_reorg`, `w_c`, `N`).
    package init(constants: ModelConstants, initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic)
        throws
    {
        var c = constants
        self.init(
            kBT: try c.double("kBT", default: 1.0, .nonNegative),
            mass: try c.double("mass", default: 1.0, .positive),
            lReorg: try c.double("l_reorg", default: 35.0 * Self.invcmToKBT300, .nonNegative),
            wC: try c.double("w_c", default: 106.14 * Self.invcmToKBT300, .positive),
            N: try c.int("N", default: 200, minimum: 1), initialDistribution: initialDistribution)
        try c.finish()
    }
}

extension FMOComplex: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] {
        [
            "kBT": .number(kBT), "mass": .number(mass), "l_reorg": .number(lReorg), "w_c": .number(wC),
            "N": .number(Double(N)),
        ]
    }
}
