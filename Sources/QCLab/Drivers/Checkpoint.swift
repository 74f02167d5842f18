import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where and how often a run keeps its progress, so that a killed run resumes where it
/// stopped (`qclab run ... --checkpoint CK`).
///
/// The checkpoint holds the exact running sum of the batches done, which batches those
/// are, the run's log so far, and what identifies the run: the format version, the job
/// record (``Simulation/jobRecord``), the seeds and the batch size. It is written
/// atomically (a temporary file beside it, flushed, then renamed over it) when the first
/// batch finishes and then at most every `interval` seconds. A driver given a checkpoint
/// that exists resumes from it: it runs only the missing batches, and its result is the
/// same bits as an uninterrupted run's. A checkpoint of another run is refused. The
/// drivers leave the file in place; remove it (``remove()``) once the result is saved, as
/// `qclab run` does.
public struct Checkpointing: Sendable {
    /// The checkpoint file.
    public var path: String
    /// Least time between two writes, in seconds (the first batch is written at once).
    public var interval: Double

    public init(path: String, interval: Double = 2) {
        self.path = path
        self.interval = interval
    }

    /// The format written: 1.
    public static let formatVersion: UInt16 = 1
    static let magic: [UInt8] = Array("QCLK".utf8)

    /// Removes the checkpoint file and any temporary file a killed write left beside it.
    public func remove() {
        unlink(path)
        OutputTarget.removeStaleTemporaries(of: path)
    }

    /// The saved state, if the file exists; throws if it belongs to another run or is damaged.
    func load(plan: RunPlan, job: String, batchSize: Int) throws -> (done: [Int], sums: SimulationData, log: String)? {
        OutputTarget.removeStaleTemporaries(of: path)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw QCLabError.invalidPath("checkpoint '\(path)' cannot be read")
        }
        func refuse(_ reason: String) -> QCLabError { .invalidPath("checkpoint '\(path)' \(reason)") }
        var reader = BinaryReader(bytes: Array(bytes))
        do {
            guard Array(try reader.take(4, "magic")) == Self.magic else { throw refuse("is not a QCLab checkpoint") }
            let version = try reader.uint16("version")
            guard version == Self.formatVersion else {
                throw refuse("has format version \(version); this build reads version \(Self.formatVersion)")
            }
            let savedJob = try reader.string("job")
            if let d = JobRecord.difference(savedJob, job) {
                throw refuse("is of another job: \(d.path) is \(d.mine) there but \(d.theirs) in this one")
            }
            let size = try reader.int64("batch size")
            let count = try reader.count("seeds", elementSize: 8)
            var seeds: [Int] = []
            seeds.reserveCapacity(count)
            for _ in 0..<count { seeds.append(try reader.int64("seed")) }
            guard seeds == plan.seeds else {
                throw refuse("is of other seeds (\(SeedList.describe(seeds)); this run has \(SeedList.describe(plan.seeds)))")
            }
            guard size == batchSize else { throw refuse("is of batch_size \(size); this run has \(batchSize)") }
            let doneCount = try reader.count("batches done", elementSize: 8)
            var done: [Int] = []
            for _ in 0..<doneCount {
                let batch = try reader.int64("batch")
                guard plan.batches.indices.contains(batch) else { throw refuse("names a batch this run does not have") }
                done.append(batch)
            }
            let log = try reader.string("log")
            let sums = try SimulationData(encodedBytes: Array(bytes[reader.offset...]))
            return (done, sums, log)
        } catch let error as DataDecodingError {
            throw refuse("is damaged: \(error)")
        }
    }

    /// Writes the state atomically.
    func save(plan: RunPlan, job: String, batchSize: Int, done: [Int], sums: SimulationData, log: String) throws {
        var writer = BinaryWriter()
        writer.bytes += Self.magic
        writer.uint16(Self.formatVersion)
        writer.string(job)
        writer.int64(batchSize)
        writer.count(plan.seeds.count)
        for seed in plan.seeds { writer.int64(seed) }
        writer.count(done.count)
        for batch in done { writer.int64(batch) }
        writer.string(log)
        writer.bytes += sums.encodedBytes()
        // The one atomic write of the library (OutputTarget): a temporary file beside the
        // checkpoint, flushed, renamed over it, and removed on failure or SIGTERM.
        do {
            try OutputTarget(path: path).write(bytes: writer.bytes)
        } catch let QCLabError.invalidPath(reason) {
            throw QCLabError.invalidPath("cannot write checkpoint: \(reason)")
        }
    }
}
