import ArgumentParser
import Foundation
import QCLab

/// `qclab models`: every model with its constants and defaults, every algorithm with its
/// settings, and the simulation settings: what a job file can say.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List every model with its constants and defaults, and every algorithm with its settings.",
        discussion:
            "docs/Reference.md describes the job file and the output file in full; `qclab init MODEL ALGORITHM` writes a complete job."
    )

    @Argument(help: "Only these models or algorithms, in any case or by alias (default: all).")
    var names: [String] = []

    func run() throws {
        reportingErrors {
            let models = try ModelRegistry.catalog()
            let algorithms = JobCatalog.algorithms
            let known = models.map(\.name) + algorithms.map(\.name)
            // Any spelling a job file may use: case, separators and aliases (`fssh`) aside.
            let asked = try names.map { name in
                guard
                    let canonical = (try? ModelRegistry.canonicalName(name))
                        ?? (try? AlgorithmRegistry.canonicalName(name)),
                    known.contains(canonical)
                else {
                    throw QCLabError.unknownName(kind: "model or algorithm", name: name, known: known)
                }
                return canonical
            }
            let wanted = { (name: String) in asked.isEmpty || asked.contains(name) }
            var lines: [String] = []
            if names.isEmpty {
                lines.append(
                    "Models (job file: \"model\": {\"name\": ..., \"constants\": {...}, \"init_classical\": ...}):")
            }
            for model in models where wanted(model.name) {
                lines.append("")
                let distributions = model.initialDistributions.map {
                    $0 == model.defaultInitialDistribution ? "\($0.rawValue) (default)" : $0.rawValue
                }
                lines.append("\(model.name)  (\(model.defaultStateCount) quantum states with the defaults)")
                lines += Self.aliases(of: model.name)
                lines.append("  init_classical: " + distributions.joined(separator: ", "))
                lines += Summary.table(
                    [["  constant", "default", "values"]]
                        + model.constants.map { ["  " + $0.name, Self.shown($0), $0.allowedValues] },
                    rightAligned: false)
            }
            if names.isEmpty {
                lines.append("")
                lines.append("Algorithms (job file: \"algorithm\": {\"name\": ..., \"settings\": {...}}):")
            }
            for algorithm in algorithms where wanted(algorithm.name) {
                lines.append("")
                lines.append("\(algorithm.name)  (\(algorithm.summary))")
                lines += Self.aliases(of: algorithm.name)
                if algorithm.settings.isEmpty {
                    lines.append("  no settings")
                } else {
                    lines += Summary.table(
                        [["  setting", "default", "values"]]
                            + algorithm.settings.map { ["  " + $0.name, $0.defaultJSON, $0.allowedValues] },
                        rightAligned: false)
                }
            }
            if names.isEmpty {
                lines.append("")
                lines.append("Simulation settings (job file: \"settings\": {...}):")
                lines += Summary.table(
                    [["  setting", "default", "values"]]
                        + JobCatalog.simulationSettings.map { ["  " + $0.name, $0.defaultJSON, $0.allowedValues] },
                    rightAligned: false)
                lines.append("")
                lines.append(
                    "A complete job with every default: qclab init MODEL ALGORITHM. Everything in full: docs/Reference.md."
                )
            }
            try StandardStreams.writeOutput(lines.joined(separator: "\n") + "\n")
        }
    }

    /// "  aliases: tully1, ..." for a name that has aliases (job files may use them, and
    /// any case), or nothing.
    static func aliases(of name: String) -> [String] {
        let aliases = ModelRegistry.aliases(of: name) + AlgorithmRegistry.aliases(of: name)
        return aliases.isEmpty ? [] : ["  aliases: " + aliases.joined(separator: ", ")]
    }

    static func shown(_ constant: ConstantDescription) -> String {
        if case .whole = constant.kind { return constant.defaultValue.json(whole: true) }
        return constant.defaultValue.json()
    }
}
