/// Fourth-order Runge-Kutta for the classical coordinates, `dz/dt = -i (∂H_c/∂z* + F_qc)`,
/// with QC Lab's stages (`update_z_rk4_k123`, `update_z_rk4_k4`): the quantum state `ψ`
/// that the force `F_qc = <ψ|∂H_qc/∂z*|ψ>` is taken in stays fixed during the step.
///
/// The workspace is sized once per batch; a step allocates nothing.
public struct ClassicalRK4 {
    private var stage: ComplexBatch
    private var classicalForce: ComplexBatch
    private var quantumForce: ComplexBatch
    /// The slopes `k1, k2, k3` of the stages, one after the other (`3 ×` the coordinates).
    private var slopes: ComplexBatch

    /// The workspace for batches of `batchSize` rows of `coordinates` coordinates.
    public init(coordinates: Int, batchSize: Int) {
        stage = ComplexBatch(components: coordinates, batchSize: batchSize)
        (classicalForce, quantumForce) = (stage, stage)
        slopes = ComplexBatch(components: 3 * coordinates, batchSize: batchSize)
    }

    /// Advances `z` by `dt` with the quantum-classical force taken in `psi`: the model's
    /// ``Model/quantumClassicalForce(z:wavefunction:into:)``, or `quantumClassicalForce(point,
    /// &force)` when given (the force with the gauge field's added, say), which is then
    /// evaluated at every stage.
    public mutating func step(
        model: any Model, z: inout ComplexBatch, psi: ComplexBatch, dt: Double,
        quantumClassicalForce: ((ComplexBatch, inout ComplexBatch) -> Void)? = nil
    ) {
        let zDependent = model.couplingGradientDependsOnZ || quantumClassicalForce != nil
        /// Forces at `point`; the quantum-classical one is recomputed only when it changes.
        func forces(at point: ComplexBatch, refreshQuantum: Bool) {
            model.classicalForce(z: point, into: &classicalForce)
            guard refreshQuantum else { return }
            if let quantumClassicalForce {
                quantumClassicalForce(point, &quantumForce)
            } else {
                model.quantumClassicalForce(z: point, wavefunction: psi, into: &quantumForce)
            }
        }
        forces(at: z, refreshQuantum: true)
        Self.stage(0, of: &slopes, out: &stage, from: z, classicalForce, quantumForce, h: 0.5 * dt)
        forces(at: stage, refreshQuantum: zDependent)
        Self.stage(1, of: &slopes, out: &stage, from: z, classicalForce, quantumForce, h: 0.5 * dt)
        forces(at: stage, refreshQuantum: zDependent)
        Self.stage(2, of: &slopes, out: &stage, from: z, classicalForce, quantumForce, h: dt)
        forces(at: stage, refreshQuantum: zDependent)
        Self.finish(z: &z, slopes, classicalForce, quantumForce, dt: dt)
    }

    /// `k = -i (F_c + F_qc)` (slope `index` of `slopes`) and `out = z + h k`.
    private static func stage(
        _ index: Int, of slopes: inout ComplexBatch, out: inout ComplexBatch, from z: ComplexBatch,
        _ fc: ComplexBatch, _ fq: ComplexBatch, h: Double
    ) {
        let count = z.re.count, offset = index * count
        ComplexBatch.withUnsafeMutableHandles(&slopes, &out) { k, out in
            ComplexBatch.withUnsafeHandles(z, fc, fq) { z, fc, fq in
                let (kre, kim, ore, oim) = (k.re! + offset, k.im! + offset, out.re!, out.im!)
                let (zre, zim, fcr, fci, fqr, fqi) = (z.re!, z.im!, fc.re!, fc.im!, fq.re!, fq.im!)
                for i in 0..<count {
                    let re = fci[i] + fqi[i], im = -(fcr[i] + fqr[i])
                    kre[i] = re
                    kim[i] = im
                    ore[i] = zre[i] + h * re
                    oim[i] = zim[i] + h * im
                }
            }
        }
    }

    /// `z += dt/6 (k1 + 2 k2 + 2 k3 + k4)` with `k4 = -i (F_c + F_qc)`.
    private static func finish(
        z: inout ComplexBatch, _ slopes: ComplexBatch, _ fc: ComplexBatch, _ fq: ComplexBatch,
        dt: Double
    ) {
        let count = z.re.count, sixth = dt / 6.0
        z.withUnsafeMutableHandle(reading: slopes) { z, k in
            ComplexBatch.withUnsafeHandles(fc, fq) { fc, fq in
                let (zre, zim, fcr, fci, fqr, fqi) = (z.re!, z.im!, fc.re!, fc.im!, fq.re!, fq.im!)
                let (a, ai, b, bi) = (k.re!, k.im!, k.re! + count, k.im! + count)
                let (c, ci) = (k.re! + 2 * count, k.im! + 2 * count)
                for i in 0..<count {
                    let k4re = fci[i] + fqi[i], k4im = -(fcr[i] + fqr[i])
                    zre[i] = zre[i] + sixth * (a[i] + 2.0 * b[i] + 2.0 * c[i] + k4re)
                    zim[i] = zim[i] + sixth * (ai[i] + 2.0 * bi[i] + 2.0 * ci[i] + k4im)
                }
            }
        }
    }
}
