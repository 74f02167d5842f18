import Numerics

/// A model's own focused sampling of MSMASH's initial diabatic wavefunctions.
///
/// This is QC Lab's `sample_wf_db_msmash` ingredient, for a model whose diabatic basis is not the
/// site basis in which the default sampling focuses. None of QC Lab 1.3.0's built-in models has
/// one.
package protocol MSMASHWavefunctionSampling: Model {
    /// The initial diabatic wavefunction of each seed's trajectory, given the job's `wf_db`.
    func sampleMSMASHWavefunction(initial: [Complex<Double>], seeds: [Int]) -> ComplexBatch
}
