import CQCLabKernels
import Numerics

/// The adiabatic frame of a batch, or of a subset of its rows.
///
/// It holds the eigenpairs of every row's `H(z)`, the previous step's eigenvectors, and the
/// operations surface-hopping algorithms build on them: diagonalization, gauge fixing, the
/// adiabatic propagator, the basis change of wavefunctions, the fewest-switches hop probabilities
/// and the energy-conserving hop. Rows are trajectories, as in ``ComplexBatch``.
///
/// A step of FSSH with it (QC Lab's update recipe; Tully, J. Chem. Phys. 93, 1061 (1990)):
/// ```swift
/// frame.beginStep()                                  // current eigenvectors become the previous ones
/// // ... move z and rebuild H(z) ...
/// frame.propagate(&wfDb, dt: dt)                     // with the eigenpairs of the step's start
/// try frame.diagonalize(hamiltonian)
/// frame.fixGauge(.signOverlap, z: z, model: model)
/// frame.toAdiabatic(wfDb, into: &wfAdb)
/// frame.hopProbabilities(wfAdb: wfAdb, activeSurface: activeSurface, into: &probabilities)
/// ```
/// A frame of a subset of rows (``subset(rows:)``) works alone on those rows, as a
/// bisection over the rows that crossed a surface needs.
public struct AdiabaticFrame {
    public let states: Int
    public let rows: Int
    /// Whether the eigenvectors are real (up to rounding), so that products skip their
    /// imaginary parts (``StepPlan/realProducts``).
    public let realEigenvectors: Bool
    /// Eigenvalues, ascending: `N` components of `rows` each (`eigenvalues[k * rows + t]`).
    public package(set) var eigenvalues: [Double]
    /// Eigenvectors: element `(a, k)`, component `a` of eigenvector `k`, is component `a N + k`.
    public private(set) var eigenvectors: ComplexBatch
    /// The eigenvectors before the last ``beginStep()``, against which gauges are fixed
    /// (``gaugeFixingAgainst(_:)`` sets others).
    public private(set) var previousEigenvectors: ComplexBatch
    package var solver: BatchEigensolver
    /// `N`-component scratch; after ``hopProbabilities(wfAdb:activeSurface:into:)`` it holds
    /// each row's active eigenvector.
    package var scratch: ComplexBatch
    /// The hop kernel's `4 × rows` doubles and the one-sweep kernel's `max(N, 2) × rows`
    /// (real eigenvectors only), at fixed addresses (scratch that copies of a frame may share:
    /// every call writes it before reading it).
    private let hopWorkspace: UnsafeScratch<Double>
    private let sweepWorkspace: UnsafeScratch<Double>
    /// The one-sweep kernel's rotated wavefunction (real eigenvectors only).
    private var rotated: ComplexBatch
    /// The buffers of the batch-wide gathers (the density matrix's, the derivative-coupling
    /// gauge's), kept from one call to the next (copies of the frame, such as a collect
    /// state's, share them; unallocated until used).
    package let workspace = ReusableScratch()
    /// Whether the eigenvectors, and the previous ones, are the solver's solutions (gauge-fixed
    /// or not): the previous ones are then the warm start of the next ``diagonalize(_:)``.
    private var holdsSolution = (current: false, previous: false)
    /// Whether every imaginary part of the eigenvectors, and of the previous ones, is known to be +0.0.
    ///
    /// A real eigensolver leaves them so and sign gauges of real eigenvectors keep them, so the
    /// solver need not check them again. Every write in this file keeps the flags true.
    private var imaginaryPartsZero = (current: true, previous: true)

    /// A frame for `rows` rows of `states x states` Hamiltonians, solved by `strategy`.
    public init(states: Int, rows: Int, isReal: Bool) throws {
        try self.init(states: states, rows: rows, isReal: isReal, strategy: nil)
    }

    /// A frame solved by `strategy` (by default the fastest for Hamiltonians of `structure`).
    package init(
        states: Int, rows: Int, isReal: Bool, strategy: BatchEigensolver.Strategy?,
        realEigenvectors: Bool? = nil, structure: HamiltonianStructure = .dense
    ) throws {
        self.states = states
        self.rows = rows
        self.realEigenvectors = realEigenvectors ?? isReal
        solver = try BatchEigensolver(
            states: states, batchSize: rows, isReal: isReal,
            strategy: strategy ?? .fastest(states: states, isReal: isReal, structure: structure),
            structure: structure)
        eigenvalues = [Double](repeating: 0, count: states * rows)
        eigenvectors = ComplexBatch(components: states * states, batchSize: rows)
        previousEigenvectors = eigenvectors
        scratch = ComplexBatch(components: states, batchSize: rows)
        hopWorkspace = UnsafeScratch(repeating: 0, count: 4 * rows)
        sweepWorkspace = UnsafeScratch(repeating: 0, count: self.realEigenvectors ? max(states, 2) * rows : 0)
        rotated = ComplexBatch(components: self.realEigenvectors ? states : 0, batchSize: rows)
    }

    /// The eigensolver strategy in use.
    package var strategy: BatchEigensolver.Strategy { solver.strategy }

    /// The trajectory solves of this frame's eigensolver, and those LAPACK redid.
    package var eigensolverCounts: EigensolverCounts { solver.counts }

    /// Starts a step: the current eigenvectors become the previous ones (the next
    /// ``diagonalize(_:)`` overwrites every element of the current ones).
    public mutating func beginStep() {
        swap(&previousEigenvectors, &eigenvectors)
        holdsSolution = (holdsSolution.previous, holdsSolution.current)
        imaginaryPartsZero = (imaginaryPartsZero.previous, imaginaryPartsZero.current)
    }

    /// Makes the current eigenvectors the previous ones as well (at initialization).
    public mutating func rememberCurrent() {
        previousEigenvectors.assign(eigenvectors)
        holdsSolution.previous = holdsSolution.current
        imaginaryPartsZero.previous = imaginaryPartsZero.current
    }

    /// The frame at initialization, as QC Lab's surface-hopping initialization recipes set
    /// it up: the eigenpairs of `hamiltonian`, gauge-fixed by the derivative couplings with
    /// the unfixed eigenvectors as the previous ones; the fixed ones then become the previous.
    public mutating func diagonalizeAtStart(_ hamiltonian: ComplexBatch, z: ComplexBatch, model: any Model) throws {
        try diagonalize(hamiltonian)
        rememberCurrent()
        fixGauge(.phaseDerCouple, z: z, model: model)
        rememberCurrent()
    }

    /// Diagonalizes every row's `hamiltonian` (QC Lab's `diagonalize_matrix`).
    ///
    /// A warm-started solver starts from the previous eigenvectors (after ``beginStep()``, the
    /// last solution, gauge-fixed) rather than from a copy of its own.
    public mutating func diagonalize(_ hamiltonian: ComplexBatch) throws {
        try solver.diagonalize(
            hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors,
            start: holdsSolution.previous ? previousEigenvectors : nil,
            imaginaryPartsAreZero: imaginaryPartsZero.current)
        holdsSolution.current = true
        imaginaryPartsZero.current = solver.isReal
    }

    /// `ψ_db ← V exp(-i E dt) V† ψ_db` with the eigenpairs of the step's start: call it after
    /// ``beginStep()`` and before ``diagonalize(_:)`` (QC Lab's `update_wf_db_propagator`).
    ///
    /// `adiabatic`, when given, is `V† ψ_db` already: the ``toAdiabatic(_:into:)`` of the
    /// last step, made by the same kernel from the same eigenvectors and `ψ_db`, so reusing it
    /// changes no bit and saves a product.
    public mutating func propagate(_ wfDb: inout ComplexBatch, dt: Double, adiabatic: ComplexBatch? = nil) {
        if let adiabatic {
            scratch.assign(adiabatic)
        } else {
            ComplexBatchAlgebra.multiplyAdjoint(previousEigenvectors, wfDb, into: &scratch, real: realEigenvectors)
        }
        rotatePhases(&scratch, dt: dt)
        ComplexBatchAlgebra.multiply(previousEigenvectors, scratch, into: &wfDb, real: realEigenvectors)
    }

    /// The frame's eigenpairs as one C kernel sees them, valid only inside
    /// ``withUnsafeMutableEigenpairs(_:)``.
    package struct UnsafeEigenpairs {
        /// Eigenvalues, `N` components of the rows (read and written).
        package let values: UnsafeMutablePointer<Double>?
        /// Eigenvectors (read and written).
        package let vectors: ComplexBatch.UnsafeMutableHandle
        /// The previous step's eigenvectors (read).
        package let previous: ComplexBatch.UnsafeHandle
    }

    /// Calls `body` with the eigenvalues, eigenvectors and previous eigenvectors in one handle.
    @inline(__always)
    package mutating func withUnsafeMutableEigenpairs<R>(_ body: (UnsafeEigenpairs) throws -> R) rethrows -> R {
        imaginaryPartsZero.current = false
        return try eigenvectors.withUnsafeMutableHandle(reading: previousEigenvectors) { v, p in
            try eigenvalues.withUnsafeMutableBufferPointer {
                try body(UnsafeEigenpairs(values: $0.baseAddress, vectors: v, previous: p))
            }
        }
    }

    /// `x_k ← exp(-i E_k dt) x_k` with the current eigenvalues.
    private func rotatePhases(_ x: inout ComplexBatch, dt: Double) {
        eigenvalues.withUnsafeBufferPointer { e in
            x.withUnsafeMutableHandle { x in
                qclab_rotate_phases(Int64(e.count), e.baseAddress, dt, x.re, x.im)
            }
        }
    }

    /// `ψ_adb = V† ψ_db`.
    public func toAdiabatic(_ wfDb: ComplexBatch, into wfAdb: inout ComplexBatch) {
        ComplexBatchAlgebra.multiplyAdjoint(eigenvectors, wfDb, into: &wfAdb, real: realEigenvectors)
    }

    /// Each row's eigenvector `k = activeSurface[row]` (`act_surf_wf`).
    public func activeEigenvectors(_ activeSurface: [Int], into out: inout ComplexBatch) {
        SurfaceHoppingKernels.gatherActive(eigenvectors, activeSurface: activeSurface, into: &out)
    }

    // MARK: Gauge

    /// Makes `previous` the eigenvectors that ``fixGauge(_:z:model:)`` fixes gauges against.
    package mutating func gaugeFixingAgainst(_ previous: ComplexBatch) {
        previousEigenvectors = previous
        holdsSolution.previous = false
        imaginaryPartsZero.previous = false
    }

    /// Fixes the gauge of the new eigenvectors against the previous ones (QC Lab's
    /// `update_eigvecs_gauge`); `phase_der_couple` needs the model and `z`.
    public mutating func fixGauge(_ mode: FewestSwitchesSurfaceHopping.GaugeFixing, z: ComplexBatch, model: any Model)
    {
        let n = states
        // Phases, and signs applied to the imaginary parts (-0.0 from +0.0), write them.
        if !(realEigenvectors && mode == .signOverlap) { imaginaryPartsZero.current = false }
        if mode == .phaseDerCouple {
            // Every row's phases, then every row's eigenvectors times them, in passes over the
            // components with the rows inner (a row at a time would sweep the batch's storage).
            let phases = derivativeCouplingPhases(z: z, model: model)
            let rows = rows
            eigenvectors.withUnsafeMutableHandle { v in
                let (vr, vi) = (v.re!, v.im!)
                for c in 0..<n * n {
                    let k = c % n
                    for t in 0..<rows {
                        let product = Complex(vr[c * rows + t], vi[c * rows + t]) * phases[t][k].conjugate
                        vr[c * rows + t] = product.real
                        vi[c * rows + t] = product.imaginary
                    }
                }
            }
        }
        // Real eigenvectors (zero imaginary parts) let sign alignment skip the imaginary parts.
        SurfaceHoppingKernels.alignWithPrevious(
            &eigenvectors, previous: previousEigenvectors,
            byPhase: mode == .phaseOverlap, overlap: &scratch,
            real: realEigenvectors && mode == .signOverlap)
    }

    /// Each row's phases that make the position parts of its derivative couplings `d_{k,k+1}`
    /// real and positive along their largest component (QC Lab's `analytic_der_couple_phase`).
    ///
    /// The rows' eigenvectors are first gathered row by row into ``workspace``, in one pass over
    /// the components with the rows inner.
    private func derivativeCouplingPhases(z: ComplexBatch, model: any Model) -> [[Complex<Double>]] {
        let n = states, nn = states * states, rows = rows
        let gathered = workspace.pointer(count: 2 * rows * nn)
        eigenvectors.withUnsafeHandle { v in
            let (vr, vi) = (v.re!, v.im!)
            for c in 0..<nn {
                for t in 0..<rows {
                    gathered[2 * (t * nn + c)] = vr[c * rows + t]
                    gathered[2 * (t * nn + c) + 1] = vi[c * rows + t]
                }
            }
        }
        return (0..<rows).map { t in
            let row = gathered + 2 * t * nn
            return Self.derivativeCouplingPhases(
                eigenvectors: (0..<n).map { k in
                    (0..<n).map { a in Complex(row[2 * (a * n + k)], row[2 * (a * n + k) + 1]) }
                },
                eigenvalues: (0..<n).map { eigenvalue($0, row: t) },
                zRow: z.trajectory(t), model: model)
        }
    }

    /// The `phase_der_couple` gauge-fixing phases of one trajectory at `zRow`.
    ///
    /// They come from its eigenvectors (`eigenvectors[k]` is eigenvector `k`) and eigenvalues: each
    /// makes the position part of `d_{k,k+1}` real and positive along its largest component (QC
    /// Lab's `analytic_der_couple_phase`); eigenvector `k` is then multiplied by `conj(phases[k])`.
    /// Every algorithm that fixes gauges this way (FSSH, MSMASH) does it through a frame.
    package static func derivativeCouplingPhases(
        eigenvectors vectors: [[Complex<Double>]], eigenvalues: [Double], zRow: [Complex<Double>],
        model: any Model
    ) -> [Complex<Double>] {
        let n = vectors.count
        let mass = model.classicalCoordinateMass, weight = model.classicalCoordinateWeight
        var phases = [Complex<Double>](repeating: Complex(1), count: n)
        for i in 0..<max(n - 1, 0) {
            let j = i + 1
            let gap = eigenvalues[j] - eigenvalues[i]
            let dzc = model.couplingGradient(z: zRow, left: vectors[i], right: vectors[j])
            let dz = model.couplingGradient(z: zRow, left: vectors[j], right: vectors[i])
            var largest = -1.0, angle = 0.0
            for c in dzc.indices {
                let dq = (dz[c].conjugate.divided(by: gap) + dzc[c].divided(by: gap))
                    .multiplied(by: (0.5 * mass[c] * weight[c]).squareRoot())
                // sqrt(re² + im²) and atan2(im, re): swift-numerics' length rescales small
                // values and its phase is NaN at zero.
                let length = dq.lengthSquared.squareRoot()
                if length > largest {
                    largest = length
                    angle = dq.numpyAngle
                }
            }
            if abs(angle) < 1e-10 { angle = 0 }
            let rotation = Complex<Double>.unit(phase: angle)
            for k in (i + 1)..<n { phases[k] = rotation * phases[k] }
        }
        return phases
    }

    // MARK: Hops

    /// Eigenvector `k` of row `t`.
    public func eigenvector(_ k: Int, row t: Int) -> [Complex<Double>] {
        (0..<states).map { eigenvectors[$0 * states + k, t] }
    }

    /// Eigenvalue `k` of row `t`.
    public func eigenvalue(_ k: Int, row t: Int) -> Double { eigenvalues[k * rows + t] }

    /// The fewest-switches probabilities of every row and state (QC Lab's
    /// `update_hop_prob_fssh`), from the overlaps of the previous and current eigenvectors.
    public mutating func hopProbabilities(
        wfAdb: ComplexBatch, activeSurface: [Int], into probabilities: inout [Double]
    ) {
        SurfaceHoppingKernels.hopProbabilities(
            previous: previousEigenvectors, current: eigenvectors, wfAdb: wfAdb,
            activeSurface: activeSurface, gathered: &scratch,
            probabilities: &probabilities, workspace: hopWorkspace,
            realEigenvectors: realEigenvectors)
    }

    /// The quantum part of a surface-hopping step, after ``beginStep()`` and the classical step.
    ///
    /// Following QC Lab's FSSH update recipe, it runs ``propagate(_:dt:adiabatic:)`` with the
    /// eigenpairs of the step's start, ``diagonalize(_:)``, ``fixGauge(_:z:model:)``,
    /// ``toAdiabatic(_:into:)`` and ``hopProbabilities(wfAdb:activeSurface:into:)`` in turn; or,
    /// for real eigenvectors under `sign_overlap`, the same bits with the propagation's product,
    /// the gauge signs, `V† ψ_db` and the probabilities in one sweep over the eigenvectors
    /// (``SurfaceHoppingKernels/realSignSweep(_:previous:rotated:wfDb:wfAdb:activeSurface:gathered:probabilities:workspace:)``).
    /// `wfAdbIsCurrent` says that `wfAdb` is still this kernel's `V† ψ_db` of the last step (so the
    /// propagation reuses it). Leaves each row's active eigenvector in ``scratch``.
    public mutating func quantumStep(
        wfDb: inout ComplexBatch, wfAdb: inout ComplexBatch, wfAdbIsCurrent: Bool,
        dt: Double, hamiltonian: ComplexBatch,
        gaugeFixing mode: FewestSwitchesSurfaceHopping.GaugeFixing, z: ComplexBatch,
        model: any Model, activeSurface: [Int], into probabilities: inout [Double]
    ) throws {
        guard realEigenvectors && mode == .signOverlap else {
            propagate(&wfDb, dt: dt, adiabatic: wfAdbIsCurrent ? wfAdb : nil)
            try diagonalize(hamiltonian)
            fixGauge(mode, z: z, model: model)
            toAdiabatic(wfDb, into: &wfAdb)
            hopProbabilities(wfAdb: wfAdb, activeSurface: activeSurface, into: &probabilities)
            return
        }
        // r = exp(-i E dt) V_prev† ψ_db with the eigenvalues of the step's start, before
        // the eigensolver replaces them; the sweep then forms ψ_db = V_prev r.
        if wfAdbIsCurrent {
            rotated.assign(wfAdb)
        } else {
            ComplexBatchAlgebra.multiplyAdjoint(previousEigenvectors, wfDb, into: &rotated, real: true)
        }
        rotatePhases(&rotated, dt: dt)
        try diagonalize(hamiltonian)
        SurfaceHoppingKernels.realSignSweep(
            &eigenvectors, previous: previousEigenvectors, rotated: rotated, wfDb: &wfDb,
            wfAdb: &wfAdb, activeSurface: activeSurface, gathered: &scratch,
            probabilities: &probabilities, workspace: sweepWorkspace)
    }

    /// Each row's hop destination, or -1: the first state whose cumulative probability
    /// exceeds the draw of the row's initial condition, `draws[row / branches]` (QC Lab's
    /// `update_hop_inds_fssh`).
    public static func hopTargets(
        probabilities: [Double], draws: [Double], branches: Int = 1, states: Int,
        into targets: inout [Int]
    ) {
        SurfaceHoppingKernels.hopTargets(
            probabilities: probabilities, draws: draws, branches: branches, states: states,
            into: &targets)
    }

    /// The derivative coupling `d_{from,to}` of row `t` along `z*`: QC Lab's default
    /// rescaling direction (`<from|∂H/∂z*|to> / (E_to - E_from)`).
    public func derivativeCoupling(row t: Int, from a: Int, to b: Int, z: ComplexBatch, model: any Model) -> [Complex<
        Double
    >] {
        derivativeCoupling(row: t, from: a, to: b, zRow: z.trajectory(t), model: model)
    }

    /// The derivative coupling of row `t`, whose coordinates are `zRow`.
    private func derivativeCoupling(row t: Int, from a: Int, to b: Int, zRow: [Complex<Double>], model: any Model)
        -> [Complex<Double>]
    {
        let gap = eigenvalue(b, row: t) - eigenvalue(a, row: t)
        return model.couplingGradient(z: zRow, left: eigenvector(a, row: t), right: eigenvector(b, row: t)).map {
            $0.divided(by: gap)
        }
    }

    /// Attempts row `t`'s hop from `activeSurface[t]` to `destination`: rescales `z` along
    /// `direction` (default: the model's own rescaling direction when it has one,
    /// ``HopRescalingDirectionModel``, else the derivative coupling) to conserve energy with the model's
    /// hop rule and switches the active surface; a frustrated hop (too little energy)
    /// changes nothing (QC Lab's `update_hop_vals_fssh`, `update_z_hop`, `update_act_surf_hop`).
    public func attemptHop(
        row t: Int, to destination: Int, z: inout ComplexBatch, activeSurface: inout [Int],
        model: any Model, direction: [Complex<Double>]? = nil
    ) -> HopEvent {
        let a = activeSurface[t]
        let gap = eigenvalue(destination, row: t) - eigenvalue(a, row: t)
        let zRow = z.trajectory(t)
        let d =
            direction
            ?? model.hopDirection(
                z: zRow, initial: eigenvector(a, row: t), final: eigenvector(destination, row: t),
                from: a, to: destination, energyGap: gap)
        guard let shift = model.hopShift(z: zRow, direction: d, energyGap: gap) else {
            return HopEvent(row: t, from: a, to: destination, succeeded: false)
        }
        z.setTrajectory(t, zip(zRow, shift).map { $0 + $1 })
        activeSurface[t] = destination
        return HopEvent(row: t, from: a, to: destination, succeeded: true)
    }

    // MARK: Subsets

    /// A frame of the given rows only, with their eigenpairs and previous eigenvectors (a
    /// fresh solver of the same strategy, without the warm start of the whole batch's).
    public func subset(rows selected: [Int]) throws -> AdiabaticFrame {
        var frame = try AdiabaticFrame(
            states: states, rows: selected.count, isReal: solver.isReal,
            strategy: strategy, realEigenvectors: realEigenvectors, structure: solver.structure)
        frame.eigenvectors = eigenvectors.gathering(rows: selected)
        frame.previousEigenvectors = previousEigenvectors.gathering(rows: selected)
        frame.holdsSolution = holdsSolution
        frame.imaginaryPartsZero = (false, false)
        for k in 0..<states {
            for (r, t) in selected.enumerated() {
                frame.eigenvalues[k * selected.count + r] = eigenvalues[k * rows + t]
            }
        }
        return frame
    }

    /// Writes the eigenpairs of `frame`, a ``subset(rows:)`` of this frame, back into `selected`.
    public mutating func update(rows selected: [Int], from frame: AdiabaticFrame) {
        precondition(frame.rows == selected.count && frame.states == states, "a subset frame of other rows")
        eigenvectors.scatter(rows: selected, from: frame.eigenvectors)
        previousEigenvectors.scatter(rows: selected, from: frame.previousEigenvectors)
        imaginaryPartsZero = (false, false)
        for k in 0..<states {
            for (r, t) in selected.enumerated() {
                eigenvalues[k * rows + t] = frame.eigenvalues[k * selected.count + r]
            }
        }
    }
}

extension ComplexBatch {
    /// The batch of the given rows, in that order.
    public func gathering(rows selected: [Int]) -> ComplexBatch {
        var out = ComplexBatch(components: components, batchSize: selected.count)
        for c in 0..<components {
            for (r, t) in selected.enumerated() {
                out.re[c * selected.count + r] = re[c * batchSize + t]
                out.im[c * selected.count + r] = im[c * batchSize + t]
            }
        }
        return out
    }

    /// Writes the rows of `part` (a ``gathering(rows:)`` of `selected`) back into `selected`.
    public mutating func scatter(rows selected: [Int], from part: ComplexBatch) {
        precondition(part.batchSize == selected.count && part.components == components, "a part of another shape")
        for c in 0..<components {
            for (r, t) in selected.enumerated() {
                re[c * batchSize + t] = part.re[c * selected.count + r]
                im[c * batchSize + t] = part.im[c * selected.count + r]
            }
        }
    }
}
