import CQCLabKernels
import Numerics

/// One coordinate scattering on two coupled diabatic surfaces: Tully's model problems.
///
/// The classical part is a free particle (QC Lab's `h_c_free`, `dh_c_dzc_free`, `hop_free`) started
/// at a definite position and momentum, `h = 1`, and `H_q = 0`, so the whole quantum Hamiltonian is
/// the diabatic potential `V(q)`. Tully, J. Chem. Phys. 93, 1061 (1990).
public protocol TwoStateScatteringModel: Model {
    var mass: Double { get }
    var initPosition: Double { get }
    var initMomentum: Double { get }
    /// Writes the diabatic potential `(V11, V12, V22)` and its slope in `q` at every
    /// position of `q` into `surfaces` (as many entries as positions): one pass over the
    /// whole batch.
    func diabatic(positions q: [Double], into surfaces: inout ScatteringSurfaces)
}

/// The diabatic surfaces of a two-state scattering model at a batch of positions, which
/// ``TwoStateScatteringModel/diabatic(positions:into:)`` fills: the potential `V11, V12,
/// V22` and its slope in `q`, one entry per position, and `2 × count` doubles of scratch
/// for the model's own use.
public struct ScatteringSurfaces: Sendable, Equatable {
    public var v11, v12, v22: [Double]
    public var d11, d12, d22: [Double]
    public var scratch: [Double]

    /// Zeroed surfaces for `count` positions.
    public init(count: Int) {
        let zeros = [Double](repeating: 0, count: count)
        (v11, v12, v22, d11, d12, d22) = (zeros, zeros, zeros, zeros, zeros, zeros)
        scratch = [Double](repeating: 0, count: 2 * count)
    }

    /// Copies the potential and slopes into the package's pointer buffers.
    package func copy(into s: ScatteringSurfaceBuffers) {
        for (source, target) in [(v11, s.v11), (v12, s.v12), (v22, s.v22), (d11, s.d11), (d12, s.d12), (d22, s.d22)] {
            _ = target.update(fromContentsOf: source.prefix(target.count))
        }
    }
}

/// The diabatic surfaces at every position of a batch as struct-of-arrays pointer buffers
/// at fixed addresses, for the scattering kernels: the handle behind which the fused steps
/// keep their pointers (``ScatteringSurfaces`` is what a model fills).
package struct ScatteringSurfaceBuffers {
    package let v11, v12, v22: UnsafeMutableBufferPointer<Double>
    package let d11, d12, d22: UnsafeMutableBufferPointer<Double>
    package let scratch: UnsafeMutableBufferPointer<Double>

    /// Carves the buffers of a batch of `n` out of `storage`, which holds
    /// ``doublesPerTrajectory`` doubles per trajectory.
    package init(_ storage: UnsafeMutableBufferPointer<Double>, batchSize n: Int) {
        assert(storage.count == Self.doublesPerTrajectory * n)
        func part(_ i: Int, _ length: Int = 1) -> UnsafeMutableBufferPointer<Double> {
            UnsafeMutableBufferPointer(rebasing: storage[(i * n)..<((i + length) * n)])
        }
        (v11, v12, v22, d11, d12, d22, scratch) = (part(0), part(1), part(2), part(3), part(4), part(5), part(6, 2))
    }

    package static let doublesPerTrajectory = 8

    /// Runs `body` with the surfaces of a batch of `n` in temporary storage.
    package static func withTemporary<R>(batchSize n: Int, _ body: (ScatteringSurfaceBuffers) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: doublesPerTrajectory * n) { storage in
            storage.initialize(repeating: 0)
            return body(ScatteringSurfaceBuffers(storage, batchSize: n))
        }
    }
}

/// A two-state scattering model whose surfaces are built into the C kernels.
///
/// They are Tully's three problems, so surface hopping can evaluate them inside its fused whole
/// step (``StepPlan/QuantumKernelFusion/fusedScatteringStep``). Models written in Swift do not
/// conform and take the separate passes.
package protocol BuiltInScatteringSurfaces: TwoStateScatteringModel, FusedClassicalDynamics {
    /// Which formulas, with the model's constants.
    var surfaces: qclab_scattering_surfaces { get }
}

extension BuiltInScatteringSurfaces {
    /// The built-in formulas, from the vectorized C kernel `qclab_scattering_diabatic`.
    package func diabatic(positions q: [Double], into s: inout ScatteringSurfaces) {
        ScatteringSurfaceBuffers.withTemporary(batchSize: q.count) { buffers in
            q.withUnsafeBufferPointer { buffers.evaluate(surfaces, at: $0) }
            (s.v11, s.v12, s.v22) = (Array(buffers.v11), Array(buffers.v12), Array(buffers.v22))
            (s.d11, s.d12, s.d22) = (Array(buffers.d11), Array(buffers.d12), Array(buffers.d22))
        }
    }
}

extension ScatteringSurfaceBuffers {
    /// Fills the potentials and slopes of the built-in `surfaces` at every position of `q`.
    package func evaluate(_ surfaces: qclab_scattering_surfaces, at q: UnsafeBufferPointer<Double>) {
        withUnsafePointer(to: surfaces) { surfaces in
            qclab_scattering_diabatic(
                surfaces, Int64(q.count), q.baseAddress, v11.baseAddress, v12.baseAddress,
                v22.baseAddress, d11.baseAddress, d12.baseAddress, d22.baseAddress)
        }
    }
}

extension TwoStateScatteringModel {
    /// The surfaces at every position of `q`, into `s`: built-in formulas (`builtIn`)
    /// straight from the C kernel, a model's own through ``diabatic(positions:into:)``.
    package func evaluateDiabatic(
        positions q: UnsafeBufferPointer<Double>, into s: ScatteringSurfaceBuffers,
        builtIn: qclab_scattering_surfaces?
    ) {
        if let builtIn { return s.evaluate(builtIn, at: q) }
        var surfaces = ScatteringSurfaces(count: q.count)
        diabatic(positions: Array(q), into: &surfaces)
        surfaces.copy(into: s)
    }

    /// The formulas of a model with built-in surfaces, `nil` for a model's own.
    package var builtInSurfaces: qclab_scattering_surfaces? { (self as? any BuiltInScatteringSurfaces)?.surfaces }

    public var numQuantumStates: Int { 2 }
    public var numClassicalCoordinates: Int { 1 }
    public var classicalCoordinateMass: [Double] { [mass] }
    public var classicalCoordinateWeight: [Double] { [1.0] }
    public var hamiltonianIsReal: Bool { true }
    public var couplingGradientDependsOnZ: Bool { true }

    /// `sqrt(2 / (m h))`, turning `Re z` into `q`.
    package var positionScale: Double { (2.0 / mass).squareRoot() }
    /// `sqrt(1 / (2 m h))`, turning `∂/∂q` into `∂/∂z*`.
    package var gradientScale: Double { (0.5 / mass).squareRoot() }

    /// The diabatic potential `(V11, V12, V22)` and its slope at one position.
    public func diabatic(at q: Double) -> (potential: (Double, Double, Double), slope: (Double, Double, Double)) {
        ScatteringSurfaceBuffers.withTemporary(batchSize: 1) { s in
            withUnsafePointer(to: q) {
                evaluateDiabatic(
                    positions: UnsafeBufferPointer(start: $0, count: 1), into: s, builtIn: builtInSurfaces)
            }
            return ((s.v11[0], s.v12[0], s.v22[0]), (s.d11[0], s.d12[0], s.d22[0]))
        }
    }

    /// The surfaces at the positions of `z`, for `body`.
    private func withSurfaces(at z: ComplexBatch, _ body: (ScatteringSurfaceBuffers) -> Void) {
        let scale = positionScale
        let q = z.re.map { scale * $0 }
        q.withUnsafeBufferPointer { q in
            ScatteringSurfaceBuffers.withTemporary(batchSize: q.count) { s in
                evaluateDiabatic(positions: q, into: s, builtIn: builtInSurfaces)
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
                h.re[t] = s.v11[t]; h.re[batch + t] = s.v12[t]; h.re[2 * batch + t] = s.v12[t];
                h.re[3 * batch + t] = s.v22[t]
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

    public func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch)
    {
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

    public func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>])
        -> [Complex<Double>]
    {
        let (d11, d12, d22) = diabatic(at: positionScale * z[0].real).slope
        let s = gradientScale
        let sum =
            (u[0].conjugate * v[0]).multiplied(by: s * d11) + (u[0].conjugate * v[1]).multiplied(by: s * d12)
            + (u[1].conjugate * v[0]).multiplied(by: s * d12) + (u[1].conjugate * v[1]).multiplied(by: s * d22)
        return [sum]
    }

    /// QC Lab's `hop_free` (``FreeParticleHop``, `h = 1`).
    public func hopShift(z: [Complex<Double>], direction d: [Complex<Double>], energyGap: Double) -> [Complex<Double>]?
    {
        FreeParticleHop(weight: [1.0]).shift(z: z, direction: d, energyGap: energyGap)
    }
}

/// Reads the constants every Tully problem has.
package func readScatteringConstants(_ c: inout ModelConstants) throws -> (
    mass: Double, position: Double, momentum: Double
) {
    (
        try c.double("mass", default: 2000.0, .positive), try c.double("init_position", default: -25.0),
        try c.double("init_momentum", default: 10.0)
    )
}
