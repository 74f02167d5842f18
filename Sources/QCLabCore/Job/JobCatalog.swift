/// One setting of a job file (a simulation setting or an algorithm setting): its name, the
/// values it takes, its default and what it does.
package struct SettingDescription: Sendable, Equatable {
    package var name: String
    package var allowedValues: String
    package var defaultValue: ParameterValue
    package var summary: String

    /// The default as a job file writes it: whole-number settings without a fraction (`10`, not `10.0`).
    package var defaultJSON: String { defaultValue.json(whole: allowedValues.hasPrefix("whole")) }
}

/// What a job file may say about an algorithm.
package struct AlgorithmDescription: Sendable, Equatable {
    package var name: String
    package var summary: String
    package var settings: [SettingDescription]
}

/// The algorithms and simulation settings a job file takes, with QC Lab's defaults.
///
/// It is what `qclab models` and `qclab init` print and docs/Reference.md documents. The tests
/// check it against the job parser (names, allowed values, defaults).
package enum JobCatalog {
    /// `settings`: QC Lab's `Simulation` settings, defaults from ``SimulationSettings``.
    package static var simulationSettings: [SettingDescription] {
        let d = SimulationSettings()
        return [
            SettingDescription(
                name: "tmax", allowedValues: "real ≥ 0", defaultValue: .number(d.tmax),
                summary: "total time; rounded to a whole number of dt_collect intervals"),
            SettingDescription(
                name: "dt_update", allowedValues: "real > 0", defaultValue: .number(d.dtUpdate),
                summary: "integration time step"),
            SettingDescription(
                name: "dt_collect", allowedValues: "real > 0", defaultValue: .number(d.dtCollect),
                summary: "interval between collected outputs; rounded to a whole number of dt_update steps"),
            SettingDescription(
                name: "num_trajs", allowedValues: "whole number ≥ 1", defaultValue: .number(Double(d.numTrajs)),
                summary: "trajectories (replaced by the number of seeds when seeds are given)"),
            SettingDescription(
                name: "batch_size", allowedValues: "whole number ≥ 1", defaultValue: .number(Double(d.batchSize)),
                summary: "trajectories propagated together, the unit of work of every driver"),
            SettingDescription(
                name: "progress_bar", allowedValues: "true or false", defaultValue: .bool(d.progressBar),
                summary: "show a progress bar when standard error is a terminal"),
        ]
    }

    /// `algorithm`: every algorithm a job file can name, with its settings.
    package static var algorithms: [AlgorithmDescription] { AlgorithmRegistry.builtIns.map { $0.catalogEntry } }
}

extension ParameterValue {
    /// The value as JSON text; `whole` writes an integral number without a fraction (`100`, not `100.0`).
    public func json(whole: Bool = false) -> String {
        switch self {
        case let .number(x):
            if whole, x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
            return "\(x)"
        case let .bool(flag): return flag ? "true" : "false"
        case let .string(text):
            return "\""
                + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case let .array(items): return "[" + items.map { $0.json(whole: whole) }.joined(separator: ", ") + "]"
        }
    }
}

extension JobCatalog {
    /// A complete job file for `model` and `algorithm` with every default written out.
    ///
    /// It has QC Lab's settings, every constant of the model, its default `init_classical`, every
    /// setting of the algorithm, and `wf_db` with all of the population on state 0. The names may
    /// be spelled as job files may (``ModelRegistry/canonicalName(_:)``); the job carries the
    /// canonical ones.
    package static func defaultJob(model name: String, algorithm algorithmName: String) throws -> String {
        let model = try ModelRegistry.describe(name)
        let canonical = try AlgorithmRegistry.canonicalName(algorithmName)
        guard let algorithm = algorithms.first(where: { $0.name == canonical }) else {
            throw QCLabError.unknownName(kind: "algorithm", name: algorithmName, known: algorithms.map(\.name))
        }
        func entries(_ pairs: [(String, String)], indent: String) -> String {
            pairs.isEmpty
                ? "{}"
                : "{\n" + pairs.map { "\(indent)  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n\(indent)}"
        }
        let settings = simulationSettings.map { ($0.name, $0.defaultJSON) }
        let constants = model.constants.map { constant -> (String, String) in
            if case .whole = constant.kind { return (constant.name, constant.defaultValue.json(whole: true)) }
            return (constant.name, constant.defaultValue.json())
        }
        let algorithmSettings = algorithm.settings.map { ($0.name, $0.defaultJSON) }
        let wavefunction = (0..<model.defaultStateCount).map { $0 == 0 ? "1.0" : "0.0" }.joined(separator: ", ")
        return """
            {
              "settings": \(entries(settings, indent: "  ")),
              "model": {
                "name": "\(model.name)",
                "constants": \(entries(constants, indent: "    ")),
                "init_classical": "\(model.defaultInitialDistribution.rawValue)"
              },
              "algorithm": {
                "name": "\(algorithm.name)",
                "settings": \(entries(algorithmSettings, indent: "    "))
              },
              "initial_state": {"wf_db": [\(wavefunction)]}
            }

            """
    }
}
