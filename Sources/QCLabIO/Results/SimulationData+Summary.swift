import QCLabCore

extension SimulationData {
    /// What an output file holds, as `qclab info` prints it: the job it ran (``jobRows()``),
    /// trajectories and samples, the
    /// seeds (compactly, ``SeedList/describe(_:)``), the time grid, every output with its
    /// shape and type, whether error bars are present, and the size of the log.
    ///
    /// - Parameter datasetNames: the file's dataset names (``datasetNames(inFileAt:)``),
    ///   to list the standard errors it stores; `nil` for data that is not from a file.
    public func summary(datasetNames: [String]? = nil) -> String {
        var rows: [(String, String)] = jobRows()
        let samples = sampleCount == normFactor ? "" : ", \(sampleCount) independent samples"
        rows.append(("trajectories", "\(normFactor)\(samples)"))
        rows.append(("seeds", seeds.isEmpty ? "none" : "\(SeedList.describe(seeds))"))
        rows.append(("time grid", SimulationData.describeTimeGrid(times)))
        for (index, observable) in observables.enumerated() {
            let shape =
                "(" + observable.shape.map(String.init).joined(separator: ", ")
                + (observable.shape.count == 1 ? ",)" : ")")
            rows.append(
                (
                    index == 0 ? "outputs" : "",
                    "\(observable.name) \(shape) \(observable.isComplex ? "complex" : "real")"
                ))
        }
        if observables.isEmpty { rows.append(("outputs", "none")) }
        let errorBars: String
        if let reason = errorBarsUnavailable {
            errorBars = "no (\(reason))"
        } else if sampleCount < 2 {
            errorBars = "no (fewer than two samples)"
        } else {
            let names = observables.filter { $0.name != "t" }.map { $0.name + "_sem" }
            let stored = datasetNames.map { names.filter($0.contains) } ?? names
            errorBars = "yes, standard errors of the mean (\(stored.joined(separator: ", ")))"
        }
        rows.append(("error bars", errorBars))
        let lines = log.split(separator: "\n", omittingEmptySubsequences: true).count
        rows.append(("log", lines == 0 ? "empty" : "\(lines) line\(lines == 1 ? "" : "s")"))
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { label, value in
            let head =
                label.isEmpty
                ? String(repeating: " ", count: width + 2)
                : label + ":" + String(repeating: " ", count: width - label.count + 1)
            return head + value
        }.joined(separator: "\n")
    }
}

extension SimulationData {
    /// The job recorded with the data (``Simulation/jobRecord``), as rows of `qclab info`.
    ///
    /// The model with its `init_classical` and constants, the algorithm with its settings, the
    /// simulation settings and `wf_db`; one row saying so when no job is recorded (a file written
    /// by QC Lab). Long lists continue on rows without a label.
    func jobRows() -> [(String, String)] {
        guard let job else { return [("job", "not recorded (a file written by QC Lab, say)")] }
        guard case let .object(record)? = try? StrictJSON.parse(Array(job.utf8)) else {
            return [("job", "unreadable record")]
        }
        var rows: [(String, String)] = []
        func add(_ label: String, _ items: [String], limit: Int = 90) {
            var lines: [String] = []
            for item in items {
                if let last = lines.last, last.count + item.count + 2 <= limit {
                    lines[lines.count - 1] += ", " + item
                } else {
                    if !lines.isEmpty { lines[lines.count - 1] += "," }
                    lines.append(item)
                }
            }
            for (index, line) in (lines.isEmpty ? ["none"] : lines).enumerated() {
                rows.append((index == 0 ? label : "", line))
            }
        }
        func section(_ key: String) -> [String: JSONValue] {
            if case let .object(value)? = record[key] { return value }
            return [:]
        }
        func assignments(_ values: JSONValue?, order: [String] = []) -> [String]? {
            guard case let .object(dict)? = values else { return nil }
            let keys = order.filter { dict[$0] != nil } + dict.keys.filter { !order.contains($0) }.sorted()
            return keys.map { "\($0) = \(Self.shown(dict[$0]!))" }
        }
        let model = section("model"), algorithm = section("algorithm")
        let modelName = model["name"].map(Self.shown) ?? "unnamed"
        if case let .string(distribution)? = model["init_classical"] {
            rows.append(("model", "\(modelName) (init_classical = \(distribution))"))
        } else {
            rows.append(("model", modelName))
        }
        if let constants = assignments(model["constants"]) {
            add("constants", constants)
        } else if let properties = assignments(model["swift_properties"]) {
            add("properties", properties)
        } else if model["swift_properties"] != nil {
            rows.append(("properties", "none recorded"))
        }
        rows.append(("algorithm", algorithm["name"].map(Self.shown) ?? "unnamed"))
        if let settings = assignments(algorithm["settings"]) ?? assignments(algorithm["swift_properties"]),
            !settings.isEmpty
        {
            add("", settings)
        }
        if let settings = assignments(record["settings"], order: ["tmax", "dt_update", "dt_collect"]) {
            add("settings", settings)
        }
        if case let .object(initial)? = record["initial_state"], case let .array(wavefunction)? = initial["wf_db"] {
            let entries = wavefunction.map(Self.shownComplex)
            if entries.count <= 10 {
                rows.append(("wf_db", "[" + entries.joined(separator: ", ") + "]"))
            } else {
                let nonzero = entries.indices.filter { entries[$0] != "0" }.map { "[\($0)] = \(entries[$0])" }
                add(
                    "wf_db",
                    ["\(entries.count) entries, zero but for \(nonzero.first ?? "none")"] + nonzero.dropFirst())
            }
        }
        // What the job file asked of its output file (only recorded when it did).
        if let asked = assignments(record[JobRecord.outputFileKey]), !asked.isEmpty {
            add(JobRecord.outputFileKey, asked)
        }
        return rows
    }

    /// A recorded value as `qclab info` shows it: strings without quotes, numbers in their
    /// shortest exact form, anything else as JSON.
    private static func shown(_ value: JSONValue) -> String {
        if case let .string(text) = value { return text }
        return JobRecord.text(value)
    }

    /// A recorded `[re, im]` pair as `1`, `-0.5i` or `0.5+0.5i`.
    private static func shownComplex(_ value: JSONValue) -> String {
        guard case let .array(pair) = value, pair.count == 2, case let .number(re) = pair[0],
            case let .number(im) = pair[1]
        else {
            return JobRecord.text(value)
        }
        let real = JobRecord.text(.number(re)), imaginary = JobRecord.text(.number(abs(im)))
        if im == 0 { return real }
        if re == 0 { return (im < 0 ? "-" : "") + imaginary + "i" }
        return real + (im < 0 ? "-" : "+") + imaginary + "i"
    }
}
