import CQCLabKernels

/// Tully's second problem, a dual avoided crossing.
///
/// `V11 = 0`, `V22 = -A e^{-B q²} + E_0`, `V12 = C e^{-D q²}`. Tully, J. Chem. Phys. 93, 1061
/// (1990).
package struct TullyProblemTwo: TwoStateScatteringModel {
    package var modelName: String { "TullyProblemTwo" }
    package let initMomentum, initPosition, mass, A, B, C, D, E0: Double

    package init(
        initMomentum: Double = 10.0, initPosition: Double = -25.0, mass: Double = 2000.0,
        A: Double = 0.1, B: Double = 0.28, C: Double = 0.015, D: Double = 0.06, E0: Double = 0.05
    ) {
        (self.initMomentum, self.initPosition, self.mass) = (initMomentum, initPosition, mass)
        (self.A, self.B, self.C, self.D, self.E0) = (A, B, C, D, E0)
    }

    /// Reads QC Lab's constants (`init_momentum`, `init_position`, `mass`, `A`, `B`, `C`, `D`, `E_0`).
    package init(constants: ModelConstants) throws {
        var c = constants
        let (mass, position, momentum) = try readScatteringConstants(&c)
        self.init(
            initMomentum: momentum, initPosition: position, mass: mass, A: try c.double("A", default: 0.1),
            B: try c.double("B", default: 0.28), C: try c.double("C", default: 0.015),
            D: try c.double("D", default: 0.06), E0: try c.double("E_0", default: 0.05))
        try c.finish()
    }

}

extension TullyProblemTwo: BuiltInScatteringSurfaces {
    package var surfaces: qclab_scattering_surfaces {
        qclab_scattering_surfaces(kind: Int32(QCLAB_TULLY_TWO), a: A, b: B, c: C, d: D, e0: E0)
    }
}

extension TullyProblemTwo: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] {
        scatteringJobConstants.merging([
            "A": .number(A), "B": .number(B), "C": .number(C), "D": .number(D),
            "E_0": .number(E0),
        ]) { $1 }
    }
}
