/// Complex avoided crossing C, with the phase `φ = W (y + x y / 5)`.
///
/// It has the Gaussian mixing angle (``GaussianComplexAvoidedCrossing``). Krotz & Tempelaar, Phys.
/// Rev. A 109, 032210 (2024).
package typealias ComplexAvoidedCrossingC = GaussianComplexAvoidedCrossing<TurningCrossingPhase>

/// Model C's phase `φ = W (y + x y / 5)`: its gradient turns with `x`.
package enum TurningCrossingPhase: GaussianCrossingPhase {
    package static var modelName: String { "ComplexAvoidedCrossingC" }
    package static func phase(x: Double, y: Double, W: Double) -> (phi: Double, dPhiX: Double, dPhiY: Double) {
        (W * (y + x * y / 5.0), W * y / 5.0, W * (1.0 + x / 5.0))
    }
}
