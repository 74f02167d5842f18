import Foundation

extension Simulation {
    /// The job as recorded in results (the HDF5 file's root attribute `job`): JSON in the
    /// job file's own language, with every setting that shapes the results and every
    /// default filled in, so that runs of different jobs are never merged.
    ///
    /// ```
    /// {"settings": {"tmax", "dt_update", "dt_collect"},            (as QC Lab rounds them)
    ///  "model": {"name", "constants": {...}, "init_classical"},
    ///  "algorithm": {"name", "settings": {...}},
    ///  "initial_state": {"wf_db": [[re, im], ...]},
    ///  "outputs": [...]}                                            (the job's extra outputs)
    /// ```
    /// Constants and settings carry QC Lab's names, defaults included
    /// (``JobDescribableModel``, ``JobDescribableAlgorithm``): with seeds added (and for
    /// deterministic surface hopping a `batch_size` that the number of states divides), the
    /// record is a job file that runs the same simulation. Left out are what may differ between
    /// parts of one job: the seeds and their number (`num_trajs`), `batch_size` (results do
    /// not depend on it, to the bit) and `progress_bar`.
    ///
    /// A model or algorithm written in Swift that does not state its QC Lab names is
    /// recorded by its Swift property names instead, under `swift_properties` in place of
    /// `constants` or `settings`, so that the record never passes such names off as
    /// job-file names: a ``JobRecordable`` one by every stored property that defines its
    /// physics (numbers, strings, arrays and nested values of these), another algorithm by
    /// its scalar stored properties. A model that is neither is recorded as
    /// `"swift_properties": null`: nothing to compare, so `merge` and `--append` refuse
    /// its data unless told to trust the job.
    public var jobRecord: String {
        let grid = timeGrid
        let settings: [String: JSONValue] = [
            "tmax": .number(grid.tmax), "dt_update": .number(grid.dtUpdate), "dt_collect": .number(grid.dtCollect),
        ]
        let record: [String: JSONValue] = [
            "settings": .object(settings),
            "model": .object(JobRecord.model(model)),
            "algorithm": .object(JobRecord.algorithm(algorithm)),
            "initial_state": .object([
                "wf_db": .array(initialWavefunction.map { .array([.number($0.real), .number($0.imaginary)]) })
            ]),
            "outputs": .array(outputs.map { .string($0.name) }),
        ]
        return JobRecord.text(.object(record))
    }
}

/// Writing and comparing job records (``Simulation/jobRecord``).
package enum JobRecord {
    /// The record's `model` section: QC Lab's names when the model states them.
    package static func model(_ model: any Model) -> [String: JSONValue] {
        var section: [String: JSONValue] = ["name": .string(model.modelName)]
        if let described = model as? any JobDescribableModel {
            section["constants"] = .object(described.jobConstants.mapValues(JSONValue.init))
            section["init_classical"] = .string(described.initialDistribution.rawValue)
        } else if let recordable = model as? any JobRecordable {
            section["swift_properties"] = .object(recordable.recordedProperties)
        } else {
            section["swift_properties"] = .null
        }
        if let differences = model as? any FiniteDifferenceGradientModel {
            section["gradients"] = .object(differences.finiteDifferences.jobRecord)
        }
        return section
    }

    /// The name of the model whose record holds nothing to compare (`swift_properties`
    /// null or empty), or nil when the record's model can be compared or there is no record.
    package static func unrecordedModel(_ record: String?) -> String? {
        guard let record, case let .object(top)? = try? StrictJSON.parse(Array(record.utf8)),
            case let .object(model)? = top["model"]
        else { return nil }
        switch model["swift_properties"] {
        case .null?, .object([:])?:
            if case let .string(name)? = model["name"] { return name }
            return "(unnamed)"
        default:
            return nil
        }
    }

    /// The record's `algorithm` section: QC Lab's names when the algorithm states them.
    package static func algorithm(_ algorithm: any Algorithm) -> [String: JSONValue] {
        var section: [String: JSONValue] = ["name": .string(algorithm.algorithmName)]
        if let described = algorithm as? any JobDescribableAlgorithm {
            section["settings"] = .object(described.jobSettings)
        } else if let recordable = algorithm as? any JobRecordable {
            section["swift_properties"] = .object(recordable.recordedProperties)
        } else {
            section["swift_properties"] = .object(scalars(of: algorithm))
        }
        return section
    }

    /// The scalar stored properties of a value (numbers, flags, strings, enumerations),
    /// by Swift name: the record of a model or algorithm without QC Lab names.
    package static func scalars(of value: Any) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for child in Mirror(reflecting: value).children {
            guard let label = child.label, let scalar = scalar(child.value) else { continue }
            result[label] = scalar
        }
        return result
    }

    /// What defines a value, by the Swift names of its stored properties: numbers, flags,
    /// strings, enumeration cases, complex numbers, and arrays, dictionaries, optionals and
    /// nested values of these; anything else (closures, say) is left out.
    package static func properties(of value: Any) -> [String: JSONValue] {
        guard case let .object(properties)? = recorded(value, depth: 0) else { return [:] }
        return properties
    }

    private static func recorded(_ value: Any, depth: Int) -> JSONValue? {
        guard depth < 16 else { return nil }
        switch value {
        case let x as Double: return .number(x)
        case let x as Float: return .number(Double(x))
        case let x as any BinaryInteger: return .number(Double(x))
        case let x as Bool: return .bool(x)
        case let x as String: return .string(x)
        case let x as Complex<Double>: return .array([.number(x.real), .number(x.imaginary)])
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional?:
            return mirror.children.first.map { recorded($0.value, depth: depth + 1) ?? .null } ?? .null
        case .enum?:
            guard let payload = mirror.children.first else { return .string("\(value)") }
            let inner = recorded(payload.value, depth: depth + 1) ?? .null
            return .object([payload.label ?? "\(value)": inner])
        case .collection?, .set?:
            return .array(mirror.children.compactMap { recorded($0.value, depth: depth + 1) })
        case .dictionary?:
            var result: [String: JSONValue] = [:]
            for pair in mirror.children {
                let parts = Array(Mirror(reflecting: pair.value).children)
                guard parts.count == 2, let item = recorded(parts[1].value, depth: depth + 1) else { continue }
                result["\(parts[0].value)"] = item
            }
            return .object(result)
        case .struct?, .class?, .tuple?:
            var result: [String: JSONValue] = [:]
            for (index, child) in mirror.children.enumerated() {
                guard let item = recorded(child.value, depth: depth + 1) else { continue }
                result[child.label ?? ".\(index)"] = item
            }
            return .object(result)
        default:
            return nil
        }
    }

    private static func scalar(_ value: Any) -> JSONValue? {
        switch value {
        case let x as Double: return .number(x)
        case let x as Int: return .number(Double(x))
        case let x as Bool: return .bool(x)
        case let x as String: return .string(x)
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .enum && mirror.children.isEmpty { return .string("\(value)") }
            if mirror.displayStyle == .optional {
                return mirror.children.first.flatMap { scalar($0.value) } ?? JSONValue.null
            }
            return nil
        }
    }

    /// Canonical JSON text: keys sorted, numbers in their shortest exact form.
    package static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(x):
            if x.isFinite && x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
            return x.isFinite ? "\(x)" : "null"
        case let .string(s): return quoted(s)
        case let .array(items): return "[" + items.map(text).joined(separator: ", ") + "]"
        case let .object(dict):
            return "{" + dict.keys.sorted().map { "\(quoted($0)): \(text(dict[$0]!))" }.joined(separator: ", ") + "}"
        }
    }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The record's key for what the job file asked of its output file (`"output_file":
    /// {"mergeable": true}`): recorded for `qclab info`, never compared (it changes no value).
    package static let outputFileKey = "output_file"

    /// `record` with the job file's `output_file` section (its `mergeable` flag) added, as
    /// `qclab run` writes it; an unreadable record is returned as it is.
    package static func recording(mergeable: Bool, in record: String) -> String {
        guard case var .object(top)? = try? StrictJSON.parse(Array(record.utf8)) else { return record }
        top[outputFileKey] = .object(["mergeable": .bool(mergeable)])
        return text(.object(top))
    }

    /// The first difference between two job records, by path (`model.constants.kBT`).
    ///
    /// Nil when they agree or either is unknown. A different model or algorithm name comes first,
    /// then the model, algorithm, settings, initial state and outputs. What the jobs asked of
    /// their output files (`output_file`) is not compared: it changes no value.
    package static func difference(_ a: String?, _ b: String?) -> (path: String, mine: String, theirs: String)? {
        guard let a, let b, a != b else { return nil }
        guard var x = try? StrictJSON.parse(Array(a.utf8)), var y = try? StrictJSON.parse(Array(b.utf8)) else {
            return ("the job record", "unreadable or different", "another")
        }
        for index in [0, 1] {
            guard case var .object(top) = index == 0 ? x : y else { continue }
            top[outputFileKey] = nil
            if index == 0 { x = .object(top) } else { y = .object(top) }
        }
        // Records written before they spoke the job file's language have no `outputs`:
        // comparing them key by key would name Swift property names as differences.
        switch (isCurrentFormat(x), isCurrentFormat(y)) {
        case (true, false):
            return ("the job record", "in the job file's names", "in an older format (Swift property names)")
        case (false, true):
            return ("the job record", "in an older format (Swift property names)", "in the job file's names")
        default: return difference(x, y, path: "")
        }
    }

    private static func isCurrentFormat(_ record: JSONValue) -> Bool {
        if case let .object(top) = record { return top["outputs"] != nil }
        return false
    }

    /// The keys of a record's object in the order differences are looked for: a name
    /// first, then the model, algorithm, settings, initial state and outputs (what
    /// explains the most), then the rest alphabetically.
    private static func orderedKeys(_ keys: Set<String>) -> [String] {
        let first = ["name", "model", "algorithm", "settings", "initial_state", "outputs"]
        return first.filter(keys.contains) + keys.subtracting(first).sorted()
    }

    private static func difference(_ x: JSONValue, _ y: JSONValue, path: String) -> (
        path: String, mine: String, theirs: String
    )? {
        if x == y { return nil }
        switch (x, y) {
        case let (.object(p), .object(q)):
            for key in orderedKeys(Set(p.keys).union(q.keys)) {
                let sub = path.isEmpty ? key : "\(path).\(key)"
                switch (p[key], q[key]) {
                case let (u?, v?): if let d = difference(u, v, path: sub) { return d }
                case let (u?, nil): return (sub, text(u), "absent")
                case let (nil, v?): return (sub, "absent", text(v))
                default: break
                }
            }
            return nil
        default:
            return (path.isEmpty ? "the job" : path, text(x), text(y))
        }
    }
}

extension JSONValue {
    /// A model constant as JSON.
    package init(_ parameter: ParameterValue) {
        switch parameter {
        case let .number(x): self = .number(x)
        case let .bool(b): self = .bool(b)
        case let .string(s): self = .string(s)
        case let .array(items): self = .array(items.map(JSONValue.init))
        }
    }
}

/// A model (or algorithm) written in Swift whose job record lists what defines its
/// physics, so that `merge` and `--append` refuse data of the same model with other values.
///
/// The default records every stored property that is a number, flag, string, enumeration
/// case or complex number, or an array, dictionary, optional or nested value of these, by
/// its Swift name, under `model.swift_properties` of the job record:
///
/// ```swift
/// struct DoubleWell: ThermalModel, JobRecordable { var kBT = 0.5, gap = 0.5 ... }
/// // recorded: "swift_properties": {"gap": 0.5, "kBT": 0.5}
/// ```
///
/// Keep a value that changes the physics in a stored property (not a computed one), or
/// give `recordedProperties` yourself. A model stating its QC Lab names
/// (``JobDescribableModel``) is recorded by those instead. A model that adopts neither, or
/// records nothing, leaves nothing to compare: `merge` and `--append` refuse its data unless
/// given `--trust-job`.
public protocol JobRecordable {
    /// What defines the value's physics, by property name.
    var recordedProperties: [String: JSONValue] { get }
}

extension JobRecordable {
    public var recordedProperties: [String: JSONValue] { JobRecord.properties(of: self) }
}
