import Foundation

extension Simulation {
    /// The job as recorded in results (the HDF5 file's root attribute `job`): JSON with
    /// every setting that shapes the results and every default filled in, so that runs of
    /// different jobs are never merged.
    ///
    /// It holds the time grid (`tmax`, `dt_update`, `dt_collect`, as QC Lab rounds them),
    /// the model's name and every scalar constant it holds (defaults included, by the
    /// model's own property names), the algorithm's name and settings, and the initial
    /// wavefunction. Left out are what may differ between parts of one job: the seeds and
    /// their number (`num_trajs`), `batch_size` (results do not depend on it, to the bit)
    /// and `progress_bar`.
    public var jobRecord: String {
        let grid = timeGrid
        let settings: [String: JSONValue] = [
            "tmax": .number(grid.tmax), "dt_update": .number(grid.dtUpdate), "dt_collect": .number(grid.dtCollect),
        ]
        let record: [String: JSONValue] = [
            "settings": .object(settings),
            "model": .object(["name": .string(model.modelName), "constants": .object(JobRecord.scalars(of: model))]),
            "algorithm": .object(["name": .string(algorithm.algorithmName), "settings": .object(JobRecord.scalars(of: algorithm))]),
            "initial_state": .object(["wf_db": .array(initialWavefunction.map { .array([.number($0.re), .number($0.im)]) })]),
        ]
        return JobRecord.text(.object(record))
    }
}

/// Writing and comparing job records (``Simulation/jobRecord``).
enum JobRecord {
    /// The scalar stored properties of a value (numbers, flags, strings, enumerations),
    /// by name: a model's constants, an algorithm's settings.
    static func scalars(of value: Any) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for child in Mirror(reflecting: value).children {
            guard let label = child.label, let scalar = scalar(child.value) else { continue }
            result[label] = scalar
        }
        return result
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
            if mirror.displayStyle == .optional { return mirror.children.first.flatMap { scalar($0.value) } ?? JSONValue.null }
            return nil
        }
    }

    /// Canonical JSON text: keys sorted, numbers in their shortest exact form.
    static func text(_ value: JSONValue) -> String {
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

    /// The first difference between two job records, by path (`model.constants.kBT`), or
    /// nil when they agree or either is unknown.
    static func difference(_ a: String?, _ b: String?) -> (path: String, mine: String, theirs: String)? {
        guard let a, let b, a != b else { return nil }
        guard let x = try? StrictJSON.parse(Array(a.utf8)), let y = try? StrictJSON.parse(Array(b.utf8)) else {
            return ("the job record", "unreadable or different", "another")
        }
        return difference(x, y, path: "")
    }

    private static func difference(_ x: JSONValue, _ y: JSONValue, path: String) -> (path: String, mine: String, theirs: String)? {
        if x == y { return nil }
        switch (x, y) {
        case let (.object(p), .object(q)):
            for key in Set(p.keys).union(q.keys).sorted() {
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
