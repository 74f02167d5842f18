#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CQCLabProcess
import Foundation

/// Runs a simulation's trajectories in forked worker processes on this machine (QC Lab's
/// `parallel_driver_multiprocessing`), with a result bit-identical to ``serialDriver(_:seeds:data:checkpoint:progress:)``.
///
/// The parent forks `numTasks` workers (never more than there are batches), each
/// connected to it by a Unix socket pair. Batches are handed out as workers free up: the
/// parent writes a batch index, the worker runs that batch with one BLAS thread, folds it
/// into its own running sum and reports the batch done (a few bytes). When the batches run
/// out, each worker sends its one folded result in the compact binary form
/// (``SimulationData/encodedBytes()``) and the parent adds it to its own sum: the sums are
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
/// (``StopRequest``) ends the workers, keeps the results they had sent, writes a last
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
///   - observer: hooks called in the calling process as workers start and batches are
///     handed out and come back, for monitoring (and for tests that kill a worker).
/// - Returns: `data` with the new trajectories merged in, in seed order.
public func parallelDriverMultiprocessing(_ simulation: Simulation, seeds: [Int]? = nil, data: SimulationData = SimulationData(),
                                          numTasks: Int? = nil, checkpoint: Checkpointing? = nil, stallTimeout: Double = 600,
                                          progress: ((Int, Int) -> Void)? = nil,
                                          observer: ParallelRunObserver = ParallelRunObserver()) throws -> SimulationData {
    if let numTasks, numTasks < 1 {
        throw QCLabError.invalidSetting("num_tasks", "must be at least 1, got \(numTasks)")
    }
    let plan = try RunPlan(simulation: simulation, seeds: seeds, continuing: data)
    let requested = numTasks ?? usableCoreCount()
    var run = try ParallelRun(simulation: simulation, plan: plan, data: data, driver: "multiprocessing", tasks: min(requested, plan.batches.count),
                              checkpoint: checkpoint)
    let workerCount = min(requested, run.missingBatches.count)
    if workerCount < requested {
        run.note("Using \(workerCount) worker processes, one per batch (\(requested) requested).")
    }
    guard workerCount > 0 else { return try run.finish() }
    return try withLinearAlgebraThreads(1) {
        var pool = WorkerPool(simulation: simulation, plan: plan, observer: observer, stallTimeout: stallTimeout,
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

/// Hooks into a multiprocessing run, called in the calling process: for monitoring, and
/// for tests that need a worker's process id (to kill it mid-run, say).
public struct ParallelRunObserver {
    /// A worker (numbered from 1) was forked with this process id.
    public var workerStarted: ((_ worker: Int, _ pid: pid_t) -> Void)?
    /// Batch `batch` (numbered from 0) is being handed to a worker: called just before
    /// the worker is sent the batch, so the worker cannot have started it yet.
    public var batchDispatched: ((_ batch: Int, _ worker: Int, _ pid: pid_t) -> Void)?
    /// Batch `batch` was done by a worker (its result arrives later, folded with the worker's others).
    public var batchFinished: ((_ batch: Int, _ worker: Int) -> Void)?

    public init(workerStarted: ((_ worker: Int, _ pid: pid_t) -> Void)? = nil,
                batchDispatched: ((_ batch: Int, _ worker: Int, _ pid: pid_t) -> Void)? = nil,
                batchFinished: ((_ batch: Int, _ worker: Int) -> Void)? = nil) {
        self.workerStarted = workerStarted
        self.batchDispatched = batchDispatched
        self.batchFinished = batchFinished
    }
}

/// The number of cores this process may run on, at least 1: its CPU affinity mask on
/// Linux (as `sched_getaffinity` reports it, read from `/proc/self/status` because Swift
/// cannot import that GNU extension), else the cores online.
public func usableCoreCount() -> Int {
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

// MARK: - Wire format

/// Messages on a worker's socket. Parent to worker: a batch index (Int64), or -1 for
/// "send your folded result and exit". Worker to parent: a frame of UInt64 length, then a
/// kind byte, the batch index (Int64) and a payload: nothing (`done`), the batch's
/// ``BatchFailure`` (`failure`), the worker's folded ``SimulationData`` (`result`, batch
/// -1), or the trajectories of the running batch that count as done (`progress`, an
/// Int64; the first count of a batch at once, then at most every ``progressInterval``
/// seconds, and only when the parent reports progress).
private enum WorkerMessage {
    static let done: UInt8 = 0
    static let failure: UInt8 = 1
    static let result: UInt8 = 2
    static let progress: UInt8 = 3
    static let finish = -1
    static let progressInterval = 0.25

    static func frame(kind: UInt8, batch: Int, payload: [UInt8] = []) -> [UInt8] {
        var writer = BinaryWriter()
        writer.count(1 + 8 + payload.count)
        writer.bytes.append(kind)
        writer.int64(batch)
        writer.bytes += payload
        return writer.bytes
    }
}

// MARK: - Parent side

/// The forked workers, seen from the parent.
private struct WorkerPool {
    /// One worker process and the parent's end of its socket.
    struct Worker {
        let number: Int
        let pid: pid_t
        var fd: Int32
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
        /// Whether it has been reaped.
        var reaped = false
        var name: String { "worker \(number) (pid \(pid))" }
    }

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

    init(simulation: Simulation, plan: RunPlan, observer: ParallelRunObserver, stallTimeout: Double, batches: [Int],
         sendEachBatch: Bool, sendProgress: Bool) {
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
            var fds = busy.map { pollfd(fd: workers[$0].fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            try checkLife(of: busy, run: run)
            if ready < 0 {
                if errno == EINTR { continue }
                throw QCLabError.workerFailed(worker: "the parent process", reason: "poll failed: \(errorText())",
                                              lostSeeds: run.missingSeeds)
            }
            for (slot, index) in busy.enumerated() where fds[slot].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(workers[index].fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw failure(of: index, reason: death(of: index, detail: count < 0 ? errorText() : nil), run: run)
                }
                workers[index].buffer += chunk[0..<count]
                workers[index].lastLife = Date()
                while let (kind, batch, payload) = nextFrame(of: index) {
                    try receive(kind: kind, batch: batch, payload: payload, from: index, run: &run)
                    let done = run.trajectoriesDone + workers.reduce(0) { $0 + $1.partial }
                    if let progress, done > reported {
                        reported = done
                        progress(done, plan.seeds.count)
                    }
                    if kind == WorkerMessage.done { try dispatch(to: index, run: &run) }
                }
            }
        }
        stopAll(run: &run)
    }

    /// A stop was asked for: ends every worker (SIGKILL: the batches in flight are lost),
    /// keeps the results already sent (with a checkpoint, each batch's result comes back
    /// alone, and the socket holds what a worker sent before it ended), and reaps them all.
    mutating func collectAfterStop(run: inout ParallelRun) {
        for index in workers.indices where !workers[index].reaped { kill(workers[index].pid, SIGKILL) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        for index in workers.indices where workers[index].fd >= 0 {
            while true {
                let count = chunk.withUnsafeMutableBytes { read(workers[index].fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                workers[index].buffer += chunk[0..<count]
            }
            while let (kind, batch, payload) = nextFrame(of: index) {
                guard kind == WorkerMessage.done, batch == workers[index].batch, !payload.isEmpty,
                      let result = try? SimulationData(encodedBytes: payload) else { continue }
                try? run.store(result, forBatch: batch)
                workers[index].batch = nil
            }
        }
        killAll()
    }

    /// Forks worker `number`; the child runs ``workerMain(fd:simulation:plan:)`` and never returns.
    mutating func spawn(number: Int) throws {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw QCLabError.workerFailed(worker: "worker \(number)", reason: "socketpair failed: \(errorText())",
                                          lostSeeds: plan.seeds)
        }
        fflush(nil)  // nothing buffered may be written twice, by parent and child
        let parent = getpid()
        let pid = fork()
        if pid == 0 {
            // Child: keep only its own end of its own socket.
            for worker in workers { close(worker.fd) }
            close(pair[0])
            if qclab_die_with_parent(parent) != 0 { _exit(5) }
            workerMain(fd: pair[1], simulation: simulation, plan: plan, sendEachBatch: sendEachBatch,
                       sendProgress: sendProgress)
        }
        close(pair[1])
        guard pid > 0 else {
            close(pair[0])
            throw QCLabError.workerFailed(worker: "worker \(number)", reason: "fork failed: \(errorText(spawning: true))",
                                          lostSeeds: plan.seeds)
        }
        workers.append(Worker(number: number, pid: pid, fd: pair[0]))
        observer.workerStarted?(number, pid)
    }

    /// Hands the next batch to worker `index`, or, when there is none, asks it for its
    /// folded result.
    mutating func dispatch(to index: Int, run: inout ParallelRun) throws {
        let worker = workers[index]
        var writer = BinaryWriter()
        if nextBatch < batches.count {
            let batch = batches[nextBatch]
            nextBatch += 1
            workers[index].batch = batch
            run.note("Running batch \(batch + 1) with seeds \(SeedList.describe(plan.seeds(ofBatch: batch))) on \(worker.name).",
                     forBatch: batch)
            observer.batchDispatched?(batch, worker.number, worker.pid)
            writer.int64(batch)
        } else {
            workers[index].finishing = true
            writer.int64(WorkerMessage.finish)
        }
        guard sendAll(worker.fd, writer.bytes) else {
            throw failure(of: index, reason: death(of: index, detail: "cannot send it work: \(errorText())"), run: run)
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
                throw failure(of: index, reason: "\(state) for \(SimulationData.shortNumber(stallTimeout)) s (no sign of life) and was killed",
                              run: run)
            }
        }
    }

    /// Takes the next whole frame off worker `index`'s buffer, if one has arrived.
    mutating func nextFrame(of index: Int) -> (UInt8, Int, [UInt8])? {
        var reader = BinaryReader(bytes: workers[index].buffer)
        guard let length = try? reader.uint64("frame length"), length >= 9,
              UInt64(workers[index].buffer.count - 8) >= length else { return nil }
        let body = Array(workers[index].buffer[8..<8 + Int(length)])
        workers[index].buffer.removeFirst(8 + Int(length))
        var bodyReader = BinaryReader(bytes: body)
        guard let kind = try? bodyReader.take(1, "kind").first, let batch = try? bodyReader.int64("batch") else { return nil }
        return (kind, batch, Array(body[9...]))
    }

    /// Handles one frame from worker `index`: notes a batch done, stores its folded result,
    /// or turns an error into a failure.
    mutating func receive(kind: UInt8, batch: Int, payload: [UInt8], from index: Int, run: inout ParallelRun) throws {
        let worker = workers[index]
        switch kind {
        case WorkerMessage.done:
            guard batch == worker.batch else {
                throw failure(of: index, reason: "reported batch \(batch + 1) done while running batch \((worker.batch ?? -1) + 1)", run: run)
            }
            workers[index].batch = nil
            workers[index].partial = 0
            if payload.isEmpty {
                workers[index].folded.append(batch)
                run.countProgress(ofBatch: batch)
            } else {
                do {
                    try run.store(SimulationData(encodedBytes: payload), forBatch: batch)
                } catch {
                    throw failure(of: index, reason: "sent an unreadable result for batch \(batch + 1): \(error)", run: run)
                }
                try run.checkpointIfDue()
            }
            observer.batchFinished?(batch, worker.number)
        case WorkerMessage.progress:
            var reader = BinaryReader(bytes: payload)
            guard let running = worker.batch, batch == running, let done = try? reader.int64("trajectories") else {
                throw failure(of: index, reason: "sent progress for batch \(batch + 1) while running batch \((worker.batch ?? -1) + 1)", run: run)
            }
            workers[index].partial = max(0, min(done, plan.batches[running].count))
        case WorkerMessage.result:
            guard worker.finishing, batch == WorkerMessage.finish else {
                throw failure(of: index, reason: "sent a result it was not asked for", run: run)
            }
            do {
                var result = try SimulationData(encodedBytes: payload)
                if worker.folded.isEmpty && result.seeds.isEmpty { result = SimulationData() }
                try run.store(result, forBatches: worker.folded, countingProgress: false)
            } catch {
                throw failure(of: index, reason: "sent an unreadable result for batches \(worker.folded.map { "\($0 + 1)" }.joined(separator: ", ")): \(error)", run: run)
            }
            workers[index].finishing = false
            workers[index].folded = []
        case WorkerMessage.failure:
            let label = "batch \(batch + 1) (seeds \(SeedList.describe(plan.seeds(ofBatch: max(0, min(batch, plan.batches.count - 1))))))"
            let failed = BatchFailure(encodedBytes: payload)
            let report = failure(of: index, reason: "\(label) threw: \(failed.description)", run: run)
            if case let .error(error) = failed {
                qclabLogger.error("\(report)")
                throw error
            }
            throw report
        default:
            throw failure(of: index, reason: "sent a message of unknown kind \(kind)", run: run)
        }
    }

    /// Why worker `index` stopped talking: reaps it (killing it if it lingers) and
    /// describes how it ended. The socket error in `detail` (a reset connection, say)
    /// is only mentioned when the process itself ended cleanly.
    mutating func death(of index: Int, detail: String?) -> String {
        let status = reap(index, graceSeconds: 2) ?? "ended"
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
        for index in workers.indices where !workers[index].reaped {
            kill(workers[index].pid, SIGKILL)
            _ = reap(index, graceSeconds: nil)
        }
    }

    /// After the last result: closes every socket (each worker reads end-of-file and
    /// exits) and reaps the workers, noting any that did not exit cleanly.
    mutating func stopAll(run: inout ParallelRun) {
        for index in workers.indices where workers[index].fd >= 0 {
            close(workers[index].fd)
            workers[index].fd = -1
        }
        for index in workers.indices where !workers[index].reaped {
            let name = workers[index].name
            if let status = reap(index, graceSeconds: 10), status != "exited with status 0" {
                run.note("Note: \(name) \(status) after its last batch; every result had arrived.")
            }
        }
    }

    /// Closes worker `index`'s socket and waits for it to end; after `graceSeconds` (if
    /// given) it is killed. Returns how it ended, or nil if it was reaped already.
    mutating func reap(_ index: Int, graceSeconds: Double?) -> String? {
        guard !workers[index].reaped else { return nil }
        if workers[index].fd >= 0 {
            close(workers[index].fd)
            workers[index].fd = -1
        }
        let pid = workers[index].pid
        var status: Int32 = 0
        var waited = 0.0
        while true {
            let flags = graceSeconds == nil ? 0 : WNOHANG
            let result = waitpid(pid, &status, flags)
            if result == pid { break }
            if result < 0 && errno == EINTR { continue }
            if result < 0 {
                workers[index].reaped = true
                return "could not be reaped: \(errorText())"
            }
            // Still running after its socket closed: give it a moment, then kill it.
            if let grace = graceSeconds, waited >= grace {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                workers[index].reaped = true
                return "stopped responding and was killed"
            }
            usleep(10_000)
            waited += 0.01
        }
        workers[index].reaped = true
        return describe(waitStatus: status)
    }
}

/// How a process ended, from its `waitpid` status (the `WIFEXITED` family are C macros
/// Swift cannot import).
private func describe(waitStatus status: Int32) -> String {
    let signal = status & 0x7f
    if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
    if signal != 0x7f {
        let name = strsignal(signal).map { String(cString: $0) } ?? "unknown"
        return "killed by signal \(signal) (\(name))"
    }
    return "stopped (status \(status))"
}

/// The C library's text for the current `errno`.
/// The last system error in words, naming the resource limit behind it (EAGAIN from
/// fork when `spawning`: the process limit; EMFILE: the open-file limit).
private func errorText(spawning: Bool = false) -> String { Errno.current.explained(spawning: spawning) }

/// Writes all of `bytes` to a socket without raising SIGPIPE; false on error.
private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let sent = send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }
}

/// Reads exactly `count` bytes; nil on end-of-file or error.
private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
    var bytes = [UInt8](repeating: 0, count: count)
    var offset = 0
    while offset < count {
        let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, count - offset) }
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else { return nil }
        offset += got
    }
    return bytes
}

// MARK: - Worker side

/// The body of a forked worker: runs the batches the parent sends until its socket
/// closes, then leaves with `_exit` (no atexit handlers, no stdio flush, no return into
/// the caller's code).
private func workerMain(fd: Int32, simulation: Simulation, plan: RunPlan, sendEachBatch: Bool, sendProgress: Bool) -> Never {
    setLinearAlgebraThreads(1)
    var folded = SimulationData()
    var lastProgress = 0.0
    while true {
        guard let command = readExactly(fd, 8) else { _exit(0) }  // the parent is gone
        var reader = BinaryReader(bytes: command)
        guard let batch = try? reader.int64("batch") else { _exit(3) }
        let frame: [UInt8]
        if batch == WorkerMessage.finish {
            frame = WorkerMessage.frame(kind: WorkerMessage.result, batch: batch, payload: folded.encodedBytes())
            guard sendAll(fd, frame) else { _exit(4) }
            _exit(0)
        }
        guard plan.batches.indices.contains(batch) else { _exit(3) }
        do {
            let seeds = plan.seeds(ofBatch: batch)
            var sent = 0
            let result = try BatchProgress.reporting(sendProgress ? { collected, total in
                // The first count at once (so a batch that ends quickly still shows it has
                // begun), then a few messages a second at most, and none that says nothing
                // new: the parent's reads, and the batch, are not slowed down.
                let done = BatchProgress.trajectories(of: seeds.count, collected: collected, total: total)
                let now = monotonicSeconds()
                guard done > sent, done < seeds.count, sent == 0 || now - lastProgress >= WorkerMessage.progressInterval else { return }
                var writer = BinaryWriter()
                writer.int64(done)
                guard sendAll(fd, WorkerMessage.frame(kind: WorkerMessage.progress, batch: batch, payload: writer.bytes)) else { _exit(4) }
                sent = done
                lastProgress = now
            } : nil) {
                try simulation.runBatch(seeds: seeds)
            }
            if sendEachBatch {
                frame = WorkerMessage.frame(kind: WorkerMessage.done, batch: batch, payload: result.encodedBytes())
            } else {
                try folded.add(result)
                frame = WorkerMessage.frame(kind: WorkerMessage.done, batch: batch)
            }
        } catch {
            frame = WorkerMessage.frame(kind: WorkerMessage.failure, batch: batch, payload: BatchFailure(error).encodedBytes())
        }
        guard sendAll(fd, frame) else { _exit(4) }
    }
}

/// Seconds on the monotonic clock (for rate limits; unaffected by changes of the wall clock).
private func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}
