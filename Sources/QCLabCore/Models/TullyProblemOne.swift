import CQCLabKernels

/// Tully's first problem, a simple avoided crossing.
///
/// `V11 = A (1 - e^{-Bq})` for `q >= 0`, `-A (1 - e^{Bq})` for `q < 0`, `V22 = -V11`,
/// `V12 = C e^{-D q²}`. Tully, J. Chem. Phys. 93, 1061 (1990).
package struct TullyProblemOne: TwoStateScatteringModel {
    package var modelName: String { "TullyProblemOne" }
    package let initMomentum, initPosition, mass, A, B, C, D: Double

    package init(
        initMomentum: Double = 10.0, initPosition: Double = -25.0, mass: Double = 2000.0,
        A: Double = 0.01, B: Double = 1.6, C: Double = 0.005, D: Double = 1.0
    ) {
        (self.initMomentum, self.initPosition, self.mass) = (initMomentum, initPosition, mass)
        (self.A, self.B, self.C, self.D) = (A, B, C, D)
    }

    /// Reads QC Lab's constants (`init_momentum`, `init_position`, `mass`, `A`, `B`, `C`, `D`).
    package init(constants: ModelConstants) throws {
        var c = constants
        let (mass, position, momentum) = try readScatteringConstants(&c)
        self.init(
            initMomentum: momentum, initPosition: position, mass: mass, A: try c.double("A", default: 0.01),
            B: try c.double("B", default: 1.6), C: try c.double("C", default: 0.005),
            D: try c.double("D", default: 1.0))
        try c.finish()
    }

}

extension TullyProblemOne: BuiltInScatteringSurfaces {
    package var surfaces: qclab_scattering_surfaces {
        qclab_scattering_surfaces(kind: Int32(QCLAB_TULLY_ONE), a: A, b: B, c: C, d: D, e0: 0)
    }
}

extension TullyProblemOne: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] {
        scatteringJobConstants.merging(["A": .number(A), "B": .number(B), "C": .number(C), "D": .number(D)]) { $1 }
    }
}
