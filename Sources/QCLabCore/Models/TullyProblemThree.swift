import CQCLabKernels

/// Tully's third problem, an extended coupling with reflection.
///
/// `V11 = A`, `V22 = -A`, `V12 = B e^{Cq}` for `q < 0`, `B (2 - e^{-Cq})` for `q >= 0`. Tully, J.
/// Chem. Phys. 93, 1061 (1990).
package struct TullyProblemThree: TwoStateScatteringModel {
    package var modelName: String { "TullyProblemThree" }
    package let initMomentum, initPosition, mass, A, B, C: Double

    package init(
        initMomentum: Double = 10.0, initPosition: Double = -25.0, mass: Double = 2000.0,
        A: Double = 0.0006, B: Double = 0.1, C: Double = 0.9
    ) {
        (self.initMomentum, self.initPosition, self.mass) = (initMomentum, initPosition, mass)
        (self.A, self.B, self.C) = (A, B, C)
    }

    /// Reads QC Lab's constants (`init_momentum`, `init_position`, `mass`, `A`, `B`, `C`).
    package init(constants: ModelConstants) throws {
        var c = constants
        let (mass, position, momentum) = try readScatteringConstants(&c)
        self.init(
            initMomentum: momentum, initPosition: position, mass: mass, A: try c.double("A", default: 0.0006),
            B: try c.double("B", default: 0.1), C: try c.double("C", default: 0.9))
        try c.finish()
    }

}

extension TullyProblemThree: BuiltInScatteringSurfaces {
    package var surfaces: qclab_scattering_surfaces {
        qclab_scattering_surfaces(kind: Int32(QCLAB_TULLY_THREE), a: A, b: B, c: C, d: 0, e0: 0)
    }
}

extension TullyProblemThree: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] {
        scatteringJobConstants.merging(["A": .number(A), "B": .number(B), "C": .number(C)]) { $1 }
    }
}
