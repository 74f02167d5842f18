import Foundation

extension SimulationData {
    /// Merges the results of separate runs of one job (a SLURM array, say) into one, as
    /// `qclab merge` does: the exact sums of samples and of their squares are added, so
    /// parts merge into the same bits as one run of all their seeds (error bars included);
    /// seeds are concatenated in the order given, and the logs under a heading naming each
    /// part. A part without error bars (a file written by QC Lab) leaves the result without
    /// error bars, saying why.
    ///
    /// Refused, with ``QCLabError/incompatibleData(_:)`` naming the parts involved: no
    /// parts, a part without trajectories, parts of different jobs (the first difference
    /// of their job records, such as `model.constants.kBT is 1 in 'a.h5' but 2 in 'b.h5'`),
    /// a seed that appears in two parts (or twice in one), different outputs, different
    /// time grids (number of points or times), and outputs of different shape.
    ///
    /// - Parameter parts: each part's name (used in messages and the log; a file name,
    ///   say) and its data.
    public static func merging(_ parts: [(source: String, data: SimulationData)]) throws -> SimulationData {
        guard let first = parts.first else { throw QCLabError.incompatibleData("nothing to merge") }
        var owner: [Int: String] = [:]
        for (source, data) in parts {
            guard data.normFactor > 0 else { throw QCLabError.incompatibleData("'\(source)' holds no trajectories") }
            try checkSameTimeGrid(data, source, as: first.data, first.source)
            try checkSameOutputs(data, source, as: first.data, first.source)
            if let d = JobRecord.difference(first.data.job, data.job) {
                throw QCLabError.incompatibleData(
                    "different jobs: \(d.path) is \(d.mine) in '\(first.source)' but \(d.theirs) in '\(source)'")
            }
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
                let what = shared.count == 1 ? "seed \(shared[0]) is" : "\(shared.count) seeds (\(SeedList.describe(shared.sorted()))) are"
                throw QCLabError.incompatibleData(
                    "overlapping seeds: \(what) \(places); merging would count those trajectories twice")
            }
        }
        var merged = SimulationData()
        for (source, data) in parts {
            var part = data
            part.log = "=== \(source): \(data.normFactor) trajectories, seeds \(SeedList.describe(data.seeds)) ===\n"
                + data.log + (data.log.isEmpty || data.log.hasSuffix("\n") ? "" : "\n")
            try merged.add(part)
        }
        merged.log += "=== Merged \(parts.count) parts: \(merged.normFactor) trajectories, seeds \(SeedList.describe(merged.seeds)) ===\n"
        return merged
    }

    /// Loads each HDF5 file (as ``init(contentsOf:)``) and merges them with
    /// ``merging(_:)``, naming each part by its path.
    public static func merging(files: [String]) throws -> SimulationData {
        try merging(files.map { ($0, try SimulationData(contentsOf: $0)) })
    }

    /// A one-line description of a time grid for messages: points, spacing, last time.
    static func describeTimeGrid(_ times: [Double]) -> String {
        guard let last = times.last else { return "no time points" }
        let spacing = times.count > 1 ? ", dt_collect \(shortNumber(times[1] - times[0]))" : ""
        return "\(times.count) point\(times.count == 1 ? "" : "s")\(spacing), tmax \(shortNumber(last))"
    }

    /// `x` with at most 10 significant digits, so that 0.30000000000000004 reads 0.3.
    static func shortNumber(_ x: Double) -> String {
        String(format: "%.10g", x)
    }

    private static func checkSameTimeGrid(_ data: SimulationData, _ source: String, as reference: SimulationData, _ referenceSource: String) throws {
        let times = data.times, expected = reference.times
        let same = times.count == expected.count
            && zip(times, expected).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
        guard same else {
            throw QCLabError.incompatibleData(
                "time grids differ: '\(referenceSource)' has \(describeTimeGrid(expected)), '\(source)' has \(describeTimeGrid(times))")
        }
    }

    private static func checkSameOutputs(_ data: SimulationData, _ source: String, as reference: SimulationData, _ referenceSource: String) throws {
        let names = Set(data.observables.map(\.name)), expected = Set(reference.observables.map(\.name))
        if let missing = expected.subtracting(names).sorted().first {
            throw QCLabError.incompatibleData("'\(source)' has no output '\(missing)', which '\(referenceSource)' has")
        }
        if let extra = names.subtracting(expected).sorted().first {
            throw QCLabError.incompatibleData("'\(source)' has an output '\(extra)', which '\(referenceSource)' has not")
        }
        for observable in reference.observables {
            guard let theirs = data.observable(observable.name) else { continue }
            guard theirs.shape == observable.shape else {
                throw QCLabError.incompatibleData(
                    "output '\(observable.name)' has shape \(theirs.shape) in '\(source)' but \(observable.shape) in '\(referenceSource)' (a different model size?)")
            }
            guard theirs.isComplex == observable.isComplex else {
                throw QCLabError.incompatibleData(
                    "output '\(observable.name)' is \(theirs.isComplex ? "complex" : "real") in '\(source)' but not in '\(referenceSource)'")
            }
        }
        guard data.observables.map(\.name) == reference.observables.map(\.name) else {
            throw QCLabError.incompatibleData("'\(source)' holds the outputs of '\(referenceSource)' in a different order")
        }
    }
}
