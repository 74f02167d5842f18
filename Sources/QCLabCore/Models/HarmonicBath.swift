#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Classical coordinates that are harmonic oscillators: QC Lab's `h_c_harmonic`,
/// `dh_c_dzc_harmonic`, `hop_harmonic` (``HarmonicHop``) and the harmonic `init_classical` samplers.
///
/// `H_c = Σ_ξ (p_ξ² / m_ξ + m_ξ ω_ξ² q_ξ²) / 2`, so `∂H_c/∂z* = (ω²/h) Re z + i h Im z`.
package struct HarmonicBath: Sendable, Equatable {
    /// Oscillator frequencies `ω` (`harmonic_frequency`).
    package let frequency: [Double]
    /// Oscillator masses (`classical_coordinate_mass`).
    package let mass: [Double]
    /// Weights `h` of the complex coordinate (`classical_coordinate_weight`).
    package let weight: [Double]
    /// Thermal energy of the initial distribution.
    package let kBT: Double
    /// Which distribution the initial coordinates are drawn from.
    package let distribution: InitialClassicalDistribution
    /// `ω² / h`, precomputed for the force.
    package let frequencySquaredOverWeight: [Double]
    /// QC Lab's `hop_harmonic` for this bath.
    package let hopRule: HarmonicHop

    package init(
        frequency: [Double], mass: [Double], weight: [Double], kBT: Double,
        distribution: InitialClassicalDistribution = .boltzmannHarmonic
    ) {
        precondition(frequency.count == mass.count && mass.count == weight.count)
        self.frequency = frequency
        self.mass = mass
        self.weight = weight
        self.kBT = kBT
        self.distribution = distribution
        frequencySquaredOverWeight = zip(frequency, weight).map { $0 * $0 / $1 }
        hopRule = HarmonicHop(frequency: frequency, weight: weight)
    }

    package var count: Int { frequency.count }

    /// Draws `z` for each seed from NumPy's legacy generator as QC Lab does: `q` for all
    /// coordinates, then `p`, from one `np.random.seed(seed)` stream.
    package func sample(seeds: [Int]) -> ComplexBatch {
        var z = ComplexBatch(components: count, batchSize: seeds.count)
        let (stdQ, stdP) = standardDeviations()
        for (t, seed) in seeds.enumerated() {
            var random = LegacyRandomState(seed: seed)
            let q = random.normal(scale: stdQ)
            let p = random.normal(scale: stdP)
            for c in 0..<count {
                let mh = mass[c] * weight[c]
                z.re[c * seeds.count + t] = (0.5 * mh).squareRoot() * q[c]
                z.im[c * seeds.count + t] = (0.5 / mh).squareRoot() * p[c]
            }
        }
        return z
    }

    /// Standard deviations of `q` and `p` for the chosen distribution.
    package func standardDeviations() -> ([Double], [Double]) {
        switch distribution {
        // The last two are refused by ModelRegistry.
        case .boltzmannHarmonic, .definitePositionMomentum, .wignerCoherentState:
            return (
                (0..<count).map { (kBT / (mass[$0] * (frequency[$0] * frequency[$0]))).squareRoot() },
                (0..<count).map { (mass[$0] * kBT).squareRoot() }
            )
        case .wignerHarmonic:
            if kBT > 0 {
                return (
                    (0..<count).map {
                        (0.5 / (frequency[$0] * mass[$0] * tanh(0.5 * frequency[$0] / kBT))).squareRoot()
                    },
                    (0..<count).map {
                        (0.5 * mass[$0] * frequency[$0] / tanh(0.5 * frequency[$0] / kBT)).squareRoot()
                    }
                )
            }
            return (
                (0..<count).map { (0.5 / (frequency[$0] * mass[$0])).squareRoot() },
                (0..<count).map { (0.5 * mass[$0] * frequency[$0]).squareRoot() }
            )
        }
    }

    /// `H_c` of every trajectory.
    package func energy(z: ComplexBatch, into energy: inout [Double]) {
        let batch = z.batchSize
        z.withUnsafeHandle { z in
            energy.withUnsafeMutableBufferPointer { energy in
                let (re, im) = (z.re!, z.im!)
                for t in 0..<batch { energy[t] = 0 }
                guard batch > 0 else { return }
                for c in 0..<count {
                    // q² m ω² / 2 + p² / (2m) with q = sqrt(2/(m h)) Re z, p = sqrt(2 m h) Im z.
                    let qScale = 2.0 / (mass[c] * weight[c]), pScale = 2.0 * mass[c] * weight[c]
                    let kinetic = 0.5 / mass[c] * pScale,
                        potential = 0.5 * mass[c] * frequency[c] * frequency[c] * qScale
                    // Row c through its own pointers, so that the loop has no index arithmetic
                    // to check and vectorizes.
                    let (x, y, e) = (re + c * batch, im + c * batch, energy.baseAddress!)
                    for t in 0..<batch { e[t] += kinetic * y[t] * y[t] + potential * x[t] * x[t] }
                }
            }
        }
    }

    /// `∂H_c/∂z* = (ω²/h) Re z + i h Im z` for every coordinate and trajectory.
    package func force(z: ComplexBatch, into force: inout ComplexBatch) {
        let batch = z.batchSize
        force.withUnsafeMutableHandle(reading: z) { force, z in
            let (re, im, fre, fim) = (z.re!, z.im!, force.re!, force.im!)
            for c in 0..<count {
                let a = frequencySquaredOverWeight[c], h = weight[c]
                for t in c * batch..<(c + 1) * batch {
                    fre[t] = a * re[t]
                    fim[t] = h * im[t]
                }
            }
        }
    }
}
