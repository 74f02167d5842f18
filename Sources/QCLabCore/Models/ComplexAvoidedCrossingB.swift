/// Complex avoided crossing B, with the phase `φ = W y`.
///
/// It has the Gaussian mixing angle (``GaussianComplexAvoidedCrossing``). Krotz & Tempelaar, Phys.
/// Rev. A 109, 032210 (2024).
package typealias ComplexAvoidedCrossingB = GaussianComplexAvoidedCrossing<StraightCrossingPhase>

/// Model B's phase `φ = W y`: its gradient points along `y` everywhere.
package enum StraightCrossingPhase: GaussianCrossingPhase {
    package static var modelName: String { "ComplexAvoidedCrossingB" }
    package static func phase(x: Double, y: Double, W: Double) -> (phi: Double, dPhiX: Double, dPhiY: Double) {
        (W * y, 0, W)
    }
}
