/// Complex avoided crossing C: model B's Gaussian mixing angle with the phase
/// `φ = W (y + x y / 5)`, whose gradient turns with `x`. Krotz & Tempelaar,
/// Phys. Rev. A 109, 032210 (2024).
public struct ComplexAvoidedCrossingC: ComplexAvoidedCrossing {
    public var modelName: String { "ComplexAvoidedCrossingC" }
    public let A, Bx, By, W, mass: Double
    public let initialPosition: (x: Double, y: Double), initialMomentum: (x: Double, y: Double)
    public let twoLevel: TwoLevelHamiltonian

    public init(A: Double = 10.0, Bx: Double = 1.0, By: Double = 0.25, W: Double = 1.5, mass: Double = 1.0,
                initialPosition: (x: Double, y: Double) = (-4.0, -2.0), initialMomentum: (x: Double, y: Double) = (16.0, 0.0),
                twoLevel: TwoLevelHamiltonian = TwoLevelHamiltonian()) {
        (self.A, self.Bx, self.By, self.W, self.mass) = (A, Bx, By, W, mass)
        (self.initialPosition, self.initialMomentum, self.twoLevel) = (initialPosition, initialMomentum, twoLevel)
    }

    /// Reads QC Lab's constants (as model B's).
    public init(constants: ModelConstants) throws {
        var c = constants
        let shared = try CrossingConstants(&c, position: (-4.0, -2.0))
        self.init(A: try c.double("A", default: 10.0), Bx: try c.double("Bx", default: 1.0),
                  By: try c.double("By", default: 0.25), W: try c.double("W", default: 1.5), mass: shared.mass,
                  initialPosition: shared.position, initialMomentum: shared.momentum, twoLevel: shared.twoLevel)
        try c.finish()
    }

    public func mixingAngles(x: Double, y: Double) -> MixingAngles {
        gaussianMixingAngles(x: x, y: y, Bx: Bx, By: By, phi: W * (y + x * y / 5.0), dPhiX: W * y / 5.0,
                             dPhiY: W * (1.0 + x / 5.0))
    }
}

extension ComplexAvoidedCrossingC: JobDescribableModel {
    public var jobConstants: [String: ParameterValue] { crossingJobConstants(["A": A, "Bx": Bx, "By": By, "W": W]) }
}
