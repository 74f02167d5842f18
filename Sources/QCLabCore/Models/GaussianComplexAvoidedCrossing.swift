#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The phase `φ(x, y)` of a Gaussian complex avoided crossing, the one thing in which
/// models B and C differ.
package protocol GaussianCrossingPhase: Sendable {
    /// QC Lab's class name of the model with this phase.
    static var modelName: String { get }
    /// `φ` and its gradient at `(x, y)` for the constant `W`.
    static func phase(x: Double, y: Double, W: Double) -> (phi: Double, dPhiX: Double, dPhiY: Double)
}

/// A complex avoided crossing with a Gaussian mixing angle: QC Lab's models B and C.
///
/// The mixing angle is `θ = -π g`, `g = e^{-(Bx x² + By y²)/3}`, and the phase `φ` is given by
/// `Phase` (``ComplexAvoidedCrossingB``, ``ComplexAvoidedCrossingC``). Krotz & Tempelaar, Phys.
/// Rev. A 109, 032210 (2024).
package struct GaussianComplexAvoidedCrossing<Phase: GaussianCrossingPhase>: ComplexAvoidedCrossing {
    package var modelName: String { Phase.modelName }
    package let A, Bx, By, W, mass: Double
    package let initialPosition: (x: Double, y: Double), initialMomentum: (x: Double, y: Double)
    package let twoLevel: TwoLevelHamiltonian
    package let angleMemo = MixingAngleMemo()

    package init(
        A: Double = 10.0, Bx: Double = 1.0, By: Double = 0.25, W: Double = 1.5, mass: Double = 1.0,
        initialPosition: (x: Double, y: Double) = (-4.0, -2.0), initialMomentum: (x: Double, y: Double) = (16.0, 0.0),
        twoLevel: TwoLevelHamiltonian = TwoLevelHamiltonian()
    ) {
        (self.A, self.Bx, self.By, self.W, self.mass) = (A, Bx, By, W, mass)
        (self.initialPosition, self.initialMomentum, self.twoLevel) = (initialPosition, initialMomentum, twoLevel)
    }

    /// Reads QC Lab's constants (`A`, `Bx`, `By`, `W`, `mass`, `init_position_x/y`,
    /// `init_momentum_x/y`, and `two_level_*`).
    package init(constants: ModelConstants) throws {
        var c = constants
        let shared = try CrossingConstants(&c, position: (-4.0, -2.0))
        self.init(
            A: try c.double("A", default: 10.0), Bx: try c.double("Bx", default: 1.0),
            By: try c.double("By", default: 0.25), W: try c.double("W", default: 1.5), mass: shared.mass,
            initialPosition: shared.position, initialMomentum: shared.momentum, twoLevel: shared.twoLevel)
        try c.finish()
    }

    /// `θ = -π g` with `∇θ = (2π/3) g (Bx x, By y)`, and `Phase`'s `φ`.
    package func mixingAngles(x: Double, y: Double) -> MixingAngles {
        let gaussian = exp(-(Bx * (x * x) + By * (y * y)) / 3.0)
        let slope = 2.0 * Double.pi / 3.0
        let (phi, dPhiX, dPhiY) = Phase.phase(x: x, y: y, W: W)
        return MixingAngles(
            theta: -Double.pi * gaussian, dThetaX: slope * Bx * x * gaussian,
            dThetaY: slope * By * y * gaussian, phi: phi, dPhiX: dPhiX, dPhiY: dPhiY)
    }
}

extension GaussianComplexAvoidedCrossing: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] { crossingJobConstants(["A": A, "Bx": Bx, "By": By, "W": W]) }
}
