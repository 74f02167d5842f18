import ArgumentParser
import Foundation
import QCLab
import QCLabMPI

/// `qclab run`: runs a job file (or the built-in default job) and writes the HDF5 output.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a job file and write its results as an HDF5 file in QC Lab's layout.",
        discussion: """
            Without a job file, runs the built-in default: surface hopping on the spin-boson \
            model, 200 trajectories. docs/Reference.md describes every key of the job file and \
            every dataset of the output file; `qclab models` lists the models, algorithms and \
            settings with their defaults, `qclab init MODEL ALGORITHM` prints a complete job, and \
            Examples/ holds a job file for each model.
            """)

    enum Driver: String, ExpressibleByArgument, CaseIterable {
        case serial, multiprocessing, mpi
    }

    @Argument(help: "The job file (JSON). Omit it to run the built-in default job.")
    var job: String?

    @Option(name: .shortAndLong, help: "Where to write the results (HDF5).")
    var output: String = "qclab-output.h5"

    @Option(help: "How to run the trajectories: serial, multiprocessing (forked workers) or mpi.")
    var driver: Driver = .serial

    @Option(
        name: .customLong("num-tasks"),
        help: "Number of worker processes or MPI ranks (default: all cores, or the MPI world size).")
    var numTasks: Int?

    @Option(
        help:
            "Continue this earlier output: add new trajectories with fresh seeds and write the merged result to --output."
    )
    var append: String?

    @Option(
        help: ArgumentHelp(
            "Run seeds A, A+1, ..., B-1 (half-open, like a Python range) in place of the job's seeds and num_trajs: one job file for every task of a SLURM array.",
            valueName: "A:B"), transform: { try SeedRange.parse($0) })
    var seeds: SeedRange?

    @Option(
        help: ArgumentHelp(
            "Keep the run's progress in CK (written atomically, at most every 2 s); the same command after an interruption resumes from it, with the same result to the bit. CK is removed once the output is written.",
            valueName: "CK"))
    var checkpoint: String?

    @Flag(help: "With --append: refuse data that records no job (QC Lab's), whose job cannot be compared.")
    var strict = false

    @Flag(
        name: .customLong("trust-job"),
        help:
            "With --append: continue data of a model that records none of its properties (its jobs cannot be compared)."
    )
    var trustJob = false

    @Flag(
        help:
            "Also keep the exact sums in the output (compressed; larger), so that `qclab merge` and --append combine it into the same bits as one run. Implied by --seeds; a job file asks for it with \"output_file\": {\"mergeable\": true}."
    )
    var mergeable = false

    @Flag(name: .shortAndLong, help: "Log progress details to standard error.")
    var verbose = false

    func validate() throws {
        if let numTasks, numTasks < 1 {
            throw ValidationError("--num-tasks must be at least 1, got \(numTasks)")
        }
        if append == nil, strict || trustJob {
            throw ValidationError("--strict and --trust-job apply to --append")
        }
        if driver == .serial, let numTasks, numTasks != 1 {
            throw ValidationError("--num-tasks applies to the multiprocessing and mpi drivers, not serial")
        }
    }

    func run() throws {
        bootstrapLogging(verbose: verbose)
        reportingErrors {
            if driver != .mpi, let launcher = MPILauncher.detected() {
                throw QCLabError.mpi(
                    "started by \(launcher) without `--driver mpi`: every rank would run the whole job; add `--driver mpi`"
                )
            }
            if driver == .mpi { agreeAcrossRanks() }
            var job = try readJob()
            if let seeds { job.replaceSeeds(with: seeds.range) }
            // The environment's settings, checked before any work (one line; under MPI from rank 0).
            try rootChecks {
                _ = try checkpointing()
                if driver == .multiprocessing { _ = try WorkerStall.timeout() }
            }
            let warnings = job.warnings + job.simulation.warnings
            // Only the process that writes checks the output (under MPI, rank 0 did so in readJob).
            let target = try writesOutput ? checkedOutput() : nil
            // Notes on the data continued, printed once the run has succeeded.
            let notes = Notes()
            let previous = try readPrevious(notes: notes)
            if let append {
                try SimulationData.checkContinuing(
                    previous, source: append, with: job.simulation,
                    comparison: JobComparison(strict: strict, trustJob: trustJob),
                    note: notes.add)
            }
            try rootChecks { if let target { try checkFreeSpace(at: target, job: job, previous: previous) } }
            // Warnings once the run is sure to start (the seeds fit the data continued), so
            // that a refused run says one line; under MPI rank 0 alone warns, when done.
            // A job file's simulation was validated as it was read (`--seeds` keeps it valid).
            let plan =
                self.job == nil
                ? try RunPlan(simulation: job.simulation, seeds: job.seeds, continuing: previous)
                : try RunPlan(validated: job.simulation, seeds: job.seeds, continuing: previous)
            if driver != .mpi { warn(warnings) }
            let progress = ProgressReporter(
                enabled: job.simulation.settings.progressBar, linesWhenNoTerminal: driver == .mpi)
            // Ends the bar's line on success and before an error message alike.
            defer { progress.finish() }
            // A resumed run says so, and its progress rate counts only this process's work.
            var keeping = try checkpointing()
            keeping?.resumed = { [path = checkpoint ?? ""] done, total in
                StandardStreams.writeError(
                    "qclab: resumed from checkpoint '\(path)': \(done) of \(total) trajectories done\n")
                progress.resumed(from: done)
            }
            catchStops()
            guard
                var data = try runDriver(
                    job: job, plan: plan, previous: previous, checkpoint: keeping, progress: progress.update)
            else {
                return
            }
            // Stops no longer caught: a signal while the output is written ends qclab and
            // removes the temporary file, as before the run.
            StopRequest.release()
            StopRequest.withinBatch = nil
            progress.finish()
            if driver == .mpi { warn(warnings) }
            // The simulation's warnings are in the log already (the drivers write them); the job's are added here.
            data.log += job.warnings.map { "Warning: \($0)\n" }.joined()
            if let append, !previous.isExact || previous.notExact != nil {
                let line = SimulationData.floatingPointNote(parts: ["'\(append)'"], combining: "appended")
                notes.add(line)
                data.log += "Note: \(line)\n"
            }
            guard let target else { return }
            // The job's own output_file.mergeable is recorded (qclab info shows it); --mergeable
            // and --seeds (the parts of an array job) keep the exact sums whatever it says.
            if let asked = job.mergeable { data.job = data.job.map { JobRecord.recording(mergeable: asked, in: $0) } }
            try data.save(to: target, mergeable: mergeable || seeds != nil || job.mergeable == true)
            keeping?.remove()
            notes.print()
            try StandardStreams.writeOutput(Summary.describe(data, path: output) + "\n")
        }
    }

    /// Checks that every MPI rank was started with the same arguments.
    ///
    /// Collective, and done before anything else: ranks that disagree would wait for each other
    /// forever. Each rank's job file is compared as a path (rank 0 alone reads it, for every rank).
    func agreeAcrossRanks() {
        do {
            try MPIEnvironment.initializeIfNeeded()
            try RankAgreement.check([
                RankAgreement.Field("the job file", job),
                RankAgreement.Field("--output", output),
                RankAgreement.Field("--append", append),
                RankAgreement.Field("--seeds", seeds.map { "\($0.range.lowerBound):\($0.range.upperBound)" }),
                RankAgreement.Field("--num-tasks", numTasks.map(String.init)),
                RankAgreement.Field("--checkpoint", checkpoint),
            ])
        } catch {
            failUnderMPI(error)
        }
    }

    /// From here on SIGTERM and SIGINT stop the run between batches (``StopRequest``):
    /// with a checkpoint, the drivers write a last one and the same command resumes.
    ///
    /// The serial driver checks at every collect point (the batch in flight is lost);
    /// without a checkpoint it has nothing to save, and qclab ends at once with one line. Under MPI, rank 0 acts on them: with a
    /// checkpoint it writes a last one, else it ends at once with one line. The other
    /// ranks only record them and run on: a rank that ended first would make the
    /// launcher kill rank 0 at once (Open MPI's mpirun sends SIGTERM, then SIGKILL a
    /// second later, or at once when a rank ends); the launcher ends them once rank 0 has left.
    func catchStops() {
        StopRequest.catchSignals()
        // The serial driver's batch in flight is abandoned at its next collect point.
        StopRequest.withinBatch = { [self] stopped in endStopped(stopped) }
        let exitsAtOnce = driver == .serial || (driver == .mpi && MPIEnvironment.rank == 0)
        if let checkpoint, driver == .mpi, MPIEnvironment.rank == 0 {
            // Said at once: a rank that dies makes Open MPI kill rank 0 a few
            // milliseconds after SIGTERM. The checkpoint is written atomically, so the
            // line is true whether or not the last one is written in time.
            StopRequest.announceStop(
                saying: ": checkpoint '\(checkpoint)' keeps every batch done: run the same command to resume")
        } else if checkpoint == nil && exitsAtOnce {
            StopRequest.exitOnStop(
                saying: ": the run had no --checkpoint, its trajectories are lost "
                    + "(a run with --checkpoint CK keeps its progress and resumes)", waitingForReader: driver == .mpi)
        }
    }

    /// Ends a run that a signal stopped, with one line and the signal's status.
    ///
    /// The line says how far it got and what is kept; the status is 128 + the signal's number.
    /// Under MPI, rank 0 leaves without `MPI_Finalize`, which would wait for ranks the launcher is
    /// ending.
    private func endStopped(_ stopped: RunStopped) -> Never {
        guard driver == .mpi else {
            StandardStreams.writeError("qclab: \(stopped)\n")
            Foundation.exit(stopped.exitStatus)
        }
        // Under MPI the line was written when the signal came (catchStops). Standard
        // error is a pipe the launcher reads and passes on: a rank 0 that left at once
        // could have the launcher end the job before the line is out.
        StopRequest.lingerForLauncher()
        Foundation.exit(stopped.exitStatus)
    }

    /// The job, read from the job file.
    ///
    /// Under MPI rank 0 reads and parses the file and hands its bytes to every rank, which parse
    /// them. Under MPI, rank 0 also checks the output path, which only it writes.
    func readJob() throws -> Job {
        guard driver == .mpi else { return try job.map { try Job(contentsOf: $0) } ?? DefaultJob.job }
        var parsed: Job?
        let bytes = try rootReads {
            let bytes = try job.map { try Job.fileBytes(at: $0) } ?? []
            parsed = try job.map { try Job(json: Foundation.Data(bytes), source: $0) }
            _ = try checkedOutput()
            return bytes
        }
        if let parsed { return parsed }
        return try job.map { try Job(json: Foundation.Data(bytes), source: $0) } ?? DefaultJob.job
    }

    /// The data of `--append`; under MPI rank 0 reads the file and hands it to every rank.
    func readPrevious(notes: Notes) throws -> SimulationData {
        guard let append else { return SimulationData() }
        guard driver == .mpi else { return try loadNoting(append, notes) }
        return try SimulationData(encodedBytes: rootReads { try loadNoting(append, notes).encodedBytes() })
    }

    /// Reads `path`, noting in one line if it could not be verified (no checksums).
    private func loadNoting(_ path: String, _ notes: Notes) throws -> SimulationData {
        let (data, unchecked) = try SimulationData.load(contentsOf: path)
        if let unchecked { notes.add(unchecked) }
        return data
    }

    /// Whether this process writes the output: every process but MPI ranks other than 0.
    var writesOutput: Bool { driver != .mpi || MPIEnvironment.rank == 0 }

    /// Runs `check` where the output is written; under MPI its error fails every rank.
    func rootChecks(_ check: () throws -> Void) throws {
        guard driver == .mpi else { return try check() }
        _ = try rootReads {
            try check(); return []
        }
    }

    /// What rank 0 reads, on every rank (MPI initialized here if needed); errors fail every rank.
    private func rootReads(_ read: () throws -> [UInt8]) throws -> [UInt8] {
        do {
            try MPIEnvironment.initializeIfNeeded()
            let bytes: Result<[UInt8], Error> = MPIEnvironment.rank == 0 ? Result { try read() } : .success([])
            return try MPIEnvironment.broadcastFromRoot(bytes)
        } catch {
            failUnderMPI(error)
        }
    }

    /// The checkpoint; `QCLAB_CHECKPOINT_INTERVAL` (seconds in [0, 86400], default 2) sets
    /// how often it is written.
    func checkpointing() throws -> Checkpointing? {
        guard let checkpoint else { return nil }
        return Checkpointing(
            path: checkpoint,
            interval: try EnvironmentSettings.seconds("QCLAB_CHECKPOINT_INTERVAL", default: 2, zeroAllowed: true))
    }

    /// Runs the chosen driver on `plan`; `nil` on MPI ranks other than 0, which write nothing.
    func runDriver(
        job: Job, plan: RunPlan, previous: SimulationData, checkpoint checkpointing: Checkpointing?,
        progress: @escaping (Int, Int) -> Void
    ) throws -> SimulationData? {
        do {
            return try runChosenDriver(
                job: job, plan: plan, previous: previous, checkpoint: checkpointing, progress: progress)
        } catch let stopped as RunStopped {
            endStopped(stopped)
        }
    }

    private func runChosenDriver(
        job: Job, plan: RunPlan, previous: SimulationData, checkpoint checkpointing: Checkpointing?,
        progress: @escaping (Int, Int) -> Void
    ) throws -> SimulationData? {
        switch driver {
        case .serial:
            return try SerialDriver().run(
                job.simulation, plan: plan, data: previous, checkpoint: checkpointing, progress: progress)
        case .multiprocessing:
            let forked = try MultiprocessingDriver(numTasks: numTasks, stallTimeout: try WorkerStall.timeout())
            return try forked.run(
                job.simulation, plan: plan, data: previous, checkpoint: checkpointing, progress: progress)
        case .mpi:
            // Every rank finalizes MPI here, once the driver has returned or thrown on all
            // ranks; only rank 0 gets data back, to write and print.
            do {
                let data = try MPIDriver(numTasks: numTasks).run(
                    job.simulation, plan: plan, data: previous,
                    checkpoint: checkpointing, progress: progress)
                MPIEnvironment.finalize()
                return data
            } catch let stopped as RunStopped {
                endStopped(stopped)
            } catch {
                failUnderMPI(error)
            }
        }
    }

    /// Ends an MPI run that failed: rank 0 reports the error, every rank exits with status 1.
    ///
    /// What the driver throws on a rank other than 0 is what it throws on every rank (a
    /// task-count mismatch, unusable settings), so rank 0 alone reports it, once, not once
    /// per rank. Rank 0 writes before `MPI_Finalize`, which waits for every rank: written
    /// after it, the message could be lost when a rank that exits first with status 1 makes
    /// mpirun end the job.
    private func failUnderMPI(_ error: Error) -> Never {
        // The run is over: the launcher's SIGTERM to a rank still finalizing, once another
        // has left with this error, is no stop to announce.
        StopRequest.release()
        let reports = !MPIEnvironment.isInitialized || MPIEnvironment.isFinalized || MPIEnvironment.rank == 0
        if reports { StandardStreams.writeError(ErrorLine.text(for: error)) }
        MPIEnvironment.finalize()
        Foundation.exit(1)
    }
}

/// The job `qclab run` runs without a job file: FSSH on the default spin-boson model.
enum DefaultJob {
    static var job: Job {
        let settings = SimulationSettings(tmax: 10, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 200, batchSize: 50)
        let simulation = Simulation(
            settings: settings, model: SpinBoson(), algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: [Complex(1), Complex(0)])
        return Job(simulation: simulation)
    }
}

/// `--seeds A:B`: a half-open range of seeds.
struct SeedRange: ExpressibleByArgument {
    let range: Range<Int>

    /// The largest seed (QC Lab's seeds are 32-bit).
    static let largestSeed = Int(UInt32.max)

    init?(argument: String) {
        guard let parsed = try? Self.parse(argument) else { return nil }
        self = parsed
    }

    private init(range: Range<Int>) { self.range = range }

    /// `text` as a range, or an error saying what is wrong with it: A and B plain whole
    /// numbers (digits only: no sign, no leading zero, no exponent), A < B, B - 1 a seed.
    static func parse(_ text: String) throws -> SeedRange {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw ValidationError("give two whole numbers A:B (seeds A to B - 1, like a Python range), such as 0:100")
        }
        func bound(_ part: Substring, _ name: String) throws -> Int {
            if part.hasPrefix("-"), part.count > 1, part.dropFirst().allSatisfy(\.isASCII), Int(part) != nil {
                throw ValidationError("\(name) = \(part) is negative; seeds start at 0")
            }
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw ValidationError(
                    "\(name) = '\(part)' is not a whole number (digits only: no sign, exponent or fraction)")
            }
            guard part == "0" || !part.hasPrefix("0") else {
                throw ValidationError(
                    "\(name) = \(part) has a leading zero; write it without (\(part.drop { $0 == "0" }.isEmpty ? "0" : String(part.drop { $0 == "0" })))"
                )
            }
            guard let value = Int(part), value <= largestSeed + 1 else {
                throw ValidationError(
                    "\(name) = \(part) is past the largest seed, \(largestSeed) (B at most \(largestSeed + 1))")
            }
            return value
        }
        let a = try bound(parts[0], "A"), b = try bound(parts[1], "B")
        guard a <= largestSeed else {
            throw ValidationError("A = \(a) is past the largest seed, \(largestSeed)")
        }
        guard a != b else { throw ValidationError("\(text) is empty: B must be greater than A (B - A seeds are run)") }
        guard a < b else {
            throw ValidationError("\(text) runs backwards: B must be greater than A (seeds A to B - 1)")
        }
        return SeedRange(range: a..<b)
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// How long a forked worker may show no sign of life: `QCLAB_WORKER_STALL_SECONDS`
/// (seconds in (0, 86400]), or 600 s.
enum WorkerStall {
    static func timeout() throws -> Double {
        try EnvironmentSettings.seconds("QCLAB_WORKER_STALL_SECONDS", default: 600)
    }
}

/// MPI launchers, told apart by the environment they give each rank.
enum MPILauncher {
    /// The launcher that started this process, if any: Open MPI's `mpirun`, MPICH's or
    /// Intel MPI's Hydra (`mpiexec`), or SLURM's `srun` with more than one task.
    static func detected(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if environment["OMPI_COMM_WORLD_SIZE"] != nil { return "Open MPI's mpirun" }
        if environment["PMI_RANK"] != nil || environment["PMIX_RANK"] != nil || environment["HYDRA_CONTROL_FD"] != nil
        {
            return "an MPI launcher (mpiexec)"
        }
        if let tasks = environment["SLURM_NTASKS"], let count = Int(tasks), count > 1,
            environment["SLURM_STEP_ID"] != nil,
            environment["SLURM_PROCID"] != nil
        {
            return "srun (SLURM_NTASKS=\(count))"
        }
        return nil
    }

    /// Whether this process is the first rank of its launcher's job (or not launched by one),
    /// read from the environment before MPI is initialized.
    static func isFirstRank(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let rank =
            environment["OMPI_COMM_WORLD_RANK"] ?? environment["PMI_RANK"] ?? environment["PMIX_RANK"]
            ?? environment["SLURM_PROCID"] ?? "0"
        return rank == "0"
    }
}
