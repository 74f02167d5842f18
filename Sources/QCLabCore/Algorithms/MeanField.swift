import Numerics

/// Mean-field (Ehrenfest) dynamics, QC Lab 1.3.0's `MeanField`.
///
/// Every trajectory's classical coordinates feel the quantum-classical force averaged over its own
/// wavefunction, which evolves under the Hamiltonian of those coordinates: RK4 for `z`, then RK4
/// for `wf_db` with the Hamiltonian of the step's start. Tully, Faraday Discuss. 110, 407 (1998).
public struct MeanField: StepPlanningAlgorithm {
    public var algorithmName: String { "MeanField" }
    /// The step plan every batch uses, or `nil` for the fastest that applies.
    package var forcedStepPlan: StepPlan?

    public init() {}

    package init(stepPlan: StepPlan?) { forcedStepPlan = stepPlan }
    public func branchCount(for model: any Model) -> Int { 1 }

    /// Every step plan that applies to `model`.
    package func applicablePlans(for model: any Model) -> [StepPlan] {
        StepPlan.applicablePlans(model: model, diagonalizes: false)
    }

    package func stepPlan(for model: any Model) -> StepPlan? {
        forcedStepPlan ?? StepPlan.fastest(model: model, diagonalizes: false)
    }

    /// QC Lab's mean-field collect recipe: `t`, `dm_db = ψ ψ†`, `<ψ|H|ψ>` and `H_c(z)`.
    public func defaultOutputs(for model: any Model) -> [Output] {
        [.time, .meanFieldDensityMatrix(states: model.numQuantumStates), .meanFieldQuantumEnergy, .classicalEnergy]
    }

    public func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData {
        let plan = stepPlan(for: model)!
        try plan.check(in: applicablePlans(for: model), for: model)
        var batch = MeanFieldBatch(
            model: model, seeds: seeds, initialWavefunction: initialWavefunction, dt: grid.dtUpdate,
            plan: plan)
        try ModelChecks.check(model, z: batch.z, hamiltonian: batch.hamiltonian)
        return try runTimeLoop(batch: &batch, grid: grid, outputs: outputs, seeds: seeds)
    }
}

/// The state of one batch of mean-field trajectories, with every workspace a step needs;
/// a step allocates nothing.
@_spi(Benchmarks) public struct MeanFieldBatch: TrajectoryBatch {
    package let model: any Model
    /// Classical coordinates `z`.
    package private(set) var z: ComplexBatch
    /// Diabatic wavefunctions `wf_db`.
    package private(set) var wavefunction: ComplexBatch
    /// `H_q + H_qc(z)` of every trajectory.
    package private(set) var hamiltonian: ComplexBatch
    private var classical: ClassicalRK4
    private var k1, k2, k3, k4, probe: ComplexBatch
    /// The fast paths this batch takes.
    package let plan: StepPlan
    /// The model's fused classical step, when it has one, and the Hamiltonian it writes.
    private let fusedModel: (any FusedClassicalDynamics)?
    private var fusedStep: (any FusedClassicalStep)?
    private var nextHamiltonian: ComplexBatch
    /// With the ``StepPlan/QuantumKernelFusion/tiledMeanField`` plan, the model's closed-form
    /// step, which advances whole steps tile by tile.
    private var tiledStep: ClosedFormRK4Step?
    /// A real model's H has an imaginary part of exact zeros, which the products skip.
    private let realHamiltonian: Bool

    /// Draws the initial conditions of `seeds` and starts every wavefunction.
    ///
    /// Every wavefunction starts at `initialWavefunction`. With `dt`, whatever a step of that size
    /// needs is prepared here, so that no step allocates. Without a `plan`, the fastest that
    /// applies.
    @_spi(Benchmarks) public init(
        model: any Model, seeds: [Int], initialWavefunction: [Complex<Double>], dt: Double? = nil,
        plan: StepPlan? = nil
    ) {
        let plan = plan ?? StepPlan.fastest(model: model, diagonalizes: false)
        self.plan = plan
        let batch = seeds.count, n = model.numQuantumStates
        self.model = model
        z = model.initialClassicalCoordinates(seeds: seeds)
        wavefunction = ComplexBatch(repeating: initialWavefunction, batchSize: batch)
        hamiltonian = ComplexBatch(components: n * n, batchSize: batch)
        model.quantumHamiltonian(z: z, into: &hamiltonian)
        classical = ClassicalRK4(coordinates: model.numClassicalCoordinates, batchSize: batch)
        k1 = ComplexBatch(components: n, batchSize: batch)
        (k2, k3, k4, probe) = (k1, k1, k1, k1)
        let fused = plan.classical == .fused ? fusedClassicalDynamics(of: model) : nil
        fusedModel = fused
        nextHamiltonian = hamiltonian
        realHamiltonian = plan.realProducts
        // The tiled plan takes the model's closed-form step itself (and never the fused step).
        if let dt {
            if plan.quantum == .tiledMeanField {
                tiledStep = Self.closedFormStep(of: model, dt: dt, batchSize: batch)
            } else {
                fusedStep = fused?.fusedClassicalStep(dt: dt, batchSize: batch)
            }
        }
    }

    /// The closed-form step of a model the tiled plan applies to (a ``DiagonalLinearHarmonicModel``).
    private static func closedFormStep(of model: any Model, dt: Double, batchSize: Int) -> ClosedFormRK4Step {
        (model as! any DiagonalLinearHarmonicModel).closedFormRK4Step(dt: dt, batchSize: batchSize)
    }

    /// `count` steps with no collect point between them: with the tiled plan, tile by tile.
    @_spi(Benchmarks) public mutating func steps(_ count: Int, dt: Double, collectsAfter: Bool) {
        guard plan.quantum == .tiledMeanField else {
            for _ in 0..<count { step(dt: dt) }
            return
        }
        if tiledStep?.dt != dt { tiledStep = Self.closedFormStep(of: model, dt: dt, batchSize: z.batchSize) }
        tiledStep!.advanceMeanField(
            steps: count, z: &z, psi: &wavefunction, hamiltonian: &hamiltonian, realProducts: realHamiltonian)
    }

    /// One update step: `z` by RK4 in the current wavefunction, then the wavefunction by
    /// RK4 under the Hamiltonian of the step's start, then the new Hamiltonian.
    @_spi(Benchmarks) public mutating func step(dt: Double) {
        if plan.quantum == .tiledMeanField { return steps(1, dt: dt, collectsAfter: false) }
        if let fusedModel {
            if fusedStep?.dt != dt { fusedStep = fusedModel.fusedClassicalStep(dt: dt, batchSize: z.batchSize) }
            fusedStep!.advance(z: &z, psi: wavefunction, hamiltonian: &nextHamiltonian)
        } else {
            classical.step(model: model, z: &z, psi: wavefunction, dt: dt)
        }
        // k = -i H ψ at ψ, ψ + dt/2 k1, ψ + dt/2 k2, ψ + dt k3 (QC Lab's update_wf_db_rk4).
        ComplexBatchAlgebra.multiply(hamiltonian, wavefunction, into: &k1, real: realHamiltonian)
        ComplexBatchAlgebra.timesMinusI(&k1)
        ComplexBatchAlgebra.axpy(wavefunction, 0.5 * dt, k1, into: &probe)
        ComplexBatchAlgebra.multiply(hamiltonian, probe, into: &k2, real: realHamiltonian)
        ComplexBatchAlgebra.timesMinusI(&k2)
        ComplexBatchAlgebra.axpy(wavefunction, 0.5 * dt, k2, into: &probe)
        ComplexBatchAlgebra.multiply(hamiltonian, probe, into: &k3, real: realHamiltonian)
        ComplexBatchAlgebra.timesMinusI(&k3)
        ComplexBatchAlgebra.axpy(wavefunction, dt, k3, into: &probe)
        ComplexBatchAlgebra.multiply(hamiltonian, probe, into: &k4, real: realHamiltonian)
        ComplexBatchAlgebra.timesMinusI(&k4)
        ComplexBatchAlgebra.accumulate(&wavefunction, dt * 0.16666666666666666, k1)
        ComplexBatchAlgebra.accumulate(&wavefunction, dt * 0.3333333333333333, k2)
        ComplexBatchAlgebra.accumulate(&wavefunction, dt * 0.3333333333333333, k3)
        ComplexBatchAlgebra.accumulate(&wavefunction, dt * 0.16666666666666666, k4)
        if fusedModel != nil {
            swap(&hamiltonian, &nextHamiltonian)
        } else {
            model.quantumHamiltonian(z: z, into: &hamiltonian)
        }
    }

    /// The state outputs see at a collect point.
    @_spi(Benchmarks) public func collectState(time: Double) -> CollectState {
        CollectState(model: model, time: time, z: z, wfDb: wavefunction, hamiltonian: hamiltonian)
    }
}
