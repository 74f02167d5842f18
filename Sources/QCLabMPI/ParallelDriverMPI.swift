#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMPI
import CMPIShims
import QCLab

/// Runs a simulation's trajectories over the ranks of an MPI job (QC Lab's
/// `parallel_driver_mpi`), with a result on rank 0 bit-identical to ``QCLab/serialDriver(_:seeds:data:progress:)``.
///
/// Launch the program with `mpirun -n K`, `mpiexec` or `srun` and call this on every
/// rank with the same arguments. Batch `b` runs on rank `b % K` (round robin), with one
/// BLAS thread per rank. Every other rank sends each batch's ``QCLab/SimulationData`` to rank 0 in
/// the compact binary form as soon as it is done (non-blocking sends, so no rank waits on
/// rank 0 while it computes); rank 0 merges all batches into `data` in batch order, as
/// the serial driver does.
///
/// **MPI's life cycle.** The driver initializes MPI if the program has not
/// (`MPI_Initialized`), and never finalizes it, because MPI cannot be initialized a second
/// time: call ``MPIEnvironment/finalize()`` once on every rank when the program is done
/// with MPI (the `qclab` command does).
///
/// **Return value.** Rank 0 returns the full data; every other rank returns `nil`.
///
/// **Errors.** `numTasks` other than the world size, and unusable settings or seeds, are
/// refused on every rank with the same error, before any communication, so nothing
/// hangs. If a batch throws on some rank, that rank reports it to rank 0 (a failure
/// record in place of the result) and runs no further batches; rank 0 tells every rank to
/// stop, collects what is still in flight, and then throws
/// ``QCLab/QCLabError/workerFailed(worker:reason:lostSeeds:)`` naming the rank, the
/// batch and its error, and every seed whose batch did not complete; the other ranks
/// return `nil` and the job ends normally. A rank that crashes or is killed ends the whole
/// job through the MPI launcher, and a failed MPI call aborts the job (`MPI_Abort`) with
/// a one-line message on standard error naming the rank.
///
/// - Parameters:
///   - seeds: explicit trajectory seeds; they set `num_trajs`. Without them, seeds are
///     `0 ..< num_trajs`, or continue after the largest seed already in `data`.
///   - data: results to add the new trajectories to (the same on every rank).
///   - numTasks: the number of ranks expected; must equal the MPI world size if given.
///   - progress: called on rank 0 as batch results come in, with the number of
///     trajectories done so far and the total.
/// - Returns: on rank 0, `data` with the new trajectories merged in, in seed order; `nil`
///   on every other rank.
public func parallelDriverMPI(_ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
                              numTasks: Int? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SimulationData? {
    try MPIEnvironment.initializeIfNeeded()
    let rank = MPIEnvironment.rank, size = MPIEnvironment.worldSize
    if let numTasks, numTasks != size {
        throw QCLabError.mpi(
            "num_tasks is \(numTasks), but the MPI job has \(size) rank(s); launch it with `mpirun -n \(numTasks)` or leave num_tasks out")
    }
    let plan = try RunPlan(simulation: simulation, seeds: seeds, continuing: data)
    return try withLinearAlgebraThreads(1) {
        var driver = MPIRun(simulation: simulation, plan: plan, rank: rank, size: size)
        if rank == 0 {
            return try driver.runRoot(data: data, progress: progress)
        }
        driver.runOther()
        return nil
    }
}

/// The MPI library's state in this process: initialization, rank, size and finalization.
public enum MPIEnvironment {
    /// Whether MPI has been initialized in this process (finalized or not).
    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// Whether MPI has been finalized in this process.
    public static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// Initializes MPI unless it is already; throws if it was finalized (it cannot be
    /// initialized again) or initialization fails.
    public static func initializeIfNeeded() throws {
        guard !isInitialized else {
            if isFinalized { throw QCLabError.mpi("MPI was already finalized in this process and cannot be initialized again") }
            return
        }
        let code = MPI_Init(nil, nil)
        guard code == qclab_mpi_success() else { throw QCLabError.mpi("MPI_Init failed: \(errorString(code))") }
    }

    /// This process's rank in `MPI_COMM_WORLD` (MPI must be initialized).
    public static var rank: Int {
        var value: Int32 = 0
        check(MPI_Comm_rank(qclab_mpi_comm_world(), &value), "MPI_Comm_rank")
        return Int(value)
    }

    /// The number of ranks in `MPI_COMM_WORLD` (MPI must be initialized).
    public static var worldSize: Int {
        var value: Int32 = 0
        check(MPI_Comm_size(qclab_mpi_comm_world(), &value), "MPI_Comm_size")
        return Int(value)
    }

    /// Finalizes MPI if it was initialized and is not finalized yet; does nothing otherwise.
    ///
    /// Call it once on every rank when the program is done with MPI, after the driver
    /// has returned or thrown on every rank (`MPI_Finalize` waits for all ranks).
    public static func finalize() {
        guard isInitialized, !isFinalized else { return }
        MPI_Finalize()
    }

    /// Ends every rank of the job: writes `qclab: MPI rank R: message` on standard error
    /// and calls `MPI_Abort` with `code`.
    public static func abort(_ message: String, code: Int32 = 1) -> Never {
        let rankText = isInitialized && !isFinalized ? "MPI rank \(rank)" : "MPI"
        fputs("qclab: \(rankText): \(message); aborting the job\n", stderr)
        fflush(stderr)
        if isInitialized && !isFinalized { MPI_Abort(qclab_mpi_comm_world(), code) }
        exit(code)
    }

    /// Aborts the job if an MPI call failed: the state of communication is then unknown,
    /// and other ranks might wait forever.
    static func check(_ code: Int32, _ call: String) {
        if code != qclab_mpi_success() { abort("\(call) failed: \(errorString(code))") }
    }

    /// MPI's text for an error code.
    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(qclab_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == qclab_mpi_success() else { return "error \(code)" }
        return String(cString: buffer)
    }
}

// MARK: - Messages

/// What ranks send each other. Other ranks to rank 0, tag `record`: one record per batch
/// they were given: a kind byte, the batch index (Int64) and the encoded ``QCLab/SimulationData``
/// (result), the error text (failure), or nothing (skipped after a stop). Rank 0 to the
/// others, tag `stop`: one empty message after the first failure. Then a broadcast of the
/// outcome (0 or 1), after which every rank has received any stop sent to it.
private enum Message {
    static let recordTag: Int32 = 4201
    static let stopTag: Int32 = 4202
    static let result: UInt8 = 0
    static let failure: UInt8 = 1
    static let skipped: UInt8 = 2

    static func record(kind: UInt8, batch: Int, payload: [UInt8] = []) -> [UInt8] {
        var bytes = [kind]
        withUnsafeBytes(of: Int64(batch).littleEndian) { bytes += $0 }
        return bytes + payload
    }

    static func parse(_ bytes: [UInt8]) -> (kind: UInt8, batch: Int, payload: ArraySlice<UInt8>)? {
        guard bytes.count >= 9 else { return nil }
        var batch: Int64 = 0
        withUnsafeMutableBytes(of: &batch) { $0.copyBytes(from: bytes[1..<9]) }
        return (bytes[0], Int(Int64(littleEndian: batch)), bytes[9...])
    }
}

/// Non-blocking sends in flight; their buffers live until ``waitAll()``.
private struct PendingSends {
    private var requests: [MPI_Request?] = []
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    /// Starts sending `bytes` to `destination` with `tag`.
    mutating func send(_ bytes: [UInt8], to destination: Int, tag: Int32) {
        guard bytes.count <= Int(Int32.max) else {
            MPIEnvironment.abort("a message of \(bytes.count) bytes is too large for MPI")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        buffer.copyBytes(from: bytes)
        buffers.append(buffer)
        var request: MPI_Request?
        MPIEnvironment.check(MPI_Isend(buffer.baseAddress, Int32(bytes.count), qclab_mpi_byte(), Int32(destination), tag,
                                       qclab_mpi_comm_world(), &request), "MPI_Isend")
        requests.append(request)
    }

    /// Waits until every send has completed and frees the buffers.
    mutating func waitAll() {
        if !requests.isEmpty {
            MPIEnvironment.check(MPI_Waitall(Int32(requests.count), &requests, qclab_mpi_statuses_ignore()), "MPI_Waitall")
        }
        for buffer in buffers { buffer.deallocate() }
        requests = []
        buffers = []
    }
}

// MARK: - The run

/// One rank's part of an MPI run.
private struct MPIRun {
    let simulation: Simulation
    let plan: RunPlan
    let rank: Int
    let size: Int

    /// The batches this rank runs: `rank, rank + size, ...`.
    var myBatches: [Int] { Array(stride(from: rank, to: plan.batches.count, by: size)) }

    func label(_ batch: Int) -> String { "batch \(batch + 1) (seeds \(SeedList.describe(plan.seeds(ofBatch: batch))))" }

    /// Rank 0: runs its batches, collects everyone's, merges or throws.
    mutating func runRoot(data: SimulationData, progress: ((Int, Int) -> Void)?) throws -> SimulationData {
        var run = ParallelRun(simulation: simulation, plan: plan, data: data, driver: "mpi", tasks: size)
        for batch in plan.batches.indices {
            run.note("Batch \(batch + 1) with seeds \(SeedList.describe(plan.seeds(ofBatch: batch))) runs on rank \(batch % size).")
        }
        var collector = RootCollector(expected: plan.batches.count - myBatches.count, size: size)
        for batch in myBatches {
            collector.drain(blocking: false, into: &run, progress: progress)
            guard collector.failures.isEmpty else { break }
            do {
                try run.store(simulation.runBatch(seeds: plan.seeds(ofBatch: batch)), forBatch: batch)
                progress?(run.trajectoriesDone, plan.seeds.count)
            } catch {
                collector.fail(rank: 0, batch: batch, reason: "\(error)")
            }
        }
        collector.drain(blocking: true, into: &run, progress: progress)
        var outcome: Int64 = collector.failures.isEmpty ? 0 : 1
        MPIEnvironment.check(MPI_Bcast(&outcome, 1, qclab_mpi_int64(), 0, qclab_mpi_comm_world()), "MPI_Bcast")
        collector.stops.waitAll()
        if let first = collector.failures.min(by: { ($0.batch ?? -1) < ($1.batch ?? -1) }) {
            let others = collector.failures.count - 1
            let what = first.batch.map { "\(label($0)) threw: " } ?? ""
            throw QCLabError.workerFailed(
                worker: "MPI rank \(first.rank)",
                reason: what + first.reason + (others > 0 ? "; \(others) more failure(s)" : ""),
                lostSeeds: run.missingSeeds)
        }
        return try run.finish()
    }

    /// Any other rank: runs its batches, sending each record to rank 0, until done or stopped.
    func runOther() {
        var sends = PendingSends()
        var stopReceived = false
        var stopped = false
        for batch in myBatches {
            if !stopped && !stopReceived && Self.stopArrived() {
                Self.receiveStop()
                stopReceived = true
                stopped = true
            }
            let record: [UInt8]
            if stopped {
                record = Message.record(kind: Message.skipped, batch: batch)
            } else {
                do {
                    let result = try simulation.runBatch(seeds: plan.seeds(ofBatch: batch))
                    record = Message.record(kind: Message.result, batch: batch, payload: result.encodedBytes())
                } catch {
                    record = Message.record(kind: Message.failure, batch: batch, payload: Array("\(error)".utf8))
                    stopped = true
                }
            }
            sends.send(record, to: 0, tag: Message.recordTag)
        }
        sends.waitAll()
        var outcome: Int64 = 0
        MPIEnvironment.check(MPI_Bcast(&outcome, 1, qclab_mpi_int64(), 0, qclab_mpi_comm_world()), "MPI_Bcast")
        if outcome != 0 && !stopReceived { Self.receiveStop() }
    }

    /// Whether rank 0's stop message is waiting.
    static func stopArrived() -> Bool {
        var flag: Int32 = 0
        MPIEnvironment.check(MPI_Iprobe(0, Message.stopTag, qclab_mpi_comm_world(), &flag, qclab_mpi_status_ignore()), "MPI_Iprobe")
        return flag != 0
    }

    /// Receives rank 0's stop message.
    static func receiveStop() {
        var byte: UInt8 = 0
        MPIEnvironment.check(MPI_Recv(&byte, 1, qclab_mpi_byte(), 0, Message.stopTag, qclab_mpi_comm_world(),
                                      qclab_mpi_status_ignore()), "MPI_Recv")
    }
}

/// Rank 0's side of the records: receives them, stores results, notes failures and, at
/// the first failure, tells every other rank to stop.
private struct RootCollector {
    /// A failure on `rank`: of a batch (its error), or of the rank's messages (`batch` nil).
    struct Failure { let rank: Int; let batch: Int?; let reason: String }

    /// Records still to come from the other ranks (one per batch they hold).
    var expected: Int
    let size: Int
    var failures: [Failure] = []
    var stops = PendingSends()
    private var stopSent = false

    init(expected: Int, size: Int) {
        self.expected = expected
        self.size = size
    }

    /// Notes a failure; the first one sends every other rank a stop.
    mutating func fail(rank: Int, batch: Int?, reason: String) {
        failures.append(Failure(rank: rank, batch: batch, reason: reason))
        guard !stopSent else { return }
        stopSent = true
        for other in 1..<max(size, 1) { stops.send([1], to: other, tag: Message.stopTag) }
    }

    /// Receives records: those already waiting, or (blocking) all that are still to come.
    mutating func drain(blocking: Bool, into run: inout ParallelRun, progress: ((Int, Int) -> Void)?) {
        while expected > 0 {
            var status = MPI_Status()
            if blocking {
                MPIEnvironment.check(MPI_Probe(qclab_mpi_any_source(), Message.recordTag, qclab_mpi_comm_world(), &status), "MPI_Probe")
            } else {
                var flag: Int32 = 0
                MPIEnvironment.check(MPI_Iprobe(qclab_mpi_any_source(), Message.recordTag, qclab_mpi_comm_world(), &flag, &status),
                                     "MPI_Iprobe")
                if flag == 0 { return }
            }
            var count: Int32 = 0
            MPIEnvironment.check(MPI_Get_count(&status, qclab_mpi_byte(), &count), "MPI_Get_count")
            let source = Int(status.MPI_SOURCE)
            var bytes = [UInt8](repeating: 0, count: Int(max(count, 1)))
            MPIEnvironment.check(MPI_Recv(&bytes, count, qclab_mpi_byte(), Int32(source), Message.recordTag,
                                          qclab_mpi_comm_world(), qclab_mpi_status_ignore()), "MPI_Recv")
            expected -= 1
            bytes.removeLast(bytes.count - Int(count))
            guard let (kind, batch, payload) = Message.parse(bytes), run.plan.batches.indices.contains(batch),
                  batch % size == source, !run.hasResult(batch) else {
                fail(rank: source, batch: nil, reason: "sent an unreadable or unexpected record")
                continue
            }
            switch kind {
            case Message.result:
                do {
                    try run.store(SimulationData(encodedBytes: Array(payload)), forBatch: batch)
                    progress?(run.trajectoriesDone, run.plan.seeds.count)
                } catch {
                    fail(rank: source, batch: batch, reason: "its result could not be read: \(error)")
                }
            case Message.failure:
                fail(rank: source, batch: batch, reason: String(decoding: payload, as: UTF8.self))
            case Message.skipped:
                break
            default:
                fail(rank: source, batch: batch, reason: "sent a record of unknown kind \(kind)")
            }
        }
    }
}
