import CQCLabKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TwoStateScatteringModel {
    public func fusedClassicalStep(dt: Double, batchSize: Int) -> any FusedClassicalStep {
        ScatteringRK4Step(model: self, dt: dt, batchSize: batchSize)
    }
}

/// QC Lab's four-stage RK4 step of a free particle on two coupled diabatic surfaces, with
/// the force `-(∂V/∂q)` taken in a wavefunction held fixed through the stages, fused into
/// passes over the batch with the potential evaluated once per stage for all trajectories
/// (so that its exponentials vectorize), and `H(z)` at the new coordinates from the same
/// evaluation that gives the next step's first force.
///
/// With `x = Re z`, `y = Im z`, `q = sqrt(2/m) x` and `F(x) = sqrt(1/(2m)) ⟨ψ|∂V/∂q|ψ⟩`,
/// the motion is `x' = y`, `y' = -F(x)`.
struct ScatteringRK4Step<M: TwoStateScatteringModel>: FusedClassicalStep {
    let model: M
    let dt: Double
    private let batch: Int
    /// The surfaces at the latest evaluation, and the coordinates `x` it was made at.
    private var surfaces: [Double]
    private var evaluatedAt: [Double]
    private var hasEvaluation = false
    /// Positions `q` to evaluate at; the forces of stages 1-3; `y` of stage 3.
    private var q, f0, f1, f2, stageY: [Double]

    init(model: M, dt: Double, batchSize: Int) {
        self.model = model
        self.dt = dt
        batch = batchSize
        let zero = [Double](repeating: 0, count: batchSize)
        surfaces = [Double](repeating: 0, count: ScatteringSurfaceBuffers.doublesPerTrajectory * batchSize)
        (evaluatedAt, q, f0, f1, f2, stageY) = (zero, zero, zero, zero, zero, zero)
    }

    mutating func advance(z: inout ComplexBatch, psi: ComplexBatch, hamiltonian: inout ComplexBatch) {
        precondition(z.batchSize == batch && psi.components == 2 && hamiltonian.components == 4,
                     "a step prepared for another batch")
        let n = batch, dt = dt, model = model
        let positionScale = model.positionScale, forceScale = model.gradientScale
        // The last step's closing evaluation serves as this step's first, unless something
        // (a hop's rescaling, say) has moved a position since (bitwise: same input, same surfaces).
        let reuse = hasEvaluation && evaluatedAt.withUnsafeBytes { old in
            z.re.withUnsafeBytes { new in memcmp(old.baseAddress!, new.baseAddress!, old.count) == 0 }
        }
        surfaces.withUnsafeMutableBufferPointer { storage in
        q.withUnsafeMutableBufferPointer { q in
        f0.withUnsafeMutableBufferPointer { f0 in f1.withUnsafeMutableBufferPointer { f1 in
        f2.withUnsafeMutableBufferPointer { f2 in stageY.withUnsafeMutableBufferPointer { stageY in
        z.re.withUnsafeMutableBufferPointer { x in z.im.withUnsafeMutableBufferPointer { y in
        psi.re.withUnsafeBufferPointer { pr in psi.im.withUnsafeBufferPointer { pi in
        hamiltonian.re.withUnsafeMutableBufferPointer { hr in hamiltonian.im.withUnsafeMutableBufferPointer { hi in
            let s = ScatteringSurfaceBuffers(storage, batchSize: n)
            if !reuse {
                for t in 0..<n { q[t] = positionScale * x[t] }
                model.diabatic(positions: UnsafeBufferPointer(q), into: s)
            }
            // Each stage takes the force at its point and gives the next point, where the
            // surfaces are evaluated; the last gives the new coordinates.
            for stage in 0..<4 {
                qclab_scattering_rk4_stage(Int32(stage), Int64(n), dt, positionScale, forceScale, pr.baseAddress,
                                           pi.baseAddress, s.d11.baseAddress, s.d12.baseAddress, s.d22.baseAddress,
                                           x.baseAddress, y.baseAddress, f0.baseAddress, f1.baseAddress,
                                           f2.baseAddress, stageY.baseAddress, q.baseAddress)
                model.diabatic(positions: UnsafeBufferPointer(q), into: s)
            }
            qclab_scattering_hamiltonian(Int64(n), s.v11.baseAddress, s.v12.baseAddress, s.v22.baseAddress,
                                         hr.baseAddress, hi.baseAddress)
        }}}}}}}}}}}}
        _ = evaluatedAt.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: z.re) }
        hasEvaluation = true
    }
}
