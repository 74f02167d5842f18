import CQCLabKernels

/// Tully's third problem, an extended coupling with reflection:
/// `V11 = A`, `V22 = -A`, `V12 = B e^{Cq}` for `q < 0`, `B (2 - e^{-Cq})` for `q >= 0`.
/// Tully, J. Chem. Phys. 93, 1061 (1990).
public struct TullyProblemThree: TwoStateScatteringModel {
    public var modelName: String { "TullyProblemThree" }
    public let initMomentum, initPosition, mass, A, B, C: Double

    public init(initMomentum: Double = 10.0, initPosition: Double = -25.0, mass: Double = 2000.0,
                A: Double = 0.0006, B: Double = 0.1, C: Double = 0.9) {
        (self.initMomentum, self.initPosition, self.mass) = (initMomentum, initPosition, mass)
        (self.A, self.B, self.C) = (A, B, C)
    }

    /// Reads QC Lab's constants (`init_momentum`, `init_position`, `mass`, `A`, `B`, `C`).
    public init(constants: ModelConstants) throws {
        var c = constants
        let (mass, position, momentum) = try readScatteringConstants(&c)
        self.init(initMomentum: momentum, initPosition: position, mass: mass, A: try c.double("A", default: 0.0006),
                  B: try c.double("B", default: 0.1), C: try c.double("C", default: 0.9))
        try c.finish()
    }

    /// The formulas above, in the vectorized C kernel `qclab_tully_three`.
    public func diabatic(positions q: UnsafeBufferPointer<Double>, into s: ScatteringSurfaceBuffers) {
        qclab_tully_three(Int64(q.count), q.baseAddress, A, B, C,
                          s.v11.baseAddress, s.v12.baseAddress, s.v22.baseAddress,
                          s.d11.baseAddress, s.d12.baseAddress, s.d22.baseAddress)
    }
}

extension TullyProblemThree: JobDescribableModel {
    public var jobConstants: [String: ParameterValue] {
        scatteringJobConstants.merging(["A": .number(A), "B": .number(B), "C": .number(C)]) { $1 }
    }
}
