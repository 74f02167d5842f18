#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMPI
import CMPIShims
import Foundation
import QCLab
import QCLabCore
import QCLabSystem
import QCLabIO
import QCLabRuntime

/// Runs a simulation's trajectories over the ranks of an MPI job (QC Lab's
/// `parallel_driver_mpi`), with a result on rank 0 bit-identical to ``QCLab/serialDriver(_:seeds:data:checkpoint:progress:)``.
///
/// Launch the program with `mpirun -n K`, `mpiexec` or `srun` and call this on every
/// rank with the same arguments. It needs nothing of the network but two-sided messages
/// (`MPI_Send`, `MPI_Iprobe`, `MPI_Recv`), so it runs over every transport an MPI offers
/// (shared memory, TCP between hosts, UCX) without options to `mpirun`.
///
/// **Dispatching.** Rank 0's main thread hands out batches as ranks free up; a second
/// thread on rank 0 runs rank 0's share of batches meanwhile (MPI is initialized with
/// `MPI_THREAD_FUNNELED`: only the main thread calls MPI). Every other rank is given two
/// batches at the start and one more each time it reports one done, so it always has the
/// next batch at hand and never waits for rank 0; a slow node holds the job back by at most
/// the batches it holds. Rank 0's main thread checks for messages (`MPI_Iprobe`) and
/// sleeps between checks (at most a millisecond once nothing has happened for a while), so
/// it takes next to no processor time from the batches. Each rank runs its batches with
/// one BLAS thread. Rank 0's log of the run (in the output) says how many batches each
/// rank ran and which: `MPI rank 1 ran 98 batch(es): 2, 4, ...`.
///
/// **Results.** Without a checkpoint each rank folds its batches into its own running sum,
/// and at the end the ranks combine their sums along a binomial tree (rank 0 receives
/// ⌈log₂ K⌉ messages, each one folded result). The sums are exact, so the result is the
/// same bits whichever rank ran which batch, and every rank holds a bounded number of
/// results whatever the number of batches. With a checkpoint, each rank sends every batch's
/// result to rank 0 as it is done, and rank 0 keeps the checkpoint at its interval. Only
/// rank 0 returns data (and only it writes files); no rank reads anything but its
/// arguments. A rank that has nothing to do waits for messages without spinning.
///
/// **MPI's life cycle.** The driver initializes MPI if the program has not
/// (`MPI_Initialized`), and never finalizes it, because MPI cannot be initialized a second
/// time: call ``MPIEnvironment/finalize()`` once on every rank when the program is done
/// with MPI (the `qclab` command does). A program that initialized MPI itself with less
/// than `MPI_THREAD_FUNNELED` gets a rank 0 that only dispatches (with more than one rank).
///
/// **Return value.** Rank 0 returns the full data; every other rank returns `nil`.
///
/// **Errors.** Ranks called with different simulations, seeds, task counts or checkpoints
/// are refused first, on every rank, naming the difference (`RankAgreement`).
/// `numTasks` other than the world size, and unusable settings or seeds, are refused on
/// every rank with the same error, before any other communication, so nothing hangs. A
/// stop asked for by a signal on rank 0 (`StopRequest`) in a checkpointed run makes
/// it write a last checkpoint and throw ``QCLab/RunStopped``. If a batch throws on some rank, that rank tells rank 0 and runs no further
/// batches; rank 0 tells every rank to stop, and each stops at its next batch. Rank 0 then
/// throws: a ``QCLab/QCLabError`` raised by the batch as itself (the same case as under the
/// serial driver; the rank, batch and lost seeds go to the log at error level), any other
/// error as ``QCLab/QCLabError/workerFailed(worker:reason:lostSeeds:)`` naming the rank,
/// the batch and its error, and every seed whose batch did not complete; the other ranks
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
///     a checkpoint that exists is resumed, and only the missing batches run.
///   - progress: called on rank 0 (on the calling thread) with the number of trajectories
///     done by all ranks so far and the total, as the count grows: within batches (every
///     rank tells rank 0 how far its batch has got at most every half second; a batch's
///     trajectories count in proportion to the collect points it has passed, rounded down)
///     and at the end of each batch. Counts only grow, and the same count is not reported
///     twice; the last call is the total.
/// - Returns: on rank 0, `data` with the new trajectories merged in; `nil` on every other rank.
public func parallelDriverMPI(
    _ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
    numTasks: Int? = nil, checkpoint: Checkpointing? = nil,
    progress: ((Int, Int) -> Void)? = nil
) throws -> SimulationData? {
    try MPIDriver(numTasks: numTasks).run(
        simulation, seeds: seeds, data: data, checkpoint: checkpoint, progress: progress)
}

/// Runs the batches over the ranks of an MPI job:
/// ``parallelDriverMPI(_:seeds:data:numTasks:checkpoint:progress:)`` describes how.
package struct MPIDriver: Driver {
    /// The number of ranks expected; must equal the MPI world size if given.
    package let numTasks: Int?

    package init(numTasks: Int? = nil) { self.numTasks = numTasks }

    /// Checks that the ranks agree before the plan is made (collective), so that a rank
    /// whose simulation or seeds cannot run does not leave the others waiting.
    package func run(
        _ simulation: Simulation, seeds: [Int]?, data: SimulationData, checkpoint: Checkpointing?,
        progress: ((Int, Int) -> Void)?
    ) throws -> SimulationData? {
        try agree(simulation, seeds: seeds, checkpoint: checkpoint)
        let plan = try RunPlan(simulation: simulation, seeds: seeds, continuing: data)
        return try runAgreed(simulation, plan: plan, data: data, checkpoint: checkpoint, progress: progress)
    }

    package func run(
        _ simulation: Simulation, plan: RunPlan, data: SimulationData, checkpoint: Checkpointing?,
        progress: ((Int, Int) -> Void)?
    ) throws -> SimulationData? {
        try agree(simulation, seeds: plan.seeds, checkpoint: checkpoint)
        return try runAgreed(simulation, plan: plan, data: data, checkpoint: checkpoint, progress: progress)
    }

    /// Initializes MPI if needed, and checks that every rank runs the same and that the
    /// task count is the world size.
    private func agree(_ simulation: Simulation, seeds: [Int]?, checkpoint: Checkpointing?) throws {
        try MPIEnvironment.initializeIfNeeded()
        try RankAgreement.check(simulation: simulation, seeds: seeds, numTasks: numTasks, checkpoint: checkpoint)
        let size = MPIEnvironment.worldSize
        if let numTasks, numTasks != size {
            throw QCLabError.mpi(
                "num_tasks is \(numTasks), but the MPI job has \(size) rank(s); launch it with `mpirun -n \(numTasks)` or leave num_tasks out"
            )
        }
    }

    private func runAgreed(
        _ simulation: Simulation, plan: RunPlan, data: SimulationData, checkpoint: Checkpointing?,
        progress: ((Int, Int) -> Void)?
    ) throws -> SimulationData? {
        let rank = MPIEnvironment.rank, size = MPIEnvironment.worldSize
        if let checkpoint, size == 1 {
            return try SerialDriver().run(
                simulation, plan: plan, data: data, checkpoint: checkpoint, progress: progress)
        }
        return try withLinearAlgebraThreads(1) {
            // Rank 0 starts the run (resuming the checkpoint, if any) and tells every rank
            // whether it can go on.
            var run: Result<ParallelRun, Error>?
            if rank == 0 {
                run = Result {
                    try ParallelRun(
                        simulation: simulation, plan: plan, data: data, driver: "mpi", tasks: size,
                        checkpoint: checkpoint)
                }
            }
            if checkpoint != nil {
                var usable: Int64 = rank != 0 || (try? run?.get()) != nil ? 1 : 0
                MPIEnvironment.check(MPI_Bcast(&usable, 1, qclab_mpi_int64(), 0, qclab_mpi_comm_world()), "MPI_Bcast")
                if usable == 0 {
                    _ = try run?.get()
                    throw QCLabError.mpi("rank 0 could not resume the checkpoint")
                }
            }
            let sendsResults = checkpoint != nil
            guard let run else {
                let report = Worker(simulation: simulation, plan: plan, rank: rank, sendsResults: sendsResults).run()
                if !sendsResults { _ = report.reduced(rank: rank, size: size) }
                return nil
            }
            let dispatcher = Dispatcher(
                simulation: simulation, run: try run.get(), size: size, sendsResults: sendsResults,
                progress: progress)
            var total = try dispatcher.run()
            // Without a checkpoint, the ranks' folds come along the tree (rank 0's is its batch thread's).
            if !sendsResults { total = total.reduced(rank: 0, size: size)! }
            return try dispatcher.finish(total)
        }
    }
}

// MARK: - Messages

/// The ``QCLab/DriverMessage``s between rank 0 and the other ranks, by tag.
///
/// To rank 0 (``toRoot``): a batch done, a batch failed, how many trajectories of the
/// running batch are done (progress), and the end of a rank's work. When rank 0 keeps a
/// checkpoint, each batch's result follows its `done` as a `done` of its own with tag
/// ``resultTag`` and the result as payload, sent without waiting: the rank goes on with its
/// next batch while the result travels. To another rank (``toWorker``): `assign` a batch,
/// or `stop` (batch 1: drop the batches not yet started, 0: run them first).
extension DriverMessage {
    static let toRoot: Int32 = 4204, toWorker: Int32 = 4205, resultTag: Int32 = 4206

    func send(to rank: Int, tag: Int32) { Link.send(bytes, to: rank, tag: tag) }

    /// The next message with `tag` from `source`, if one is waiting (or, if `wait`, once one comes).
    static func receive(from source: Int32, tag: Int32, wait: Bool) -> (source: Int, message: DriverMessage)? {
        let received = wait ? Link.receive(from: source, tag: tag) : Link.receiveIfWaiting(from: source, tag: tag)
        guard let (rank, bytes) = received else { return nil }
        guard let message = try? DriverMessage(bytes: bytes) else {
            MPIEnvironment.abort("an unreadable message came from MPI rank \(rank)")
        }
        return (rank, message)
    }
}

/// Point-to-point messages of bytes, with waits that never spin.
///
/// It checks for the message with `MPI_Iprobe` (or for a send or receive to complete with
/// `MPI_Test`) and sleeps between checks, a little longer each time up to a millisecond. A blocking
/// `MPI_Recv` or `MPI_Send` busy-polls in Open MPI, which would take a core from the ranks still
/// computing when there are more ranks than cores.
enum Link {
    /// Sends `bytes`, waiting for the send to complete without spinning (a large message
    /// completes only once the receiver has taken it).
    static func send(_ bytes: [UInt8], to destination: Int, tag: Int32) {
        guard bytes.count <= Int(Int32.max) else {
            MPIEnvironment.abort("a result of \(bytes.count) bytes is too large for one MPI message")
        }
        var bytes = bytes
        bytes.withUnsafeMutableBytes { buffer in
            var request: MPI_Request?
            MPIEnvironment.check(
                MPI_Isend(
                    buffer.baseAddress, Int32(buffer.count), qclab_mpi_byte(), Int32(destination), tag,
                    qclab_mpi_comm_world(), &request), "MPI_Isend")
            wait(&request)
        }
    }

    /// A send under way: its own copy of the bytes, kept until the send completes.
    final class Sending {
        private let buffer: UnsafeMutableRawBufferPointer
        private var request: MPI_Request?
        private(set) var isDone = false

        init(_ bytes: [UInt8], to destination: Int, tag: Int32) {
            guard bytes.count <= Int(Int32.max) else {
                MPIEnvironment.abort("a result of \(bytes.count) bytes is too large for one MPI message")
            }
            buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 8)
            buffer.copyBytes(from: bytes)
            MPIEnvironment.check(
                MPI_Isend(
                    buffer.baseAddress, Int32(bytes.count), qclab_mpi_byte(), Int32(destination), tag,
                    qclab_mpi_comm_world(), &request), "MPI_Isend")
        }

        /// Whether the send has completed (checked with `MPI_Test`, which also moves it along).
        var isComplete: Bool {
            if !isDone {
                var flag: Int32 = 0
                MPIEnvironment.check(MPI_Test(&request, &flag, qclab_mpi_status_ignore()), "MPI_Test")
                isDone = flag != 0
            }
            return isDone
        }

        func wait() {
            var pause = Pause()
            while !isComplete { pause.sleep() }
        }

        deinit { buffer.deallocate() }
    }

    /// A receive under way of a message whose envelope `MPI_Iprobe` saw.
    final class Receiving {
        let source: Int
        private let buffer: UnsafeMutableRawBufferPointer
        private let count: Int
        private var request: MPI_Request?

        init(_ probed: MPI_Status, tag: Int32) {
            var status = probed
            source = Int(status.MPI_SOURCE)
            var count: Int32 = 0
            MPIEnvironment.check(MPI_Get_count(&status, qclab_mpi_byte(), &count), "MPI_Get_count")
            self.count = Int(count)
            buffer = .allocate(byteCount: max(Int(count), 1), alignment: 8)
            MPIEnvironment.check(
                MPI_Irecv(
                    buffer.baseAddress, count, qclab_mpi_byte(), status.MPI_SOURCE, tag,
                    qclab_mpi_comm_world(), &request), "MPI_Irecv")
        }

        /// The bytes, once the receive has completed (checked with `MPI_Test`); nil until then.
        func bytes() -> [UInt8]? {
            var flag: Int32 = 0
            MPIEnvironment.check(MPI_Test(&request, &flag, qclab_mpi_status_ignore()), "MPI_Test")
            return flag != 0 ? Array(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) : nil
        }

        deinit { buffer.deallocate() }
    }

    /// Waits for `request` to complete, checking with `MPI_Test` and sleeping between checks.
    private static func wait(_ request: inout MPI_Request?) {
        var pause = Pause()
        while true {
            var flag: Int32 = 0
            MPIEnvironment.check(MPI_Test(&request, &flag, qclab_mpi_status_ignore()), "MPI_Test")
            if flag != 0 { return }
            pause.sleep()
        }
    }

    /// The envelope of a message with `tag` from `source` (or any source), if one is waiting.
    static func probe(from source: Int32, tag: Int32) -> MPI_Status? {
        var flag: Int32 = 0
        var status = MPI_Status()
        MPIEnvironment.check(MPI_Iprobe(source, tag, qclab_mpi_comm_world(), &flag, &status), "MPI_Iprobe")
        return flag != 0 ? status : nil
    }

    /// The next message with `tag` from `source` (or any source), if one is waiting.
    static func receiveIfWaiting(from source: Int32, tag: Int32) -> (source: Int, bytes: [UInt8])? {
        probe(from: source, tag: tag).map { receive($0, tag: tag) }
    }

    /// The next message with `tag` from `source` (or any source), once it comes.
    static func receive(from source: Int32, tag: Int32) -> (source: Int, bytes: [UInt8]) {
        var pause = Pause()
        while true {
            if let status = probe(from: source, tag: tag) { return receive(status, tag: tag) }
            pause.sleep()
        }
    }

    private static func receive(_ probed: MPI_Status, tag: Int32) -> (source: Int, bytes: [UInt8]) {
        var status = probed
        let source = status.MPI_SOURCE
        var count: Int32 = 0
        MPIEnvironment.check(MPI_Get_count(&status, qclab_mpi_byte(), &count), "MPI_Get_count")
        var bytes = [UInt8](repeating: 0, count: Int(max(count, 1)))
        bytes.withUnsafeMutableBytes { buffer in
            var request: MPI_Request?
            MPIEnvironment.check(
                MPI_Irecv(
                    buffer.baseAddress, count, qclab_mpi_byte(), source, tag, qclab_mpi_comm_world(),
                    &request), "MPI_Irecv")
            wait(&request)
        }
        return (Int(source), Array(bytes.prefix(Int(count))))
    }
}

/// A sleep between checks for messages that grows from 20 µs to 1 ms while nothing happens.
struct Pause {
    private var microseconds: UInt32 = 20

    mutating func sleep() {
        usleep(microseconds)
        microseconds = min(microseconds * 2, 1000)
    }

    /// Back to the shortest sleep (something happened).
    mutating func reset() { microseconds = 20 }
}

// MARK: - The other ranks

/// A rank other than 0: runs the batches rank 0 hands it, keeping the next one at hand.
private struct Worker {
    static let progressInterval = 0.5
    let simulation: Simulation
    let plan: RunPlan
    let rank: Int
    /// Whether each batch's result goes to rank 0 (a checkpointed run) rather than into this rank's fold.
    let sendsResults: Bool

    /// Runs batches until rank 0 says stop; returns this rank's fold (empty if results were sent).
    func run() -> RankReport {
        var report = RankReport()
        report.batches[rank] = []
        var queue: [Int] = []
        var stopped = false, abandon = false, failed = false, wantsProgress = false
        /// Results on their way to rank 0 (checkpointed runs).
        var sending: [Link.Sending] = []
        /// Takes every message waiting from rank 0, or waits for one if `wait`.
        func receive(wait: Bool) {
            var first = wait
            while let (_, message) = DriverMessage.receive(from: 0, tag: DriverMessage.toWorker, wait: first) {
                first = false
                switch message.kind {
                case .assign:
                    queue.append(message.batch)
                    wantsProgress = message.reportsProgress
                case .stop:
                    stopped = true
                    abandon = message.batch == 1
                default:
                    MPIEnvironment.abort("an unexpected message came from MPI rank 0")
                }
            }
        }
        while true {
            receive(wait: queue.isEmpty && !stopped)
            if failed || abandon || queue.isEmpty {
                while !stopped { receive(wait: true) }
                break
            }
            let batch = queue.removeFirst()
            sending.removeAll { $0.isComplete }
            do {
                let result = try runBatch(batch, reportingProgress: wantsProgress)
                if !sendsResults {
                    try report.data.add(result)
                    report.batches[rank]!.append(batch)
                }
                DriverMessage.done(batch).send(to: 0, tag: DriverMessage.toRoot)
                if sendsResults {
                    sending.append(
                        Link.Sending(
                            DriverMessage.done(batch, result: result).bytes, to: 0, tag: DriverMessage.resultTag))
                }
            } catch {
                DriverMessage.failure(batch, error).send(to: 0, tag: DriverMessage.toRoot)
                failed = true
            }
        }
        for send in sending { send.wait() }
        DriverMessage(.end, batch: -1).send(to: 0, tag: DriverMessage.toRoot)
        return report
    }

    /// Runs one batch, telling rank 0 how far it has got: the first count at once (a batch
    /// that ends quickly still shows it has begun, as a forked worker's does), then at most
    /// every ``progressInterval`` seconds.
    private func runBatch(_ batch: Int, reportingProgress: Bool) throws -> SimulationData {
        let seeds = plan.seeds(ofBatch: batch)
        var sent = 0, lastSent = monotonicSeconds()
        let report: ((Int, Int) -> Void)? =
            reportingProgress
            ? { collected, points in
                let done = BatchProgress.trajectories(of: seeds.count, collected: collected, total: points)
                let now = monotonicSeconds()
                guard done > sent, done < seeds.count, sent == 0 || now - lastSent >= Self.progressInterval else {
                    return
                }
                DriverMessage.progress(batch, trajectories: done).send(to: 0, tag: DriverMessage.toRoot)
                sent = done
                lastSent = now
            } : nil
        return try BatchProgress.reporting(report) { try simulation.runBatch(seeds: seeds) }
    }
}

// MARK: - Rank 0

/// Rank 0's main thread: hands out batches, takes in what the ranks report (and, with a
/// checkpoint, their results, keeping the checkpoint), shows progress, while a
/// ``RankZeroBatches`` thread runs rank 0's own share of batches.
private final class Dispatcher {
    /// Batches each rank holds ahead of the one it runs, so it never waits for rank 0.
    static let ahead = 2

    let simulation: Simulation
    private(set) var parallelRun: ParallelRun
    let size: Int
    let sendsResults: Bool
    let progress: ((Int, Int) -> Void)?
    private let shared: RankZeroBatches
    /// Per rank: stop sent, end received, trajectories of its running batch done.
    private var stopped: [Bool], ended: [Bool], running: [Int]
    /// Per rank: results announced by a `done` and not yet received (checkpointed runs).
    private var announced: [Int]
    /// Results being received (checkpointed runs).
    private var receiving: [Link.Receiving] = []
    private var done: Int
    private var reported = -1
    private var total = RankReport()

    init(simulation: Simulation, run: ParallelRun, size: Int, sendsResults: Bool, progress: ((Int, Int) -> Void)?) {
        self.simulation = simulation
        parallelRun = run
        self.size = size
        self.sendsResults = sendsResults
        self.progress = progress
        shared = RankZeroBatches(batches: run.missingBatches)
        stopped = Array(repeating: false, count: size)
        ended = Array(repeating: false, count: size)
        running = Array(repeating: 0, count: size)
        announced = Array(repeating: 0, count: size)
        done = run.trajectoriesDone
    }

    /// Runs the whole job and returns what rank 0 has.
    ///
    /// That is its own fold (without a checkpoint), the batches each rank ran, and the failures. A
    /// stop asked for by a signal (`StopRequest`) in a checkpointed run writes a last checkpoint
    /// and throws ``QCLab/RunStopped``; the launcher ends the other ranks.
    func run() throws -> RankReport {
        total.batches[0] = []
        for rank in 1..<size {
            for _ in 0..<Self.ahead where !stopped[rank] { handOut(to: rank) }
        }
        let computes = size == 1 || MPIEnvironment.threadLevel >= qclab_mpi_thread_funneled()
        if computes {
            shared.start(
                simulation: simulation, plan: parallelRun.plan, keepsResults: sendsResults,
                reportsProgress: progress != nil)
        } else {
            shared.finish()
        }
        var pause = Pause()
        while true {
            // Read before taking the news, so the batch thread's last news is taken before leaving.
            let rankZeroDone = shared.isFinished
            var happened = false
            while let (rank, message) = DriverMessage.receive(
                from: qclab_mpi_any_source(), tag: DriverMessage.toRoot, wait: false)
            {
                handle(message, from: rank)
                happened = true
            }
            if sendsResults { happened = receiveResults() || happened }
            happened = takeRankZeroNews() || happened
            if sendsResults && happened { keepCheckpoint() }
            if sendsResults { try parallelRun.stopIfAsked() }
            show(done + running.reduce(0, +))
            // A rank's end is the last message it sends, so every earlier one has been handled
            // (but for results, which it announced and which are counted).
            if rankZeroDone && ended.dropFirst().allSatisfy({ $0 }) && announced.allSatisfy({ $0 == 0 }) { break }
            if happened { pause.reset() } else { pause.sleep() }
        }
        let fold = shared.takeFold()
        if !sendsResults {
            total.data = fold.data
            total.batches[0] = fold.batches[0] ?? []
        }
        return total
    }

    /// Ends the run: notes which rank ran which batches, stores the reduced result
    /// (without a checkpoint), throws the first failure or returns the run's data.
    func finish(_ total: RankReport) throws -> SimulationData {
        for (rank, batches) in total.batches.sorted(by: { $0.key < $1.key }) where !batches.isEmpty {
            parallelRun.note(
                "MPI rank \(rank) ran \(batches.count) batch(es): \(batches.sorted().map { "\($0 + 1)" }.joined(separator: ", "))."
            )
        }
        if !sendsResults { try parallelRun.store(total.data, forBatches: total.batches.values.flatMap { $0 }) }
        if let first = total.failures.min(by: { $0.batch < $1.batch }) {
            throw parallelRun.failure(
                of: "MPI rank \(first.rank)", batch: first.batch, first.failure, others: total.failures.count - 1)
        }
        let result = try parallelRun.finish()
        show(parallelRun.plan.seeds.count)
        return result
    }

    /// Gives `rank` its next batch, or tells it to stop if none is left.
    private func handOut(to rank: Int) {
        if let batch = shared.take() {
            DriverMessage.assign(batch, reportsProgress: progress != nil).send(to: rank, tag: DriverMessage.toWorker)
        } else {
            stop(rank, abandon: false)
        }
    }

    private func stop(_ rank: Int, abandon: Bool) {
        guard !stopped[rank] else { return }
        stopped[rank] = true
        DriverMessage(.stop, batch: abandon ? 1 : 0).send(to: rank, tag: DriverMessage.toWorker)
    }

    /// A batch failed (or its result could not be kept): no batch is handed out any more,
    /// and every rank drops the batches it has not started.
    private func fail(_ failure: RankReport.Failure) {
        total.failures.append(failure)
        shared.stopHandingOut()
        for rank in 1..<size { stop(rank, abandon: true) }
    }

    private func handle(_ message: DriverMessage, from rank: Int) {
        switch message.kind {
        case .done:
            done += parallelRun.plan.batches[message.batch].count
            running[rank] = 0
            // Without a checkpoint the batches come with the rank's fold, along the tree.
            if sendsResults { announced[rank] += 1 }
            if !stopped[rank] { handOut(to: rank) }
        case .failure:
            running[rank] = 0
            fail(.init(rank: rank, batch: message.batch, failure: message.failure))
        case .progress:
            guard let count = try? message.trajectories() else {
                MPIEnvironment.abort("an unreadable message came from MPI rank \(rank)")
            }
            running[rank] = count
        case .end:
            ended[rank] = true
        default:
            MPIEnvironment.abort("an unexpected message came from MPI rank \(rank)")
        }
    }

    /// Starts receiving the results whose envelopes have come, and keeps those received;
    /// whether anything happened.
    private func receiveResults() -> Bool {
        var happened = false
        while let status = Link.probe(from: qclab_mpi_any_source(), tag: DriverMessage.resultTag) {
            receiving.append(Link.Receiving(status, tag: DriverMessage.resultTag))
            happened = true
        }
        receiving.removeAll { receive in
            guard let bytes = receive.bytes() else { return false }
            guard let message = try? DriverMessage(bytes: bytes), message.kind == .done else {
                MPIEnvironment.abort("an unreadable result came from MPI rank \(receive.source)")
            }
            announced[receive.source] -= 1
            keep(message.batch, from: receive.source) { try message.decodedResult() }
            happened = true
            return true
        }
        return happened
    }

    /// Adds a batch's result to the run (checkpointed runs); a result that cannot be kept fails the run.
    private func keep(_ batch: Int, from rank: Int, _ result: () throws -> SimulationData) {
        do {
            try parallelRun.store(result(), forBatch: batch)
            total.batches[rank, default: []].append(batch)
        } catch {
            fail(.init(rank: rank, batch: batch, failure: .other("its result could not be kept: \(error)")))
        }
    }

    /// Writes the checkpoint if one is due; a checkpoint that cannot be written fails the run.
    private func keepCheckpoint() {
        do {
            try parallelRun.checkpointIfDue()
        } catch {
            let batch = parallelRun.missingBatches.first ?? 0
            fail(.init(rank: 0, batch: batch, failure: .other("the checkpoint could not be written: \(error)")))
        }
    }

    /// Takes what rank 0's batch thread did since the last look; whether anything happened.
    private func takeRankZeroNews() -> Bool {
        let news = shared.takeNews()
        running[0] = news.running
        for batch in news.done {
            done += parallelRun.plan.batches[batch.index].count
            if sendsResults, let result = batch.result { keep(batch.index, from: 0) { result } }
        }
        if let failure = news.failure {
            fail(.init(rank: 0, batch: failure.batch, failure: BatchFailure(failure.error)))
        }
        return !news.done.isEmpty || news.failure != nil
    }

    /// Calls `progress` with `count`, if it is more than last time.
    func show(_ count: Int) {
        guard let progress, count > reported else { return }
        reported = count
        progress(min(count, parallelRun.plan.seeds.count), parallelRun.plan.seeds.count)
    }
}

/// The batches rank 0 hands out, shared under a lock between its main thread (which hands
/// them to other ranks) and the thread that runs rank 0's own batches.
private final class RankZeroBatches: @unchecked Sendable {
    struct News {
        var done: [(index: Int, result: SimulationData?)] = []
        var failure: (batch: Int, error: Error)?
        var running = 0
    }

    private let condition = NSCondition()
    private let batches: [Int]
    private var next = 0
    private var handingOut = true
    private var news = News()
    private var fold = RankReport()
    private var finished = false

    init(batches: [Int]) { self.batches = batches }

    /// The next batch to run, if batches are still handed out.
    func take() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard handingOut, next < batches.count else { return nil }
        next += 1
        return batches[next - 1]
    }

    func stopHandingOut() {
        condition.lock()
        handingOut = false
        condition.unlock()
    }

    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    /// What happened since the last call: batches done (with results if kept), a failure,
    /// the trajectories of the running batch done.
    func takeNews() -> News {
        condition.lock()
        defer { condition.unlock() }
        let taken = news
        news.done = []
        news.failure = nil
        return taken
    }

    /// Rank 0's fold of its batches (once finished).
    func takeFold() -> RankReport {
        condition.lock()
        defer { condition.unlock() }
        return fold
    }

    func finish() {
        condition.lock()
        finished = true
        condition.unlock()
    }

    /// Starts the thread that runs batches on rank 0 until none is left.
    ///
    /// It calls no MPI (only the main thread does), and folds its batches itself unless
    /// `keepsResults`, in which case each result goes to the main thread with the news.
    func start(simulation: Simulation, plan: RunPlan, keepsResults: Bool, reportsProgress: Bool) {
        let thread = Thread { [self] in
            var mine = RankReport()
            mine.batches[0] = []
            while let batch = take() {
                let seeds = plan.seeds(ofBatch: batch)
                let report: ((Int, Int) -> Void)? =
                    reportsProgress
                    ? { [self] collected, points in
                        let done = BatchProgress.trajectories(of: seeds.count, collected: collected, total: points)
                        condition.lock()
                        news.running = done < seeds.count ? done : 0
                        condition.unlock()
                    } : nil
                do {
                    let result = try BatchProgress.reporting(report) { try simulation.runBatch(seeds: seeds) }
                    if !keepsResults {
                        try mine.data.add(result)
                        mine.batches[0]!.append(batch)
                    }
                    condition.lock()
                    news.done.append((batch, keepsResults ? result : nil))
                    news.running = 0
                    condition.unlock()
                } catch {
                    condition.lock()
                    news.failure = (batch, error)
                    news.running = 0
                    handingOut = false
                    condition.unlock()
                    break
                }
            }
            condition.lock()
            fold = mine
            finished = true
            condition.unlock()
        }
        thread.stackSize = 16 << 20
        thread.start()
    }
}

/// The MPI library's state in this process: initialization, rank, size and finalization.
package enum MPIEnvironment {
    /// Whether MPI has been initialized in this process (finalized or not).
    package static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// Whether MPI has been finalized in this process.
    package static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// Initializes MPI unless it is already, asking for `MPI_THREAD_FUNNELED` (threads
    /// allowed, only the main thread calls MPI: the driver runs rank 0's batches on a second
    /// thread); throws if it was finalized (it cannot be initialized again) or initialization fails.
    package static func initializeIfNeeded() throws {
        guard !isInitialized else {
            if isFinalized {
                throw QCLabError.mpi("MPI was already finalized in this process and cannot be initialized again")
            }
            return
        }
        var provided: Int32 = 0
        let code = MPI_Init_thread(nil, nil, qclab_mpi_thread_funneled(), &provided)
        guard code == qclab_mpi_success() else { throw QCLabError.mpi("MPI_Init failed: \(errorString(code))") }
    }

    /// The thread support MPI provides (`MPI_Query_thread`; MPI must be initialized).
    static var threadLevel: Int32 {
        var level: Int32 = 0
        check(MPI_Query_thread(&level), "MPI_Query_thread")
        return level
    }

    /// This process's rank in `MPI_COMM_WORLD` (MPI must be initialized).
    package static var rank: Int {
        var value: Int32 = 0
        check(MPI_Comm_rank(qclab_mpi_comm_world(), &value), "MPI_Comm_rank")
        return Int(value)
    }

    /// The number of ranks in `MPI_COMM_WORLD` (MPI must be initialized).
    package static var worldSize: Int {
        var value: Int32 = 0
        check(MPI_Comm_size(qclab_mpi_comm_world(), &value), "MPI_Comm_size")
        return Int(value)
    }

    /// Rank 0's `bytes` on every rank (MPI must be initialized; collective).
    ///
    /// It carries what rank 0 read from a file, so that no other rank reads a path only rank 0 may
    /// have. Rank 0 passes what it read, or the error it met (which every rank then throws).
    package static func broadcastFromRoot(_ bytes: Result<[UInt8], Error>) throws -> [UInt8] {
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
                check(
                    MPI_Bcast($0.baseAddress! + offset, Int32(piece), qclab_mpi_byte(), 0, qclab_mpi_comm_world()),
                    "MPI_Bcast")
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
    package static func finalize() {
        guard isInitialized, !isFinalized else { return }
        MPI_Finalize()
    }

    /// Ends every rank of the job: writes `qclab: MPI rank R: message` on standard error
    /// and calls `MPI_Abort` with `code`.
    package static func abort(_ message: String, code: Int32 = 1) -> Never {
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

// MARK: - Reports and the reduction tree

/// What a rank (or a subtree of ranks) has to show: the batches each rank ran, their
/// folded result, and any failures.
private struct RankReport {
    struct Failure { let rank: Int; let batch: Int; let failure: BatchFailure }

    var batches: [Int: [Int]] = [:]
    var data = SimulationData()
    var failures: [Failure] = []

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

    static func send(_ bytes: [UInt8], to destination: Int) { Link.send(bytes, to: destination, tag: tag) }

    static func receive(from source: Int) -> [UInt8] { Link.receive(from: Int32(source), tag: tag).bytes }

    /// Layout (``QCLab/BinaryWriter``): ranks (count, then rank, batch count, batches),
    /// failures (count, then rank, batch, length-prefixed `BatchFailure`), then the
    /// encoded data.
    func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.count(batches.count)
        for (rank, list) in batches {
            writer.int64(rank)
            writer.count(list.count)
            list.forEach { writer.int64($0) }
        }
        writer.count(failures.count)
        for failure in failures {
            writer.int64(failure.rank)
            writer.int64(failure.batch)
            writer.lengthPrefixed(failure.failure.encodedBytes())
        }
        return writer.bytes + data.encodedBytes()
    }

    init() {}

    init?(decoding bytes: [UInt8]) {
        var reader = BinaryReader(bytes: bytes)
        do {
            for _ in 0..<(try reader.count("ranks", elementSize: 16)) {
                let rank = try reader.int64("rank")
                batches[rank] = try (0..<(try reader.count("batches", elementSize: 8))).map { _ in
                    try reader.int64("batch")
                }
            }
            for _ in 0..<(try reader.count("failures", elementSize: 24)) {
                let rank = try reader.int64("rank"), batch = try reader.int64("batch")
                failures.append(
                    Failure(
                        rank: rank, batch: batch,
                        failure: BatchFailure(encodedBytes: try reader.lengthPrefixed("failure"))))
            }
            data = try SimulationData(encodedBytes: Array(bytes[reader.offset...]))
        } catch {
            return nil
        }
    }
}
