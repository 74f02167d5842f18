import QCLabCore
import QCLabSystem
/// A binary form of ``QCLabError``: an error of a forked worker or MPI rank keeps its case.
///
/// So its ``QCLabError/code`` and values arrive as thrown, whichever driver ran the batch.
/// Layout: a case number (UInt8), then the case's values in order: strings as UInt64
/// length and UTF-8, integers as Int64, seed lists as UInt64 count and Int64 each.
extension QCLabError {
    /// The error in binary form.
    package func encodedBytes() -> [UInt8] {
        var w = BinaryWriter()
        func strings(_ tag: UInt8, _ values: String...) {
            w.bytes.append(tag)
            for value in values { w.string(value) }
        }
        switch self {
        case let .invalidSetting(a, b): strings(0, a, b)
        case let .invalidConstant(model, name, reason): strings(1, model, name, reason)
        case let .invalidAlgorithmSetting(name, reason): strings(2, name, reason)
        case let .invalidInitialState(a): strings(3, a)
        case let .unknownName(kind, name, known):
            strings(4, kind, name)
            w.count(known.count)
            for k in known { w.string(k) }
        case let .malformedJob(a): strings(5, a)
        case let .lapack(routine, info):
            strings(6, routine)
            w.int64(Int(info))
        case let .hdf5(path, reason): strings(7, path, reason)
        case let .incompatibleData(a): strings(8, a)
        case let .workerFailed(worker, reason, lost):
            strings(9, worker, reason)
            w.count(lost.count)
            for seed in lost { w.int64(seed) }
        case let .mpi(a): strings(10, a)
        case let .invalidPath(a): strings(11, a)
        case let .unusableData(a): strings(12, a)
        case let .nonFinite(output, value, time, seeds):
            strings(13, output)
            w.uint64(value.bitPattern)
            w.bytes.append(time == nil ? 0 : 1)
            w.uint64((time ?? 0).bitPattern)
            w.count(seeds.count)
            for seed in seeds { w.int64(seed) }
        case let .invalidEnvironment(variable, value, expected): strings(14, variable, value, expected)
        case let .system(a): strings(15, a)
        }
        return w.bytes
    }

    /// Decodes an error written by ``encodedBytes()``; nil if the bytes are not one.
    package init?(encodedBytes bytes: [UInt8]) {
        var r = BinaryReader(bytes: bytes)
        func s() throws -> String { try r.string("error text") }
        do {
            guard let tag = try r.take(1, "error case").first else { return nil }
            switch tag {
            case 0: self = .invalidSetting(try s(), try s())
            case 1: self = .invalidConstant(model: try s(), name: try s(), reason: try s())
            case 2: self = .invalidAlgorithmSetting(name: try s(), reason: try s())
            case 3: self = .invalidInitialState(try s())
            case 4:
                let kind = try s(), name = try s()
                let count = try r.count("names", elementSize: 8)
                self = .unknownName(kind: kind, name: name, known: try (0..<count).map { _ in try s() })
            case 5: self = .malformedJob(try s())
            case 6:
                let routine = try s()
                let info = try r.int64("info")
                guard let code = Int32(exactly: info) else { return nil }
                self = .lapack(routine: routine, info: code)
            case 7: self = .hdf5(path: try s(), reason: try s())
            case 8: self = .incompatibleData(try s())
            case 9:
                let worker = try s(), reason = try s()
                let count = try r.count("seeds", elementSize: 8)
                self = .workerFailed(
                    worker: worker, reason: reason, lostSeeds: try (0..<count).map { _ in try r.int64("seed") })
            case 10: self = .mpi(try s())
            case 11: self = .invalidPath(try s())
            case 12: self = .unusableData(try s())
            case 13:
                let output = try s()
                let value = Double(bitPattern: try r.uint64("value"))
                let hasTime = try r.take(1, "time flag").first == 1
                let time = Double(bitPattern: try r.uint64("time"))
                let count = try r.count("seeds", elementSize: 8)
                self = .nonFinite(
                    output: output, value: value, time: hasTime ? time : nil,
                    seeds: try (0..<count).map { _ in try r.int64("seed") })
            case 14: self = .invalidEnvironment(variable: try s(), value: try s(), expected: try s())
            case 15: self = .system(try s())
            default: return nil
            }
            guard r.offset == bytes.count else { return nil }
        } catch {
            return nil
        }
    }
}

/// How a batch failed, as drivers send it between processes.
///
/// A ``QCLabError`` keeps its case, any other error becomes its description.
package enum BatchFailure: Sendable, Equatable {
    case error(QCLabError)
    case other(String)

    package init(_ error: Error) {
        if let error = error as? QCLabError { self = .error(error) } else { self = .other("\(error)") }
    }

    /// Kind byte, then the error's binary form or the text.
    package func encodedBytes() -> [UInt8] {
        switch self {
        case let .error(error): return [1] + error.encodedBytes()
        case let .other(text): return [0] + Array(text.utf8)
        }
    }

    package init(encodedBytes bytes: [UInt8]) {
        if bytes.first == 1, let error = QCLabError(encodedBytes: Array(bytes.dropFirst())) {
            self = .error(error)
        } else {
            self = .other(String(decoding: bytes.dropFirst(), as: UTF8.self))
        }
    }

    /// The text of the failure, for messages.
    package var description: String {
        switch self {
        case let .error(error): return "\(error)"
        case let .other(text): return text
        }
    }
}
