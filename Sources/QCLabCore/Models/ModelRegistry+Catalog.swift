import Foundation

/// One constant a model reads from a job file: its QC Lab name, what values it takes and
/// its default.
package struct ConstantDescription: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// A real number, in a range.
        case real(ModelConstants.AllowedRange)
        /// A whole number in `minimum...maximum`.
        case whole(minimum: Int, maximum: Int)
        /// `true` or `false`.
        case flag
        /// A list, matrix or name, with its allowed values spelled out ("C reals > 0").
        case structured(String)
    }

    package var name: String
    package var kind: Kind
    package var defaultValue: ParameterValue

    /// "real", "real > 0", "whole number 1...4096", "true or false".
    package var allowedValues: String {
        switch kind {
        case .real(.any): return "real"
        case .real(.positive): return "real > 0"
        case .real(.nonNegative): return "real ≥ 0"
        case let .whole(minimum, maximum): return "whole number \(minimum)...\(maximum)"
        case .flag: return "true or false"
        case let .structured(text): return text
        }
    }
}

/// Collects the constants a model reads while it is built (``ModelConstants`` reports
/// each read here), so that the catalog comes from the models' own code and cannot drift.
package final class ConstantRecorder: @unchecked Sendable {
    @TaskLocal package static var current: ConstantRecorder?
    private let lock = NSLock()
    private var recorded: [ConstantDescription] = []

    package func add(_ description: ConstantDescription) {
        lock.withLock {
            if !recorded.contains(where: { $0.name == description.name }) { recorded.append(description) }
        }
    }

    package var descriptions: [ConstantDescription] { lock.withLock { recorded } }
}

/// What a job file may say about a built-in model.
package struct ModelDescription: Sendable, Equatable {
    package var name: String
    /// Its constants in the order the model reads them, with their defaults.
    package var constants: [ConstantDescription]
    /// The `init_classical` values it accepts, and the one it uses when none is given.
    package var initialDistributions: [InitialClassicalDistribution]
    package var defaultInitialDistribution: InitialClassicalDistribution
    /// Quantum states with the default constants (the length of `wf_db`).
    package var defaultStateCount: Int
}

extension ModelRegistry {
    /// Every built-in model as a job file sees it: constants, defaults and initial distributions.
    ///
    /// They are read off the models themselves (see ``ConstantRecorder``). `name` may be any
    /// spelling ``canonicalName(_:)`` accepts; the description carries the canonical name.
    package static func describe(_ name: String) throws -> ModelDescription {
        let name = try canonicalName(name)
        let recorder = ConstantRecorder()
        let model = try ConstantRecorder.$current.withValue(recorder) { try make(name: name) }
        let seeds = [0, 1, 2]
        let reference = model.initialClassicalCoordinates(seeds: seeds)
        var accepted: [InitialClassicalDistribution] = []
        var defaultDistribution: InitialClassicalDistribution?
        for distribution in InitialClassicalDistribution.allCases {
            guard let variant = try? make(name: name, initialDistribution: distribution) else { continue }
            accepted.append(distribution)
            if defaultDistribution == nil && variant.initialClassicalCoordinates(seeds: seeds) == reference {
                defaultDistribution = distribution
            }
        }
        return ModelDescription(
            name: name, constants: recorder.descriptions, initialDistributions: accepted,
            defaultInitialDistribution: defaultDistribution ?? accepted.first ?? .boltzmannHarmonic,
            defaultStateCount: model.numQuantumStates)
    }

    /// ``describe(_:)`` for every name in ``names``.
    package static func catalog() throws -> [ModelDescription] { try names.map(describe) }
}
