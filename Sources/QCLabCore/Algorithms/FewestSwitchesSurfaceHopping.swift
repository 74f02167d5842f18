import CQCLabKernels
import Numerics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fewest-switches surface hopping (FSSH), QC Lab 1.3.0's `FewestSwitchesSurfaceHopping`.
///
/// Classical coordinates move on one adiabatic surface at a time and hop between surfaces with the
/// fewest-switches probabilities, rescaling along the derivative coupling to conserve energy.
/// Stochastic or deterministic (one branch per state). Tully, J. Chem. Phys. 93, 1061 (1990); Krotz
/// & Tempelaar, J. Chem. Phys. 156, 024105 (2022).
public struct FewestSwitchesSurfaceHopping: StepPlanningAlgorithm {
    /// How the arbitrary phase of each new eigenvector is fixed (`gauge_fixing`).
    public enum GaugeFixing: String, Sendable, CaseIterable {
        /// Sign of the overlap with the previous eigenvector.
        case signOverlap = "sign_overlap"
        /// Phase of the overlap with the previous eigenvector.
        case phaseOverlap = "phase_overlap"
        /// Phase making the derivative couplings real, then the overlap sign.
        case phaseDerCouple = "phase_der_couple"
    }

    public var algorithmName: String { "FewestSwitchesSurfaceHopping" }
    /// Run one branch per quantum state, weighted by its initial population (`fssh_deterministic`).
    public var deterministic: Bool
    public var gaugeFixing: GaugeFixing
    /// Add the model's gauge-field force, when it has one (`use_gauge_field_force`).
    public var useGaugeFieldForce: Bool
    /// The step plan every batch uses, or `nil` for the fastest that applies.
    @_spi(Benchmarks) public var forcedStepPlan: StepPlan?

    public init(deterministic: Bool = false, gaugeFixing: GaugeFixing = .signOverlap, useGaugeFieldForce: Bool = false)
    {
        self.init(
            deterministic: deterministic, gaugeFixing: gaugeFixing, useGaugeFieldForce: useGaugeFieldForce,
            stepPlan: nil)
    }

    package init(
        deterministic: Bool = false, gaugeFixing: GaugeFixing = .signOverlap, useGaugeFieldForce: Bool = false,
        stepPlan: StepPlan?
    ) {
        self.deterministic = deterministic
        self.gaugeFixing = gaugeFixing
        self.useGaugeFieldForce = useGaugeFieldForce
        forcedStepPlan = stepPlan
    }

    public func branchCount(for model: any Model) -> Int { deterministic ? model.numQuantumStates : 1 }

    /// Whether the classical step adds the model's gauge-field force.
    package func addsGaugeFieldForce(_ model: any Model) -> Bool {
        useGaugeFieldForce && model is any GaugeFieldForceModel
    }

    /// Every step plan that applies to `model` with these settings.
    package func applicablePlans(for model: any Model) -> [StepPlan] {
        StepPlan.applicablePlans(
            model: model, diagonalizes: true, gaugeFixing: gaugeFixing,
            gaugeFieldForce: addsGaugeFieldForce(model))
    }

    package func stepPlan(for model: any Model) -> StepPlan? {
        forcedStepPlan
            ?? StepPlan.fastest(
                model: model, diagonalizes: true, gaugeFixing: gaugeFixing,
                gaugeFieldForce: addsGaugeFieldForce(model))
    }

    /// QC Lab's FSSH collect recipe: `t`, `dm_db` (the active surfaces as populations with
    /// the wavefunction's coherences), the active surface's energy, and `H_c(z)`; weighted
    /// per branch in deterministic mode.
    public func defaultOutputs(for model: any Model) -> [Output] {
        [.time, .surfaceHoppingDensityMatrix(states: model.numQuantumStates), .activeSurfaceEnergy, .classicalEnergy]
    }

    public func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData {
        let branches = branchCount(for: model)
        guard seeds.count % branches == 0 else {
            throw QCLabError.invalidSetting(
                "batch_size",
                "must be a multiple of the \(branches) quantum states in deterministic surface hopping (a batch of \(seeds.count))"
            )
        }
        var batch = try SurfaceHoppingBatch(
            algorithm: self, model: model, grid: grid, seeds: seeds,
            initialWavefunction: initialWavefunction)
        var data = try runTimeLoop(batch: &batch, grid: grid, outputs: outputs, seeds: seeds, branches: branches)
        data.eigensolverCounts = batch.frame.eigensolverCounts
        return data
    }
}

/// One hop attempt: row `row` tried to switch from surface `from` to `to`; a frustrated
/// hop (too little energy) has `succeeded == false` and changed nothing.
public struct HopEvent: Sendable, Equatable {
    public let row: Int
    public let from: Int
    public let to: Int
    public let succeeded: Bool
}

/// The state of one batch of surface-hopping trajectories.
///
/// Rows are trajectories; in deterministic mode row `g * N + b` is branch `b` of initial condition
/// `g`. A step allocates nothing but the per-hop vectors of the trajectories that hop.
@_spi(Benchmarks) public struct SurfaceHoppingBatch: TrajectoryBatch {
    package let model: any Model
    package let settings: FewestSwitchesSurfaceHopping
    /// The fast paths this batch takes, chosen when it was set up.
    package let plan: StepPlan
    package let rows: Int
    package let branches: Int
    package let states: Int
    /// Classical coordinates `z`.
    package private(set) var z: ComplexBatch
    /// Diabatic wavefunctions `wf_db`.
    package private(set) var wfDb: ComplexBatch
    /// Adiabatic wavefunctions `wf_adb`.
    package private(set) var wfAdb: ComplexBatch
    @_spi(Benchmarks) public private(set) var hamiltonian: ComplexBatch
    /// Eigenpairs, previous eigenvectors and the operations on them.
    package private(set) var frame: AdiabaticFrame
    /// Eigenvalues, `N` components of `rows` each.
    package var eigenvalues: [Double] { frame.eigenvalues }
    package var eigenvectors: ComplexBatch { frame.eigenvectors }
    /// The active surface's eigenvector, in which the force is taken (`act_surf_wf`).
    package private(set) var activeWavefunction: ComplexBatch
    /// Each row's active adiabatic surface (`act_surf_ind`).
    package private(set) var activeSurface: [Int]
    /// Each row's weight in the estimators: `N` times its branch's initial population
    /// in deterministic mode, one otherwise.
    package private(set) var weights: [Double]
    /// One hop random stream per initial condition (`hop_prob_rand_vals`, drawn as needed).
    package var hopRandom: LegacyRandomStreams
    /// The step's draws, hopping probabilities and hop targets.
    private var hop: HopArrays
    /// The hops attempted in the last step, successful or frustrated.
    package private(set) var hopEvents: [HopEvent] = []
    private var classical: ClassicalRK4
    /// Whether the fused two-state kernel takes the quantum part of a step (internal so that
    /// tests can compare it with the separate kernels).
    package var usesTwoStateKernel: Bool
    /// The whole step fused, when the plan is ``StepPlan/QuantumKernelFusion/fusedScatteringStep``.
    private var scatteringStep: ScatteringSurfaceHoppingStep?
    /// Whether the last step was the fused scattering step and nothing has written the state
    /// since (no hop was attempted): its sets of identical trajectories still hold.
    private var scatteringSetsHold = false
    /// The model's fused classical step, when the plan uses it.
    private let fusedModel: (any FusedClassicalDynamics)?
    private var fusedStep: (any FusedClassicalStep)?
    /// The model's gauge-field force, when the settings ask for it.
    private let gaugeField: (any GaugeFieldForceModel)?
    /// Whether `wfAdb` is `eigenvectors† wfDb` from the product kernel, with both unchanged
    /// since (true after a step's quantum part, until the next step's propagation, which
    /// then reuses it instead of forming `previousEigenvectors† wfDb` again).
    private var wfAdbIsAdjointProduct = false

    /// Draws the initial conditions and active surfaces of `seeds` (QC Lab's FSSH
    /// initialization recipe), with the algorithm's step plan for `model`.
    @_spi(Benchmarks) public init(
        algorithm: FewestSwitchesSurfaceHopping, model: any Model, grid: TimeGrid, seeds: [Int],
        initialWavefunction: [Complex<Double>]
    ) throws {
        let n = model.numQuantumStates, rows = seeds.count
        let branches = algorithm.branchCount(for: model)
        let plan = algorithm.stepPlan(for: model)!
        try plan.check(in: algorithm.applicablePlans(for: model), for: model)
        self.model = model
        settings = algorithm
        self.plan = plan
        self.rows = rows
        self.branches = branches
        states = n
        // Branches of one initial condition share the seed `seed / N` (QC Lab's initialize_branch_seeds).
        let branchSeeds = seeds.map { $0 / branches }
        z = model.initialClassicalCoordinates(seeds: branchSeeds)
        wfDb = ComplexBatch(repeating: initialWavefunction, batchSize: rows)
        wfAdb = wfDb
        hamiltonian = ComplexBatch(components: n * n, batchSize: rows)
        frame = try AdiabaticFrame(
            states: n, rows: rows, isReal: model.hamiltonianIsReal, strategy: plan.eigensolver,
            realEigenvectors: plan.realProducts, structure: .of(model))
        classical = ClassicalRK4(coordinates: model.numClassicalCoordinates, batchSize: rows)
        activeWavefunction = wfDb
        usesTwoStateKernel = plan.quantum == .fusedTwoState
        scatteringStep =
            plan.quantum == .fusedScatteringStep
            ? (model as? any BuiltInScatteringSurfaces).map {
                ScatteringSurfaceHoppingStep(model: $0, batchSize: rows)
            } : nil
        fusedModel = plan.classical == .fused ? fusedClassicalDynamics(of: model) : nil
        fusedStep = fusedModel?.fusedClassicalStep(dt: grid.dtUpdate, batchSize: rows)
        gaugeField = algorithm.useGaugeFieldForce ? model as? any GaugeFieldForceModel : nil
        activeSurface = [Int](repeating: 0, count: rows)
        weights = [Double](repeating: 1, count: rows)
        // One hop stream per initial condition, from the start of its seed's sequence (QC
        // Lab's hop_prob_rand_vals).
        let groups = rows / branches
        hopRandom = LegacyRandomStreams(seeds: (0..<groups).map { branchSeeds[$0 * branches] })
        hop = HopArrays(
            draws: [Double](repeating: 0, count: groups),
            probabilities: [Double](repeating: 0, count: n * rows),
            targets: [Int](repeating: -1, count: rows))

        model.quantumHamiltonian(z: z, into: &hamiltonian)
        try ModelChecks.check(model, z: z, hamiltonian: hamiltonian)
        try frame.diagonalizeAtStart(hamiltonian, z: z, model: model)
        frame.toAdiabatic(wfDb, into: &wfAdb)

        // The initial surfaces are drawn after as many draws as the run has update steps.
        var surfaceRandom = hopRandom
        surfaceRandom.skipDoubles(grid.updateTimeCount)
        var initialDraws = [[Double]](repeating: [], count: groups)
        var round = [Double](repeating: 0, count: groups)
        for _ in 0..<branches {
            round.withUnsafeMutableBufferPointer { surfaceRandom.nextDoubles(into: $0) }
            for g in 0..<groups { initialDraws[g].append(round[g]) }
        }
        for g in 0..<groups {
            for b in 0..<branches {
                let row = g * branches + b
                if algorithm.deterministic {
                    activeSurface[row] = b
                    weights[row] = Double(branches) * wfAdb[b, row].lengthSquared
                } else {
                    // The first state whose cumulative population exceeds the draw (else 0).
                    var cumulative = 0.0
                    for k in 0..<n {
                        cumulative += wfAdb[k, row].lengthSquared
                        if cumulative > initialDraws[g][b] { activeSurface[row] = k; break }
                    }
                }
            }
        }
        frame.activeEigenvectors(activeSurface, into: &activeWavefunction)
    }

    /// Makes the fused scattering step compute every trajectory on its own, rather than one of
    /// each set of identical ones (the reference the tests compare the sharing with).
    package mutating func computeEveryTrajectory() {
        scatteringStep = scatteringStep?.computingEveryTrajectory()
    }

    /// How many trajectories the fused scattering step computed in the last step (it copies
    /// the results of identical ones); `nil` when it computes every trajectory, or is not used.
    package var computedTrajectories: Int? { scatteringStep?.computedTrajectories }

    /// Whether the last step left outputs in the fused scattering step's workspace (see
    /// ``step(dt:collectsAfter:)``).
    package var hasDeferredOutputs: Bool { scatteringStep?.hasDeferredOutputs ?? false }

    /// One update step (QC Lab's FSSH update recipe).
    @_spi(Benchmarks) public mutating func step(dt: Double) throws {
        try step(dt: dt, collectsAfter: true)
    }

    /// One update step; where no collect point follows, the whole fused scattering step may
    /// leave `H`, `wfAdb`, the hopping probabilities and the active eigenvectors of the
    /// trajectories it copied in its workspace (written when a collect point or the separate
    /// kernels need them), the state and the hops being the same either way.
    @_spi(Benchmarks) public mutating func step(dt: Double, collectsAfter: Bool) throws {
        frame.beginStep()
        // One hop draw per initial condition and step, shared by its branches.
        hop.draws.withUnsafeMutableBufferPointer { hopRandom.nextDoubles(into: $0) }
        // The fused kernels write each row's active eigenvector straight into activeWavefunction.
        let wholeStep = scatteringStep != nil && wholeScatteringStep(dt: dt, defersOutputs: !collectsAfter)
        var fused = wholeStep
        if !fused {
            // The separate kernels read the active eigenvectors a deferring step left aside.
            completeDeferredOutputs()
            if let fusedModel {
                // z moves and H(z) is rebuilt in one pass; the propagator below needs only the
                // eigenpairs of the step's start.
                if fusedStep?.dt != dt { fusedStep = fusedModel.fusedClassicalStep(dt: dt, batchSize: rows) }
                fusedStep!.advance(z: &z, psi: activeWavefunction, hamiltonian: &hamiltonian)
            } else {
                if let gaugeField {
                    let surfaces = activeSurface, psi = activeWavefunction
                    classical.step(model: model, z: &z, psi: psi, dt: dt) { point, force in
                        gaugeField.quantumClassicalForce(
                            z: point, wavefunction: psi, activeSurface: surfaces,
                            withGaugeFieldInto: &force)
                    }
                } else {
                    classical.step(model: model, z: &z, psi: activeWavefunction, dt: dt)
                }
                model.quantumHamiltonian(z: z, into: &hamiltonian)
            }
            fused = usesTwoStateKernel && twoStateQuantumStep(dt: dt)
        }
        if !fused {
            // Leaves each row's active eigenvector in the frame's scratch.
            try frame.quantumStep(
                wfDb: &wfDb, wfAdb: &wfAdb, wfAdbIsCurrent: wfAdbIsAdjointProduct, dt: dt,
                hamiltonian: hamiltonian, gaugeFixing: settings.gaugeFixing, z: z, model: model,
                activeSurface: activeSurface, into: &hop.probabilities)
            SurfaceHoppingKernels.hopTargets(
                probabilities: hop.probabilities, draws: hop.draws, branches: branches,
                states: states, into: &hop.targets)
        }
        wfAdbIsAdjointProduct = !fused
        hopEvents.removeAll(keepingCapacity: true)
        var attempt = Self.firstHopAttempt(in: hop.targets, from: 0)
        while let row = attempt {
            hopEvents.append(
                frame.attemptHop(
                    row: row, to: hop.targets[row], z: &z, activeSurface: &activeSurface,
                    model: model))
            attempt = Self.firstHopAttempt(in: hop.targets, from: row + 1)
        }
        // The whole step's sets of identical trajectories hold into the next step unless a
        // hop attempt wrote the state.
        scatteringSetsHold = wholeStep && hopEvents.isEmpty
        if hopEvents.contains(where: \.succeeded) {
            // Every row's active eigenvector anew: the deferred ones go first, so that they
            // cannot overwrite these later.
            completeDeferredOutputs()
            frame.activeEigenvectors(activeSurface, into: &activeWavefunction)
        } else if !fused {
            // Every active surface is as it was: its new eigenvector is the one gathered
            // for the hop probabilities.
            activeWavefunction.assign(frame.scratch)
        }
    }

    /// The first row from `start` on with a hop target (most steps have none), or `nil`.
    private static func firstHopAttempt(in targets: [Int], from start: Int) -> Int? {
        targets.withUnsafeBufferPointer { targets in
            var row = start
            while row < targets.count, targets[row] < 0 { row += 1 }
            return row < targets.count ? row : nil
        }
    }

    /// The propagation, diagonalization, gauge fixing, hop probabilities and hop targets of
    /// two-state real trajectories with sign_overlap gauge fixing, in one fused pass over
    /// the batch (the C kernel `qclab_fssh_two_state_real_step`, the same arithmetic as
    /// the separate steps); false, having changed nothing, if the kernel declines.
    private mutating func twoStateQuantumStep(dt: Double) -> Bool {
        withTwoStateStep(dt: dt) { _, step in
            var step = step
            return qclab_fssh_two_state_real_step(&step) == 0
        }
    }

    /// The whole step, the classical part included, in one pass over the batch (the C kernel
    /// `qclab_fssh_scattering_step`); false, having changed nothing, if the kernel declines.
    private mutating func wholeScatteringStep(dt: Double, defersOutputs: Bool) -> Bool {
        let scatteringStep = scatteringStep!, setsHold = scatteringSetsHold
        return withTwoStateStep(dt: dt) { z, step in
            scatteringStep.advance(z: z, step: step, defersOutputs: defersOutputs, setsHold: setsHold)
        }
    }

    /// Writes the outputs the last fused scattering step deferred, if any.
    private mutating func completeDeferredOutputs() {
        guard let scatteringStep, scatteringStep.hasDeferredOutputs else { return }
        _ = withTwoStateStep(dt: 0) { z, step in
            scatteringStep.completeDeferredOutputs(z: z, step: step)
            return true
        }
    }

    /// Calls `body` with the coordinates and the arrays of a two-state step
    /// (`qclab_two_state_step`), the active eigenvector going into `activeWavefunction`: the
    /// one place where the fused kernels reach the batch's storage.
    private mutating func withTwoStateStep(
        dt: Double,
        _ body: (ComplexBatch.UnsafeMutableHandle, qclab_two_state_step) -> Bool
    ) -> Bool {
        let rows = Int64(rows), branches = Int64(branches)
        return ComplexBatch.withUnsafeMutableHandles(&z, &hamiltonian, &activeWavefunction) { z, h, g in
            ComplexBatch.withUnsafeMutableHandles(&wfDb, &wfAdb) { db, adb in
                frame.withUnsafeMutableEigenpairs { eigen in
                    hop.withUnsafeMutableHandle(activeSurface: activeSurface) { hop in
                        body(
                            z,
                            qclab_two_state_step(
                                batch: rows, branches: branches, dt: dt, h: h.re, previous_v: eigen.previous.re,
                                w: eigen.values, v_re: eigen.vectors.re, v_im: eigen.vectors.im,
                                wf_db_re: db.re, wf_db_im: db.im, wf_adb_re: adb.re, wf_adb_im: adb.im,
                                active: hop.active, draws: hop.draws, probability: hop.probabilities,
                                active_re: g.re, active_im: g.im, target: hop.targets))
                    }
                }
            }
        }
    }

    /// The state outputs see at a collect point.
    @_spi(Benchmarks) public func collectState(time: Double) -> CollectState {
        CollectState(
            model: model, time: time, z: z, wfDb: wfDb, hamiltonian: hamiltonian,
            weights: settings.deterministic ? weights : nil, frame: frame, activeSurface: activeSurface,
            wfAdb: wfAdb, activeWavefunction: activeWavefunction)
    }
}

/// The per-step arrays of a batch's hop attempts: one draw per initial condition, the
/// hopping probabilities (`N` components of the rows) and each row's target state (-1: none).
private struct HopArrays {
    var draws: [Double]
    var probabilities: [Double]
    var targets: [Int]

    /// These arrays and the rows' active surfaces as C sees them, valid only inside
    /// ``withUnsafeMutableHandle(activeSurface:_:)``.
    struct UnsafeHandle {
        let active: UnsafePointer<Int64>?
        let draws: UnsafePointer<Double>?
        let probabilities: UnsafeMutablePointer<Double>?
        let targets: UnsafeMutablePointer<Int64>?
    }

    /// Calls `body` with one handle on the arrays (the probabilities and targets writable)
    /// and on `activeSurface` (read).
    @inline(__always)
    mutating func withUnsafeMutableHandle<R>(activeSurface: [Int], _ body: (UnsafeHandle) -> R) -> R {
        activeSurface.withUnsafeInt64Pointer { active in
            draws.withUnsafeBufferPointer { draws in
                probabilities.withUnsafeMutableBufferPointer { probabilities in
                    targets.withUnsafeMutableInt64Pointer { targets in
                        body(
                            UnsafeHandle(
                                active: active, draws: draws.baseAddress, probabilities: probabilities.baseAddress,
                                targets: targets))
                    }
                }
            }
        }
    }
}
