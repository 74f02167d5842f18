import Numerics

/// A quantum-classical model: QC Lab's `Model` and its ingredients, evaluated for a whole
/// batch of trajectories at once.
///
/// The classical state is QC Lab's complex coordinate
/// `z = sqrt(m h / 2) q + i p / sqrt(2 m h)` (mass `m`, weight `h`), which moves as
/// `dz/dt = -i ∂H/∂z*`. The quantum Hamiltonian of a trajectory is `H_q + H_qc(z)`.
/// Batches are ``ComplexBatch``es: coordinates, wavefunctions and `N x N` matrices.
///
/// **The core** every model implements: the sizes, masses and weights,
/// ``quantumHamiltonian(z:into:)``, ``classicalEnergy(z:into:)``,
/// ``classicalForce(z:into:)``, ``quantumClassicalForce(z:wavefunction:into:)`` and
/// ``couplingGradient(z:left:right:)``.
///
/// **Optional capabilities**, each with a default:
/// - the correctness flags ``hamiltonianIsReal`` (default `false`) and
///   ``couplingGradientDependsOnZ`` (default `true`), both always safe and checked in debug builds;
/// - a hop rule, ``hopShift(z:direction:energyGap:)``: default ``NumericalHop``, QC Lab's
///   `numerical_fssh_hop` (what QC Lab does for a model without a `hop` ingredient);
///   ``FreeParticleHop`` and ``HarmonicHop`` are the closed forms a model can pick;
/// - initial conditions, ``initialClassicalCoordinates(seeds:)``: a model that states its
///   thermal energy (``ThermalModel``) gets ``MonteCarloBoltzmannSampler``, QC Lab's
///   Metropolis-Hastings default for a model without an `init_classical` ingredient; any
///   other model writes its own (``HarmonicBath/sample(seeds:)`` is the harmonic one);
/// - a hop rescaling direction (``HopRescalingDirectionModel``; default the derivative
///   coupling), a gauge-field force (``GaugeFieldForceModel``; default none) and fused fast
///   paths (``FusedClassicalDynamics``; default the generic RK4 step).
public protocol Model: Sendable {
    /// QC Lab's class name of the model, such as `SpinBoson`.
    var modelName: String { get }
    /// Number of quantum states `N` (`num_quantum_states`).
    var numQuantumStates: Int { get }
    /// Number of classical coordinates (`num_classical_coordinates`).
    var numClassicalCoordinates: Int { get }
    /// Mass of each classical coordinate (`classical_coordinate_mass`).
    var classicalCoordinateMass: [Double] { get }
    /// Weight `h` of each classical coordinate in `z` (`classical_coordinate_weight`).
    var classicalCoordinateWeight: [Double] { get }
    /// Whether `H_q + H_qc(z)` is real symmetric for every `z`, so that the real
    /// symmetric eigensolver applies.
    var hamiltonianIsReal: Bool { get }

    /// Initial classical coordinates for each seed (`init_classical`). Optional for a
    /// ``ThermalModel``, whose default is ``MonteCarloBoltzmannSampler``.
    func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch
    /// Writes `H_q + H_qc(z)` of every trajectory into `hamiltonian` (`N*N` components).
    func quantumHamiltonian(z: ComplexBatch, into hamiltonian: inout ComplexBatch)
    /// The classical energy `H_c(z)` of every trajectory (`h_c`).
    func classicalEnergy(z: ComplexBatch, into energy: inout [Double])
    /// The classical force `∂H_c/∂z*` (`dh_c_dzc`).
    func classicalForce(z: ComplexBatch, into force: inout ComplexBatch)
    /// The quantum-classical force `<ψ|∂H_qc/∂z*|ψ>` of every trajectory.
    func quantumClassicalForce(z: ComplexBatch, wavefunction: ComplexBatch, into force: inout ComplexBatch)
    /// Whether ``quantumClassicalForce(z:wavefunction:into:)`` depends on `z` at fixed `ψ`
    /// (QC Lab's `update_dh_qc_dzc`); when it does not, RK4 stages reuse the first force.
    var couplingGradientDependsOnZ: Bool { get }
    /// `g_ξ = Σ_ab conj(u_a) [∂H_qc/∂z*_ξ]_ab v_b` for one trajectory at `z`: the
    /// building block of derivative couplings, rescaling directions and gauge fixing.
    func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>]) -> [Complex<
        Double
    >]
    /// The shift of `z` along `direction` that conserves energy when the quantum energy
    /// rises by `energyGap` (QC Lab's `hop`), or `nil` when the hop is frustrated.
    /// Optional: the default is ``NumericalHop`` (QC Lab's `numerical_fssh_hop`).
    func hopShift(z: [Complex<Double>], direction: [Complex<Double>], energyGap: Double) -> [Complex<Double>]?
}

/// How the classical coordinates of a harmonic bath are drawn (QC Lab's `init_classical`).
public enum InitialClassicalDistribution: String, Sendable, CaseIterable {
    /// Boltzmann distribution of classical oscillators at `kBT` (`init_classical_boltzmann_harmonic`).
    case boltzmannHarmonic = "boltzmann_harmonic"
    /// Wigner distribution of thermal quantum oscillators (`init_classical_wigner_harmonic`).
    case wignerHarmonic = "wigner_harmonic"
    /// One definite position and momentum (`init_classical_definite_position_momentum`).
    case definitePositionMomentum = "definite_position_momentum"
    /// The Wigner distribution of a coherent state of harmonic oscillators
    /// (`init_classical_wigner_coherent_state`): the complex avoided crossings' wavepacket.
    case wignerCoherentState = "wigner_coherent_state"
}

/// An optional ingredient: the gauge-field force on the active surfaces (QC Lab's
/// `gauge_field_force`, used when `use_gauge_field_force` is set): the complex avoided
/// crossings have one; for models without one the setting changes nothing, as in QC Lab.
package protocol GaugeFieldForceModel: Model {
    /// Adds the gauge-field force of each trajectory's active adiabatic surface to `force`.
    func addGaugeFieldForce(z: ComplexBatch, activeSurface: [Int], to force: inout ComplexBatch)
    /// The quantum-classical force in `wavefunction` with the gauge-field force of the
    /// active surfaces added: what surface hopping integrates with `use_gauge_field_force`.
    /// The default calls ``Model/quantumClassicalForce(z:wavefunction:into:)`` and then
    /// ``addGaugeFieldForce(z:activeSurface:to:)``; a model whose two forces share work (the
    /// complex avoided crossings' mixing angles) does it once, with the same result.
    func quantumClassicalForce(
        z: ComplexBatch, wavefunction: ComplexBatch, activeSurface: [Int],
        withGaugeFieldInto force: inout ComplexBatch)
}

extension GaugeFieldForceModel {
    package func quantumClassicalForce(
        z: ComplexBatch, wavefunction: ComplexBatch, activeSurface: [Int],
        withGaugeFieldInto force: inout ComplexBatch
    ) {
        quantumClassicalForce(z: z, wavefunction: wavefunction, into: &force)
        addGaugeFieldForce(z: z, activeSurface: activeSurface, to: &force)
    }
}
