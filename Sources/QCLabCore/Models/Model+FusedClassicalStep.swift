/// Models that move `z` through one RK4 step of their own, fused with the rebuild of `H(z)`.
///
/// The fused step rebuilds `H(z)` at the new coordinates; it is faster than the generic four-stage
/// ``Model/classicalForce(z:into:)`` / ``Model/quantumClassicalForce(z:wavefunction:into:)`` route
/// and equal to it up to rounding. The algorithms use the fused step whenever a model provides one
/// (and no extra force, such as the gauge-field force, is asked for).
@_spi(Benchmarks) public protocol FusedClassicalDynamics {
    /// The step of size `dt` for batches of `batchSize` trajectories, prepared once (with
    /// all its workspace) and applied every step.
    func fusedClassicalStep(dt: Double, batchSize: Int) -> any FusedClassicalStep
}

/// One prepared classical step; see ``FusedClassicalDynamics``.
@_spi(Benchmarks) public protocol FusedClassicalStep {
    /// The step size it was prepared for.
    var dt: Double { get }
    /// Advances `z` by one RK4 step with the quantum-classical force taken in `psi` (held
    /// fixed through the stages, as QC Lab holds it), and writes `H_q + H_qc(z_new)` into
    /// `hamiltonian`. Allocates nothing.
    mutating func advance(z: inout ComplexBatch, psi: ComplexBatch, hamiltonian: inout ComplexBatch)
}
