import QCLabCore
import QCLabSystem
import Foundation

/// How `merge` and `--append` treat data whose job cannot be fully compared.
package struct JobComparison: Sendable, Equatable {
    /// Refuse data that records no job (a file written by QC Lab) instead of noting it.
    package var strict: Bool
    /// Accept data of a model that records nothing to compare (``JobRecordable``), noting it.
    package var trustJob: Bool

    package init(strict: Bool = false, trustJob: Bool = false) {
        self.strict = strict
        self.trustJob = trustJob
    }
}

extension SimulationData {
    /// Merges the results of separate runs of one job into one, as `qclab merge` does.
    ///
    /// The runs may be a SLURM array, say. The exact sums of samples and of their squares are
    /// added, so parts merge into the same bits as one run of all their seeds (error bars
    /// included); seeds are concatenated in the order given, and the logs under a heading naming
    /// each part. A part without error bars (a file written by QC Lab) leaves the result without
    /// error bars, saying why.
    ///
    /// Refused, with ``QCLabError/incompatibleData(_:)`` naming the parts involved: no
    /// parts, a part without trajectories, parts of different jobs (the first difference
    /// of their job records, such as `model.constants.kBT is 1 in 'a.h5' but 2 in 'b.h5'`,
    /// named before any difference of time grid or shape it causes), a seed that appears in two parts (or twice in one), different outputs, different
    /// time grids (number of points or times), and outputs of different shape.
    ///
    /// A part that records no job (a file written by QC Lab) cannot have its job compared:
    /// it merges on its outputs, shapes and time grid, `note` says so in one line, and the
    /// result keeps the known job; under `comparison.strict` it is refused. Data of a
    /// model that records nothing to compare (``JobRecordable``) is refused unless
    /// `comparison.trustJob`.
    ///
    /// - Parameter parts: each part's name (used in messages and the log; a file name,
    ///   say) and its data.
    package static func merging(
        _ parts: [(source: String, data: SimulationData)], comparison: JobComparison = JobComparison(),
        note: (String) -> Void = { _ in }
    ) throws -> SimulationData {
        var merger = Merger(comparison: comparison)
        for (source, data) in parts { try merger.add(data, from: source) }
        return try merger.finish(note: note)
    }

    /// Loads each HDF5 file (as ``load(contentsOf:)``) and merges them.
    ///
    /// They merge as ``merging(_:comparison:note:)`` does, naming each part by its path; `note`
    /// also tells of each file read unchecked. Parts are read and added one at a time (the first is
    /// kept to check the others against), not all read first: a merge of a thousand array tasks
    /// does not hold a thousand parts in memory.
    package static func merging(
        files: [String], comparison: JobComparison = JobComparison(),
        note: (String) -> Void = { _ in }
    ) throws -> SimulationData {
        var merger = Merger(comparison: comparison)
        for file in files {
            let (data, unchecked) = try SimulationData.load(contentsOf: file)
            if let unchecked { note(unchecked) }
            try merger.add(data, from: file)
        }
        return try merger.finish(note: note)
    }

    /// Checks, before a run continues `data` (`qclab run --append`), what the job
    /// comparison in ``RunPlan`` cannot: data that records no job (a file written by QC
    /// Lab) is noted in one line, or refused under `comparison.strict`; a model that
    /// records nothing to compare (``JobRecordable``) is refused unless `comparison.trustJob`.
    package static func checkContinuing(
        _ data: SimulationData, source: String, with simulation: Simulation,
        comparison: JobComparison = JobComparison(), note: (String) -> Void = { _ in }
    ) throws {
        guard !data.isEmpty else { return }
        if data.job == nil {
            if comparison.strict {
                throw QCLabError.incompatibleData(
                    "'\(source)' records no job (a file written by QC Lab, say), so it cannot be compared with this job; refused under --strict"
                )
            }
            note(
                "'\(source)' records no job (a file written by QC Lab, say): its job could not be compared, only its outputs, shapes and time grid; the result records this job"
            )
        }
        if let model = JobRecord.unrecordedModel(simulation.jobRecord) ?? JobRecord.unrecordedModel(data.job) {
            guard comparison.trustJob else {
                throw QCLabError.incompatibleData(
                    "the jobs cannot be compared: model '\(model)' records none of its properties (adopt JobRecordable); --trust-job continues anyway"
                )
            }
            note("model '\(model)' records none of its properties: jobs not compared (--trust-job)")
        }
    }

    /// Adds parts in turn, checking each against the first (time grid, outputs), against
    /// the first that records a job (its job), and against the seeds of those before.
    private struct Merger {
        let comparison: JobComparison
        var first: (source: String, data: SimulationData)?
        /// The first part that records a job (or the first part, while none does).
        var reference: (source: String, data: SimulationData)?
        /// The parts that record no job, in order.
        var jobless: [String] = []
        /// The parts written without exact sums (or merged from such), in order.
        var inexact: [String] = []
        var owner: [Int: String] = [:]
        var merged = SimulationData()
        var count = 0

        init(comparison: JobComparison) { self.comparison = comparison }

        mutating func add(_ data: SimulationData, from source: String) throws {
            guard data.normFactor > 0 else { throw QCLabError.incompatibleData("'\(source)' holds no trajectories") }
            let first = self.first ?? (source, data)
            if reference == nil || (reference?.data.job == nil && data.job != nil) { reference = (source, data) }
            let reference = self.reference!
            // The job before time grid and shapes: a different tmax or model size shows in
            // both, and the job names the cause.
            if let d = JobRecord.difference(reference.data.job, data.job) {
                throw QCLabError.incompatibleData(
                    "different jobs: \(d.path) is \(d.mine) in '\(reference.source)' but \(d.theirs) in '\(source)'")
            }
            try checkSameTimeGrid(data, source, as: first.data, first.source)
            try checkSameOutputs(data, source, as: first.data, first.source)
            if data.job == nil { jobless.append(source) }
            if !data.isExact || data.notExact != nil { inexact.append("'\(source)'") }
            var shared: [Int] = [], owners: [String] = []
            for seed in data.seeds {
                if let other = owner[seed] {
                    shared.append(seed)
                    if !owners.contains(other) { owners.append(other) }
                } else {
                    owner[seed] = source
                }
            }
            if !shared.isEmpty {
                let places = owners.map { $0 == source ? "twice in '\(source)'" : "in both '\($0)' and '\(source)'" }
                    .joined(separator: " and ")
                let what =
                    shared.count == 1
                    ? "seed \(shared[0]) is" : "\(shared.count) seeds (\(SeedList.describe(shared.sorted()))) are"
                throw QCLabError.incompatibleData(
                    "overlapping seeds: \(what) \(places); merging would count those trajectories twice")
            }
            if self.first == nil { self.first = first }
            var part = data
            part.log =
                "=== \(source): \(data.normFactor) trajectories, seeds \(SeedList.describe(data.seeds)) ===\n"
                + data.log + (data.log.isEmpty || data.log.hasSuffix("\n") ? "" : "\n")
            try merged.add(part)
            count += 1
        }

        /// The merged data, once the parts whose job could not be compared are noted and a
        /// model that records nothing is refused (unless trusted).
        func finish(note: (String) -> Void) throws -> SimulationData {
            guard count > 0, let reference else { throw QCLabError.incompatibleData("nothing to merge") }
            for source in jobless {
                if comparison.strict {
                    let against =
                        reference.data.job == nil ? "no part records one" : "'\(reference.source)' records one"
                    throw QCLabError.incompatibleData(
                        "'\(source)' records no job (a file written by QC Lab, say), so its job cannot be compared (\(against)); refused under --strict"
                    )
                }
                note(
                    "'\(source)' records no job (a file written by QC Lab, say): its job could not be compared, only its outputs, shapes and time grid"
                        + (reference.data.job == nil ? "" : "; the result records the job of '\(reference.source)'"))
            }
            if let model = JobRecord.unrecordedModel(reference.data.job) {
                guard comparison.trustJob else {
                    throw QCLabError.incompatibleData(
                        "the jobs cannot be compared: model '\(model)' records none of its properties (adopt JobRecordable); --trust-job merges anyway"
                    )
                }
                note("model '\(model)' records none of its properties: jobs not compared (--trust-job)")
            }
            var result = merged
            if !inexact.isEmpty {
                let line = SimulationData.floatingPointNote(parts: inexact, combining: "merged")
                note(line)
                result.log += "Note: \(line)\n"
                result.notExact =
                    "merged in floating point from parts written without exact sums (\(inexact.joined(separator: ", ")))"
            }
            result.log +=
                "=== Merged \(count) parts: \(result.normFactor) trajectories, seeds \(SeedList.describe(result.seeds)) ===\n"
            return result
        }
    }

    /// The line that says parts without exact sums (`parts`, named as in messages) were
    /// combined in floating point, for the message and the log of a merge or an append
    /// (`how`: "merged", "appended").
    public static func floatingPointNote(parts: [String], combining how: String) -> String {
        let named = parts.count <= 3 ? parts.joined(separator: ", ") : "\(parts[0]) and \(parts.count - 1) other parts"
        return "\(named) \(parts.count == 1 ? "was" : "were") written without exact sums: \(how) in floating point, "
            + "not bit-identical to one run; write the parts with --mergeable"
    }

    /// A one-line description of a time grid for messages: points, spacing, last time.
    package static func describeTimeGrid(_ times: [Double]) -> String {
        guard let last = times.last else { return "no time points" }
        let spacing = times.count > 1 ? ", dt_collect \(shortNumber(times[1] - times[0]))" : ""
        return "\(times.count) point\(times.count == 1 ? "" : "s")\(spacing), tmax \(shortNumber(last))"
    }

    /// `x` with at most 10 significant digits, so that 0.30000000000000004 reads 0.3.
    package static func shortNumber(_ x: Double) -> String {
        String(format: "%.10g", x)
    }

    private static func checkSameTimeGrid(
        _ data: SimulationData, _ source: String, as reference: SimulationData, _ referenceSource: String
    ) throws {
        let times = data.times, expected = reference.times
        let same =
            times.count == expected.count
            && zip(times, expected).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
        guard same else {
            throw QCLabError.incompatibleData(
                "time grids differ: '\(referenceSource)' has \(describeTimeGrid(expected)), '\(source)' has \(describeTimeGrid(times))"
            )
        }
    }

    private static func checkSameOutputs(
        _ data: SimulationData, _ source: String, as reference: SimulationData, _ referenceSource: String
    ) throws {
        let names = Set(data.observables.map(\.name)), expected = Set(reference.observables.map(\.name))
        if let missing = expected.subtracting(names).sorted().first {
            throw QCLabError.incompatibleData("'\(source)' has no output '\(missing)', which '\(referenceSource)' has")
        }
        if let extra = names.subtracting(expected).sorted().first {
            throw QCLabError.incompatibleData(
                "'\(source)' has an output '\(extra)', which '\(referenceSource)' has not")
        }
        for observable in reference.observables {
            guard let theirs = data.observable(observable.name) else { continue }
            guard theirs.shape == observable.shape else {
                throw QCLabError.incompatibleData(
                    "output '\(observable.name)' has shape \(theirs.shape) in '\(source)' but \(observable.shape) in '\(referenceSource)' (a different model size?)"
                )
            }
            guard theirs.isComplex == observable.isComplex else {
                throw QCLabError.incompatibleData(
                    "output '\(observable.name)' is \(theirs.isComplex ? "complex" : "real") in '\(source)' but not in '\(referenceSource)'"
                )
            }
        }
        guard data.observables.map(\.name) == reference.observables.map(\.name) else {
            throw QCLabError.incompatibleData(
                "'\(source)' holds the outputs of '\(referenceSource)' in a different order")
        }
    }
}
