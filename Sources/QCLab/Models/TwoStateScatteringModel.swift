import CQCLabKernels
import Numerics

/// A particle of one coordinate scattering on two coupled diabatic surfaces: Tully's
/// model problems. The classical part is a free particle (QC Lab's `h_c_free`,
/// `dh_c_dzc_free`, `hop_free`) started at a definite position and momentum, `h = 1`,
/// and `H_q = 0`, so the whole quantum Hamiltonian is the diabatic potential `V(q)`.
/// Tully, J. Chem. Phys. 93, 1061 (1990).
public protocol TwoStateScatteringModel: FusedClassicalDynamics {
    var mass: Double { get }
    var initPosition: Double { get }
    var initMomentum: Double { get }
    /// The diabatic potential `(V11, V12, V22)` and its slope in `q` at every position of
    /// `q`, written into `surfaces`: one pass over the whole batch, so that the formulas
    /// vectorize (use ``VectorMath/exp(inPlace:)`` on `surfaces.scratch` for exponentials).
    func diabatic(positions q: UnsafeBufferPointer<Double>, into surfaces: ScatteringSurfaceBuffers)
}

/// The diabatic surfaces of a two-state scattering model at every position of a batch,
/// as struct-of-arrays buffers that ``TwoStateScatteringModel/diabatic(positions:into:)``
/// fills: the potential `V11, V12, V22`, its slope in `q`, and scratch for the model's own
/// use (`2 × batch` doubles, e.g. exponent arguments for ``VectorMath/exp(inPlace:)``).
public struct ScatteringSurfaceBuffers {
    public let v11, v12, v22: UnsafeMutableBufferPointer<Double>
    public let d11, d12, d22: UnsafeMutableBufferPointer<Double>
    public let scratch: UnsafeMutableBufferPointer<Double>

    /// Carves the buffers of a batch of `n` out of `storage`, which holds
    /// ``doublesPerTrajectory`` doubles per trajectory.
    init(_ storage: UnsafeMutableBufferPointer<Double>, batchSize n: Int) {
        assert(storage.count == Self.doublesPerTrajectory * n)
        func part(_ i: Int, _ length: Int = 1) -> UnsafeMutableBufferPointer<Double> {
            UnsafeMutableBufferPointer(rebasing: storage[(i * n)..<((i + length) * n)])
        }
        (v11, v12, v22, d11, d12, d22, scratch) = (part(0), part(1), part(2), part(3), part(4), part(5), part(6, 2))
    }

    static let doublesPerTrajectory = 8

    /// Runs `body` with the surfaces of a batch of `n` in temporary storage.
    static func withTemporary<R>(batchSize n: Int, _ body: (ScatteringSurfaceBuffers) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: doublesPerTrajectory * n) { storage in
            storage.initialize(repeating: 0)
            return body(ScatteringSurfaceBuffers(storage, batchSize: n))
        }
    }
}

/// A two-state scattering model whose surfaces are one of the formula sets built into the
/// C kernels (Tully's three problems), so that surface hopping can evaluate them inside its
/// fused whole step (``StepPlan/QuantumKernelFusion/fusedScatteringStep``). Models written in
/// Swift do not conform and take the separate passes.
protocol BuiltInScatteringSurfaces: TwoStateScatteringModel {
    /// Which formulas, with the model's constants.
    var surfaces: qclab_scattering_surfaces { get }
}

extension ScatteringSurfaceBuffers {
    /// Fills the potentials and slopes of the built-in `surfaces` at every position of `q`.
    func evaluate(_ surfaces: qclab_scattering_surfaces, at q: UnsafeBufferPointer<Double>) {
        withUnsafePointer(to: surfaces) { surfaces in
            qclab_scattering_diabatic(surfaces, Int64(q.count), q.baseAddress, v11.baseAddress, v12.baseAddress,
                                      v22.baseAddress, d11.baseAddress, d12.baseAddress, d22.baseAddress)
        }
    }
}

extension TwoStateScatteringModel {
    public var numQuantumStates: Int { 2 }
    public var numClassicalCoordinates: Int { 1 }
    public var classicalCoordinateMass: [Double] { [mass] }
    public var classicalCoordinateWeight: [Double] { [1.0] }
    public var hamiltonianIsReal: Bool { true }
    public var couplingGradientDependsOnZ: Bool { true }

    /// `sqrt(2 / (m h))`, turning `Re z` into `q`.
    var positionScale: Double { (2.0 / mass).squareRoot() }
    /// `sqrt(1 / (2 m h))`, turning `∂/∂q` into `∂/∂z*`.
    var gradientScale: Double { (0.5 / mass).squareRoot() }

    /// The diabatic potential `(V11, V12, V22)` and its slope at one position.
    public func diabatic(at q: Double) -> (potential: (Double, Double, Double), slope: (Double, Double, Double)) {
        ScatteringSurfaceBuffers.withTemporary(batchSize: 1) { s in
            withUnsafePointer(to: q) { diabatic(positions: UnsafeBufferPointer(start: $0, count: 1), into: s) }
            return ((s.v11[0], s.v12[0], s.v22[0]), (s.d11[0], s.d12[0], s.d22[0]))
        }
    }

    /// The surfaces at the positions of `z`, for `body`.
    private func withSurfaces(at z: ComplexBatch, _ body: (ScatteringSurfaceBuffers) -> Void) {
        let scale = positionScale
        let q = z.re.map { scale * $0 }
        q.withUnsafeBufferPointer { q in
            ScatteringSurfaceBuffers.withTemporary(batchSize: q.count) { s in
                diabatic(positions: q, into: s)
                body(s)
            }
        }
    }

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
        withSurfaces(at: z) { s in
            for t in 0..<batch {
                h.re[t] = s.v11[t]; h.re[batch + t] = s.v12[t]; h.re[2 * batch + t] = s.v12[t]; h.re[3 * batch + t] = s.v22[t]
            }
        }
        h.im.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
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
        let batch = z.batchSize, scale = gradientScale
        withSurfaces(at: z) { s in
            for t in 0..<batch {
                let a0r = psi.re[t], a0i = psi.im[t], a1r = psi.re[batch + t], a1i = psi.im[batch + t]
                let p0 = a0r * a0r + a0i * a0i, p1 = a1r * a1r + a1i * a1i
                let coherence = a0r * a1r + a0i * a1i
                force.re[t] = scale * (s.d11[t] * p0 + s.d22[t] * p1 + 2.0 * s.d12[t] * coherence)
            }
        }
        force.im.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    public func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>]) -> [Complex<Double>] {
        let (d11, d12, d22) = diabatic(at: positionScale * z[0].real).slope
        let s = gradientScale
        let sum = (u[0].conjugate * v[0]).multiplied(by: s * d11) + (u[0].conjugate * v[1]).multiplied(by: s * d12)
            + (u[1].conjugate * v[0]).multiplied(by: s * d12) + (u[1].conjugate * v[1]).multiplied(by: s * d22)
        return [sum]
    }

    /// QC Lab's `hop_free` (``FreeParticleHop``, `h = 1`).
    public func hopShift(z: [Complex<Double>], direction d: [Complex<Double>], energyGap: Double) -> [Complex<Double>]? {
        FreeParticleHop(weight: [1.0]).shift(z: z, direction: d, energyGap: energyGap)
    }
}

/// Reads the constants every Tully problem has.
func readScatteringConstants(_ c: inout ModelConstants) throws -> (mass: Double, position: Double, momentum: Double) {
    (try c.double("mass", default: 2000.0, .positive), try c.double("init_position", default: -25.0),
     try c.double("init_momentum", default: 10.0))
}
