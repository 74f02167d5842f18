#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A particle of one coordinate scattering on two coupled diabatic surfaces: Tully's
/// model problems. The classical part is a free particle (QC Lab's `h_c_free`,
/// `dh_c_dzc_free`, `hop_free`) started at a definite position and momentum, `h = 1`,
/// and `H_q = 0`, so the whole quantum Hamiltonian is the diabatic potential `V(q)`.
/// Tully, J. Chem. Phys. 93, 1061 (1990).
public protocol TwoStateScatteringModel: Model {
    var mass: Double { get }
    var initPosition: Double { get }
    var initMomentum: Double { get }
    /// The diabatic potential `(V11, V12, V22)` and its derivative in `q` at `q`.
    func diabatic(at q: Double) -> (potential: (Double, Double, Double), slope: (Double, Double, Double))
}

extension TwoStateScatteringModel {
    public var numQuantumStates: Int { 2 }
    public var numClassicalCoordinates: Int { 1 }
    public var classicalCoordinateMass: [Double] { [mass] }
    public var classicalCoordinateWeight: [Double] { [1.0] }
    public var hamiltonianIsReal: Bool { true }
    public var couplingGradientDependsOnZ: Bool { true }

    /// `sqrt(2 / (m h))`, turning `Re z` into `q`.
    private var positionScale: Double { (2.0 / mass).squareRoot() }
    /// `sqrt(1 / (2 m h))`, turning `∂/∂q` into `∂/∂z*`.
    private var gradientScale: Double { (0.5 / mass).squareRoot() }

    public func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch {
        var z = ComplexBatch(components: 1, batchSize: seeds.count)
        for t in seeds.indices {
            z.re[t] = (0.5 * mass).squareRoot() * initPosition
            z.im[t] = (0.5 / mass).squareRoot() * initMomentum
        }
        return z
    }

    public func quantumHamiltonian(z: ComplexBatch, into h: inout ComplexBatch) {
        let batch = z.batchSize
        for t in 0..<batch {
            let (v11, v12, v22) = diabatic(at: positionScale * z.re[t]).potential
            h.re[t] = v11; h.re[batch + t] = v12; h.re[2 * batch + t] = v12; h.re[3 * batch + t] = v22
            h.im[t] = 0; h.im[batch + t] = 0; h.im[2 * batch + t] = 0; h.im[3 * batch + t] = 0
        }
    }

    public func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) {
        for t in 0..<z.batchSize {
            let p = (2.0 * mass).squareRoot() * z.im[t]
            energy[t] = 0.5 / mass * (p * p)
        }
    }

    public func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
        for t in 0..<z.batchSize {
            force.re[t] = 0
            force.im[t] = z.im[t]
        }
    }

    public func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch) {
        let batch = z.batchSize
        for t in 0..<batch {
            let (d11, d12, d22) = diabatic(at: positionScale * z.re[t]).slope
            let p0 = psi.re[t] * psi.re[t] + psi.im[t] * psi.im[t]
            let p1 = psi.re[batch + t] * psi.re[batch + t] + psi.im[batch + t] * psi.im[batch + t]
            let coherence = psi.re[t] * psi.re[batch + t] + psi.im[t] * psi.im[batch + t]
            force.re[t] = gradientScale * (d11 * p0 + d22 * p1 + 2.0 * d12 * coherence)
            force.im[t] = 0
        }
    }

    public func couplingGradient(z: [Complex], left u: [Complex], right v: [Complex]) -> [Complex] {
        let (d11, d12, d22) = diabatic(at: positionScale * z[0].re).slope
        let s = gradientScale
        let sum = (s * d11) * (u[0].conjugate * v[0]) + (s * d12) * (u[0].conjugate * v[1])
            + (s * d12) * (u[1].conjugate * v[0]) + (s * d22) * (u[1].conjugate * v[1])
        return [sum]
    }

    /// QC Lab's `hop_free`: rescale the momentum along `direction` to conserve energy.
    public func hopShift(z: [Complex], direction d: [Complex], energyGap: Double) -> [Complex]? {
        let h = 1.0
        let a = -h * d[0].re * d[0].re
        let b = -2.0 * h * d[0].re * z[0].im
        guard let gamma = smallerHopRoot(a: a, b: b, c: -energyGap) else { return nil }
        return [Complex(0, -gamma) * d[0]]
    }
}

/// Reads the constants every Tully problem has.
func readScatteringConstants(_ c: inout ModelConstants) throws -> (mass: Double, position: Double, momentum: Double) {
    (try c.double("mass", default: 2000.0, .positive), try c.double("init_position", default: -25.0),
     try c.double("init_momentum", default: 10.0))
}
