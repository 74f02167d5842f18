import CQCLabKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fewest-switches surface hopping: classical coordinates move on one adiabatic surface
/// at a time and hop between surfaces with the fewest-switches probabilities, rescaling
/// along the derivative coupling to conserve energy. QC Lab 1.3.0's
/// `FewestSwitchesSurfaceHopping`, stochastic or deterministic (one branch per state).
/// Tully, J. Chem. Phys. 93, 1061 (1990); Krotz & Tempelaar, J. Chem. Phys. 156, 024105 (2022).
public struct FewestSwitchesSurfaceHopping: Algorithm {
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

    public init(deterministic: Bool = false, gaugeFixing: GaugeFixing = .signOverlap, useGaugeFieldForce: Bool = false) {
        self.deterministic = deterministic
        self.gaugeFixing = gaugeFixing
        self.useGaugeFieldForce = useGaugeFieldForce
    }

    public func branchCount(for model: any Model) -> Int { deterministic ? model.numQuantumStates : 1 }

    public func runBatch(model: any Model, grid: TimeGrid, initialWavefunction: [Complex], seeds: [Int]) throws -> SimulationData {
        let branches = branchCount(for: model)
        guard seeds.count % branches == 0 else {
            throw QCLabError.invalidSetting(
                "batch_size", "must be a multiple of the \(branches) quantum states in deterministic surface hopping (a batch of \(seeds.count))")
        }
        var batch = try SurfaceHoppingBatch(algorithm: self, model: model, grid: grid, seeds: seeds,
                                            initialWavefunction: initialWavefunction)
        var collector = OutputCollector(grid: grid, batchSize: seeds.count, branches: branches, states: model.numQuantumStates)
        for step in 0...grid.totalSteps {
            if step % grid.stepsPerCollect == 0 {
                batch.collect(into: &collector, index: step / grid.stepsPerCollect, time: Double(step) * grid.dtUpdate)
            }
            if step < grid.totalSteps { try batch.step(dt: grid.dtUpdate) }
        }
        return collector.data(seeds: seeds)
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

/// The state of one batch of surface-hopping trajectories. Rows are trajectories; in
/// deterministic mode row `g * N + b` is branch `b` of initial condition `g`. A step
/// allocates nothing but the per-hop vectors of the trajectories that hop.
public struct SurfaceHoppingBatch {
    public let model: any Model
    public let settings: FewestSwitchesSurfaceHopping
    public let rows: Int
    public let branches: Int
    public let states: Int
    /// Classical coordinates `z`.
    public private(set) var z: ComplexBatch
    /// Diabatic wavefunctions `wf_db`.
    public private(set) var wfDb: ComplexBatch
    /// Adiabatic wavefunctions `wf_adb`.
    public private(set) var wfAdb: ComplexBatch
    public private(set) var hamiltonian: ComplexBatch
    /// Eigenvalues, `N` components of `rows` each.
    public private(set) var eigenvalues: [Double]
    public private(set) var eigenvectors: ComplexBatch
    var previousEigenvectors: ComplexBatch
    /// The active surface's eigenvector, in which the force is taken (`act_surf_wf`).
    public private(set) var activeWavefunction: ComplexBatch
    /// Each row's active adiabatic surface (`act_surf_ind`).
    public private(set) var activeSurface: [Int]
    /// Each row's weight in the estimators: `N` times its branch's initial population
    /// in deterministic mode, one otherwise.
    var weights: [Double]
    /// One hop random stream per initial condition (`hop_prob_rand_vals`, drawn as needed),
    /// and the step's draws.
    var hopRandom: LegacyRandomStreams
    private var draws: [Double]
    /// The hops attempted in the last step, successful or frustrated.
    public private(set) var hopEvents: [HopEvent] = []
    private var solver: BatchEigensolver
    private var classical: ClassicalRK4
    private var scratch: ComplexBatch
    private var rho: ComplexBatch
    private var energy: [Double]
    private var probabilities: [Double]
    private var hopWorkspace: [Double]
    private var hopTargets: [Int]
    /// Whether the eigenvectors are real (a real Hamiltonian's, up to the ±1 of gauge
    /// fixing), so that products with them can skip their imaginary part.
    private let realEigenvectors: Bool
    /// Whether the fused two-state kernel takes the quantum part of a step (internal so that
    /// tests can compare it with the separate kernels).
    var usesTwoStateKernel: Bool
    /// The model's fused classical step, when it has one and no extra force is asked for.
    private let fusedModel: (any FusedClassicalDynamics)?
    private var fusedStep: (any FusedClassicalStep)?
    private var populations: [Double]
    /// Whether `wfAdb` is `eigenvectors† wfDb` from the product kernel, with both unchanged
    /// since (true after a step's quantum part, until the next step's propagation, which
    /// then reuses it instead of forming `previousEigenvectors† wfDb` again).
    private var wfAdbIsAdjointProduct = false

    /// Draws the initial conditions and active surfaces of `seeds` (QC Lab's FSSH
    /// initialization recipe).
    public init(algorithm: FewestSwitchesSurfaceHopping, model: any Model, grid: TimeGrid, seeds: [Int],
                initialWavefunction: [Complex]) throws {
        let n = model.numQuantumStates, rows = seeds.count
        let branches = algorithm.branchCount(for: model)
        self.model = model
        settings = algorithm
        self.rows = rows
        self.branches = branches
        states = n
        // Branches of one initial condition share the seed `seed / N` (QC Lab's initialize_branch_seeds).
        let branchSeeds = seeds.map { $0 / branches }
        z = model.initialClassicalCoordinates(seeds: branchSeeds)
        wfDb = ComplexBatch(repeating: initialWavefunction, batchSize: rows)
        wfAdb = wfDb
        hamiltonian = ComplexBatch(components: n * n, batchSize: rows)
        eigenvalues = [Double](repeating: 0, count: n * rows)
        eigenvectors = ComplexBatch(components: n * n, batchSize: rows)
        solver = try BatchEigensolver(states: n, batchSize: rows, isReal: model.hamiltonianIsReal)
        classical = ClassicalRK4(coordinates: model.numClassicalCoordinates, batchSize: rows)
        scratch = wfDb
        activeWavefunction = wfDb
        rho = hamiltonian
        energy = [Double](repeating: 0, count: rows)
        probabilities = [Double](repeating: 0, count: n * rows)
        hopWorkspace = [Double](repeating: 0, count: 4 * rows)
        hopTargets = [Int](repeating: -1, count: rows)
        realEigenvectors = model.hamiltonianIsReal && algorithm.gaugeFixing != .phaseOverlap
        usesTwoStateKernel = n == 2 && realEigenvectors && algorithm.gaugeFixing == .signOverlap
        fusedModel = algorithm.useGaugeFieldForce && model is any GaugeFieldForceModel ? nil : model as? any FusedClassicalDynamics
        fusedStep = fusedModel?.fusedClassicalStep(dt: grid.dtUpdate, batchSize: rows)
        populations = [Double](repeating: 0, count: n * rows)
        activeSurface = [Int](repeating: 0, count: rows)
        weights = [Double](repeating: 1, count: rows)
        previousEigenvectors = eigenvectors
        // One hop stream per initial condition, from the start of its seed's sequence (QC
        // Lab's hop_prob_rand_vals).
        let groups = rows / branches
        hopRandom = LegacyRandomStreams(seeds: (0..<groups).map { branchSeeds[$0 * branches] })
        draws = [Double](repeating: 0, count: groups)

        model.quantumHamiltonian(z: z, into: &hamiltonian)
        try solver.diagonalize(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
        // At initialization QC Lab fixes the gauge by the derivative couplings, with the
        // unfixed eigenvectors as the "previous" ones.
        previousEigenvectors.assign(eigenvectors)
        fixGauge(.phaseDerCouple)
        previousEigenvectors.assign(eigenvectors)
        QuantumKernels.multiplyAdjoint(eigenvectors, wfDb, into: &wfAdb)

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
        updateActiveWavefunction()
    }

    /// Copies each row's active eigenvector into `activeWavefunction`.
    private mutating func updateActiveWavefunction() {
        SurfaceHoppingKernels.gatherActive(eigenvectors, activeSurface: activeSurface, into: &activeWavefunction)
    }

    /// One update step (QC Lab's FSSH update recipe).
    public mutating func step(dt: Double) throws {
        // The step's starting eigenvectors become the previous ones; the solver below
        // overwrites every element of the new ones.
        swap(&previousEigenvectors, &eigenvectors)
        if let fusedModel {
            // z moves and H(z) is rebuilt in one pass; the propagator below needs only the
            // eigenpairs of the step's start.
            if fusedStep?.dt != dt { fusedStep = fusedModel.fusedClassicalStep(dt: dt, batchSize: rows) }
            fusedStep!.advance(z: &z, psi: activeWavefunction, hamiltonian: &hamiltonian)
        } else if settings.useGaugeFieldForce, let gauged = model as? any GaugeFieldForceModel {
            let surfaces = activeSurface
            classical.step(model: model, z: &z, psi: activeWavefunction, dt: dt) { point, force in
                gauged.addGaugeFieldForce(z: point, activeSurface: surfaces, to: &force)
            }
        } else {
            classical.step(model: model, z: &z, psi: activeWavefunction, dt: dt)
        }
        if fusedModel == nil { model.quantumHamiltonian(z: z, into: &hamiltonian) }
        // One hop draw per initial condition and step, shared by its branches.
        draws.withUnsafeMutableBufferPointer { hopRandom.nextDoubles(into: $0) }
        if !(usesTwoStateKernel && twoStateQuantumStep(dt: dt)) {
            propagateWavefunction(dt: dt)
            try solver.diagonalize(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            // The solver leaves real eigenvectors with zero imaginary parts.
            fixGauge(settings.gaugeFixing, real: realEigenvectors)
            QuantumKernels.multiplyAdjoint(eigenvectors, wfDb, into: &wfAdb, real: realEigenvectors)
            wfAdbIsAdjointProduct = true
            chooseHopTargets()
        } else {
            wfAdbIsAdjointProduct = false
        }
        hop()
        if hopEvents.contains(where: \.succeeded) {
            updateActiveWavefunction()
        } else {
            // Every active surface is as it was: its new eigenvector is the one gathered
            // for the hop probabilities.
            activeWavefunction.assign(scratch)
        }
    }


    /// `ψ_db ← V exp(-i E dt) V† ψ_db` with the eigenpairs of the step's start
    /// (`previousEigenvectors` by now; QC Lab's `update_wf_db_propagator`).
    private mutating func propagateWavefunction(dt: Double) {
        if wfAdbIsAdjointProduct {
            scratch.assign(wfAdb)  // V_prev† ψ_db, computed by the same kernel at the end of the last step
        } else {
            QuantumKernels.multiplyAdjoint(previousEigenvectors, wfDb, into: &scratch, real: realEigenvectors)
        }
        eigenvalues.withUnsafeBufferPointer { e in
            scratch.re.withUnsafeMutableBufferPointer { re in
                scratch.im.withUnsafeMutableBufferPointer { im in
                    qclab_rotate_phases(Int64(e.count), e.baseAddress, dt, re.baseAddress, im.baseAddress)
                }
            }
        }
        QuantumKernels.multiply(previousEigenvectors, scratch, into: &wfDb, real: realEigenvectors)
    }

    /// The propagation, diagonalization, gauge fixing, hop probabilities and hop targets of
    /// two-state real trajectories with sign_overlap gauge fixing, in one fused pass over
    /// the batch (the C kernel `qclab_fssh_two_state_real_step`, the same arithmetic as
    /// the separate steps); false, having changed nothing, if the kernel declines.
    private mutating func twoStateQuantumStep(dt: Double) -> Bool {
        let rows = Int64(rows), branches = Int64(branches)
        let done = hamiltonian.re.withUnsafeBufferPointer { h in
        previousEigenvectors.re.withUnsafeBufferPointer { p in
        eigenvalues.withUnsafeMutableBufferPointer { w in
        eigenvectors.re.withUnsafeMutableBufferPointer { vr in eigenvectors.im.withUnsafeMutableBufferPointer { vi in
        wfDb.re.withUnsafeMutableBufferPointer { dr in wfDb.im.withUnsafeMutableBufferPointer { di in
        wfAdb.re.withUnsafeMutableBufferPointer { ar in wfAdb.im.withUnsafeMutableBufferPointer { ai in
        activeSurface.withUnsafeBufferPointer { active in active.withMemoryRebound(to: Int64.self) { active in
        draws.withUnsafeBufferPointer { draws in
        probabilities.withUnsafeMutableBufferPointer { probability in
        scratch.re.withUnsafeMutableBufferPointer { gr in scratch.im.withUnsafeMutableBufferPointer { gi in
        hopTargets.withUnsafeMutableBufferPointer { targets in targets.withMemoryRebound(to: Int64.self) { targets in
            qclab_fssh_two_state_real_step(rows, branches, dt, h.baseAddress, p.baseAddress, w.baseAddress,
                                           vr.baseAddress, vi.baseAddress, dr.baseAddress, di.baseAddress,
                                           ar.baseAddress, ai.baseAddress, active.baseAddress, draws.baseAddress,
                                           probability.baseAddress, gr.baseAddress, gi.baseAddress, targets.baseAddress)
        }}}}}}}}}}}}}}}}}
        return done == 0
    }

    // MARK: Hops

    /// Each row's hop destination, or -1 (QC Lab's `update_hop_prob_fssh` and
    /// `update_hop_inds_fssh`); leaves each row's active eigenvector in `scratch`.
    private mutating func chooseHopTargets() {
        SurfaceHoppingKernels.hopProbabilities(previous: previousEigenvectors, current: eigenvectors, wfAdb: wfAdb,
                                               activeSurface: activeSurface, gathered: &scratch,
                                               probabilities: &probabilities, workspace: &hopWorkspace,
                                               realEigenvectors: realEigenvectors)
        SurfaceHoppingKernels.hopTargets(probabilities: probabilities, draws: draws, branches: branches, states: states,
                                         into: &hopTargets)
    }

    /// Attempts the chosen hops (QC Lab's `update_hop_vals_fssh`, `update_z_hop`,
    /// `update_act_surf_hop`).
    private mutating func hop() {
        hopEvents.removeAll(keepingCapacity: true)
        for row in 0..<rows where hopTargets[row] >= 0 {
            attemptHop(row: row, to: hopTargets[row])
        }
    }

    /// Rescales `z` along the derivative coupling (or the model's own direction) to conserve energy and switches the
    /// active surface, or leaves everything as it is when the hop is frustrated.
    private mutating func attemptHop(row t: Int, to destination: Int) {
        let n = states, a = activeSurface[t]
        let gap = eigenvalues[destination * rows + t] - eigenvalues[a * rows + t]
        let initial = (0..<n).map { eigenvectors[$0 * n + a, t] }
        let final = (0..<n).map { eigenvectors[$0 * n + destination, t] }
        let zRow = z.trajectory(t)
        let direction = model.hopDirection(z: zRow, initial: initial, final: final, from: a, to: destination, energyGap: gap)
        guard let shift = model.hopShift(z: zRow, direction: direction, energyGap: gap) else {
            hopEvents.append(HopEvent(row: t, from: a, to: destination, succeeded: false))
            return
        }
        z.setTrajectory(t, zip(zRow, shift).map { $0 + $1 })
        activeSurface[t] = destination
        hopEvents.append(HopEvent(row: t, from: a, to: destination, succeeded: true))
    }

    // MARK: Gauge

    /// Fixes the gauge of the new eigenvectors against `previousEigenvectors`
    /// (QC Lab's `update_eigvecs_gauge`).
    private mutating func fixGauge(_ mode: FewestSwitchesSurfaceHopping.GaugeFixing, real: Bool = false) {
        let n = states
        if mode == .phaseDerCouple {
            for t in 0..<rows {
                let phases = derivativeCouplingPhases(row: t)
                for k in 0..<n {
                    for a in 0..<n { eigenvectors[a * n + k, t] = eigenvectors[a * n + k, t] * phases[k].conjugate }
                }
            }
        }
        SurfaceHoppingKernels.alignWithPrevious(&eigenvectors, previous: previousEigenvectors,
                                                byPhase: mode == .phaseOverlap, overlap: &scratch,
                                                real: real && mode == .signOverlap)
    }

    /// Phases that make the position parts of the derivative couplings `d_{k,k+1}` real and
    /// positive along their largest component (QC Lab's `analytic_der_couple_phase`).
    private func derivativeCouplingPhases(row t: Int) -> [Complex] {
        let n = states
        let zRow = z.trajectory(t)
        let mass = model.classicalCoordinateMass, weight = model.classicalCoordinateWeight
        var phases = [Complex](repeating: Complex(1), count: n)
        let vectors = (0..<n).map { k in (0..<n).map { eigenvectors[$0 * n + k, t] } }
        for i in 0..<max(n - 1, 0) {
            let j = i + 1
            let gap = eigenvalues[j * rows + t] - eigenvalues[i * rows + t]
            let dzc = model.couplingGradient(z: zRow, left: vectors[i], right: vectors[j])
            let dz = model.couplingGradient(z: zRow, left: vectors[j], right: vectors[i])
            var largest = -1.0, angle = 0.0
            for c in dzc.indices {
                let dq = (0.5 * mass[c] * weight[c]).squareRoot() * ((dz[c].conjugate / gap) + (dzc[c] / gap))
                if dq.length > largest {
                    largest = dq.length
                    angle = dq.phase
                }
            }
            if abs(angle) < 1e-10 { angle = 0 }
            let rotation = Complex.unit(phase: angle)
            for k in (i + 1)..<n { phases[k] = rotation * phases[k] }
        }
        return phases
    }

    // MARK: Collect

    /// QC Lab's FSSH collect recipe: `dm_db` from the adiabatic density matrix with the
    /// active surfaces as populations and the wavefunction's coherences, the active
    /// surface energy as quantum energy, and `H_c(z)`; all weighted per branch in
    /// deterministic mode.
    mutating func collect(into collector: inout OutputCollector, index: Int, time: Double) {
        collector.collectTime(index, time: time)
        SurfaceHoppingKernels.diabaticDensityMatrix(eigenvectors: eigenvectors, realEigenvectors: realEigenvectors,
                                                    wfAdb: wfAdb, wfDb: wfDb, activeSurface: activeSurface,
                                                    weights: settings.deterministic ? weights : nil, d: &populations,
                                                    into: &rho)
        collector.collectDensityMatrix(index, rho)
        QuantumKernels.expectation(activeWavefunction, hamiltonian, into: &energy, scratch: &scratch)
        for t in 0..<rows { energy[t] *= weights[t] }
        collector.collectQuantumEnergy(index, energy)
        model.classicalEnergy(z: z, into: &energy)
        for t in 0..<rows { energy[t] *= weights[t] }
        collector.collectClassicalEnergy(index, energy)
    }
}
