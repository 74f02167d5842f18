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
            model, 200 trajectories. Examples/ holds a job file for each model; README.md describes the format.
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

    @Option(name: .customLong("num-tasks"), help: "Number of worker processes or MPI ranks (default: all cores, or the MPI world size).")
    var numTasks: Int?

    @Option(help: "Continue this earlier output: add new trajectories with fresh seeds and write the merged result to --output.")
    var append: String?

    @Flag(name: .shortAndLong, help: "Log progress details to standard error.")
    var verbose = false

    func validate() throws {
        if let numTasks, numTasks < 1 {
            throw ValidationError("--num-tasks must be at least 1, got \(numTasks)")
        }
        if driver == .serial, let numTasks, numTasks != 1 {
            throw ValidationError("--num-tasks applies to the multiprocessing and mpi drivers, not serial")
        }
    }

    func run() throws {
        bootstrapLogging(verbose: verbose)
        reportingErrors {
            let job = try job.map { try Job(contentsOf: $0) } ?? DefaultJob.job
            let target = try checkedOutput()
            let previous = try append.map { try SimulationData(contentsOf: $0) } ?? SimulationData()
            try checkFreeSpace(at: target, job: job, previous: previous)
            let progress = ProgressReporter(enabled: job.simulation.settings.progressBar)
            // Ends the bar's line on success and before an error message alike.
            defer { progress.finish() }
            guard let data = try runDriver(job: job, previous: previous, progress: progress.update) else { return }
            progress.finish()
            try data.save(to: target)
            print(Summary.describe(data, path: output))
        }
    }

    /// Runs the chosen driver; `nil` on MPI ranks other than 0, which write nothing.
    func runDriver(job: Job, previous: SimulationData, progress: @escaping (Int, Int) -> Void) throws -> SimulationData? {
        switch driver {
        case .serial:
            return try serialDriver(job.simulation, seeds: job.seeds, data: previous, progress: progress)
        case .multiprocessing:
            return try parallelDriverMultiprocessing(job.simulation, seeds: job.seeds, data: previous,
                                                     numTasks: numTasks, progress: progress)
        case .mpi:
            // Every rank finalizes MPI here, once the driver has returned or thrown on all
            // ranks; only rank 0 gets data back, to write and print.
            do {
                let data = try parallelDriverMPI(job.simulation, seeds: job.seeds, data: previous,
                                                 numTasks: numTasks, progress: progress)
                MPIEnvironment.finalize()
                return data
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
        let reports = !MPIEnvironment.isInitialized || MPIEnvironment.isFinalized || MPIEnvironment.rank == 0
        if reports { FileHandle.standardError.write(Foundation.Data("qclab: error: \(error)\n".utf8)) }
        MPIEnvironment.finalize()
        Foundation.exit(1)
    }
}

/// The job `qclab run` runs without a job file: FSSH on the default spin-boson model.
enum DefaultJob {
    static var job: Job {
        let settings = SimulationSettings(tmax: 10, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 200, batchSize: 50)
        let simulation = Simulation(settings: settings, model: SpinBoson(), algorithm: FewestSwitchesSurfaceHopping(),
                                    initialWavefunction: [Complex(1), Complex(0)])
        return Job(simulation: simulation)
    }
}

/// The few lines `qclab run` prints when it is done.
enum Summary {
    static func describe(_ data: SimulationData, path: String) -> String {
        let times = data.times
        guard let dm = data.mean("dm_db"), let shape = data.observable("dm_db")?.shape, shape.count == 3 else {
            return "wrote \(path)"
        }
        let n = shape[1]
        var lines = ["wrote \(path): \(data.normFactor) trajectories (seeds \(SeedList.describe(data.seeds))), \(times.count) time points"]
        let picks = Array(Set([0, times.count / 4, times.count / 2, 3 * times.count / 4, times.count - 1])).sorted()
        let shown = min(n, 4)
        lines.append("t" + (0..<shown).map { "  P\($0)" }.joined() + (n > shown ? "  ..." : ""))
        for k in picks {
            let populations = (0..<shown).map { dm[2 * ((k * n + $0) * n + $0)] }
            lines.append(String(format: "%-8.3g", times[k]) + populations.map { String(format: "  %.4f", $0) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
