#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMPI
import CMPIShims
import QCLab

/// Runs a simulation's trajectories over the ranks of an MPI job (QC Lab's
/// `parallel_driver_mpi`), with a result on rank 0 bit-identical to ``QCLab/serialDriver(_:seeds:data:checkpoint:progress:)``.
///
/// Launch the program with `mpirun -n K`, `mpiexec` or `srun` and call this on every
/// rank with the same arguments. Batches are handed out as ranks free up, from a shared
/// counter on rank 0 (MPI one-sided `MPI_Fetch_and_op`), so a slow node does not hold the
/// job; each rank runs its batches with one BLAS thread and folds them into its own
/// running sum. At the end the ranks combine their sums along a binomial tree (rank 0
/// receives ⌈log₂ K⌉ messages, each one folded result): the sums are exact, so the result
/// is the same bits whichever rank ran which batch, and every rank holds a bounded number
/// of results whatever the number of batches. Only rank 0 returns data (and only it
/// writes files); no rank reads anything but its arguments.
///
/// **MPI's life cycle.** The driver initializes MPI if the program has not
/// (`MPI_Initialized`), and never finalizes it, because MPI cannot be initialized a second
/// time: call ``MPIEnvironment/finalize()`` once on every rank when the program is done
/// with MPI (the `qclab` command does).
///
/// **Return value.** Rank 0 returns the full data; every other rank returns `nil`.
///
/// **Errors.** Ranks called with different simulations, seeds, task counts or checkpoints
/// are refused first, on every rank, naming the difference (``RankAgreement``).
/// `numTasks` other than the world size, and unusable settings or seeds, are
/// refused on every rank with the same error, before any other communication, so nothing
/// hangs. If a batch throws on some rank, that rank raises a shared failure flag and runs
/// no further batches; the others stop at their next batch. Rank 0 then throws: a
/// ``QCLab/QCLabError`` raised by the batch as itself (the same case as under the serial
/// driver; the rank, batch and lost seeds go to the log at error level), any other error
/// as ``QCLab/QCLabError/workerFailed(worker:reason:lostSeeds:)`` naming the rank, the
/// batch and its error, and every seed whose batch did not complete; the other ranks
/// return `nil`. A rank that crashes or is killed ends the whole job through the MPI
/// launcher, and a failed MPI call aborts the job (`MPI_Abort`) with a one-line message on
/// standard error naming the rank.
///
/// - Parameters:
///   - seeds: explicit trajectory seeds; they set `num_trajs`. Without them, seeds are
///     `0 ..< num_trajs`, or continue after the largest seed already in `data`.
///   - data: results to add the new trajectories to (used on rank 0).
///   - numTasks: the number of ranks expected; must equal the MPI world size if given.
///   - checkpoint: where rank 0 keeps the run's progress (only rank 0 reads or writes it);
///     a checkpoint that exists is resumed, and only the missing batches run. With a
///     checkpoint, rank 0 runs no batches itself: it receives each batch's result as it is
///     done and keeps the checkpoint. A stop asked for by a signal on rank 0
///     (``QCLab/StopRequest``) makes it write a last checkpoint and throw
///     ``QCLab/RunStopped``, leaving MPI as it is: end the process without finalizing.
///   - progress: called on rank 0 with the number of trajectories done by all ranks so
///     far and the total, as the count grows: within batches (every rank adds how far its
///     batch has got to a shared count on rank 0 at most every half second, and at the
///     end of each batch; a batch's trajectories count in proportion to the collect points
///     it has passed, rounded down), read by rank 0 at its own collect points and, once it
///     has no batch to run, about ten times a second until every rank is done. Counts only
///     grow, and the same count is not reported twice; the last call is the total.
/// - Returns: on rank 0, `data` with the new trajectories merged in; `nil` on every other rank.
public func parallelDriverMPI(_ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
                              numTasks: Int? = nil, checkpoint: Checkpointing? = nil,
                              progress: ((Int, Int) -> Void)? = nil) throws -> SimulationData? {
    try MPIEnvironment.initializeIfNeeded()
    try RankAgreement.check(simulation: simulation, seeds: seeds, numTasks: numTasks, checkpoint: checkpoint)
    let rank = MPIEnvironment.rank, size = MPIEnvironment.worldSize
    if let numTasks, numTasks != size {
        throw QCLabError.mpi(
            "num_tasks is \(numTasks), but the MPI job has \(size) rank(s); launch it with `mpirun -n \(numTasks)` or leave num_tasks out")
    }
    let plan = try RunPlan(simulation: simulation, seeds: seeds, continuing: data)
    if let checkpoint {
        guard size > 1 else { return try serialDriver(simulation, seeds: seeds, data: data, checkpoint: checkpoint, progress: progress) }
        return try withLinearAlgebraThreads(1) {
            try runCheckpointed(simulation, plan: plan, data: data, rank: rank, size: size, checkpoint: checkpoint,
                                progress: progress)
        }
    }
    return try withLinearAlgebraThreads(1) {
        var counter = SharedCounter(rank: rank)
        let shared = SharedProgress(counter: counter, progress: rank == 0 ? progress : nil, total: plan.seeds.count)
        let report = RankReport.run(simulation: simulation, plan: plan, rank: rank, counter: counter, progress: shared)
        _ = counter.fetchAndAdd(SharedCounter.finishedRanks, 1)
        if rank == 0 { shared.watch(until: size) }
        counter.free()
        guard let total = report.reduced(rank: rank, size: size) else { return nil }
        let result = try finish(total, simulation: simulation, plan: plan, data: data, size: size)
        shared.show(plan.seeds.count)
        return result
    }
}

/// A checkpointed MPI run: rank 0 loads the checkpoint and tells the others which batches
/// are missing; they take those from the shared counter and send each result to rank 0,
/// which adds it to the run and keeps the checkpoint.
private func runCheckpointed(_ simulation: Simulation, plan: RunPlan, data: SimulationData, rank: Int, size: Int,
                             checkpoint: Checkpointing, progress: ((Int, Int) -> Void)?) throws -> SimulationData? {
    var run: ParallelRun?
    var refusal: Error?
    var missing: [Int64] = []
    if rank == 0 {
        do {
            run = try ParallelRun(simulation: simulation, plan: plan, data: data, driver: "mpi", tasks: size, checkpoint: checkpoint)
            missing = run!.missingBatches.map(Int64.init)
        } catch {
            refusal = error
        }
    }
    var count: Int64 = refusal == nil ? Int64(missing.count) : -1
    MPIEnvironment.check(MPI_Bcast(&count, 1, qclab_mpi_int64(), 0, qclab_mpi_comm_world()), "MPI_Bcast")
    if count < 0 {
        throw refusal ?? QCLabError.mpi("rank 0 could not resume the checkpoint")
    }
    if rank != 0 { missing = [Int64](repeating: 0, count: Int(count)) }
    if count > 0 {
        MPIEnvironment.check(MPI_Bcast(&missing, Int32(count), qclab_mpi_int64(), 0, qclab_mpi_comm_world()), "MPI_Bcast")
    }
    var counter = SharedCounter(rank: rank)
    // A stopped run (rank 0 throws RunStopped) leaves the window: the launcher is ending the other ranks.
    defer { if StopRequest.signal == nil { counter.free() } }
    let shared = SharedProgress(counter: counter, progress: rank == 0 ? progress : nil, total: plan.seeds.count,
                                base: run?.trajectoriesDone ?? 0)
    guard rank == 0, var run else {
        // A worker rank: run missing batches, send each result (or the failure), then an end.
        while true {
            let index = Int(counter.fetchAndAdd(SharedCounter.next, 1))
            guard index < missing.count, counter.read(SharedCounter.failed) == 0 else { break }
            let batch = Int(missing[index])
            do {
                let result = try shared.runBatch(simulation, seeds: plan.seeds(ofBatch: batch))
                RankReport.send(CheckpointMessage.result(batch, result.encodedBytes()), to: 0, tag: CheckpointMessage.tag)
            } catch {
                _ = counter.fetchAndAdd(SharedCounter.failed, 1)
                RankReport.send(CheckpointMessage.failure(batch, BatchFailure(error).encodedBytes()), to: 0, tag: CheckpointMessage.tag)
                break
            }
        }
        RankReport.send(CheckpointMessage.end, to: 0, tag: CheckpointMessage.tag)
        return nil
    }
    var total = RankReport()
    var ends = 0
    while ends < size - 1 {
        // Polls, so that a stop (SIGTERM) is seen: a last checkpoint, then RunStopped.
        while !RankReport.messageWaiting(tag: CheckpointMessage.tag) {
            try run.stopIfAsked()
            shared.poll()
        }
        let (source, bytes) = RankReport.receiveAny(tag: CheckpointMessage.tag)
        guard let (kind, batch, payload) = CheckpointMessage.parse(bytes) else {
            MPIEnvironment.abort("an unreadable message came from MPI rank \(source)")
        }
        switch kind {
        case 0:
            do {
                try run.store(SimulationData(encodedBytes: payload), forBatch: batch)
                try run.checkpointIfDue()
                total.batches[source, default: []].append(batch)
            } catch {
                total.failures.append(.init(rank: source, batch: batch, failure: .other("its result could not be kept: \(error)")))
                _ = counter.fetchAndAdd(SharedCounter.failed, 1)
            }
            shared.show(shared.base + Int(counter.read(SharedCounter.trajectories)))
        case 1:
            total.failures.append(.init(rank: source, batch: batch, failure: BatchFailure(encodedBytes: payload)))
        default:
            ends += 1
        }
    }
    return try finish(total, run: &run, plan: plan, storing: false)
}

/// Messages of a checkpointed MPI run, rank to rank 0: kind (0 result, 1 failure, 2 end),
/// batch (Int64), payload.
private enum CheckpointMessage {
    static let tag: Int32 = 4204
    static func result(_ batch: Int, _ payload: [UInt8]) -> [UInt8] { frame(0, batch, payload) }
    static func failure(_ batch: Int, _ payload: [UInt8]) -> [UInt8] { frame(1, batch, payload) }
    static var end: [UInt8] { frame(2, -1, []) }

    static func frame(_ kind: UInt8, _ batch: Int, _ payload: [UInt8]) -> [UInt8] {
        var bytes = [kind]
        withUnsafeBytes(of: Int64(batch).littleEndian) { bytes += $0 }
        return bytes + payload
    }

    static func parse(_ bytes: [UInt8]) -> (kind: UInt8, batch: Int, payload: [UInt8])? {
        guard bytes.count >= 9 else { return nil }
        var batch: Int64 = 0
        withUnsafeMutableBytes(of: &batch) { $0.copyBytes(from: bytes[1..<9]) }
        return (bytes[0], Int(Int64(littleEndian: batch)), Array(bytes[9...]))
    }
}

/// Rank 0's end of a run: stores the reduced result, or throws the first failure.
private func finish(_ total: RankReport, simulation: Simulation, plan: RunPlan, data: SimulationData,
                    size: Int) throws -> SimulationData {
    var run = try ParallelRun(simulation: simulation, plan: plan, data: data, driver: "mpi", tasks: size)
    return try finish(total, run: &run, plan: plan, storing: true)
}

/// Notes which rank ran which batches, stores the reduced result (if `storing`), or throws the first failure.
private func finish(_ total: RankReport, run: inout ParallelRun, plan: RunPlan, storing: Bool) throws -> SimulationData {
    for (rank, batches) in total.batches.sorted(by: { $0.key < $1.key }) where !batches.isEmpty {
        run.note("MPI rank \(rank) ran \(batches.count) batch(es): \(batches.sorted().map { "\($0 + 1)" }.joined(separator: ", ")).")
    }
    if storing { try run.store(total.data, forBatches: total.batches.values.flatMap { $0 }) }
    if let first = total.failures.min(by: { $0.batch < $1.batch }) {
        let others = total.failures.count - 1
        let label = "batch \(first.batch + 1) (seeds \(SeedList.describe(plan.seeds(ofBatch: first.batch))))"
        let report = QCLabError.workerFailed(
            worker: "MPI rank \(first.rank)",
            reason: "\(label) threw: \(first.failure.description)" + (others > 0 ? "; \(others) more failure(s)" : ""),
            lostSeeds: run.missingSeeds)
        if case let .error(error) = first.failure {
            run.logFailure("\(report)")
            throw error
        }
        throw report
    }
    return try run.finish()
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

    /// Rank 0's `bytes` on every rank (MPI must be initialized; collective): what rank 0
    /// read from a file, so that no other rank reads a path only rank 0 may have. Rank 0
    /// passes what it read, or the error it met (which every rank then throws).
    public static func broadcastFromRoot(_ bytes: Result<[UInt8], Error>) throws -> [UInt8] {
        var payload: [UInt8]
        var count: Int64
        switch bytes {
        case let .success(value): payload = value; count = Int64(value.count)
        case let .failure(error): payload = Array("\(error)".utf8); count = -1 - Int64(payload.count)
        }
        check(MPI_Bcast(&count, 1, qclab_mpi_int64(), 0, qclab_mpi_comm_world()), "MPI_Bcast")
        let length = count >= 0 ? Int(count) : Int(-1 - count)
        if rank != 0 { payload = [UInt8](repeating: 0, count: length) }
        var offset = 0
        while offset < length {  // in pieces MPI's Int32 counts can hold
            let piece = min(length - offset, 1 << 30)
            payload.withUnsafeMutableBytes {
                check(MPI_Bcast($0.baseAddress! + offset, Int32(piece), qclab_mpi_byte(), 0, qclab_mpi_comm_world()), "MPI_Bcast")
            }
            offset += piece
        }
        if count < 0 {
            if case let .failure(error) = bytes { throw error }
            throw QCLabError.mpi(String(decoding: payload, as: UTF8.self))
        }
        return payload
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

// MARK: - The shared counter

/// Rank 0's shared counters, reached by every rank with one-sided operations: the next
/// batch to hand out, a failure flag, the trajectories done (within batches too, for rank
/// 0's progress) and the ranks that have no batch left to run.
private struct SharedCounter {
    static let next = 0, failed = 1, trajectories = 2, finishedRanks = 3
    static let slots = 4
    var window: MPI_Win?
    var memory: UnsafeMutableRawPointer?

    init(rank: Int) {
        let bytes = rank == 0 ? Self.slots * MemoryLayout<Int64>.size : 0
        // Some one-sided components cannot run over every network (Open MPI 4's default,
        // osc/rdma, needs RDMA, so TCP between nodes fails): say what to do, on every rank.
        MPI_Comm_set_errhandler(qclab_mpi_comm_world(), qclab_mpi_errors_return())
        let code = MPI_Win_allocate(MPI_Aint(bytes), Int32(MemoryLayout<Int64>.size), qclab_mpi_info_null(),
                                    qclab_mpi_comm_world(), &memory, &window)
        MPI_Comm_set_errhandler(qclab_mpi_comm_world(), qclab_mpi_errors_are_fatal())
        if code != qclab_mpi_success() {
            MPIEnvironment.abort("MPI_Win_allocate failed (\(MPIEnvironment.errorString(code))): this MPI's one-sided "
                                 + "component cannot run over this network; with Open MPI, add `--mca osc pt2pt` to mpirun")
        }
        if rank == 0 { memory!.initializeMemory(as: Int64.self, repeating: 0, count: Self.slots) }
        MPIEnvironment.check(MPI_Barrier(qclab_mpi_comm_world()), "MPI_Barrier")
        MPIEnvironment.check(MPI_Win_lock_all(0, window), "MPI_Win_lock_all")
    }

    /// Adds `amount` to counter `slot` on rank 0 and returns its previous value.
    func fetchAndAdd(_ slot: Int, _ amount: Int64) -> Int64 {
        var operand = amount, result: Int64 = 0
        MPIEnvironment.check(MPI_Fetch_and_op(&operand, &result, qclab_mpi_int64(), 0, MPI_Aint(slot), qclab_mpi_sum(), window),
                             "MPI_Fetch_and_op")
        MPIEnvironment.check(MPI_Win_flush(0, window), "MPI_Win_flush")
        return result
    }

    /// Reads counter `slot` on rank 0.
    func read(_ slot: Int) -> Int64 {
        var operand: Int64 = 0, result: Int64 = 0
        MPIEnvironment.check(MPI_Fetch_and_op(&operand, &result, qclab_mpi_int64(), 0, MPI_Aint(slot), qclab_mpi_no_op(), window),
                             "MPI_Fetch_and_op")
        MPIEnvironment.check(MPI_Win_flush(0, window), "MPI_Win_flush")
        return result
    }

    /// Ends the epoch and frees the window (collective: after every rank's last batch).
    mutating func free() {
        MPIEnvironment.check(MPI_Win_unlock_all(window), "MPI_Win_unlock_all")
        MPIEnvironment.check(MPI_Win_free(&window), "MPI_Win_free")
    }
}

// MARK: - Progress

/// The job's progress, kept in rank 0's shared count of trajectories done: each rank adds
/// how far its running batch has got (at most every ``interval`` seconds, and the rest at
/// the end of the batch), and rank 0 shows the count.
private final class SharedProgress {
    static let interval = 0.5
    let counter: SharedCounter
    /// Rank 0's `progress` (nil on other ranks).
    let progress: ((Int, Int) -> Void)?
    let total: Int
    /// Trajectories done before this run (a resumed checkpoint's).
    let base: Int
    /// Trajectories of the running batch already added to the shared count.
    private var added = 0
    private var lastAdded = 0.0
    private var reported = -1

    init(counter: SharedCounter, progress: ((Int, Int) -> Void)?, total: Int, base: Int = 0) {
        self.counter = counter
        self.progress = progress
        self.total = total
        self.base = base
    }

    /// Runs a batch of `seeds`, adding its progress to the shared count as it goes and all
    /// of its trajectories when it is done.
    func runBatch(_ simulation: Simulation, seeds: [Int]) throws -> SimulationData {
        added = 0
        let result = try BatchProgress.reporting({ [self] collected, points in
            let done = seeds.count * collected / max(points, 1)
            let now = monotonicSeconds()
            guard done > added, done < seeds.count, now - lastAdded >= Self.interval else { return }
            add(done - added)
            added = done
            lastAdded = now
        }) {
            try simulation.runBatch(seeds: seeds)
        }
        add(seeds.count - added)
        added = 0
        return result
    }

    private func add(_ trajectories: Int) {
        let count = counter.fetchAndAdd(SharedCounter.trajectories, Int64(trajectories)) + Int64(trajectories)
        show(base + Int(count))
    }

    /// Calls rank 0's `progress` with `done`, if it is more than last time.
    func show(_ done: Int) {
        guard let progress, done > reported else { return }
        reported = done
        progress(min(done, total), total)
    }

    /// Shows the shared count, then waits a tenth of a second (rank 0, waiting for other ranks).
    func poll() {
        show(base + Int(counter.read(SharedCounter.trajectories)))
        usleep(100_000)
    }

    /// On rank 0 with nothing left to run: shows the count until all `ranks` are done.
    func watch(until ranks: Int) {
        guard progress != nil else { return }
        while counter.read(SharedCounter.finishedRanks) < Int64(ranks) { poll() }
    }
}

/// Seconds on the monotonic clock (for rate limits).
private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

// MARK: - Reports and the reduction tree

/// What a rank (or a subtree of ranks) has to show: the batches each rank ran, their
/// folded result, and any failures.
private struct RankReport {
    struct Failure { let rank: Int; let batch: Int; let failure: BatchFailure }

    var batches: [Int: [Int]] = [:]
    var data = SimulationData()
    var failures: [Failure] = []

    /// Runs batches from the shared counter until they run out or some rank failed.
    static func run(simulation: Simulation, plan: RunPlan, rank: Int, counter: SharedCounter,
                    progress: SharedProgress) -> RankReport {
        var report = RankReport()
        report.batches[rank] = []
        while true {
            let batch = Int(counter.fetchAndAdd(SharedCounter.next, 1))
            guard batch < plan.batches.count, counter.read(SharedCounter.failed) == 0 else { break }
            do {
                try report.data.add(progress.runBatch(simulation, seeds: plan.seeds(ofBatch: batch)))
                report.batches[rank]!.append(batch)
            } catch {
                report.failures.append(Failure(rank: rank, batch: batch, failure: BatchFailure(error)))
                _ = counter.fetchAndAdd(SharedCounter.failed, 1)
                break
            }
        }
        return report
    }

    /// Combines the reports of all ranks along a binomial tree; the whole on rank 0, nil elsewhere.
    func reduced(rank: Int, size: Int) -> RankReport? {
        var mine = self
        var step = 1
        while step < size {
            if rank % (2 * step) == step {
                Self.send(mine.encoded(), to: rank - step)
                return nil
            }
            if rank + step < size {
                guard let theirs = RankReport(decoding: Self.receive(from: rank + step)) else {
                    MPIEnvironment.abort("an unreadable report came from MPI rank \(rank + step)")
                }
                mine.merge(theirs)
            }
            step *= 2
        }
        return mine
    }

    mutating func merge(_ other: RankReport) {
        for (rank, list) in other.batches { batches[rank, default: []] += list }
        failures += other.failures
        do {
            try data.add(other.data)
        } catch {
            MPIEnvironment.abort("cannot combine the ranks' results: \(error)")
        }
    }

    static let tag: Int32 = 4203

    static func send(_ bytes: [UInt8], to destination: Int, tag: Int32 = tag) {
        guard bytes.count <= Int(Int32.max) else { MPIEnvironment.abort("a result of \(bytes.count) bytes is too large for one MPI message") }
        var bytes = bytes
        MPIEnvironment.check(MPI_Send(&bytes, Int32(bytes.count), qclab_mpi_byte(), Int32(destination), tag,
                                      qclab_mpi_comm_world()), "MPI_Send")
    }

    /// Whether a message with `tag` from any rank is waiting to be received.
    static func messageWaiting(tag: Int32) -> Bool {
        var flag: Int32 = 0
        var status = MPI_Status()
        MPIEnvironment.check(MPI_Iprobe(qclab_mpi_any_source(), tag, qclab_mpi_comm_world(), &flag, &status), "MPI_Iprobe")
        return flag != 0
    }

    /// Receives the next message with `tag` from any rank.
    static func receiveAny(tag: Int32) -> (source: Int, bytes: [UInt8]) {
        var status = MPI_Status()
        MPIEnvironment.check(MPI_Probe(qclab_mpi_any_source(), tag, qclab_mpi_comm_world(), &status), "MPI_Probe")
        let source = Int(status.MPI_SOURCE)
        var count: Int32 = 0
        MPIEnvironment.check(MPI_Get_count(&status, qclab_mpi_byte(), &count), "MPI_Get_count")
        var bytes = [UInt8](repeating: 0, count: Int(max(count, 1)))
        MPIEnvironment.check(MPI_Recv(&bytes, count, qclab_mpi_byte(), Int32(source), tag, qclab_mpi_comm_world(),
                                      qclab_mpi_status_ignore()), "MPI_Recv")
        return (source, Array(bytes.prefix(Int(count))))
    }

    static func receive(from source: Int) -> [UInt8] {
        var status = MPI_Status()
        MPIEnvironment.check(MPI_Probe(Int32(source), tag, qclab_mpi_comm_world(), &status), "MPI_Probe")
        var count: Int32 = 0
        MPIEnvironment.check(MPI_Get_count(&status, qclab_mpi_byte(), &count), "MPI_Get_count")
        var bytes = [UInt8](repeating: 0, count: Int(max(count, 1)))
        MPIEnvironment.check(MPI_Recv(&bytes, count, qclab_mpi_byte(), Int32(source), tag, qclab_mpi_comm_world(),
                                      qclab_mpi_status_ignore()), "MPI_Recv")
        return Array(bytes.prefix(Int(count)))
    }

    /// Layout: ranks (count, then rank, batch count, batches), failures (count, then rank,
    /// batch, length-prefixed ``QCLab/BatchFailure``), then the encoded data.
    func encoded() -> [UInt8] {
        var w: [UInt8] = []
        func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { w += $0 } }
        int(batches.count)
        for (rank, list) in batches { int(rank); int(list.count); list.forEach(int) }
        int(failures.count)
        for failure in failures {
            int(failure.rank); int(failure.batch)
            let bytes = failure.failure.encodedBytes()
            int(bytes.count); w += bytes
        }
        return w + data.encodedBytes()
    }

    init() {}

    init?(decoding bytes: [UInt8]) {
        var offset = 0
        func int() -> Int? {
            guard offset + 8 <= bytes.count else { return nil }
            var value: Int64 = 0
            withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[offset..<offset + 8]) }
            offset += 8
            return Int(Int64(littleEndian: value))
        }
        guard let rankCount = int(), rankCount >= 0, rankCount <= bytes.count else { return nil }
        for _ in 0..<rankCount {
            guard let rank = int(), let count = int(), count >= 0, count <= bytes.count else { return nil }
            var list: [Int] = []
            for _ in 0..<count { guard let b = int() else { return nil }; list.append(b) }
            batches[rank] = list
        }
        guard let failureCount = int(), failureCount >= 0, failureCount <= bytes.count else { return nil }
        for _ in 0..<failureCount {
            guard let rank = int(), let batch = int(), let length = int(), length >= 0, offset + length <= bytes.count else { return nil }
            failures.append(Failure(rank: rank, batch: batch, failure: BatchFailure(encodedBytes: Array(bytes[offset..<offset + length]))))
            offset += length
        }
        guard let data = try? SimulationData(encodedBytes: Array(bytes[offset...])) else { return nil }
        self.data = data
    }
}
