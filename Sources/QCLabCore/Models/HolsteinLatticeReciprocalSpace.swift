import Numerics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Holstein lattice in reciprocal space: Bloch states `k = -N/2 ..< N/2` of a periodic
/// ring, with phonon coordinates in reciprocal space too.
///
/// `H_q = diag(-2 J cos(2π k / N))` and
/// `[H_qc]_ij = c (z_{(j-i) mod N} + z*_{(i-j) mod N})`, `c = g w sqrt(w / h) / sqrt(N)`,
/// so `[∂H_qc/∂z*_ξ]_ab = c` when `(a - b) mod N = ξ`. `N` must be even.
/// Krotz et al., J. Chem. Phys. 154, 224101 (2021).
package struct HolsteinLatticeReciprocalSpace: HarmonicBathModel {
    package var modelName: String { "HolsteinLatticeReciprocalSpace" }
    package let kBT, g, w, J, phononMass: Double
    package let N: Int
    /// Accepted for QC Lab compatibility; the reciprocal-space lattice is always periodic.
    package let periodic: Bool
    package let bath: HarmonicBath
    /// The coupling constant `c`.
    package let c: Double
    package var numQuantumStates: Int { N }
    package var hamiltonianIsReal: Bool { false }
    package var couplingGradientDependsOnZ: Bool { false }

    package init(
        kBT: Double = 1.0, g: Double = 0.5, w: Double = 0.5, N: Int = 10, J: Double = 1.0,
        phononMass: Double = 1.0, periodic: Bool = true,
        initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic
    ) {
        precondition(N % 2 == 0, "N must be even")
        (self.kBT, self.g, self.w, self.N, self.J, self.phononMass, self.periodic) = (
            kBT, g, w, N, J, phononMass, periodic
        )
        let weight = [Double](repeating: w, count: N)
        bath = HarmonicBath(
            frequency: weight, mass: Array(repeating: phononMass, count: N),
            weight: weight, kBT: kBT, distribution: initialDistribution)
        c = g * w * (w / w).squareRoot() / Double(N).squareRoot()
    }

    /// Reads QC Lab's constants (`kBT`, `g`, `w`, `N`, `J`, `phonon_mass`, `periodic`).
    package init(constants: ModelConstants, initialDistribution: InitialClassicalDistribution = .boltzmannHarmonic)
        throws
    {
        var c = constants
        let n = try c.int("N", default: 10, minimum: 2, maximum: 4096)
        guard n % 2 == 0 else {
            throw QCLabError.invalidConstant(
                model: "HolsteinLatticeReciprocalSpace", name: "N", reason: "must be even, got \(n)")
        }
        self.init(
            kBT: try c.double("kBT", default: 1.0, .nonNegative), g: try c.double("g", default: 0.5),
            w: try c.double("w", default: 0.5, .positive), N: n, J: try c.double("J", default: 1.0),
            phononMass: try c.double("phonon_mass", default: 1.0, .positive),
            periodic: try c.bool("periodic", default: true), initialDistribution: initialDistribution)
        try c.finish()
    }

    package func quantumHamiltonian(z: ComplexBatch, into h: inout ComplexBatch) {
        let batch = z.batchSize
        for i in 0..<N {
            let band = -2.0 * J * cos(2.0 * Double.pi * Double(i - N / 2) / Double(N))
            for j in 0..<N {
                let forward = ((j - i) % N + N) % N, backward = ((i - j) % N + N) % N
                let element = (i * N + j) * batch
                for t in 0..<batch {
                    h.re[element + t] =
                        c * (z.re[forward * batch + t] + z.re[backward * batch + t]) + (i == j ? band : 0)
                    h.im[element + t] = c * (z.im[forward * batch + t] - z.im[backward * batch + t])
                }
            }
        }
    }

    package func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch)
    {
        let batch = z.batchSize
        for i in force.re.indices { force.re[i] = 0; force.im[i] = 0 }
        for a in 0..<N {
            for b in 0..<N {
                let xi = ((a - b) % N + N) % N
                for t in 0..<batch {
                    let ur = psi.re[a * batch + t], ui = psi.im[a * batch + t]
                    let vr = psi.re[b * batch + t], vi = psi.im[b * batch + t]
                    force.re[xi * batch + t] += c * (ur * vr + ui * vi)
                    force.im[xi * batch + t] += c * (ur * vi - ui * vr)
                }
            }
        }
    }

    package func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>])
        -> [Complex<Double>]
    {
        var out = [Complex<Double>](repeating: .zero, count: N)
        for a in 0..<N {
            for b in 0..<N {
                out[((a - b) % N + N) % N] += (u[a].conjugate * v[b]).multiplied(by: c)
            }
        }
        return out
    }
}

extension HolsteinLatticeReciprocalSpace: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] {
        [
            "kBT": .number(kBT), "g": .number(g), "w": .number(w), "N": .number(Double(N)), "J": .number(J),
            "phonon_mass": .number(phononMass), "periodic": .bool(periodic),
        ]
    }
}
