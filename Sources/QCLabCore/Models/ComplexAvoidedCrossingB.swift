/// Complex avoided crossing B: the Gaussian mixing angle (``GaussianComplexAvoidedCrossing``)
/// with the phase `φ = W y`. Krotz & Tempelaar, Phys. Rev. A 109, 032210 (2024).
public typealias ComplexAvoidedCrossingB = GaussianComplexAvoidedCrossing<StraightCrossingPhase>

/// Model B's phase `φ = W y`: its gradient points along `y` everywhere.
public enum StraightCrossingPhase: GaussianCrossingPhase {
    public static var modelName: String { "ComplexAvoidedCrossingB" }
    public static func phase(x: Double, y: Double, W: Double) -> (phi: Double, dPhiX: Double, dPhiY: Double) {
        (W * y, 0, W)
    }
}
