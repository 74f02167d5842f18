#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Complex avoided crossing A, a crossing along `x` whose coupling winds in `y`.
///
/// `θ = (π/2)(erf(B x) + 1)`, `φ = W y`. Krotz & Tempelaar, Phys. Rev. A 109, 032210 (2024).
package struct ComplexAvoidedCrossingA: ComplexAvoidedCrossing {
    package var modelName: String { "ComplexAvoidedCrossingA" }
    package let A, B, W, mass: Double
    package let initialPosition: (x: Double, y: Double), initialMomentum: (x: Double, y: Double)
    package let twoLevel: TwoLevelHamiltonian
    package let angleMemo = MixingAngleMemo()

    package init(
        A: Double = 20.0, B: Double = 1.0, W: Double = 2.0, mass: Double = 1.0,
        initialPosition: (x: Double, y: Double) = (-3.0, 0.0), initialMomentum: (x: Double, y: Double) = (16.0, 0.0),
        twoLevel: TwoLevelHamiltonian = TwoLevelHamiltonian()
    ) {
        (self.A, self.B, self.W, self.mass) = (A, B, W, mass)
        (self.initialPosition, self.initialMomentum, self.twoLevel) = (initialPosition, initialMomentum, twoLevel)
    }

    /// Reads QC Lab's constants (`A`, `B`, `W`, `mass`, `init_position_x/y`, `init_momentum_x/y`,
    /// and `h_q_two_level`'s `two_level_*`).
    package init(constants: ModelConstants) throws {
        var c = constants
        let shared = try CrossingConstants(&c, position: (-3.0, 0.0))
        self.init(
            A: try c.double("A", default: 20.0), B: try c.double("B", default: 1.0),
            W: try c.double("W", default: 2.0), mass: shared.mass, initialPosition: shared.position,
            initialMomentum: shared.momentum, twoLevel: shared.twoLevel)
        try c.finish()
    }

    package func mixingAngles(x: Double, y: Double) -> MixingAngles {
        MixingAngles(
            theta: 0.5 * Double.pi * (erf(B * x) + 1.0),
            dThetaX: Double.pi.squareRoot() * B * exp(-((B * x) * (B * x))), dThetaY: 0,
            phi: W * y, dPhiX: 0, dPhiY: W)
    }
}

extension ComplexAvoidedCrossingA: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] { crossingJobConstants(["A": A, "B": B, "W": W]) }
}
