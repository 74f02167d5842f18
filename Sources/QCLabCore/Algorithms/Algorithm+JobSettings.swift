/// An algorithm that states its settings by QC Lab's names: the job file's
/// `algorithm.settings` that rebuild it.
///
/// Results record the job they come from (``Simulation/jobRecord``) in the job file's own
/// language, so that a mismatch is named as the job file names it
/// (`algorithm.settings.gauge_fixing`). Every built-in algorithm conforms. An algorithm
/// written in Swift that does not is recorded by its Swift property names instead.
package protocol JobDescribableAlgorithm: Algorithm {
    /// Every setting the algorithm reads from a job file, by its QC Lab name, with the
    /// value this algorithm uses (defaults included): what
    /// ``AlgorithmRegistry/make(name:settings:)`` takes to build the same algorithm.
    var jobSettings: [String: JSONValue] { get }
}

// Each built-in algorithm's job-file settings, declared once (``AlgorithmSetting``): the
// parser, the recorded job, the catalog and docs/Reference.md read these lists.

extension MeanField: JobDescribableAlgorithm, DeclaredAlgorithm {
    package static var jobName: String { "MeanField" }
    package static var summary: String { "mean-field (Ehrenfest) dynamics" }
    package static var defaults: MeanField { MeanField() }
    /// Mean field has no job settings.
    ///
    /// A forced ``StepPlan`` is not one either: it picks kernels for tests and benchmarks, with the
    /// same dynamics up to rounding.
    package static var settings: [AlgorithmSetting<MeanField>] { [] }
    public var jobSettings: [String: JSONValue] { declaredJobSettings }
}

extension FewestSwitchesSurfaceHopping: JobDescribableAlgorithm, DeclaredAlgorithm {
    package static var jobName: String { "FewestSwitchesSurfaceHopping" }
    package static var summary: String { "Tully's fewest-switches surface hopping" }
    package static var defaults: FewestSwitchesSurfaceHopping { FewestSwitchesSurfaceHopping() }
    package static var settings: [AlgorithmSetting<FewestSwitchesSurfaceHopping>] {
        [
            .flag(
                "fssh_deterministic", \.deterministic,
                "run one branch per quantum state, weighted by its initial population "
                    + "(num_trajs and batch_size must then be multiples of the number of states)"),
            .choice(
                "gauge_fixing", \.gaugeFixing,
                "how the phases of the adiabatic eigenvectors are fixed from step to step"),
            .flag("use_gauge_field_force", \.useGaugeFieldForce, "add the gauge-field force of complex Hamiltonians"),
        ]
    }
    public var jobSettings: [String: JSONValue] { declaredJobSettings }
}

extension MultiStateMappingApproachToSurfaceHopping: JobDescribableAlgorithm, DeclaredAlgorithm {
    package static var jobName: String { "MultiStateMappingApproachToSurfaceHopping" }
    package static var summary: String { "multi-state mapping approach to surface hopping (MSMASH)" }
    // The defaults are valid (the initializer throws only for counts out of range).
    package static var defaults: MultiStateMappingApproachToSurfaceHopping {
        try! MultiStateMappingApproachToSurfaceHopping()
    }
    package static var settings: [AlgorithmSetting<MultiStateMappingApproachToSurfaceHopping>] {
        [
            .choice(
                "gauge_fixing", \.gaugeFixing,
                "how the phases of the adiabatic eigenvectors are fixed from step to step"),
            .flag("use_gauge_field_force", \.useGaugeFieldForce, "add the gauge-field force of complex Hamiltonians"),
            .flag(
                "reverse_frustrated_hops", \.reverseFrustratedHops,
                "reverse the momentum along the rescaling direction when a hop is frustrated"),
            .whole("msmash_max_hops", \.maxHops, 0...1_000_000, "hop-resolution passes per update step"),
            .whole(
                "msmash_num_bisections", \.numBisections, 1...1_000_000, "bisections that locate each crossing time"),
        ]
    }
    public var jobSettings: [String: JSONValue] { declaredJobSettings }
}
