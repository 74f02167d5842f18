/// An algorithm that states its settings by QC Lab's names: the job file's
/// `algorithm.settings` that rebuild it.
///
/// Results record the job they come from (``Simulation/jobRecord``) in the job file's own
/// language, so that a mismatch is named as the job file names it
/// (`algorithm.settings.gauge_fixing`). Every built-in algorithm conforms. An algorithm
/// written in Swift that does not is recorded by its Swift property names instead.
public protocol JobDescribableAlgorithm: Algorithm {
    /// Every setting the algorithm reads from a job file, by its QC Lab name, with the
    /// value this algorithm uses (defaults included): what
    /// ``AlgorithmRegistry/make(name:settings:)`` takes to build the same algorithm.
    var jobSettings: [String: JSONValue] { get }
}

extension MeanField: JobDescribableAlgorithm {
    /// Mean field has no job settings. A forced ``StepPlan`` is not one either: it picks
    /// kernels for tests and benchmarks, with the same dynamics up to rounding.
    public var jobSettings: [String: JSONValue] { [:] }
}

extension FewestSwitchesSurfaceHopping: JobDescribableAlgorithm {
    public var jobSettings: [String: JSONValue] {
        ["fssh_deterministic": .bool(deterministic), "gauge_fixing": .string(gaugeFixing.rawValue),
         "use_gauge_field_force": .bool(useGaugeFieldForce)]
    }
}

extension MultiStateMappingApproachToSurfaceHopping: JobDescribableAlgorithm {
    public var jobSettings: [String: JSONValue] {
        ["gauge_fixing": .string(gaugeFixing.rawValue), "use_gauge_field_force": .bool(useGaugeFieldForce),
         "reverse_frustrated_hops": .bool(reverseFrustratedHops), "msmash_max_hops": .number(Double(maxHops)),
         "msmash_num_bisections": .number(Double(numBisections))]
    }
}
