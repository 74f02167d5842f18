/// A model that states its constants by QC Lab's names: the job file's `model.constants`
/// and `model.init_classical` that rebuild it.
///
/// Results record the job they come from (``Simulation/jobRecord``) in the job file's own
/// language, so that a mismatch is named as the job file names it
/// (`model.constants.l_reorg`). Every built-in model conforms. A model written in Swift
/// that does not is recorded by its Swift property names instead (see ``Simulation/jobRecord``).
package protocol JobDescribableModel: Model {
    /// Every constant the model reads from a job file, by its QC Lab name, with the value
    /// this model uses (defaults included): what ``ModelRegistry/make(name:constants:initialDistribution:)``
    /// takes to build the same model.
    var jobConstants: [String: ParameterValue] { get }
    /// How the classical coordinates are drawn (`model.init_classical`).
    var initialDistribution: InitialClassicalDistribution { get }
}

extension HarmonicBathModel {
    package var initialDistribution: InitialClassicalDistribution { bath.distribution }
}

extension TwoStateScatteringModel {
    package var initialDistribution: InitialClassicalDistribution { .definitePositionMomentum }

    /// The constants every Tully problem has (``readScatteringConstants(_:)``).
    package var scatteringJobConstants: [String: ParameterValue] {
        ["mass": .number(mass), "init_position": .number(initPosition), "init_momentum": .number(initMomentum)]
    }
}

extension ComplexAvoidedCrossing {
    package var initialDistribution: InitialClassicalDistribution { .wignerCoherentState }

    /// The constants every crossing has (``CrossingConstants``), with `own`, the model's.
    package func crossingJobConstants(_ own: [String: Double]) -> [String: ParameterValue] {
        own.merging([
            "mass": mass, "init_position_x": initialPosition.x, "init_position_y": initialPosition.y,
            "init_momentum_x": initialMomentum.x, "init_momentum_y": initialMomentum.y,
            "two_level_00": twoLevel.e00, "two_level_11": twoLevel.e11,
            "two_level_01_re": twoLevel.couplingRe, "two_level_01_im": twoLevel.couplingIm,
        ]) { mine, _ in mine }.mapValues(ParameterValue.number)
    }
}
