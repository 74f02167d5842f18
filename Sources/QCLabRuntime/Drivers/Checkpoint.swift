import QCLabIO
import QCLabCore
import QCLabSystem
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
/// are, the run's log so far (the lines of those batches, not of batches still running),
/// and what identifies the run: the format version, the job record
/// (``Simulation/jobRecord``), the seeds and the batch size; a CRC-32C of all that ends
/// it. A checkpoint whose checksum or content does not hold together (batches done
/// against the seed plan, norm factor against their seeds, outputs against the job) is
/// refused as damaged, and left in place. It is written
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

    /// The format written: 4, whose exact sums are varints with a Hermitian output's upper
    /// triangle stored as zeros (``SimulationData``'s binary version 5).
    ///
    /// Formats 3 (varints, binary version 4) and 2 (the sums at 8 bytes each) are still read;
    /// 1 had no checksum and is refused, as written by an older qclab.
    public static let formatVersion: UInt16 = 4
    /// The formats read: the same fields, the sums stored as their binary version says.
    static let readableFormatVersions: [UInt16] = [2, 3, 4]
    package static let magic: [UInt8] = Array("QCLK".utf8)

    /// Called when a run resumes from the checkpoint, with the trajectories it holds done
    /// and the run's total (`qclab run` says so on standard error, and counts its rate
    /// of progress from there).
    public var resumed: (@Sendable (_ trajectoriesDone: Int, _ total: Int) -> Void)?

    /// Removes the checkpoint file and any temporary file a killed write left beside it.
    public func remove() {
        unlink(path)
        OutputTarget.removeStaleTemporaries(of: path)
    }

    /// `content` with its CRC-32C appended (UInt32, little-endian): what a checkpoint file holds.
    package static func seal(_ content: [UInt8]) -> [UInt8] {
        let crc = CRC32C.checksum(content)
        return content + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
    }

    /// The content of a sealed checkpoint, or nil when its checksum does not match it.
    package static func unseal(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
        guard bytes.count >= 4 else { return nil }
        let content = bytes[..<(bytes.count - 4)]
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.count - 4 + $1]) << (8 * $1) }
        return CRC32C.checksum(content) == stored ? content : nil
    }

    /// The saved state, if the file exists; throws if it belongs to another run or is damaged.
    ///
    /// A damaged checkpoint (its checksum, or what it holds against the run: batches
    /// done, norm factor, samples, outputs, exact sums) is refused and left in place, for
    /// the user to look at or remove; the run never resumes from it.
    package func load(simulation: Simulation, plan: RunPlan, job: String, batchSize: Int) throws
        -> (done: [Int], sums: SimulationData, log: String)?
    {
        OutputTarget.removeStaleTemporaries(of: path)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let file = FileManager.default.contents(atPath: path) else {
            throw QCLabError.invalidPath("checkpoint '\(path)' cannot be read")
        }
        let bytes = Array(file)
        func refuse(_ reason: String) -> QCLabError { .invalidPath("checkpoint '\(path)' \(reason)") }
        func damaged(_ reason: String) -> QCLabError {
            .invalidPath(
                "checkpoint '\(path)' is damaged: \(reason); it is left as it is: remove it to start the run over")
        }
        guard bytes.count >= 6 else { throw damaged("it is truncated (\(bytes.count) bytes)") }
        guard Array(bytes[0..<4]) == Self.magic else { throw refuse("is not a QCLab checkpoint") }
        let version = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        guard version != 1 else {
            throw refuse(
                "was written by an older qclab (checkpoint format 1, without a checksum); remove it to start the run over"
            )
        }
        guard Self.readableFormatVersions.contains(version) else {
            throw refuse("has format version \(version); this build reads versions 2 to \(Self.formatVersion)")
        }
        guard let content = Self.unseal(bytes) else {
            throw damaged("its checksum does not match its content (truncated or altered)")
        }
        var reader = BinaryReader(bytes: Array(content))
        do {
            _ = try reader.take(6, "magic and version")
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
                throw refuse(
                    "is of other seeds (\(SeedList.describe(seeds)); this run has \(SeedList.describe(plan.seeds)))")
            }
            guard size == batchSize else { throw refuse("is of batch_size \(size); this run has \(batchSize)") }
            let doneCount = try reader.count("batches done", elementSize: 8)
            var done: [Int] = []
            for _ in 0..<doneCount { done.append(try reader.int64("batch")) }
            let log = try reader.string("log")
            // Decoding checks the exact sums' limbs against their windows.
            let sums = try SimulationData(encodedBytes: Array(content[reader.offset...]))
            if let problem = Self.check(done: done, sums: sums, simulation: simulation, plan: plan) {
                throw damaged(problem)
            }
            return (done, sums, log)
        } catch let error as DataDecodingError {
            throw damaged("\(error)")
        }
    }

    /// What is wrong with a checkpoint's batches done and sums for this run, if anything:
    /// the batches must be the plan's, each once, in order; the norm factor must be their
    /// seeds, the samples what those make; the outputs the job's, over its time grid.
    /// (The exact sums' limbs and windows are checked as they are decoded.)
    package static func check(done: [Int], sums: SimulationData, simulation: Simulation, plan: RunPlan) -> String? {
        for (position, batch) in done.enumerated() {
            guard plan.batches.indices.contains(batch) else {
                return "it lists batch \(batch + 1) as done, but this run has batches 1...\(plan.batches.count)"
            }
            if position > 0, batch <= done[position - 1] {
                return batch == done[position - 1]
                    ? "it lists batch \(batch + 1) as done twice"
                    : "its batches done are out of order (\(done[position - 1] + 1) before \(batch + 1))"
            }
        }
        let trajectories = done.reduce(0) { $0 + plan.batches[$1].count }
        guard sums.normFactor == trajectories else {
            return
                "its norm factor is \(sums.normFactor), but its \(done.count) batch(es) done hold \(trajectories) seeds"
        }
        let branches = max(simulation.algorithm.branchCount(for: simulation.model), 1)
        guard sums.sampleCount == trajectories / branches else {
            return
                "it counts \(sums.sampleCount) samples, but \(trajectories) trajectories make \(trajectories / branches)"
        }
        guard sums.seeds.isEmpty, sums.job == nil, sums.log.isEmpty else {
            return "its sums carry seeds, a job or a log, which a checkpoint never stores with them"
        }
        let names = done.isEmpty ? [] : simulation.allOutputs.map(\.name)
        guard sums.observables.map(\.name) == names else {
            return "it holds outputs \(sums.observables.map(\.name)), but this job collects \(names)"
        }
        let collectCount = simulation.timeGrid.collectCount
        if let bad = sums.observables.first(where: { $0.shape.first != collectCount }) {
            return
                "output '\(bad.name)' has shape \(bad.shape), but this job's time grid has \(collectCount) collect points"
        }
        return nil
    }

    /// The running sums as a checkpoint holds them: exact sums as varints.
    static func encodedSums(_ sums: SimulationData) -> [UInt8] { sums.encodedBytes(compactSums: true) }

    /// Writes the state atomically, sealed with its checksum.
    package func save(plan: RunPlan, job: String, batchSize: Int, done: [Int], sums: SimulationData, log: String)
        throws
    {
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
        writer.bytes += Self.encodedSums(sums)
        // The one atomic write of the library (OutputTarget): a temporary file beside the
        // checkpoint, flushed, renamed over it, and removed on failure or SIGTERM.
        do {
            try OutputTarget(path: path, kind: "checkpoint", probingName: false).write(bytes: Self.seal(writer.bytes))
        } catch let QCLabError.invalidPath(reason) {
            throw QCLabError.invalidPath("cannot write checkpoint: \(reason)")
        }
    }
}
