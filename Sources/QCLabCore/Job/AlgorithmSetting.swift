/// One job-file setting of a built-in algorithm, declared once.
///
/// It holds the setting's name, the values it takes, what it does and the algorithm's property that
/// holds it. The job parser, the job recorded in results (``JobDescribableAlgorithm/jobSettings``),
/// ``JobCatalog`` (`qclab models`, `qclab init`) and docs/Reference.md (checked against the catalog
/// by the tests) all read this declaration.
package struct AlgorithmSetting<A> {
    package let name: String
    /// The values it takes, as the catalog and docs/Reference.md write them.
    package let allowedValues: String
    package let summary: String
    /// The setting's value in `algorithm`, as a job file writes it.
    package let value: (_ algorithm: A) -> JSONValue
    /// Checks a job file's `value` and sets it in `algorithm`; throws ``QCLabError`` naming the setting.
    package let read: (_ algorithm: inout A, _ value: JSONValue) throws -> Void

    /// A `true or false` setting.
    package static func flag(_ name: String, _ property: WritableKeyPath<A, Bool>, _ summary: String) -> Self {
        Self(
            name: name, allowedValues: "true or false", summary: summary, value: { .bool($0[keyPath: property]) },
            read: { algorithm, value in
                guard case let .bool(flag) = value else {
                    throw QCLabError.invalidAlgorithmSetting(name: name, reason: "must be true or false")
                }
                algorithm[keyPath: property] = flag
            })
    }

    /// A setting that takes one of the names of `Choice`.
    package static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ property: WritableKeyPath<A, Choice>,
        _ summary: String
    ) -> Self where Choice.RawValue == String {
        let known = Choice.allCases.map(\.rawValue)
        return Self(
            name: name, allowedValues: known.joined(separator: " | "), summary: summary,
            value: { .string($0[keyPath: property].rawValue) },
            read: { algorithm, value in
                guard case let .string(text) = value, let parsed = Choice(rawValue: text) else {
                    let shown: String
                    if case let .string(text) = value { shown = text } else { shown = value.typeName }
                    throw QCLabError.unknownName(kind: name, name: shown, known: known)
                }
                algorithm[keyPath: property] = parsed
            })
    }

    /// A whole-number setting in `range`.
    package static func whole(
        _ name: String, _ property: WritableKeyPath<A, Int>, _ range: ClosedRange<Int>,
        _ summary: String
    ) -> Self {
        Self(
            name: name, allowedValues: "whole number \(range.lowerBound)...\(range.upperBound)", summary: summary,
            value: { .number(Double($0[keyPath: property])) },
            read: { algorithm, value in
                guard case let .number(x) = value, x.isFinite, x == x.rounded(), abs(x) <= 1e15 else {
                    throw QCLabError.invalidAlgorithmSetting(name: name, reason: "must be an integer")
                }
                guard range.contains(Int(x)) else {
                    throw QCLabError.invalidAlgorithmSetting(
                        name: name,
                        reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(Int(x))"
                    )
                }
                algorithm[keyPath: property] = Int(x)
            })
    }
}

/// A built-in algorithm whose job-file name, summary and settings are declared once
/// (``settings``); its parser, its ``JobDescribableAlgorithm/jobSettings`` and its
/// ``JobCatalog`` entry come from that declaration.
package protocol DeclaredAlgorithm: JobDescribableAlgorithm {
    /// QC Lab's class name, the job file's `algorithm.name`.
    static var jobName: String { get }
    /// What it is, in a few words (`qclab models`, docs/Reference.md).
    static var summary: String { get }
    /// The algorithm with QC Lab's defaults: what a job file that sets nothing gets.
    static var defaults: Self { get }
    /// Every job-file setting, in the order the catalog lists them.
    static var settings: [AlgorithmSetting<Self>] { get }
}

extension DeclaredAlgorithm {
    /// The algorithm of a job file's `algorithm.settings`: the defaults, with each setting
    /// given checked and set; throws ``QCLabError`` for an unknown key or a bad value.
    package init(jobSettings: [String: JSONValue]) throws {
        let settings = Self.settings
        try Job.allowOnly(jobSettings, settings.map(\.name), in: "algorithm.settings of \(Self.jobName)")
        var algorithm = Self.defaults
        for setting in settings {
            if let value = jobSettings[setting.name] { try setting.read(&algorithm, value) }
        }
        self = algorithm
    }

    /// Every declared setting with this algorithm's value.
    package var declaredJobSettings: [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: Self.settings.map { ($0.name, $0.value(self)) })
    }

    /// The catalog's entry, defaults from ``defaults``.
    package static var catalogEntry: AlgorithmDescription {
        let defaults = Self.defaults
        return AlgorithmDescription(
            name: jobName, summary: summary,
            settings: settings.map { setting in
                let value: ParameterValue
                switch setting.value(defaults) {
                case let .bool(flag): value = .bool(flag)
                case let .string(text): value = .string(text)
                case let .number(x): value = .number(x)
                default: preconditionFailure("\(setting.name): a setting is a flag, a name or a number")
                }
                return SettingDescription(
                    name: setting.name, allowedValues: setting.allowedValues, defaultValue: value,
                    summary: setting.summary)
            })
    }

    /// Makes the algorithm from job-file settings, for ``AlgorithmRegistry``.
    package static var factory: AlgorithmRegistry.Factory { { try Self(jobSettings: $0) } }
}
