import XCTest
import Foundation
@testable import QCLab
import QCLabMPI
#if canImport(Glibc)
import Glibc
#endif

/// The parallel drivers: forked workers and MPI ranks give the serial driver's result to
/// the bit, continue runs, and fail loudly, naming the seeds they lost.
final class ParallelDriverTests: XCTestCase {
    typealias QData = SimulationData

    // MARK: Jobs

    /// A small spin-boson job (quick in a debug build): `trajectories` seeds in batches of 4.
    static func jobJSON(
        trajectories: Int, algorithm: String = "FewestSwitchesSurfaceHopping",
        deterministic: Bool = false
    ) -> String {
        let settings = algorithm == "MeanField" ? "" : #", "settings": {"fssh_deterministic": \#(deterministic)}"#
        return """
            {"settings": {"tmax": 2.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": \(trajectories), "batch_size": 4},
             "model": {"name": "SpinBoson", "constants": {"A": 10}},
             "algorithm": {"name": "\(algorithm)"\(settings)},
             "initial_state": {"wf_db": [[1.0, 0.0], [0.0, 0.0]]}}
            """
    }

    static func simulation(
        trajectories: Int = 23, algorithm: String = "FewestSwitchesSurfaceHopping",
        deterministic: Bool = false
    ) throws -> Simulation {
        try Job(
            json: Foundation.Data(
                jobJSON(
                    trajectories: trajectories, algorithm: algorithm,
                    deterministic: deterministic
                ).utf8)
        ).simulation
    }

    /// `data` without its log, which names the driver and so differs between drivers.
    static func withoutLog(_ data: QData) -> QData {
        var copy = data
        copy.log = ""
        return copy
    }

    // MARK: Binary form

    func testBinaryEncodingRoundTripsEveryBit() throws {
        var observable = OutputAccumulator(name: "dm_db", shape: [2, 2, 2], isComplex: true)
        observable.addSample([
            0.1, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            Double(bitPattern: 0x7ff8_0000_dead_beef), 1e-300, 3, 4, 5, 6, 7, 8, 9, 10,
        ])
        observable.addSample([Double](repeating: 0.3, count: 16))
        var energy = OutputAccumulator(name: "quantum_energy", shape: [2], isComplex: false)
        energy.addSample([1.5, 2.5])
        let data = QData(
            seeds: [0, 7, 4_294_967_295], normFactor: 3, sampleCount: 3,
            observables: [observable, energy], log: "run log ✓\nline two\n", job: #"{"a": 1}"#,
            errorBarsUnavailable: "a reason")
        // Version 2 (messages), 5 (checkpoints: varints, the upper triangle as its difference
        // from the mirrored lower one, here not Hermitian at all) and 4 (the previous
        // checkpoints' varints).
        for (bytes, version) in [
            (data.encodedBytes(), 2), (data.encodedBytes(compactSums: true), 5),
            (data.encodedBytes(compactSums: true, mirrored: false), 4),
        ] {
            XCTAssertEqual(bytes[4], UInt8(version))
            let decoded = try QData(encodedBytes: bytes)
            XCTAssertEqual(decoded, data)
            XCTAssertEqual(decoded.job, data.job)
            XCTAssertEqual(decoded.errorBarsUnavailable, "a reason")
            XCTAssertEqual(decoded.observables.map(\.exactSums), data.observables.map(\.exactSums), "\(version)")
        }
        XCTAssertEqual(try QData(encodedBytes: QData().encodedBytes()), QData())
    }

    func testQCLabErrorsRoundTripThroughTheWireForm() {
        let errors: [QCLabError] = [
            .invalidSetting("a", "b"), .invalidConstant(model: "m", name: "n", reason: "r"),
            .invalidAlgorithmSetting(name: "n", reason: "r"), .invalidInitialState("x"),
            .unknownName(kind: "k", name: "n", known: ["a", "b"]), .malformedJob("j"),
            .lapack(routine: "zheevd", info: -3),
            .hdf5(path: "p", reason: "r"), .incompatibleData("d"),
            .workerFailed(worker: "w", reason: "r", lostSeeds: [1, 5]),
            .mpi("m"), .invalidPath("p"), .unusableData("u"),
            .nonFinite(output: "dm_db", value: .infinity, time: 0.5, seeds: [3, 4]),
            .nonFinite(output: "q", value: -1, time: nil, seeds: []),
        ]
        for error in errors {
            XCTAssertEqual(QCLabError(encodedBytes: error.encodedBytes()), error)
            XCTAssertEqual(BatchFailure(encodedBytes: BatchFailure(error).encodedBytes()), .error(error))
        }
        XCTAssertNil(QCLabError(encodedBytes: [99]))
        XCTAssertNil(QCLabError(encodedBytes: QCLabError.mpi("m").encodedBytes().dropLast()))
    }

    func testBinaryDecodingRefusesDamagedInput() throws {
        let data = try serialDriver(Self.simulation(trajectories: 4))
        let bytes = data.encodedBytes()
        XCTAssertEqual(try QData(encodedBytes: bytes), data)
        // Truncation anywhere fails with a decoding error, never a crash.
        for length in Array(0..<64) + Array(stride(from: 64, to: bytes.count, by: 13)) + [bytes.count - 1] {
            XCTAssertThrowsError(try QData(encodedBytes: Array(bytes[0..<length]))) { error in
                XCTAssertTrue(error is DataDecodingError, "\(error)")
            }
        }
        XCTAssertThrowsError(try QData(encodedBytes: Array(bytes.prefix(10)))) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        XCTAssertThrowsError(try QData(encodedBytes: Array("HDF5".utf8) + bytes.dropFirst(4))) { error in
            XCTAssertTrue("\(error)".contains("magic"), "\(error)")
        }
        var newer = bytes
        newer[4] = 99
        XCTAssertThrowsError(try QData(encodedBytes: newer)) { error in
            XCTAssertTrue("\(error)".contains("version 99"), "\(error)")
        }
        XCTAssertThrowsError(try QData(encodedBytes: bytes + [0])) { error in
            XCTAssertTrue("\(error)".contains("unexpected bytes"), "\(error)")
        }
    }

    // MARK: Forked workers: one reduction, bit for bit

    func testForkedWorkersMatchSerialBitForBit() throws {
        let simulation = try Self.simulation(trajectories: 23)
        let serial = try serialDriver(simulation)
        XCTAssertEqual(serial.seeds, Array(0...22))
        XCTAssertEqual(serial.normFactor, 23)
        for workers in [1, 2, 3, 5] {
            var reported: [Int] = []
            let parallel = try parallelDriverMultiprocessing(
                simulation, numTasks: workers,
                progress: { done, total in
                    XCTAssertEqual(total, 23)
                    reported.append(done)
                })
            XCTAssertEqual(parallel.seeds, Array(0...22), "\(workers) workers")
            XCTAssertEqual(Self.withoutLog(parallel), Self.withoutLog(serial), "\(workers) workers")
            XCTAssertTrue(parallel.log.contains("multiprocessing driver, \(workers) task(s)"), parallel.log)
            XCTAssertEqual(reported, reported.sorted(), "progress only grows")
            XCTAssertEqual(reported.last, 23)
        }
    }

    func testForkedWorkersMatchSerialForDeterministicSurfaceHopping() throws {
        // Deterministic FSSH runs one branch per state: 24 trajectories are 12 initial
        // conditions of 2 branches, and every batch of 4 holds whole groups.
        let simulation = try Self.simulation(trajectories: 24, deterministic: true)
        let serial = try serialDriver(simulation)
        XCTAssertEqual(serial.seeds, Array(0...23))
        for workers in [1, 2, 3, 5] {
            let parallel = try parallelDriverMultiprocessing(simulation, numTasks: workers)
            XCTAssertEqual(Self.withoutLog(parallel), Self.withoutLog(serial), "\(workers) workers")
        }
    }

    func testDeterministicSurfaceHoppingRefusesATrajectoryCountThatSplitsABranchGroup() throws {
        // 23 trajectories cannot be whole groups of 2 branches; every driver says so.
        let simulation = try Self.simulation(trajectories: 23, deterministic: true)
        let expected = QCLabError.invalidSetting(
            "num_trajs", "must be a multiple of the 2 quantum states in deterministic surface hopping, got 23")
        XCTAssertThrowsError(try serialDriver(simulation)) { XCTAssertEqual($0 as? QCLabError, expected) }
        XCTAssertThrowsError(try parallelDriverMultiprocessing(simulation, numTasks: 2)) {
            XCTAssertEqual($0 as? QCLabError, expected)
        }
    }

    func testForkedWorkersMatchSerialForMeanFieldWithTheDefaultTaskCount() throws {
        let simulation = try Self.simulation(trajectories: 23, algorithm: "MeanField")
        let parallel = try parallelDriverMultiprocessing(simulation)
        XCTAssertEqual(Self.withoutLog(parallel), Self.withoutLog(try serialDriver(simulation)))
        XCTAssertTrue(
            parallel.log.contains("multiprocessing driver, \(min(usableCoreCount(), 6)) task(s)"), parallel.log)
    }

    func testForkedRunContinuesAfterTheLargestSeed() throws {
        let simulation = try Self.simulation(trajectories: 23)
        let first = try serialDriver(simulation)
        let continued = try parallelDriverMultiprocessing(simulation, data: first, numTasks: 3)
        XCTAssertEqual(continued.seeds, Array(0...45))
        XCTAssertEqual(continued.normFactor, 46)
        XCTAssertEqual(Self.withoutLog(continued), Self.withoutLog(try serialDriver(simulation, data: first)))
        XCTAssertTrue(continued.log.hasPrefix(first.log), "the earlier run's log is kept")
        // Explicit seeds are used as given.
        let explicit = try parallelDriverMultiprocessing(simulation, seeds: [40, 3, 17], numTasks: 2)
        XCTAssertEqual(explicit.seeds, [40, 3, 17])
        XCTAssertEqual(Self.withoutLog(explicit), Self.withoutLog(try serialDriver(simulation, seeds: [40, 3, 17])))
    }

    func testForkedDriverRefusesAZeroTaskCount() throws {
        XCTAssertThrowsError(try parallelDriverMultiprocessing(Self.simulation(), numTasks: 0)) {
            XCTAssertEqual($0 as? QCLabError, .invalidSetting("num_tasks", "must be at least 1, got 0"))
        }
    }

    // MARK: Forked workers: failure is loud

    /// Records what the observer sees.
    final class Recorder {
        var pids: [Int: pid_t] = [:]
        var dispatched: [(batch: Int, worker: Int, pid: pid_t)] = []
        var finished: [Int] = []
        var killed: (batch: Int, worker: Int, pid: pid_t)?

        /// An observer that SIGKILLs the worker given batch `victim`, right after handing it over.
        func observer(killingAtBatch victim: Int) -> ParallelRunObserver {
            ParallelRunObserver(
                workerStarted: { self.pids[$0] = $1 },
                batchDispatched: { batch, worker, pid in
                    self.dispatched.append((batch, worker, pid))
                    if batch == victim {
                        self.killed = (batch, worker, pid)
                        kill(pid, SIGKILL)
                    }
                },
                batchFinished: { batch, _ in self.finished.append(batch) })
        }

        /// Checks that every worker process is gone (reaped, not a zombie).
        func assertAllReaped(file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertFalse(pids.isEmpty, file: file, line: line)
            for pid in pids.values {
                XCTAssertEqual(kill(pid, 0), -1, "worker \(pid) still exists", file: file, line: line)
                XCTAssertEqual(errno, ESRCH, file: file, line: line)
            }
        }
    }

    func testKilledWorkerNamesTheSeedsItLost() throws {
        // One worker: batches 1 and 2 (seeds 0...7) come back, the worker is killed as it
        // gets batch 3, so seeds 8...11 and the never-started 12...22 are lost.
        let simulation = try Self.simulation(trajectories: 23)
        let recorder = Recorder()
        XCTAssertThrowsError(
            try parallelDriverMultiprocessing(
                simulation, numTasks: 1,
                observer: recorder.observer(killingAtBatch: 2))
        ) { error in
            guard case let .workerFailed(worker, reason, lost)? = error as? QCLabError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(worker, "worker 1 (pid \(recorder.pids[1]!))")
            XCTAssertTrue(reason.hasPrefix("killed by signal 9"), reason)
            // Batches 1 and 2 were folded into the worker's result, which died with it.
            XCTAssertEqual(lost, Array(0...22))
        }
        XCTAssertEqual(recorder.finished, [0, 1])
        recorder.assertAllReaped()
    }

    func testKilledWorkerAmongSeveralNamesEveryUnfinishedSeed() throws {
        let simulation = try Self.simulation(trajectories: 23)
        let plan = try RunPlan(simulation: simulation)
        let recorder = Recorder()
        XCTAssertThrowsError(
            try parallelDriverMultiprocessing(
                simulation, numTasks: 3,
                observer: recorder.observer(killingAtBatch: 3))
        ) { error in
            guard case let .workerFailed(worker, reason, lost)? = error as? QCLabError, let killed = recorder.killed
            else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(worker, "worker \(killed.worker) (pid \(killed.pid))")
            XCTAssertTrue(reason.hasPrefix("killed by signal 9"), reason)
            // Workers send their folded results only when the batches run out, so the seeds
            // lost are the killed worker's batches and every result not yet sent: usually
            // all of them, but a loaded machine may let the other workers run out of
            // batches and send theirs before the death is seen. What they sent is kept.
            XCTAssertTrue(Set(plan.seeds(ofBatch: 3)).isSubset(of: lost), "\(lost)")
            XCTAssertEqual(lost, lost.sorted())
            let kept = Set(plan.seeds).subtracting(lost)
            let keptBatches = plan.batches.indices.filter { !Set(plan.seeds(ofBatch: $0)).isDisjoint(with: kept) }
            for batch in keptBatches {
                XCTAssertTrue(Set(plan.seeds(ofBatch: batch)).isSubset(of: kept), "batch \(batch) is kept whole")
                let worker = recorder.dispatched.first { $0.batch == batch }?.worker
                XCTAssertNotNil(worker, "a kept batch \(batch) was run")
                XCTAssertNotEqual(worker, killed.worker, "batch \(batch) of the killed worker is not kept")
            }
        }
        XCTAssertEqual(recorder.pids.count, 3)
        recorder.assertAllReaped()
    }

    /// Surface hopping that fails on the batch holding `seed`: it throws, or its process exits.
    struct FailingAlgorithm: Algorithm {
        enum Failure { case throwError, exitProcess(Int32) }
        let base = FewestSwitchesSurfaceHopping()
        let seed: Int
        let failure: Failure
        var algorithmName: String { base.algorithmName }
        func branchCount(for model: any Model) -> Int { base.branchCount(for: model) }
        func runBatch(model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int]) throws
            -> QData
        {
            if seeds.contains(seed) {
                switch failure {
                case .throwError: throw QCLabError.lapack(routine: "zheevd", info: 3)
                case let .exitProcess(code): _exit(code)
                }
            }
            return try base.runBatch(model: model, grid: grid, initialWavefunction: initialWavefunction, seeds: seeds)
        }
    }

    func testQCLabErrorThrownInAWorkerArrivesAsTheSameCase() throws {
        var simulation = try Self.simulation(trajectories: 23)
        simulation.algorithm = FailingAlgorithm(seed: 9, failure: .throwError)
        let recorder = Recorder()
        XCTAssertThrowsError(
            try parallelDriverMultiprocessing(
                simulation, numTasks: 1,
                observer: recorder.observer(killingAtBatch: -1))
        ) { error in
            // The same case as under the serial driver: callers can catch it.
            XCTAssertEqual(error as? QCLabError, .lapack(routine: "zheevd", info: 3))
        }
        recorder.assertAllReaped()
        XCTAssertThrowsError(try serialDriver(simulation)) { error in
            XCTAssertEqual(error as? QCLabError, .lapack(routine: "zheevd", info: 3))
        }
        XCTAssertThrowsError(try parallelDriverMultiprocessing(simulation, numTasks: 3)) { error in
            XCTAssertEqual(error as? QCLabError, .lapack(routine: "zheevd", info: 3))
        }
    }

    func testWorkerThatExitsIsReported() throws {
        var simulation = try Self.simulation(trajectories: 23)
        simulation.algorithm = FailingAlgorithm(seed: 13, failure: .exitProcess(7))
        let recorder = Recorder()
        XCTAssertThrowsError(
            try parallelDriverMultiprocessing(
                simulation, numTasks: 2,
                observer: recorder.observer(killingAtBatch: -1))
        ) { error in
            guard case let .workerFailed(worker, reason, lost)? = error as? QCLabError else {
                return XCTFail("\(error)")
            }
            let holder = recorder.dispatched.first { $0.batch == 3 }!
            XCTAssertEqual(worker, "worker \(holder.worker) (pid \(holder.pid))")
            XCTAssertEqual(reason, "exited with status 7")
            XCTAssertTrue(Set(12...15).isSubset(of: lost), "\(lost)")
        }
        recorder.assertAllReaped()
    }

    // MARK: The command line and MPI

    /// `mpirun` on the PATH: the MPI tests need Open MPI installed (see ``TestEnvironment``).
    static func mpirun() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw TestEnvironment.unavailable(
            "mpirun is not installed (Open MPI's openmpi-bin; scripts/install-deps.sh installs it)")
    }

    /// Runs a program (`qclab` or `mpirun`) with a time limit through ``QCLabCLI/run``; Open
    /// MPI is told that root and more ranks than cores are fine.
    static func run(
        _ program: URL, _ arguments: [String], in folder: URL, timeout: Double = 120,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> QCLabCLI.Outcome {
        try QCLabCLI.run(
            arguments, in: folder, program: program, timeout: timeout,
            environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"],
            file: file, line: line)
    }

    /// A fresh folder holding the small job of `trajectories` as `job.json`.
    func jobFolder(trajectories: Int, deterministic: Bool = false) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "qclab-parallel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try Self.jobJSON(trajectories: trajectories, deterministic: deterministic)
            .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Checks that the output file holds exactly `serial`'s seeds and, to the bit, its means.
    func assertFile(
        _ path: URL, matches serial: QData, _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let loaded = try QData(contentsOf: path.path)
        XCTAssertEqual(loaded.seeds, serial.seeds, message, file: file, line: line)
        XCTAssertEqual(loaded.normFactor, serial.normFactor, message, file: file, line: line)
        XCTAssertEqual(loaded.observables.map(\.name), serial.observables.map(\.name), message, file: file, line: line)
        for observable in serial.observables {
            XCTAssertEqual(
                loaded.mean(observable.name)?.map(\.bitPattern), serial.mean(observable.name)?.map(\.bitPattern),
                "\(message): \(observable.name)", file: file, line: line)
        }
    }

    func testMPIRanksMatchSerialBitForBit() throws {
        let mpirun = try Self.mpirun()
        let qclab = try Self.locateExecutable()
        for (trajectories, deterministic) in [(23, false), (24, true)] {
            let folder = try jobFolder(trajectories: trajectories, deterministic: deterministic)
            let serial = try serialDriver(Self.simulation(trajectories: trajectories, deterministic: deterministic))
            XCTAssertEqual(serial.seeds, Array(0..<trajectories))
            for ranks in [2, 3] {
                let name = "mpi\(ranks).h5"
                let outcome = try Self.run(
                    mpirun,
                    [
                        "--oversubscribe", "-n", "\(ranks)", qclab.path, "run", "job.json",
                        "--driver", "mpi", "--output", name,
                    ], in: folder)
                let label = "\(ranks) ranks, \(trajectories) trajectories, deterministic \(deterministic)"
                XCTAssertEqual(outcome.status, 0, "\(label): \(outcome.errors)")
                XCTAssertEqual(
                    outcome.output.components(separatedBy: "wrote \(name)").count - 1, 1,
                    "\(label): only rank 0 writes and prints: \(outcome.output)")
                try assertFile(folder.appendingPathComponent(name), matches: serial, label)
            }
        }
    }

    func testMPIRefusesAMismatchedTaskCountOnEveryRankWithoutHanging() throws {
        let mpirun = try Self.mpirun()
        let qclab = try Self.locateExecutable()
        let folder = try jobFolder(trajectories: 23)
        // The time limit only turns a hang into a failure.
        let outcome = try Self.run(
            mpirun,
            [
                "--oversubscribe", "-n", "2", qclab.path, "run", "job.json",
                "--driver", "mpi", "--num-tasks", "3", "--output", "out.h5",
            ],
            in: folder, timeout: 60)
        XCTAssertNotEqual(outcome.status, 0)
        let message =
            "qclab: error: MPI: num_tasks is 3, but the MPI job has 2 rank(s); launch it with `mpirun -n 3` or leave num_tasks out"
        // Every rank refuses; rank 0 alone says so, once.
        XCTAssertEqual(
            outcome.errors.components(separatedBy: message).count - 1, 1, "reported once: \(outcome.errors)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.h5").path))
    }

    /// Seeds named by `SeedList.describe` ("4...7, 12...19, 22").
    static func seeds(in list: Substring) -> [Int] {
        list.split(separator: ",").flatMap { part -> [Int] in
            let bounds = part.trimmingCharacters(in: .whitespaces).components(separatedBy: "...").compactMap {
                Int($0)
            }
            return bounds.count == 2 ? Array(bounds[0]...bounds[1]) : bounds
        }
    }

    func testAFailedBatchOnAnyRankEndsTheMPIJobNamingTheLostSeeds() throws {
        // Tests/MPIFailureProbe: 23 seeds in batches of 4 through parallelDriverMPI, the batch
        // holding the given seed throws. Batch b runs on rank b mod K.
        let mpirun = try Self.mpirun()
        let probe = try QCLabCLI.executable(named: "MPIFailureProbe")
        let folder = try jobFolder(trajectories: 23)
        let fine = try Self.run(mpirun, ["--oversubscribe", "-n", "2", probe.path, "-1"], in: folder, timeout: 60)
        XCTAssertEqual(fine.status, 0, fine.errors)
        XCTAssertTrue(fine.output.contains("complete: 23 trajectories, seeds 0...22"), fine.output)
        for (ranks, failing) in [(2, 5), (2, 9), (3, 0), (3, 22)] {
            // The time limit only turns a rank left waiting into a failure.
            let outcome = try Self.run(
                mpirun, ["--oversubscribe", "-n", "\(ranks)", probe.path, "\(failing)"], in: folder,
                timeout: 60)
            let label = "\(ranks) ranks, failing seed \(failing)"
            XCTAssertNotEqual(outcome.status, 0, label)
            let batch = failing / 4, batchSeeds = Array(4 * batch..<min(4 * batch + 4, 23))
            // Batches go to ranks as they free up, so any rank may hold the failing batch.
            let lines = outcome.errors.split(separator: "\n").filter { $0.hasPrefix("probe: error:") }
            XCTAssertEqual(lines.count, 1, "\(label): one report: \(outcome.errors)")
            let rank =
                lines.first.flatMap { line in
                    (0..<ranks).first { line.hasPrefix("probe: error: MPI rank \($0) failed") }
                } ?? -1
            let expected =
                "probe: error: MPI rank \(rank) failed (batch \(batch + 1) (seeds \(batchSeeds.first!)...\(batchSeeds.last!)) threw: injected failure at seed \(failing)); lost seeds "
            guard let line = lines.first, line.hasPrefix(expected) else {
                XCTFail("\(label): expected \(expected)…, got \(outcome.errors)")
                continue
            }
            // The lost seeds hold the failed batch and are whole batches of the run.
            let lost = Self.seeds(in: line.dropFirst(expected.count))
            XCTAssertTrue(Set(batchSeeds).isSubset(of: lost), "\(label): \(line)")
            for b in Set(lost.map { $0 / 4 }) {
                XCTAssertTrue(
                    Set(4 * b..<min(4 * b + 4, 23)).isSubset(of: lost), "\(label): batch \(b + 1) lost whole: \(line)")
            }
            XCTAssertTrue(lost.allSatisfy { (0..<23).contains($0) }, "\(label): \(line)")
        }
    }

    /// Batches go to ranks as they free up (rank 0 hands them out), so a slow rank holds
    /// the job back by at most the batches it holds: rank 1's first batch waits until
    /// another rank starts the last of the six batches, so rank 1 runs only the two it was
    /// given at the start (handed out in turn, it would hold the last one and never finish).
    func testASlowRankGetsFewerBatchesUnderMPI() throws {
        let mpirun = try Self.mpirun()
        let probe = try QCLabCLI.executable(named: "MPIFailureProbe")
        let folder = try jobFolder(trajectories: 23)
        let outcome = try Self.run(
            mpirun, ["--oversubscribe", "-n", "2", probe.path, "slow", "1"], in: folder, timeout: 60)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertTrue(outcome.output.contains("complete: 23 trajectories, seeds 0...22"), outcome.output)
        func batches(ofRank rank: Int) -> Int? {
            guard
                let line = outcome.output.split(separator: "\n").first(where: { $0.hasPrefix("MPI rank \(rank) ran ") }
                )
            else {
                return nil
            }
            return Int(line.dropFirst("MPI rank \(rank) ran ".count).prefix { $0.isNumber })
        }
        let slow = batches(ofRank: 1), fast = batches(ofRank: 0)
        XCTAssertEqual((slow ?? 0) + (fast ?? 0), 6, outcome.output)
        XCTAssertEqual(slow, 2, "the held rank ran the two batches it was given first: \(outcome.output)")
    }

    func testCommandLineAppendContinuesARunWithEveryDriver() throws {
        let qclab = try Self.locateExecutable()
        let folder = try jobFolder(trajectories: 23)
        let first = try Self.run(qclab, ["run", "job.json", "--output", "first.h5"], in: folder)
        XCTAssertEqual(first.status, 0, first.errors)
        var runs = [["--driver", "serial"], ["--driver", "multiprocessing", "--num-tasks", "2"]]
        var programs = [qclab, qclab]
        var prefixes: [[String]] = [[], []]
        if let mpirun = try? Self.mpirun() {
            runs.append(["--driver", "mpi"])
            programs.append(mpirun)
            prefixes.append(["--oversubscribe", "-n", "2", qclab.path])
        }
        var results: [QData] = []
        for (index, options) in runs.enumerated() {
            let name = "second\(index).h5"
            let arguments = prefixes[index] + ["run", "job.json", "--append", "first.h5", "--output", name] + options
            let outcome = try Self.run(programs[index], arguments, in: folder)
            XCTAssertEqual(outcome.status, 0, "\(options): \(outcome.errors)")
            let loaded = try QData(contentsOf: folder.appendingPathComponent(name).path)
            XCTAssertEqual(loaded.seeds, Array(0...45), "\(options)")
            XCTAssertEqual(loaded.normFactor, 46)
            results.append(loaded)
        }
        for (index, result) in results.enumerated().dropFirst() {
            XCTAssertEqual(Self.withoutLog(result), Self.withoutLog(results[0]), "\(runs[index]) against serial")
        }
        // And the continued file agrees with an in-process continuation of the loaded first run.
        let simulation = try Self.simulation(trajectories: 23)
        let expected = try serialDriver(
            simulation, data: QData(contentsOf: folder.appendingPathComponent("first.h5").path))
        try assertFile(folder.appendingPathComponent("second0.h5"), matches: expected, "serial append")
    }

    func testCommandLineMultiprocessingMatchesSerial() throws {
        let qclab = try Self.locateExecutable()
        let folder = try jobFolder(trajectories: 23)
        let outcome = try Self.run(
            qclab,
            [
                "run", "job.json", "--driver", "multiprocessing", "--num-tasks", "3",
                "--output", "mp.h5",
            ], in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        try assertFile(
            folder.appendingPathComponent("mp.h5"), matches: serialDriver(Self.simulation(trajectories: 23)),
            "multiprocessing")
    }

    /// The `qclab` executable (``QCLabCLI/executable()``); a missing one fails the test.
    static func locateExecutable() throws -> URL { try QCLabCLI.executable() }
}
