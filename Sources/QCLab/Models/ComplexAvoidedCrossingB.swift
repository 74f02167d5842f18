#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Complex avoided crossing B: a Gaussian mixing angle `θ = -π e^{-(Bx x² + By y²)/3}`
/// and `φ = W y`. Krotz & Tempelaar, Phys. Rev. A 109, 032210 (2024).
public struct ComplexAvoidedCrossingB: ComplexAvoidedCrossing {
    public var modelName: String { "ComplexAvoidedCrossingB" }
    public let A, Bx, By, W, mass: Double
    public let initialPosition: (x: Double, y: Double), initialMomentum: (x: Double, y: Double)
    public let twoLevel: TwoLevelHamiltonian

    public init(A: Double = 10.0, Bx: Double = 1.0, By: Double = 0.25, W: Double = 1.5, mass: Double = 1.0,
                initialPosition: (x: Double, y: Double) = (-4.0, -2.0), initialMomentum: (x: Double, y: Double) = (16.0, 0.0),
                twoLevel: TwoLevelHamiltonian = TwoLevelHamiltonian()) {
        (self.A, self.Bx, self.By, self.W, self.mass) = (A, Bx, By, W, mass)
        (self.initialPosition, self.initialMomentum, self.twoLevel) = (initialPosition, initialMomentum, twoLevel)
    }

    /// Reads QC Lab's constants (`A`, `Bx`, `By`, `W`, `mass`, `init_position_x/y`,
    /// `init_momentum_x/y`, and `two_level_*`).
    public init(constants: ModelConstants) throws {
        var c = constants
        let shared = try CrossingConstants(&c, position: (-4.0, -2.0))
        self.init(A: try c.double("A", default: 10.0), Bx: try c.double("Bx", default: 1.0),
                  By: try c.double("By", default: 0.25), W: try c.double("W", default: 1.5), mass: shared.mass,
                  initialPosition: shared.position, initialMomentum: shared.momentum, twoLevel: shared.twoLevel)
        try c.finish()
    }

    public func mixingAngles(x: Double, y: Double) -> MixingAngles {
        gaussianMixingAngles(x: x, y: y, Bx: Bx, By: By, phi: W * y, dPhiX: 0, dPhiY: W)
    }
}

/// `θ = -π g`, `∇θ = (2π/3) g (Bx x, By y)` with `g = e^{-(Bx x² + By y²)/3}` (models B and C).
func gaussianMixingAngles(x: Double, y: Double, Bx: Double, By: Double, phi: Double, dPhiX: Double,
                          dPhiY: Double) -> MixingAngles {
    let gaussian = exp(-(Bx * (x * x) + By * (y * y)) / 3.0)
    let slope = 2.0 * Double.pi / 3.0
    return MixingAngles(theta: -Double.pi * gaussian, dThetaX: slope * Bx * x * gaussian,
                        dThetaY: slope * By * y * gaussian, phi: phi, dPhiX: dPhiX, dPhiY: dPhiY)
}

extension ComplexAvoidedCrossingB: JobDescribableModel {
    public var jobConstants: [String: ParameterValue] { crossingJobConstants(["A": A, "Bx": Bx, "By": By, "W": W]) }
}
