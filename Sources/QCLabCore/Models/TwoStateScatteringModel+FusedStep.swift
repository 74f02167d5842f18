import CQCLabKernels

extension BuiltInScatteringSurfaces {
    package func fusedClassicalStep(dt: Double, batchSize: Int) -> any FusedClassicalStep {
        ScatteringRK4Step(model: self, dt: dt, batchSize: batchSize)
    }
}

/// The fused classical step of a two-state scattering model written outside the library.
package struct ScatteringDynamics<M: TwoStateScatteringModel>: FusedClassicalDynamics {
    package let model: M

    package func fusedClassicalStep(dt: Double, batchSize: Int) -> any FusedClassicalStep {
        ScatteringRK4Step(model: model, dt: dt, batchSize: batchSize)
    }
}

/// The fused classical dynamics of `model`: its own, or a two-state scattering model's
/// ``ScatteringRK4Step``; `nil` when it has none.
package func fusedClassicalDynamics(of model: any Model) -> (any FusedClassicalDynamics)? {
    if let fused = model as? any FusedClassicalDynamics { return fused }
    func dynamics(_ model: some TwoStateScatteringModel) -> any FusedClassicalDynamics {
        ScatteringDynamics(model: model)
    }
    return (model as? any TwoStateScatteringModel).map { dynamics($0) }
}

/// QC Lab's four-stage RK4 step of a free particle on two coupled diabatic surfaces, with
/// the force `-(∂V/∂q)` taken in a wavefunction held fixed through the stages, fused into
/// passes over the batch with the potential evaluated once per stage for all trajectories
/// (so that its exponentials vectorize), and `H(z)` at the new coordinates from the same
/// evaluation that gives the next step's first force.
///
/// With `x = Re z`, `y = Im z`, `q = sqrt(2/m) x` and `F(x) = sqrt(1/(2m)) ⟨ψ|∂V/∂q|ψ⟩`,
/// the motion is `x' = y`, `y' = -F(x)`.
package struct ScatteringRK4Step<M: TwoStateScatteringModel>: FusedClassicalStep {
    package let model: M
    package let dt: Double
    private let batch: Int
    /// Scratch of the latest evaluation and the RK4 stages, at fixed addresses.
    ///
    /// They hold the surfaces at the latest evaluation (`ScatteringSurfaceBuffers`' layout), the
    /// coordinates `x` it was made at, the positions `q` to evaluate at, the forces of stages 1-3
    /// and `y` of stage 3. Copies of a step share them: an evaluation is reused only where `x`
    /// equals the coordinates it was made at.
    private let surfaces, evaluatedAt, q, f0, f1, f2, stageY: UnsafeScratch<Double>
    private var hasEvaluation = false
    /// The model's built-in formulas, evaluated by the C kernel; `nil` for a model's own.
    private let builtIn: qclab_scattering_surfaces?

    package init(model: M, dt: Double, batchSize: Int) {
        self.model = model
        self.dt = dt
        batch = batchSize
        surfaces = UnsafeScratch(repeating: 0, count: ScatteringSurfaceBuffers.doublesPerTrajectory * batchSize)
        (evaluatedAt, q) = (
            UnsafeScratch(repeating: 0, count: batchSize), UnsafeScratch(repeating: 0, count: batchSize)
        )
        (f0, f1, f2) = (
            UnsafeScratch(repeating: 0, count: batchSize), UnsafeScratch(repeating: 0, count: batchSize),
            UnsafeScratch(repeating: 0, count: batchSize)
        )
        stageY = UnsafeScratch(repeating: 0, count: batchSize)
        builtIn = model.builtInSurfaces
    }

    package mutating func advance(z: inout ComplexBatch, psi: ComplexBatch, hamiltonian: inout ComplexBatch) {
        precondition(
            z.batchSize == batch && psi.components == 2 && hamiltonian.components == 4,
            "a step prepared for another batch")
        let n = batch, dt = dt, model = model, builtIn = builtIn
        let positionScale = model.positionScale, forceScale = model.gradientScale
        let s = ScatteringSurfaceBuffers(surfaces.buffer, batchSize: n)
        let (q, f0, f1, f2, stageY) = (q.pointer, f0.pointer, f1.pointer, f2.pointer, stageY.pointer)
        let positions = UnsafeBufferPointer(start: q, count: n)
        // The last step's closing evaluation serves as this step's first, unless something
        // (a hop's rescaling, say) has moved a position since (bitwise: same input, same surfaces).
        let reuse = hasEvaluation && z.re.elementsEqual(evaluatedAt.buffer) { $0.bitPattern == $1.bitPattern }
        ComplexBatch.withUnsafeMutableHandles(&z, &hamiltonian) { z, h in
            psi.withUnsafeHandle { psi in
                if !reuse {
                    for t in 0..<n { q[t] = positionScale * z.re![t] }
                    model.evaluateDiabatic(positions: positions, into: s, builtIn: builtIn)
                }
                // Each stage takes the force at its point and gives the next point, where the
                // surfaces are evaluated; the last gives the new coordinates.
                for stage in 0..<4 {
                    qclab_scattering_rk4_stage(
                        Int32(stage), Int64(n), dt, positionScale, forceScale, psi.re, psi.im,
                        s.d11.baseAddress, s.d12.baseAddress, s.d22.baseAddress, z.re, z.im,
                        f0, f1, f2, stageY, q)
                    model.evaluateDiabatic(positions: positions, into: s, builtIn: builtIn)
                }
                qclab_scattering_hamiltonian(
                    Int64(n), s.v11.baseAddress, s.v12.baseAddress, s.v22.baseAddress, h.re, h.im)
            }
        }
        _ = evaluatedAt.buffer.update(fromContentsOf: z.re)
        hasEvaluation = true
    }
}

/// The whole surface-hopping step of a model with built-in surfaces in one pass over the batch.
///
/// It is the C kernel `qclab_fssh_scattering_step`
/// (``StepPlan/QuantumKernelFusion/fusedScatteringStep``): ``ScatteringRK4Step``'s arithmetic with
/// the force in the active eigenvector, `H` at the new coordinates, then the propagation,
/// eigenpairs, gauge, probabilities and hop targets of `qclab_fssh_two_state_real_step`. It carries
/// the slopes of the last step's closing evaluation to the next step's first force (copies share
/// them; an entry is used only where `x` has not moved since it was made, so sharing is safe).
/// Trajectories that enter a step with bitwise the same state (all of them, from a definite
/// initial position and momentum, until their hops set them apart) are computed once.
package struct ScatteringSurfaceHoppingStep {
    private let surfaces: qclab_scattering_surfaces
    private let positionScale, forceScale: Double
    private let batchSize: Int
    /// `∂V11, ∂V12, ∂V22` (three components of the batch) at the coordinates `evaluatedAt`
    /// (NaN at first: never equal, so evaluated; equal coordinates give equal surfaces, ±0 included).
    private let slopes, evaluatedAt: UnsafeScratch<Double>
    /// Each trajectory's representative in the last step (all 0 at first: the guess that
    /// every trajectory starts as the first does), when identical trajectories are stepped once.
    private let representatives: UnsafeScratch<Int64>?
    /// The kernel's workspace for stepping the distinct trajectories alone, and how many of
    /// their deferred outputs wait there (``advance(z:step:defersOutputs:)``).
    private let scratch: UnsafeScratch<Double>
    private let deferred: UnsafeScratch<Int64>
    /// How many distinct trajectories the last step found (their list stays in `scratch`).
    private let distinct: UnsafeScratch<Int64>

    /// A step for `batchSize` trajectories; `sharesIdenticalTrajectories` computes one of each set
    /// of trajectories whose inputs are bitwise the same and copies its results (the same bits
    /// as computing each: false is the reference the tests compare it with).
    package init(model: some BuiltInScatteringSurfaces, batchSize: Int, sharesIdenticalTrajectories: Bool = true) {
        self.init(
            surfaces: model.surfaces, positionScale: model.positionScale, forceScale: model.gradientScale,
            batchSize: batchSize, sharesIdenticalTrajectories: sharesIdenticalTrajectories)
    }

    private init(
        surfaces: qclab_scattering_surfaces, positionScale: Double, forceScale: Double, batchSize: Int,
        sharesIdenticalTrajectories: Bool
    ) {
        self.surfaces = surfaces
        self.positionScale = positionScale
        self.forceScale = forceScale
        self.batchSize = batchSize
        slopes = UnsafeScratch(repeating: 0, count: 3 * batchSize)
        evaluatedAt = UnsafeScratch(repeating: .nan, count: batchSize)
        representatives = sharesIdenticalTrajectories ? UnsafeScratch(repeating: 0, count: batchSize) : nil
        scratch = UnsafeScratch(
            repeating: 0,
            count: sharesIdenticalTrajectories ? Int(QCLAB_SCATTERING_SCRATCH_PER_TRAJECTORY) * batchSize : 0)
        deferred = UnsafeScratch(repeating: 0, count: 1)
        distinct = UnsafeScratch(repeating: 0, count: 1)
    }

    /// This step computing every trajectory on its own (fresh scratch: its slopes are evaluated again).
    package func computingEveryTrajectory() -> ScatteringSurfaceHoppingStep {
        ScatteringSurfaceHoppingStep(
            surfaces: surfaces, positionScale: positionScale, forceScale: forceScale, batchSize: batchSize,
            sharesIdenticalTrajectories: false)
    }

    /// How many trajectories the last step computed (the others copied one of them); `nil`
    /// when every trajectory is computed.
    package var computedTrajectories: Int? {
        representatives.map { r in (0..<batchSize).filter { r[$0] == Int64($0) }.count }
    }

    /// Runs the step on the coordinates `z` (one component) and the arrays of `step`; false,
    /// having changed nothing, when the kernel declines (a phase `E dt` beyond its sincos).
    ///
    /// With `defersOutputs`, a step that computes the distinct trajectories alone leaves the
    /// outputs only collect points and the separate kernels read (`H`, `wf_adb`, the hopping
    /// probabilities, the active eigenvector) in its workspace: ``hasDeferredOutputs`` says so,
    /// and ``completeDeferredOutputs(z:step:)`` writes them before anything reads them. The
    /// next step drops them.
    ///
    /// With `setsHold`, nothing but the last step has written the trajectories' state since it
    /// ran (no hop was attempted, no other kernel ran): the sets of identical trajectories it
    /// found are taken as they are, unchecked.
    package func advance(
        z: ComplexBatch.UnsafeMutableHandle, step: qclab_two_state_step, defersOutputs: Bool, setsHold: Bool
    ) -> Bool {
        var classical = kernelArrays(z: z, defersOutputs: defersOutputs)
        classical.sets_hold = setsHold ? 1 : 0
        var surfaces = surfaces, step = step
        return qclab_fssh_scattering_step(&surfaces, &classical, &step) == 0
    }

    /// Whether the last step left outputs in the workspace (see ``advance(z:step:defersOutputs:)``).
    package var hasDeferredOutputs: Bool { deferred[0] != 0 }

    /// Writes the outputs the last step deferred into the arrays of `step` (those it ran on):
    /// then they are what the step would have written without deferring.
    package func completeDeferredOutputs(z: ComplexBatch.UnsafeMutableHandle, step: qclab_two_state_step) {
        var classical = kernelArrays(z: z, defersOutputs: false), step = step
        qclab_fssh_scattering_complete(&classical, &step)
    }

    private func kernelArrays(z: ComplexBatch.UnsafeMutableHandle, defersOutputs: Bool) -> qclab_scattering_classical {
        qclab_scattering_classical(
            position_scale: positionScale, force_scale: forceScale, x: z.re,
            y: z.im, slopes: slopes.pointer, evaluated_at: evaluatedAt.pointer,
            representatives: representatives?.pointer, scratch: scratch.pointer,
            defer_outputs: defersOutputs ? 1 : 0, deferred: deferred.pointer, sets_hold: 0,
            distinct: distinct.pointer)
    }
}
