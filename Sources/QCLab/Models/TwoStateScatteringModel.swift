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
        let batch = z.batchSize, scale = positionScale
        z.re.withUnsafeBufferPointer { x in
        h.re.withUnsafeMutableBufferPointer { hr in
        h.im.withUnsafeMutableBufferPointer { hi in
            for t in 0..<batch {
                let (v11, v12, v22) = diabatic(at: scale * x[t]).potential
                hr[t] = v11; hr[batch + t] = v12; hr[2 * batch + t] = v12; hr[3 * batch + t] = v22
            }
            hi.update(repeating: 0)
        }}}
    }

    public func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) {
        let momentumScale = (2.0 * mass).squareRoot(), half = 0.5 / mass
        z.im.withUnsafeBufferPointer { y in
            energy.withUnsafeMutableBufferPointer { e in
                for t in 0..<z.batchSize {
                    let p = momentumScale * y[t]
                    e[t] = half * (p * p)
                }
            }
        }
    }

    public func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
        force.re.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        force.im.withUnsafeMutableBufferPointer { f in
            z.im.withUnsafeBufferPointer { y in _ = f.update(fromContentsOf: y) }
        }
    }

    public func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch) {
        let batch = z.batchSize, scale = positionScale, s = gradientScale
        z.re.withUnsafeBufferPointer { x in
        psi.re.withUnsafeBufferPointer { pr in
        psi.im.withUnsafeBufferPointer { pi in
        force.re.withUnsafeMutableBufferPointer { fr in
            for t in 0..<batch {
                let (d11, d12, d22) = diabatic(at: scale * x[t]).slope
                let a0r = pr[t], a0i = pi[t], a1r = pr[batch + t], a1i = pi[batch + t]
                let p0 = a0r * a0r + a0i * a0i, p1 = a1r * a1r + a1i * a1i
                let coherence = a0r * a1r + a0i * a1i
                fr[t] = s * (d11 * p0 + d22 * p1 + 2.0 * d12 * coherence)
            }
        }}}}
        force.im.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
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
