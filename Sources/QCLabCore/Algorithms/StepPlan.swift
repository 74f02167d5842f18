import CQCLabKernels

/// The fast paths one batch takes, chosen once when the batch is set up: which classical
/// integrator, eigensolver and quantum kernels its steps use, and whether its products
/// skip imaginary parts.
///
/// Every plan gives the same dynamics up to rounding: the ``generic`` plan (four-stage
/// RK4, LAPACK, the separate kernels, full complex products) is the reference the others
/// are tested against, hop for hop. An algorithm picks the fastest plan that applies
/// (``fastest(model:diagonalizes:gaugeFixing:gaugeFieldForce:)``) unless its settings force
/// one; the run's log names the plan.
@_spi(Benchmarks) public struct StepPlan: Sendable, Hashable, CustomStringConvertible {
    /// How the classical coordinates move through a step.
    @_spi(Benchmarks) public enum ClassicalIntegrator: String, Sendable, Hashable, CaseIterable {
        /// QC Lab's four-stage RK4 through the model's forces (``ClassicalRK4``).
        case rk4
        /// The model's own fused step (``FusedClassicalDynamics``): RK4 in closed form
        /// or fused passes, with `H(z)` rebuilt in the same pass.
        case fused
    }

    /// How the wavefunction, eigenpairs, gauge and hop probabilities of a surface-hopping
    /// step, or the wavefunction of a mean-field step, are computed: by separate kernels, or
    /// fused into one pass.
    @_spi(Benchmarks) public enum QuantumKernelFusion: String, Sendable, Hashable, CaseIterable {
        /// One kernel per task: propagator, eigensolver, gauge fixing, probabilities, targets.
        case separate
        /// One fused pass for two-state real Hamiltonians with `sign_overlap` gauge fixing
        /// (falling back to the separate kernels for a step it declines).
        case fusedTwoState
        /// The whole step in one pass, the classical step included, for two-state scattering
        /// models whose surfaces are built into the C kernels (Tully's problems): the RK4
        /// stages with the surfaces evaluated inline, `H(z)`, then what ``fusedTwoState``
        /// does (falling back to the model's fused classical step and the separate kernels
        /// for a step it declines). Needs the ``ClassicalIntegrator/fused`` integrator.
        case fusedScatteringStep
        /// Mean field only: whole steps over tiles of 8 trajectories whose coordinates stay
        /// in the cache for all the steps between two collect points (the model's closed-form
        /// classical step with its products and sums fused, `H(z)`, the wavefunction's RK4
        /// step), for harmonic baths under a diagonal linear coupling
        /// (``DiagonalLinearHarmonicModel``). The fastest plan on CPUs with fused
        /// multiply-adds. Needs the ``ClassicalIntegrator/fused`` integrator.
        case tiledMeanField
    }

    package var classical: ClassicalIntegrator
    /// The eigensolver, or `nil` for algorithms that do not diagonalize (mean field).
    package var eigensolver: BatchEigensolver.Strategy?
    package var quantum: QuantumKernelFusion
    /// Whether products with `H` and the eigenvectors skip their imaginary parts (exact
    /// zeros for a real Hamiltonian, up to the ±1 of sign gauges).
    package var realProducts: Bool

    @_spi(Benchmarks) public init(
        classical: ClassicalIntegrator, eigensolver: BatchEigensolver.Strategy?, quantum: QuantumKernelFusion,
        realProducts: Bool
    ) {
        self.classical = classical
        self.eigensolver = eigensolver
        self.quantum = quantum
        self.realProducts = realProducts
    }

    /// The reference plan: RK4, LAPACK (when diagonalizing), separate kernels, complex products.
    package static func generic(diagonalizes: Bool) -> StepPlan {
        StepPlan(classical: .rk4, eigensolver: diagonalizes ? .lapack : nil, quantum: .separate, realProducts: false)
    }

    /// Every plan that applies to `model`: for an algorithm that diagonalizes (with
    /// `gaugeFixing`) or not, with the gauge-field force in the classical step or not.
    package static func applicablePlans(
        model: any Model, diagonalizes: Bool,
        gaugeFixing: FewestSwitchesSurfaceHopping.GaugeFixing? = nil,
        gaugeFieldForce: Bool = false
    ) -> [StepPlan] {
        let n = model.numQuantumStates, real = model.hamiltonianIsReal, structure = HamiltonianStructure.of(model)
        let integrators = ClassicalIntegrator.allCases.filter {
            $0 == .rk4 || (fusedClassicalDynamics(of: model) != nil && !gaugeFieldForce)
        }
        let solvers: [BatchEigensolver.Strategy?] =
            diagonalizes
            ? BatchEigensolver.Strategy.allCases.filter { $0.applies(states: n, isReal: real, structure: structure) }
            : [nil]
        // Sign gauges keep a real Hamiltonian's eigenvectors real; phase_overlap does not.
        let realAllowed = real && gaugeFixing != .phaseOverlap
        var plans: [StepPlan] = []
        for classical in integrators {
            for solver in solvers {
                for realProducts in realAllowed ? [false, true] : [false] {
                    for quantum in QuantumKernelFusion.allCases {
                        let plan = StepPlan(
                            classical: classical, eigensolver: solver, quantum: quantum,
                            realProducts: realProducts)
                        if quantum == .tiledMeanField {
                            guard !diagonalizes, classical == .fused, model is any DiagonalLinearHarmonicModel
                            else { continue }
                        } else if quantum != .separate {
                            // The fused kernels solve 2 x 2 problems in closed form and multiply
                            // real eigenvectors; their fallback must be the same arithmetic.
                            guard diagonalizes, n == 2, realProducts, gaugeFixing == .signOverlap,
                                solver == .closedFormTwoByTwo
                            else { continue }
                        }
                        if quantum == .fusedScatteringStep {
                            guard classical == .fused, model is any BuiltInScatteringSurfaces else { continue }
                        }
                        plans.append(plan)
                    }
                }
            }
        }
        return plans
    }

    /// The fastest plan that applies (see ``applicablePlans(model:diagonalizes:gaugeFixing:gaugeFieldForce:)``).
    package static func fastest(
        model: any Model, diagonalizes: Bool,
        gaugeFixing: FewestSwitchesSurfaceHopping.GaugeFixing? = nil,
        gaugeFieldForce: Bool = false
    ) -> StepPlan {
        let n = model.numQuantumStates, real = model.hamiltonianIsReal
        let realProducts = real && gaugeFixing != .phaseOverlap
        let solver =
            diagonalizes
            ? BatchEigensolver.Strategy.fastest(states: n, isReal: real, structure: .of(model)) : nil
        let classical: ClassicalIntegrator =
            fusedClassicalDynamics(of: model) != nil && !gaugeFieldForce ? .fused : .rk4
        let twoState = diagonalizes && realProducts && gaugeFixing == .signOverlap && solver == .closedFormTwoByTwo
        let wholeStep = twoState && classical == .fused && model is any BuiltInScatteringSurfaces
        // Without fused multiply-add instructions the tiled step calls libm's fma, and is slower.
        let tiled =
            !diagonalizes && classical == .fused && model is any DiagonalLinearHarmonicModel
            && qclab_cpu_has_fma() != 0
        return StepPlan(
            classical: classical, eigensolver: solver,
            quantum: tiled
                ? .tiledMeanField : wholeStep ? .fusedScatteringStep : (twoState ? .fusedTwoState : .separate),
            realProducts: realProducts)
    }

    /// Throws ``QCLabError/invalidSetting(_:_:)`` unless this plan is one of `plans`.
    package func check(in plans: [StepPlan], for model: any Model) throws {
        guard plans.contains(self) else {
            throw QCLabError.invalidSetting("step plan", "\(self) does not apply to \(model.modelName)")
        }
    }

    @_spi(Benchmarks) public var description: String {
        var parts = ["classical \(classical == .rk4 ? "RK4" : "fused model step")"]
        if let eigensolver { parts.append("eigensolver \(eigensolver)") }
        if eigensolver != nil {
            switch quantum {
            case .separate: parts.append("separate quantum kernels")
            case .fusedTwoState: parts.append("fused two-state quantum kernels")
            case .fusedScatteringStep: parts.append("whole step fused (two-state scattering)")
            case .tiledMeanField: break
            }
        }
        if quantum == .tiledMeanField { parts.append("whole steps fused over tiles of trajectories") }
        parts.append(realProducts ? "real products" : "complex products")
        return parts.joined(separator: ", ")
    }
}
