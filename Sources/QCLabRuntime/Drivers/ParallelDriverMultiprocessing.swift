@_spi(Benchmarks) import QCLabCore
import QCLabSystem
import QCLabIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CQCLabProcess
import Foundation
import SystemPackage

/// Runs a simulation's trajectories in forked worker processes on this machine (QC Lab's
/// `parallel_driver_multiprocessing`), with a result bit-identical to ``serialDriver(_:seeds:data:checkpoint:progress:)``.
///
/// The parent forks `numTasks` workers (never more than there are batches), each
/// connected to it by a Unix socket pair (`ForkedProcess`). Batches are handed out as
/// workers free up: the parent sends a batch (a `DriverMessage`), the worker runs that
/// batch with one BLAS thread, folds it into its own running sum and reports the batch done
/// (a few bytes). When the batches run out, each worker sends its one folded result in the
/// compact binary form (``SimulationData/encodedBytes()``) and the parent adds it to its own sum: the sums are
/// exact, so the result is the serial driver's to the bit, and parent and workers hold one
/// result each, whatever the number of batches. No launcher is needed: any program that
/// imports the library can call it, interactive ones included.
///
/// Failure is loud and never partial. If a worker dies (killed, crashed, or exited), shows
/// no sign of life (no CPU time used, or stopped) for `stallTimeout` seconds, or a batch
/// throws inside a worker, the driver kills the other workers, reaps every process, and
/// throws ``QCLabError/workerFailed(worker:reason:lostSeeds:)`` naming the worker
/// (`worker 2 (pid 1234)`), what happened (`killed by signal 9 (Killed)`, or the batch's
/// error), and the lost seeds: every seed whose result had not reached the parent, that is
/// the batches folded in failed workers, batches other workers were running, and batches
/// never started. A ``QCLabError`` thrown by a batch is rethrown as itself, the same case
/// as under the serial driver (the worker, batch and lost seeds go to the log at error
/// level). Workers die with the parent (Linux's parent-death signal): a parent ended by
/// SIGTERM or SIGINT leaves no worker running. A stop asked for by a signal
/// (`StopRequest`) ends the workers, keeps the results they had sent, writes a last
/// checkpoint and throws ``RunStopped``: only the batches in flight are lost.
///
/// The parent process limits OpenBLAS to one thread while the workers run (restoring the
/// previous count after), and flushes C stdio buffers before forking; workers only compute
/// and write their socket, and leave with `_exit`, never returning into the caller's code.
/// The parent never receives SIGPIPE (writes use `MSG_NOSIGNAL`), and changes no signal handlers.
/// As with any `fork()`, a worker holds only the calling thread: call the driver while no
/// other thread of the program holds a lock the batch code needs (a command-line program
/// or a test runner is fine).
///
/// - Parameters:
///   - seeds: explicit trajectory seeds; they set `num_trajs`. Without them, seeds are
///     `0 ..< num_trajs`, or continue after the largest seed already in `data`.
///   - data: results to add the new trajectories to.
///   - numTasks: worker processes; defaults to the cores this process may run on
///     (`sched_getaffinity`). Must be at least 1.
///   - checkpoint: where to keep the run's progress; a checkpoint that exists is resumed
///     (only its missing batches run; the result is the same bits). With a checkpoint,
///     workers send each batch's result as it is done, for the parent to keep.
///   - stallTimeout: seconds a busy worker may go without using CPU time (or stay
///     stopped, say by SIGSTOP) before it counts as failed; default 600.
///   - progress: called in the calling process with the number of trajectories done so
///     far and the total, as the count grows: as batches come back, and within batches
///     (each worker tells the parent how far its batch has got a few times a second; a
///     batch's trajectories count in proportion to the collect points it has passed,
///     rounded down). Counts only grow, and the same count is not reported twice.
/// - Returns: `data` with the new trajectories merged in, in seed order.
public func parallelDriverMultiprocessing(
    _ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
    numTasks: Int? = nil, checkpoint: Checkpointing? = nil, stallTimeout: Double = 600,
    progress: ((Int, Int) -> Void)? = nil
) throws -> SimulationData {
    try parallelDriverMultiprocessing(
        simulation, seeds: seeds, data: data, numTasks: numTasks, checkpoint: checkpoint,
        stallTimeout: stallTimeout, progress: progress, observer: ParallelRunObserver())
}

/// The multiprocessing driver with `observer`'s hooks called in the calling process as
/// workers start and batches are handed out and come back (for tests that kill a worker).
package func parallelDriverMultiprocessing(
    _ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
    numTasks: Int? = nil, checkpoint: Checkpointing? = nil, stallTimeout: Double = 600,
    progress: ((Int, Int) -> Void)? = nil,
    observer: ParallelRunObserver
) throws -> SimulationData {
    let driver = try MultiprocessingDriver(numTasks: numTasks, stallTimeout: stallTimeout, observer: observer)
    // The parent always holds the result.
    return try driver.run(simulation, seeds: seeds, data: data, checkpoint: checkpoint, progress: progress)!
}

/// Runs the batches in forked worker processes on this machine:
/// ``parallelDriverMultiprocessing(_:seeds:data:numTasks:checkpoint:stallTimeout:progress:)``
/// describes how.
package struct MultiprocessingDriver: Driver {
    /// Worker processes; nil: the cores this process may run on.
    package let numTasks: Int?
    /// Seconds a busy worker may show no sign of life before it counts as failed.
    package let stallTimeout: Double
    package let observer: ParallelRunObserver

    /// Throws if `numTasks` is less than 1.
    package init(
        numTasks: Int? = nil, stallTimeout: Double = 600, observer: ParallelRunObserver = ParallelRunObserver()
    ) throws {
        if let numTasks, numTasks < 1 {
            throw QCLabError.invalidSetting("num_tasks", "must be at least 1, got \(numTasks)")
        }
        self.numTasks = numTasks
        self.stallTimeout = stallTimeout
        self.observer = observer
    }

    package func run(
        _ simulation: Simulation, plan: RunPlan, data: SimulationData, checkpoint: Checkpointing?,
        progress: ((Int, Int) -> Void)?
    ) throws -> SimulationData? {
        let requested = numTasks ?? usableCoreCount()
        var run = try ParallelRun(
            simulation: simulation, plan: plan, data: data, driver: "multiprocessing",
            tasks: min(requested, plan.batches.count), checkpoint: checkpoint)
        let workerCount = min(requested, run.missingBatches.count)
        if workerCount < requested {
            run.note("Using \(workerCount) worker processes, one per batch (\(requested) requested).")
        }
        guard workerCount > 0 else { return try run.finish() }
        return try withLinearAlgebraThreads(1) {
            var pool = WorkerPool(
                simulation: simulation, plan: plan, observer: observer, stallTimeout: stallTimeout,
                batches: run.missingBatches, sendEachBatch: checkpoint != nil, sendProgress: progress != nil)
            do {
                try pool.run(workerCount: workerCount, into: &run, progress: progress)
            } catch {
                pool.killAll()
                throw error
            }
            return try run.finish()
        }
    }
}

/// Hooks into a multiprocessing run, called in the calling process: for monitoring, and
/// for tests that need a worker's process id (to kill it mid-run, say).
package struct ParallelRunObserver {
    /// A worker (numbered from 1) was forked with this process id.
    package var workerStarted: ((_ worker: Int, _ pid: pid_t) -> Void)?
    /// Batch `batch` (numbered from 0) is being handed to a worker: called just before
    /// the worker is sent the batch, so the worker cannot have started it yet.
    package var batchDispatched: ((_ batch: Int, _ worker: Int, _ pid: pid_t) -> Void)?
    /// Batch `batch` was done by a worker (its result arrives later, folded with the worker's others).
    package var batchFinished: ((_ batch: Int, _ worker: Int) -> Void)?

    package init(
        workerStarted: ((_ worker: Int, _ pid: pid_t) -> Void)? = nil,
        batchDispatched: ((_ batch: Int, _ worker: Int, _ pid: pid_t) -> Void)? = nil,
        batchFinished: ((_ batch: Int, _ worker: Int) -> Void)? = nil
    ) {
        self.workerStarted = workerStarted
        self.batchDispatched = batchDispatched
        self.batchFinished = batchFinished
    }
}

/// The number of cores this process may run on, at least 1: its CPU affinity mask on
/// Linux (as `sched_getaffinity` reports it, read from `/proc/self/status` because Swift
/// cannot import that GNU extension), else the cores online.
package func usableCoreCount() -> Int {
    #if os(Linux)
    if let count = affinityCoreCount(), count > 0 { return count }
    #endif
    return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}

/// The cores in `Cpus_allowed_list` of `/proc/self/status` (such as `0-3,8`), or nil.
private func affinityCoreCount() -> Int? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(cString: line)
        guard text.hasPrefix("Cpus_allowed_list:") else { continue }
        var count = 0
        for part in text.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
            let bounds: [Int?] = part.split(separator: "-").map { Int(String($0.filter { !$0.isWhitespace })) }
            guard let first = bounds.first ?? nil, let last = bounds.last ?? nil, last >= first else { return nil }
            count += last - first + 1
        }
        return count
    }
    return nil
}

// MARK: - Parent side

/// The forked workers, seen from the parent.
///
/// They talk in ``DriverMessage``s, framed on their sockets: the parent sends `assign` (a batch) or
/// `stop` (send your fold and exit); a worker sends `done`, `failure`, `progress` and, last,
/// `result`.
private struct WorkerPool {
    /// One worker process and what it is doing.
    struct Worker {
        let number: Int
        var process: ForkedProcess
        /// The batch it is running, if any.
        var batch: Int?
        /// Batches it has done and folded into the result it has not sent yet.
        var folded: [Int] = []
        /// Trajectories of its running batch that count as done, from its last progress message.
        var partial = 0
        /// Whether it was told to send its result.
        var finishing = false
        /// Its CPU time when last seen to change, and when that was (its sign of life).
        var cpuTicks: Int64 = -1
        var lastLife = Date()
        /// Bytes received that do not yet make a whole frame.
        var buffer: [UInt8] = []
        var pid: pid_t { process.pid }
        var name: String { "worker \(number) (pid \(pid))" }
    }

    /// How often a worker tells the parent how far its batch has got, at most (seconds).
    static let progressInterval = 0.25

    let simulation: Simulation
    let plan: RunPlan
    let observer: ParallelRunObserver
    let stallTimeout: Double
    /// The batches to run, in order, and whether workers send each one's result (for
    /// checkpoints) instead of folding them.
    let batches: [Int]
    let sendEachBatch: Bool
    /// Whether workers report progress within their batches.
    let sendProgress: Bool
    var workers: [Worker] = []
    var nextBatch = 0
    /// The count last given to `progress`.
    var reported = -1

    init(
        simulation: Simulation, plan: RunPlan, observer: ParallelRunObserver, stallTimeout: Double, batches: [Int],
        sendEachBatch: Bool, sendProgress: Bool
    ) {
        self.simulation = simulation
        self.plan = plan
        self.observer = observer
        self.stallTimeout = stallTimeout
        self.batches = batches
        self.sendEachBatch = sendEachBatch
        self.sendProgress = sendProgress
    }

    /// Forks the workers, hands out every batch and collects the results into `run`.
    mutating func run(workerCount: Int, into run: inout ParallelRun, progress: ((Int, Int) -> Void)?) throws {
        for number in 1...workerCount { try spawn(number: number) }
        for index in workers.indices { try dispatch(to: index, run: &run) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if StopRequest.signal != nil && !run.missingBatches.isEmpty {
                collectAfterStop(run: &run)
                try run.stopIfAsked()
            }
            // Only busy workers are watched: once the batches run out, an idle worker has
            // nothing left to lose, and how it ends is noted by stopAll.
            let busy = workers.indices.filter { workers[$0].batch != nil || workers[$0].finishing }
            guard !busy.isEmpty else { break }
            var events = busy.map {
                pollfd(fd: workers[$0].process.socket?.rawValue ?? -1, events: Int16(POLLIN), revents: 0)
            }
            let waited = Result { try Syscalls.waitForEvents(&events, milliseconds: 1000) }
            try checkLife(of: busy, run: run)
            if case let .failure(error) = waited {
                throw QCLabError.workerFailed(
                    worker: "the parent process", reason: "poll failed: \(describe(error))",
                    lostSeeds: run.missingSeeds)
            }
            for (slot, index) in busy.enumerated() where events[slot].revents != 0 {
                let received = Result {
                    try chunk.withUnsafeMutableBytes { try workers[index].process.receive(into: $0) }
                }
                guard case let .success(count) = received, count > 0 else {
                    let detail = received.failure.map(describe)
                    throw failure(of: index, reason: death(of: index, detail: detail), run: run)
                }
                workers[index].buffer += chunk[0..<count]
                workers[index].lastLife = Date()
                while let message = try nextMessage(of: index, run: run) {
                    try receive(message, from: index, run: &run)
                    let done = run.trajectoriesDone + workers.reduce(0) { $0 + $1.partial }
                    if let progress, done > reported {
                        reported = done
                        progress(done, plan.seeds.count)
                    }
                    if message.kind == .done { try dispatch(to: index, run: &run) }
                }
            }
        }
        stopAll(run: &run)
    }

    /// A stop was asked for: ends every worker (SIGKILL: the batches in flight are lost),
    /// keeps the results already sent (with a checkpoint, each batch's result comes back
    /// alone, and the socket holds what a worker sent before it ended), and reaps them all.
    mutating func collectAfterStop(run: inout ParallelRun) {
        for worker in workers { worker.process.kill() }
        for index in workers.indices where workers[index].process.socket != nil {
            workers[index].buffer += workers[index].process.receiveRest()
            while let message = try? DriverMessage.takeFrame(from: &workers[index].buffer) {
                guard message.kind == .done, message.batch == workers[index].batch, !message.payload.isEmpty,
                    let result = try? message.decodedResult()
                else { continue }
                try? run.store(result, forBatch: message.batch)
                workers[index].batch = nil
            }
        }
        killAll()
    }

    /// Forks worker `number`; the child runs ``workerMain(socket:simulation:plan:sendEachBatch:)`` and never returns.
    mutating func spawn(number: Int) throws {
        let process: ForkedProcess
        do {
            process = try ForkedProcess.start(closingInChild: workers.compactMap(\.process.socket)) { [self] socket in
                workerMain(socket: socket, simulation: simulation, plan: plan, sendEachBatch: sendEachBatch)
            }
        } catch let failed as ForkedProcess.StartFailure {
            throw QCLabError.workerFailed(
                worker: "worker \(number)",
                reason: "\(failed.call) failed: \(failed.error.explained(spawning: failed.call == "fork"))",
                lostSeeds: plan.seeds)
        }
        workers.append(Worker(number: number, process: process))
        observer.workerStarted?(number, process.pid)
    }

    /// Hands the next batch to worker `index`, or, when there is none, asks it for its
    /// folded result.
    mutating func dispatch(to index: Int, run: inout ParallelRun) throws {
        let worker = workers[index]
        let message: DriverMessage
        if nextBatch < batches.count {
            let batch = batches[nextBatch]
            nextBatch += 1
            workers[index].batch = batch
            run.note(
                "Running batch \(batch + 1) with seeds \(SeedList.describe(plan.seeds(ofBatch: batch))) on \(worker.name).",
                forBatch: batch)
            observer.batchDispatched?(batch, worker.number, worker.pid)
            message = .assign(batch, reportsProgress: sendProgress)
        } else {
            workers[index].finishing = true
            message = DriverMessage(.stop, batch: 0)
        }
        do {
            try worker.process.send(message.framed)
        } catch {
            throw failure(
                of: index, reason: death(of: index, detail: "cannot send it work: \(describe(error))"), run: run)
        }
    }

    /// Fails a busy worker that has shown no sign of life (CPU time used, a message) for
    /// `stallTimeout` seconds: stopped, or stuck.
    mutating func checkLife(of busy: [Int], run: ParallelRun) throws {
        let now = Date()
        for index in busy {
            let ticks = Int64(qclab_process_cpu_ticks(workers[index].pid))
            // -1: unknown (no /proc): no stall detection there.
            if ticks == -1 || (ticks >= 0 && ticks != workers[index].cpuTicks) {
                workers[index].cpuTicks = ticks
                workers[index].lastLife = now
            } else if now.timeIntervalSince(workers[index].lastLife) > stallTimeout {
                let state = ticks == -2 ? "was stopped" : "used no CPU time"
                throw failure(
                    of: index,
                    reason:
                        "\(state) for \(SimulationData.shortNumber(stallTimeout)) s (no sign of life) and was killed",
                    run: run)
            }
        }
    }

    /// Takes the next whole message off worker `index`'s buffer, if one has arrived.
    mutating func nextMessage(of index: Int, run: ParallelRun) throws -> DriverMessage? {
        do {
            return try DriverMessage.takeFrame(from: &workers[index].buffer)
        } catch let unknown as DriverMessage.UnknownKind {
            throw failure(of: index, reason: "sent a message of unknown kind \(unknown.rawValue)", run: run)
        } catch {
            throw failure(of: index, reason: "sent an unreadable message: \(error)", run: run)
        }
    }

    /// Handles one message from worker `index`: notes a batch done, stores its folded result,
    /// or turns an error into a failure.
    mutating func receive(_ message: DriverMessage, from index: Int, run: inout ParallelRun) throws {
        let worker = workers[index]
        let batch = message.batch
        switch message.kind {
        case .done:
            guard batch == worker.batch else {
                throw failure(
                    of: index,
                    reason: "reported batch \(batch + 1) done while running batch \((worker.batch ?? -1) + 1)",
                    run: run)
            }
            workers[index].batch = nil
            workers[index].partial = 0
            if message.payload.isEmpty {
                workers[index].folded.append(batch)
                run.countProgress(ofBatch: batch)
            } else {
                do {
                    try run.store(message.decodedResult(), forBatch: batch)
                } catch {
                    throw failure(
                        of: index, reason: "sent an unreadable result for batch \(batch + 1): \(error)", run: run)
                }
                try run.checkpointIfDue()
            }
            observer.batchFinished?(batch, worker.number)
        case .progress:
            guard let running = worker.batch, batch == running, let done = try? message.trajectories() else {
                throw failure(
                    of: index,
                    reason: "sent progress for batch \(batch + 1) while running batch \((worker.batch ?? -1) + 1)",
                    run: run)
            }
            workers[index].partial = max(0, min(done, plan.batches[running].count))
        case .result:
            guard worker.finishing, batch == -1 else {
                throw failure(of: index, reason: "sent a result it was not asked for", run: run)
            }
            do {
                var result = try message.decodedResult()
                if worker.folded.isEmpty && result.seeds.isEmpty { result = SimulationData() }
                try run.store(result, forBatches: worker.folded, countingProgress: false)
            } catch {
                throw failure(
                    of: index,
                    reason:
                        "sent an unreadable result for batches \(worker.folded.map { "\($0 + 1)" }.joined(separator: ", ")): \(error)",
                    run: run)
            }
            workers[index].finishing = false
            workers[index].folded = []
        case .failure:
            let name = worker.name
            killAll()
            throw run.failure(of: name, batch: batch, message.failure)
        case .end, .assign, .stop:
            throw failure(of: index, reason: "sent a message of unknown kind \(message.kind.rawValue)", run: run)
        }
    }

    /// Why worker `index` stopped talking.
    ///
    /// It reaps the worker (killing it if it lingers) and describes how it ended. The socket error
    /// in `detail` (a reset connection, say) is only mentioned when the process itself ended
    /// cleanly.
    mutating func death(of index: Int, detail: String?) -> String {
        let status = workers[index].process.reap(graceSeconds: 2) ?? "ended"
        guard status == "exited with status 0" else { return status }
        return status + " without sending its result" + (detail.map { " (\($0))" } ?? "")
    }

    /// The error for a failure of worker `index`: kills and reaps every worker first.
    mutating func failure(of index: Int, reason: String, run: ParallelRun) -> QCLabError {
        let name = workers[index].name
        killAll()
        return QCLabError.workerFailed(worker: name, reason: reason, lostSeeds: run.missingSeeds)
    }

    /// Ends every worker that is still running (SIGKILL), closes the sockets and reaps them all.
    mutating func killAll() {
        for index in workers.indices where !workers[index].process.isReaped {
            workers[index].process.kill()
            _ = workers[index].process.reap(graceSeconds: nil)
        }
    }

    /// After the last result: closes every socket (each worker reads end-of-file and
    /// exits) and reaps the workers, noting any that did not exit cleanly.
    mutating func stopAll(run: inout ParallelRun) {
        for index in workers.indices { workers[index].process.closeSocket() }
        for index in workers.indices where !workers[index].process.isReaped {
            let name = workers[index].name
            if let status = workers[index].process.reap(graceSeconds: 10), status != "exited with status 0" {
                run.note("Note: \(name) \(status) after its last batch; every result had arrived.")
            }
        }
    }
}

/// A failed call's error in words, naming the resource limit behind it.
private func describe(_ error: Error) -> String { (error as? Errno)?.explained() ?? "\(error)" }

extension Result where Failure == Error {
    /// The error, if this is one.
    fileprivate var failure: Error? {
        if case let .failure(error) = self { return error }
        return nil
    }
}

// MARK: - Worker side

/// The body of a forked worker: runs the batches the parent sends until it is asked for
/// its fold or its socket closes, then leaves with `_exit` (no atexit handlers, no stdio
/// flush, no return into the caller's code).
private func workerMain(socket: FileDescriptor, simulation: Simulation, plan: RunPlan, sendEachBatch: Bool) -> Never {
    setLinearAlgebraThreads(1)
    var folded = SimulationData()
    func send(_ message: DriverMessage) {
        do { try Syscalls.sendAll(socket, message.framed) } catch { _exit(4) }
    }
    /// The next message from the parent; `_exit(0)` once it is gone.
    func nextCommand() -> DriverMessage {
        guard let header = (try? Syscalls.readExactly(socket, 8)) ?? nil else { _exit(0) }
        var reader = BinaryReader(bytes: header)
        guard let length = try? reader.uint64("frame length"), length <= 1 << 20 else { _exit(3) }
        guard let body = (try? Syscalls.readExactly(socket, Int(length))) ?? nil else { _exit(0) }
        guard let message = try? DriverMessage(bytes: body) else { _exit(3) }
        return message
    }
    var lastProgress = 0.0
    while true {
        let command = nextCommand()
        if command.kind == .stop {
            send(.result(folded))
            _exit(0)
        }
        let batch = command.batch
        guard command.kind == .assign, plan.batches.indices.contains(batch) else { _exit(3) }
        let message: DriverMessage
        do {
            let seeds = plan.seeds(ofBatch: batch)
            var sent = 0
            let result = try BatchProgress.reporting(
                command.reportsProgress
                    ? { collected, total in
                        // The first count at once (so a batch that ends quickly still shows it has
                        // begun), then a few messages a second at most, and none that says nothing
                        // new: the parent's reads, and the batch, are not slowed down.
                        let done = BatchProgress.trajectories(of: seeds.count, collected: collected, total: total)
                        let now = monotonicSeconds()
                        guard done > sent, done < seeds.count,
                            sent == 0 || now - lastProgress >= WorkerPool.progressInterval
                        else { return }
                        send(.progress(batch, trajectories: done))
                        sent = done
                        lastProgress = now
                    } : nil
            ) {
                try simulation.runBatch(seeds: seeds)
            }
            if sendEachBatch {
                message = .done(batch, result: result)
            } else {
                try folded.add(result)
                message = .done(batch)
            }
        } catch {
            message = .failure(batch, error)
        }
        send(message)
    }
}
