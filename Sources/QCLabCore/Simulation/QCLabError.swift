import Foundation

/// Every error the library throws: each names its culprit in one line.
///
/// Switch on ``code`` to tell errors apart; the message (``description``) is for people.
public enum QCLabError: Error, Equatable, CustomStringConvertible, LocalizedError, Sendable {
    /// A simulation setting is missing, of the wrong type or out of range.
    case invalidSetting(String, String)
    /// A model constant is of the wrong type or out of range.
    case invalidConstant(model: String, name: String, reason: String)
    /// An algorithm setting is of the wrong type or out of range.
    case invalidAlgorithmSetting(name: String, reason: String)
    /// The initial state does not fit the model.
    case invalidInitialState(String)
    /// A name that is not a known model, algorithm, driver or key.
    case unknownName(kind: String, name: String, known: [String])
    /// The job file cannot be read or parsed.
    case malformedJob(String)
    /// An LAPACK routine reported failure through its `info` code.
    case lapack(routine: String, info: Int32)
    /// Reading or writing an HDF5 file failed.
    case hdf5(path: String, reason: String)
    /// Two `SimulationData` objects that cannot be merged.
    case incompatibleData(String)
    /// A parallel worker died or failed; the seeds it lost are named.
    case workerFailed(worker: String, reason: String, lostSeeds: [Int])
    /// MPI reported an error or was used inconsistently.
    case mpi(String)
    /// An input or output path is unusable.
    case invalidPath(String)
    /// SimulationData that lacks what an operation needs (a plot without `dm_db`, say).
    case unusableData(String)
    /// An output of a batch came out NaN or infinite.
    ///
    /// `time` is its first collect time that is not finite (nil without a time axis).
    case nonFinite(output: String, value: Double, time: Double?, seeds: [Int])
    /// An environment variable the tool reads holds something outside its stated range.
    case invalidEnvironment(variable: String, value: String, expected: String)
    /// The system refused a write, a child process, a descriptor or memory.
    case system(String)

    public var description: String {
        switch self {
        case let .invalidSetting(name, reason): return "setting '\(name)' \(reason)"
        case let .invalidConstant(model, name, reason): return "\(model) constant '\(name)' \(reason)"
        case let .invalidAlgorithmSetting(name, reason): return "algorithm setting '\(name)' \(reason)"
        case let .invalidInitialState(reason): return "initial_state: \(reason)"
        case let .unknownName(kind, name, known):
            return "unknown \(kind) '\(name)'" + NameMatching.didYouMean(name, among: known)
                + (known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))")
        case let .malformedJob(reason): return "malformed job: \(reason)"
        case let .lapack(routine, info): return "LAPACK \(routine) failed with info = \(info)"
        case let .hdf5(path, reason): return "HDF5 file '\(path)': \(reason)"
        case let .incompatibleData(reason): return "cannot merge data: \(reason)"
        case let .workerFailed(worker, reason, lost):
            return "\(worker) failed (\(reason)); lost seeds \(SeedList.describe(lost))"
        case let .mpi(reason): return "MPI: \(reason)"
        case let .invalidPath(reason): return reason
        case let .unusableData(reason): return reason
        case let .nonFinite(output, value, time, seeds):
            return "output '\(output)' became \(value.isNaN ? "NaN" : "infinite")"
                + (time.map { " at t = \($0) (its first collect time not finite)" } ?? "")
                + " in the batch of seeds \(SeedList.describe(seeds))"
        case let .invalidEnvironment(variable, value, expected):
            return "environment variable \(variable)='\(value)' is not \(expected)"
        case let .system(reason): return reason
        }
    }

    /// The one-line message, as ``description``.
    public var errorDescription: String? { description }

    /// Which error this is, one code per case.
    ///
    /// The raw values are stable: the command line prints them (`QCLAB_ERROR_CODES=1`) and
    /// the Python bridge raises them; they are never renamed or reused.
    public enum Code: String, CaseIterable, Sendable {
        case invalidSetting
        case invalidConstant
        case invalidAlgorithmSetting
        case invalidInitialState
        case unknownName
        case malformedJob
        case lapack
        case hdf5
        case incompatibleData
        case workerFailed
        case mpi
        case invalidPath
        case unusableData
        case nonFinite
        case invalidEnvironment
        case system
    }

    /// Which error this is, for a caller to switch on.
    public var code: Code {
        switch self {
        case .invalidSetting: return .invalidSetting
        case .invalidConstant: return .invalidConstant
        case .invalidAlgorithmSetting: return .invalidAlgorithmSetting
        case .invalidInitialState: return .invalidInitialState
        case .unknownName: return .unknownName
        case .malformedJob: return .malformedJob
        case .lapack: return .lapack
        case .hdf5: return .hdf5
        case .incompatibleData: return .incompatibleData
        case .workerFailed: return .workerFailed
        case .mpi: return .mpi
        case .invalidPath: return .invalidPath
        case .unusableData: return .unusableData
        case .nonFinite: return .nonFinite
        case .invalidEnvironment: return .invalidEnvironment
        case .system: return .system
        }
    }

    /// The name the error is about, if its case has one.
    ///
    /// The setting, constant, name, LAPACK routine, HDF5 path, worker, output or variable.
    public var culprit: String? {
        switch self {
        case let .invalidSetting(name, _): return name
        case let .invalidConstant(_, name, _): return name
        case let .invalidAlgorithmSetting(name, _): return name
        case let .unknownName(_, name, _): return name
        case let .lapack(routine, _): return routine
        case let .hdf5(path, _): return path
        case let .workerFailed(worker, _, _): return worker
        case let .nonFinite(output, _, _, _): return output
        case let .invalidEnvironment(variable, _, _): return variable
        case .invalidInitialState, .malformedJob, .incompatibleData, .mpi, .invalidPath, .unusableData, .system:
            return nil
        }
    }
}

/// Compact descriptions of seed lists, such as `0...7, 12`.
package enum SeedList {
    /// Describes `seeds` as comma-separated runs of consecutive values.
    package static func describe(_ seeds: [Int]) -> String {
        guard !seeds.isEmpty else { return "none" }
        var parts: [String] = []
        var start = seeds[0], previous = seeds[0]
        func flush() { parts.append(start == previous ? "\(start)" : "\(start)...\(previous)") }
        for seed in seeds.dropFirst() {
            if seed == previous + 1 { previous = seed; continue }
            flush()
            start = seed; previous = seed
        }
        flush()
        return parts.joined(separator: ", ")
    }

    /// The seeds missing between the smallest and the largest of `seeds`, as runs.
    ///
    /// `seeds` may be in any order; the runs come smallest first, none when it is contiguous.
    package static func gaps(_ seeds: [Int]) -> [ClosedRange<Int>] {
        let sorted = seeds.sorted()
        var gaps: [ClosedRange<Int>] = []
        for (previous, seed) in zip(sorted, sorted.dropFirst()) where seed > previous + 1 {
            gaps.append((previous + 1)...(seed - 1))
        }
        return gaps
    }

    /// One line naming the seeds missing from `seeds`, or nil when there are none.
    ///
    /// Such as `merged seeds have gaps: 6000...7999 missing (2000 seeds between 0 and
    /// 19999)`; it lists the first `limit` gaps.
    package static func describeGaps(_ seeds: [Int], limit: Int = 10) -> String? {
        let gaps = Self.gaps(seeds)
        guard !gaps.isEmpty, let low = seeds.min(), let high = seeds.max() else { return nil }
        let listed = gaps.prefix(limit).map {
            $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)...\($0.upperBound)"
        }
        let more = gaps.count > limit ? " and \(gaps.count - limit) more gap\(gaps.count - limit == 1 ? "" : "s")" : ""
        let missing = gaps.reduce(0) { $0 + $1.count }
        return "merged seeds have gaps: \(listed.joined(separator: ", "))\(more) missing "
            + "(\(missing) seed\(missing == 1 ? "" : "s") between \(low) and \(high))"
    }
}
