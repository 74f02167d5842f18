import Numerics

/// A model's own momentum-rescaling direction for hops.
///
/// This is QC Lab's `rescaling_direction_fssh` ingredient: surface hopping rescales along it
/// instead of the derivative coupling. Models with complex Hamiltonians need it, for there the
/// derivative coupling is complex and its phase (the gauge) would decide the direction; see Krotz &
/// Tempelaar, Phys. Rev. A 109, 032210 (2024).
package protocol HopRescalingDirectionModel: Model {
    /// The direction in `z*` space in which trajectory `z` is rescaled when it hops from
    /// adiabatic state `from` to `to` (not vectorized: called per hop).
    func hopRescalingDirection(z: [Complex<Double>], from: Int, to: Int) -> [Complex<Double>]
}

extension Model {
    /// The rescaling direction of a hop from adiabatic state `from` (eigenvector `initial`)
    /// to `to` (eigenvector `final`), `energyGap = E_to - E_from` apart: the model's own
    /// (``HopRescalingDirectionModel``) when it has one, else the derivative coupling
    /// `<initial|∂H/∂z*|final> / energyGap` (QC Lab's `calc_resc_dir_z_fssh`).
    public func hopDirection(
        z: [Complex<Double>], initial: [Complex<Double>], final: [Complex<Double>], from: Int, to: Int,
        energyGap: Double
    ) -> [Complex<Double>] {
        if let own = self as? any HopRescalingDirectionModel {
            return own.hopRescalingDirection(z: z, from: from, to: to)
        }
        return couplingGradient(z: z, left: initial, right: final).map { $0.divided(by: energyGap) }
    }
}
