import XCTest
import Foundation
@testable import QCLab
import CQCLabExactSums
@_spi(Benchmarks) import QCLabCore
#if canImport(Glibc)
import Glibc
#endif

/// The exact, order-free reduction: the same bits for any grouping of samples,
/// any batch size, any driver and any merge of parts; honest error bars; jobs
/// that must not mix; and the forked driver's faults (a stopped worker, SIGTERM).
final class ExactReductionTests: XCTestCase {
    typealias P = ParallelDriverTests

    func simulation(
        batchSize: Int, trajectories: Int = 23, algorithm: String = "FewestSwitchesSurfaceHopping",
        deterministic: Bool = false
    ) throws -> Simulation {
        var simulation = try P.simulation(
            trajectories: trajectories, algorithm: algorithm, deterministic: deterministic)
        simulation.settings.batchSize = batchSize
        return simulation
    }

    // MARK: The reduction itself

    func testSumsAreTheSameBitsInAnyOrderAndGrouping() {
        var generator = SystemRandomNumberGenerator()
        // Values over many magnitudes, signs, and exact cancellations.
        var values: [Double] = (0..<500).map { _ in
            Double.random(in: -1...1, using: &generator) * pow(10, Double(Int.random(in: -30...12, using: &generator)))
        }
        values += [1e16, 1, -1e16, 0.1, 0.2, -0.3, .leastNonzeroMagnitude, -0.0]
        func fold(_ order: [Double], groups: Int) -> OutputAccumulator {
            var total = OutputAccumulator(name: "x", shape: [1], isComplex: false)
            let size = (order.count + groups - 1) / groups
            for start in stride(from: 0, to: order.count, by: size) {
                var part = OutputAccumulator(name: "x", shape: [1], isComplex: false)
                for value in order[start..<min(start + size, order.count)] { part.addSample([value]) }
                total.addSums(of: part)
            }
            return total
        }
        let reference = fold(values, groups: 1)
        for groups in [2, 3, 7, 64, values.count] {
            XCTAssertEqual(fold(values.shuffled(), groups: groups).exactSums, reference.exactSums, "\(groups) groups")
        }
        // 1e16 + 1 - 1e16 is 1, not 0, and 0.1 + 0.2 - 0.3 is the exact sum of those doubles.
        var exact = OutputAccumulator(name: "x", shape: [1], isComplex: false)
        for value in [1e16, 1, -1e16] { exact.addSample([value]) }
        XCTAssertEqual(exact.moments(normFactor: 1, samples: 3, standardErrors: false).mean, [1])
    }

    func testIdenticalSamplesHaveExactlyZeroErrorAndSpreadIsResolved() {
        for value in [0.1, 1.0 / 3.0, -7.25e-8, 123456.789, 1e-300] {
            var o = OutputAccumulator(name: "x", shape: [1], isComplex: false)
            for _ in 0..<1000 { o.addSample([value]) }
            let m = o.moments(normFactor: 1000, samples: 1000, standardErrors: true)
            XCTAssertEqual(m.sem, [0], "\(value)")
            XCTAssertEqual(m.mean[0], value, accuracy: abs(value) * 1e-15)
        }
        // One sample one ulp away among a thousand: a spread far below double rounding
        // of a naive Σx² − (Σx)²/n, still resolved.
        var o = OutputAccumulator(name: "x", shape: [1], isComplex: false)
        for _ in 0..<999 { o.addSample([1.0]) }
        o.addSample([1.0 + 1e-9])
        let sem = o.moments(normFactor: 1000, samples: 1000, standardErrors: true).sem![0]
        // Direct: s = 1e-9 sqrt(1/1000 · 999/999)… sem = s / sqrt(1000).
        let mean = 1.0 + 1e-12, s = ((999 * pow(1.0 - mean, 2) + pow(1e-9 - 1e-12, 2)) / 999).squareRoot()
        XCTAssertEqual(sem, s / 1000.0.squareRoot(), accuracy: 1e-6 * sem)
    }

    /// The shortcut of the finiteness check: it vouches only for means that are finite,
    /// and leaves sums that received an infinity or a NaN, or that could overflow, to the
    /// means themselves.
    func testMeansAreCertainlyFiniteOnlyWhenTheyAre() {
        func observable(_ samples: [Double]) -> OutputAccumulator {
            var o = OutputAccumulator(name: "x", shape: [2], isComplex: false)
            for value in samples { o.addSample([value, 1]) }
            return o
        }
        XCTAssertTrue(observable([]).meansAreCertainlyFinite)
        XCTAssertTrue(observable([1e-300, -3, 0x1p900]).meansAreCertainlyFinite)
        for samples in [[1, .nan], [.infinity, 1], [1e308, 1e308], [.greatestFiniteMagnitude]] as [[Double]] {
            let o = observable(samples)
            XCTAssertFalse(o.meansAreCertainlyFinite, "\(samples)")
        }
        // Where it says nothing, the means decide: 1e308 + 1e308 overflows, one 1e308 does not.
        XCTAssertFalse(
            observable([1e308, 1e308]).moments(normFactor: 1, samples: 2, standardErrors: false).mean[0].isFinite)
        XCTAssertTrue(observable([1e308]).moments(normFactor: 1, samples: 1, standardErrors: false).mean[0].isFinite)
    }

    // MARK: Same bits for any batch size and driver

    func testEveryBatchSizeGivesTheSameBits() throws {
        for (algorithm, deterministic, sizes) in [
            ("MeanField", false, [1, 4, 7, 23]),
            ("FewestSwitchesSurfaceHopping", false, [1, 5, 23]),
            ("FewestSwitchesSurfaceHopping", true, [2, 6, 22]),
        ] {
            let trajectories = deterministic ? 22 : 23
            let reference = try serialDriver(
                simulation(
                    batchSize: sizes[0], trajectories: trajectories,
                    algorithm: algorithm, deterministic: deterministic))
            for size in sizes.dropFirst() {
                let data = try serialDriver(
                    simulation(
                        batchSize: size, trajectories: trajectories,
                        algorithm: algorithm, deterministic: deterministic))
                XCTAssertEqual(
                    P.withoutLog(data), P.withoutLog(reference), "\(algorithm) \(deterministic), batch_size \(size)")
            }
            let forked = try parallelDriverMultiprocessing(
                simulation(
                    batchSize: sizes[1], trajectories: trajectories,
                    algorithm: algorithm, deterministic: deterministic),
                numTasks: 3)
            XCTAssertEqual(P.withoutLog(forked), P.withoutLog(reference))
        }
    }

    func testPartsSplitAnywhereMergeIntoOneRunBitForBit() throws {
        let sim = try simulation(batchSize: 4)
        let whole = try serialDriver(sim)
        let first = try serialDriver(sim, seeds: Array(0..<9)), second = try serialDriver(sim, seeds: Array(9..<23))
        let merged = try SimulationData.merging([("a", first), ("b", second)])
        XCTAssertEqual(merged.seeds, whole.seeds)
        XCTAssertEqual(merged.job, whole.job)
        XCTAssertEqual(merged.observables.map(\.name), whole.observables.map(\.name))
        for (x, y) in zip(merged.observables, whole.observables) { XCTAssertEqual(x.exactSums, y.exactSums, x.name) }
        XCTAssertEqual(merged.sampleCount, whole.sampleCount)
        XCTAssertEqual(merged.errorBarsUnavailable, whole.errorBarsUnavailable)
        XCTAssertEqual(P.withoutLog(merged), P.withoutLog(whole))
        XCTAssertEqual(merged.standardError("dm_db"), whole.standardError("dm_db"))
        // Through files, too.
        let folder = try temporaryFolder()
        let a = folder.appendingPathComponent("a.h5").path, b = folder.appendingPathComponent("b.h5").path
        try first.save(to: a, mergeable: true)
        try second.save(to: b, mergeable: true)
        let fromFiles = try SimulationData.merging(files: [a, b])
        XCTAssertEqual(fromFiles.observables, whole.observables)
        XCTAssertEqual(fromFiles.seeds, whole.seeds)
        XCTAssertEqual(fromFiles.job, whole.job)
        XCTAssertTrue(fromFiles.hasErrorBars)
    }

    // MARK: Error bars that cannot lie

    func testDataWithoutErrorBarsNeverReportsThem() throws {
        let theirs = try SimulationData(contentsOf: Fixtures.url("mf_spin_boson.h5").path)
        XCTAssertNil(theirs.standardError("dm_db"))
        XCTAssertTrue(
            theirs.errorBarsUnavailable?.contains("written by QC Lab") ?? false, "\(theirs.errorBarsUnavailable ?? "")"
        )
        XCTAssertTrue(theirs.summary().contains("error bars:   no ("), theirs.summary())
        // Anything added to it has none either, and a file of it says so.
        var ours = try serialDriver(simulation(batchSize: 4, trajectories: 4))
        ours.observables = theirs.observables
        ours.job = nil
        var combined = theirs
        ours.seeds = [1000, 1001, 1002, 1003]
        try combined.add(ours)
        XCTAssertNil(combined.standardError("dm_db"))
        let path = try temporaryFolder().appendingPathComponent("c.h5").path
        try combined.save(to: path)
        let names = try SimulationData.datasetNames(inFileAt: path)
        XCTAssertFalse(names.contains("dm_db_sem"), "\(names)")
        XCTAssertFalse(names.contains("num_samples"), "\(names)")
        XCTAssertNotNil(try SimulationData(contentsOf: path).errorBarsUnavailable)
    }

    func testAFileAveragedByQCLabsAddDataIsRecognised() throws {
        let python = try TestEnvironment.requirePython()
        let folder = try temporaryFolder()
        let sim = try simulation(batchSize: 4)
        try serialDriver(sim, seeds: Array(0..<8)).save(to: folder.appendingPathComponent("a.h5").path)
        try serialDriver(sim, seeds: Array(8..<20)).save(to: folder.appendingPathComponent("b.h5").path)
        let script = """
            import qclab
            d = qclab.Data().load("a.h5")
            d.load("b.h5")
            d.save("ab.h5")
            """
        let outcome = try QCLabCLI.run(["-c", script], in: folder, program: python)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        let averaged = try SimulationData(contentsOf: folder.appendingPathComponent("ab.h5").path)
        XCTAssertNil(averaged.standardError("dm_db"))
        XCTAssertTrue(
            averaged.errorBarsUnavailable?.contains("averaging") ?? false, "\(averaged.errorBarsUnavailable ?? "")")
        // Its means are still QC Lab's weighted means of the parts.
        let ours = try SimulationData.merging(files: [
            folder.appendingPathComponent("a.h5").path, folder.appendingPathComponent("b.h5").path,
        ])
        for (x, y) in zip(averaged.mean("dm_db")!, ours.mean("dm_db")!) { XCTAssertEqual(x, y, accuracy: 1e-12) }
    }

    /// A mergeable file's exact sums are byte-shuffled and deflated.
    ///
    /// The same datasets rewritten uncompressed (h5py's defaults) still read with their exact
    /// sums and error bars (files in the plain layout of earlier versions:
    /// `MergeableOutputTests`). A default file holds no exact sums at all.
    func testExactSumsAreDeflatedAndPlainOnesStillRead() throws {
        let python = try TestEnvironment.requirePython()
        let folder = try temporaryFolder()
        let data = try serialDriver(simulation(batchSize: 4, trajectories: 8))
        try data.save(to: folder.appendingPathComponent("mergeable.h5").path, mergeable: true)
        try data.save(to: folder.appendingPathComponent("default.h5").path)
        let script = """
            import h5py, sys
            with h5py.File("default.h5", "r") as f:
                print(sorted(n for n in f if n.endswith("_exact") or n == "exact_sums"))
            with h5py.File("mergeable.h5", "r") as f:
                exact = [n for n in f if n.endswith("_exact")]
                print(len(exact), all(f[n].compression == "gzip" and f[n].shuffle for n in exact))
            with h5py.File("mergeable.h5", "a") as f:
                for name in exact:
                    values = f[name][()]
                    del f[name]
                    f.create_dataset(name, data=values)
            """
        let outcome = try QCLabCLI.run(["-c", script], in: folder, program: python)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(
            outcome.output.trimmingCharacters(in: .whitespacesAndNewlines), "[]\n\(data.observables.count) True")
        let plain = try SimulationData(contentsOf: folder.appendingPathComponent("mergeable.h5").path)
        XCTAssertTrue(plain.hasErrorBars)
        XCTAssertTrue(plain.isExact)
        XCTAssertEqual(plain.observables, data.observables)
        XCTAssertEqual(plain.standardError("dm_db"), data.standardError("dm_db"))
    }

    // MARK: Jobs that must not mix

    func testDifferentJobsAreRefusedNamingTheDifference() throws {
        let sim = try simulation(batchSize: 4, trajectories: 4)
        var other = sim
        other.model = try ModelRegistry.make(name: "SpinBoson", constants: ["A": .number(10), "kBT": .number(2)])
        let a = try serialDriver(sim), b = try serialDriver(other, seeds: [10, 11, 12, 13])
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("b.h5", b)])) { error in
            XCTAssertEqual(
                "\(error)", "cannot merge data: different jobs: model.constants.kBT is 1 in 'a.h5' but 2 in 'b.h5'")
        }
        XCTAssertThrowsError(try serialDriver(other, data: a)) { error in
            XCTAssertTrue(
                "\(error)".contains("model.constants.kBT is 1 in the data continued but 2 in this job"), "\(error)")
        }
        var fssh = sim
        fssh.algorithm = FewestSwitchesSurfaceHopping(deterministic: false, gaugeFixing: .phaseOverlap)
        XCTAssertThrowsError(try serialDriver(fssh, data: a)) { error in
            XCTAssertTrue(
                "\(error)".contains(
                    "algorithm.settings.gauge_fixing is \"sign_overlap\" in the data continued but \"phase_overlap\" in this job"
                ), "\(error)")
        }
        // The same job with another batch size and trajectory count does mix.
        var bigger = sim
        bigger.settings.batchSize = 3
        XCTAssertNoThrow(try serialDriver(bigger, data: a))
        XCTAssertTrue(a.job?.contains(#""kBT": 1"#) ?? false, a.job ?? "")
    }

    // MARK: Forked driver faults

    /// A worker stopped (SIGSTOP) as it is given batch 3 is found out after the stall time and reported.
    ///
    /// It is the only worker, so no other one can be mistaken for it, however slow the machine.
    func testStoppedWorkerIsReportedWithItsLostSeeds() throws {
        let sim = try simulation(batchSize: 4)
        var stopped: pid_t = 0
        let observer = ParallelRunObserver(batchDispatched: { batch, _, pid in
            if batch == 2 { stopped = pid; kill(pid, SIGSTOP) }
        })
        XCTAssertThrowsError(
            try parallelDriverMultiprocessing(sim, numTasks: 1, stallTimeout: 1.5, observer: observer)
        ) { error in
            guard case let .workerFailed(worker, reason, lost)? = error as? QCLabError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(worker.contains("pid \(stopped)"), worker)
            XCTAssertTrue(reason.contains("stopped") && reason.contains("no sign of life"), reason)
            XCTAssertTrue(Set(8...11).isSubset(of: lost), "\(lost)")
        }
        XCTAssertEqual(kill(stopped, 0), -1, "the stopped worker is gone")
    }

    func testSIGTERMToTheForkedParentLeavesNoWorkerAndNoFile() throws {
        let folder = try temporaryFolder()
        try P.jobJSON(trajectories: 400).replacingOccurrences(of: #""tmax": 2.0"#, with: #""tmax": 50.0"#)
            .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = try QCLabCLI.executable()
        process.arguments = [
            "run", "job.json", "--driver", "multiprocessing", "--num-tasks", "2", "--output", "out.h5",
        ]
        process.currentDirectoryURL = folder
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let parent = process.processIdentifier
        // Signalled once both workers are there (the parent's children, as /proc lists them).
        var children: [pid_t] = []
        XCTAssertTrue(
            TestEnvironment.waitUntil {
                let text =
                    (try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)) ?? ""
                children = text.split(separator: " ").compactMap { pid_t($0) }
                return children.count == 2 || !process.isRunning
            })
        XCTAssertEqual(children.count, 2, "two workers started")
        let started = children.map(Self.startTime)
        kill(parent, SIGTERM)
        process.waitUntilExit()
        // SIGTERM stops the run: the parent kills its workers and ends with 128 + 15 (or by
        // the signal itself, when it comes before qclab catches it). Either way each worker
        // ends, and is reaped by whoever inherited it.
        if process.terminationReason == .exit {
            XCTAssertEqual(process.terminationStatus, 128 + SIGTERM)
        } else {
            XCTAssertEqual(process.terminationStatus, SIGTERM)
        }
        for (child, start) in zip(children, started) {
            XCTAssertTrue(
                TestEnvironment.waitUntil {
                    let state = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
                    return state.isEmpty || state.contains(") Z") || Self.startTime(child) != start
                }, "worker \(child) still running")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["job.json"])
    }

    // MARK: The command line: --seeds, launchers

    func testSeedRangesOfAnArrayJobMergeIntoOneRun() throws {
        let folder = try seedRangesMerged()
        let all = try SimulationData(contentsOf: folder.appendingPathComponent("all.h5").path)
        let merged = try SimulationData(contentsOf: folder.appendingPathComponent("merged.h5").path)
        XCTAssertEqual(P.withoutLog(merged), P.withoutLog(all))
        let bad = try QCLabCLI.run(["run", "job.json", "--seeds", "5:5", "--output", "x.h5"], in: folder)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.errorCode, "usage", bad.errors)
        XCTAssertTrue(bad.errors.contains("--seeds"), bad.errors)
    }

    /// The merged file of seed ranges has every dataset of the file of one run, error bars
    /// included, to the bit, as h5py reads them.
    func testSeedRangesMergedHaveEveryDatasetsBitsAsH5pyReadsThem() throws {
        let python = try TestEnvironment.requirePython()
        let folder = try seedRangesMerged()
        XCTAssertEqual(
            try datasetDigests(folder.appendingPathComponent("merged.h5").path, python: python),
            try datasetDigests(folder.appendingPathComponent("all.h5").path, python: python))
    }

    /// A folder with `all.h5`, one run of 23 seeds, and `merged.h5`, the merge of two runs
    /// of seeds 0..<12 (serial) and 12..<23 (forked), both with their exact sums.
    private func seedRangesMerged() throws -> URL {
        let folder = try temporaryFolder()
        try P.jobJSON(trajectories: 23).write(
            to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        for arguments in [
            ["run", "job.json", "--output", "all.h5", "--mergeable"],
            ["run", "job.json", "--seeds", "0:12", "--output", "p1.h5"],
            ["run", "job.json", "--seeds", "12:23", "--driver", "multiprocessing", "--output", "p2.h5"],
            ["merge", "p1.h5", "p2.h5", "--output", "merged.h5", "--mergeable"],
        ] {
            let outcome = try QCLabCLI.run(arguments, in: folder)
            XCTAssertEqual(outcome.status, 0, "\(arguments): \(outcome.errors)")
        }
        return folder
    }

    func testAnMPILauncherWithoutDriverMPIIsRefused() throws {
        let folder = try temporaryFolder()
        try P.jobJSON(trajectories: 4).write(
            to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        for environment in [
            ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0"], ["PMI_RANK": "1", "PMI_SIZE": "2"],
            ["SLURM_NTASKS": "4", "SLURM_PROCID": "0", "SLURM_STEP_ID": "0"],
        ] {
            let outcome = try QCLabCLI.run(
                ["run", "job.json", "--output", "out.h5"], in: folder, environment: environment)
            XCTAssertNotEqual(outcome.status, 0, "\(environment)")
            XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
            XCTAssertEqual(outcome.errorCode, "mpi", outcome.errors)
            XCTAssertTrue(outcome.errors.contains("--driver mpi"), outcome.errors)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["job.json"])
        // And for real, under mpirun.
        let mpirun = try P.mpirun()
        let outcome = try P.run(
            mpirun,
            [
                "--oversubscribe", "-n", "2", try QCLabCLI.executable().path, "run", "job.json",
                "--output", "out.h5",
            ], in: folder, timeout: 60)
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertEqual(outcome.errorCode, "mpi", outcome.errors)
        XCTAssertTrue(outcome.errors.contains("add `--driver mpi`"), outcome.errors)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["job.json"])
    }

    // MARK: Helpers

    /// When process `pid` started (field 22 of /proc/PID/stat), to tell it from a later
    /// process given the same pid; nil once it is gone.
    private static func startTime(_ pid: pid_t) -> Substring? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? fields[19] : nil
    }

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-exact-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    /// Every dataset of a file with a digest of its bytes, as h5py reads them.
    private func datasetDigests(_ path: String, python: URL) throws -> String {
        let script = """
            import h5py, hashlib, sys
            with h5py.File(sys.argv[1], "r") as f:
                for name in sorted(f):
                    print(name, f[name].dtype, f[name].shape, hashlib.sha256(f[name][()].tobytes()).hexdigest())
            """
        let outcome = try QCLabCLI.run(["-c", script, path], in: URL(fileURLWithPath: "/"), program: python)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        return outcome.output
    }
}

/// Every version of the record (the scalar chunked path, and the slicing in floating
/// point across a chunk for baseline x86-64, AVX2 and AVX-512, whichever this machine
/// runs) against the generic path, one `deposit` per value, as swift-collections tests
/// fast paths against the generic one: the states must be the same bits, limb for limb.
final class ExactRecordFastPathTests: XCTestCase {
    /// The versions of `qclab_exact_record` this machine runs, each tried on a probe.
    static var versions: [Int32] {
        [QCLAB_EXACT_SCALAR, QCLAB_EXACT_BASELINE, QCLAB_EXACT_AVX2, QCLAB_EXACT_AVX512].map { Int32($0) }.filter {
            version in
            var state = [Int64](repeating: 0, count: Int(QCLAB_EXACT_ELEMENT))
            return qclab_exact_record_using(version, &state, [1.0], 1, 1) != 0
        }
    }

    /// Calls `body` with every version this machine runs.
    func withEveryVersion(_ body: (Int32) throws -> Void) rethrows {
        let versions = Self.versions
        XCTAssertTrue(
            versions.contains(Int32(QCLAB_EXACT_SCALAR)) && versions.contains(Int32(QCLAB_EXACT_BASELINE)),
            "\(versions)")
        XCTAssertTrue(
            versions.contains(qclab_exact_record_version()),
            "the automatic choice \(qclab_exact_record_version()) runs")
        for version in versions { try body(version) }
    }

    /// The generic path: `rows` in samples of `branches` rows, each sample's value and the
    /// two parts of its square deposited one by one.
    func depositOneByOne(_ state: inout [Int64], _ rows: [Double], branches: Int) {
        state.withUnsafeMutableBufferPointer { state in
            var g = 0
            while g + branches <= rows.count {
                var y = rows[g]
                for b in stride(from: 1, to: branches, by: 1) { y += rows[g + b] }
                let hi = y * y, lo = fma(y, y, -hi)
                qclab_exact_deposit(state.baseAddress!, y, 1)
                qclab_exact_deposit(state.baseAddress! + Int(QCLAB_EXACT_STATE), hi, 1)
                qclab_exact_deposit(state.baseAddress! + Int(QCLAB_EXACT_STATE), lo, 1)
                g += branches
            }
        }
    }

    func empty() -> [Int64] {
        var state = [Int64](repeating: 0, count: Int(QCLAB_EXACT_ELEMENT))
        qclab_exact_clear(&state, 1)
        return state
    }

    func testEveryVersionEqualsOneDepositPerValue() {
        var generator = SystemRandomNumberGenerator()
        // Zeros of both signs, subnormals, the edges of the normal range, values at the
        // edges of the exact square's split (2^-450, 2^500), and plain ones.
        let specials: [Double] = [
            0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0x1.8p-1030, .leastNormalMagnitude,
            1e308, -1e308, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, -1, 0.1,
            0x1p-450, 0x1.8p-451, 0x1p500, -0x1.fffffffffffffp500, 0x1p-864, 0x1p-900,
        ]
        // Exponent spreads: moderate, the whole range, and windows so low that the vector
        // versions hand the chunk to the scalar path.
        let spreads: [ClosedRange<Int>] = [-40...40, -1074...1023, -1074 ... -860, -20...20]
        withEveryVersion { version in
            for trial in 0..<176 {
                let branches = [1, 2, 3][trial % 3]
                // Counts around the vector widths (blocks of 4 and 8) and the chunk of 1024
                // samples, and random ones.
                let counts = [0, 1, 3, 4, 5, 7, 8, 9, 15, 17, 25, 255, 1023, 1024, 1025, 2100]
                let samples =
                    trial < 48
                    ? counts[trial % counts.count]
                    : Int.random(in: 0...700, using: &generator)
                let count = branches * samples + (trial % 5 == 4 ? 1 : 0)  // and a trailing partial sample, ignored
                let spread = spreads[trial % spreads.count]
                var rows = (0..<count).map { _ -> Double in
                    if Int.random(in: 0..<16, using: &generator) == 0 {
                        return specials.randomElement(using: &generator)!
                    }
                    return Double.random(in: -1...1, using: &generator)
                        * pow(2, Double(Int.random(in: spread, using: &generator)))
                }
                if trial % 40 == 7, !rows.isEmpty { rows[rows.count / 2] = .infinity }
                if trial % 40 == 9, !rows.isEmpty { rows[0] = .nan }
                if trial % 40 == 11, !rows.isEmpty { rows[rows.count - 1] = -.infinity }
                // The largest value in the middle of a chunk raises the window there.
                if trial % 6 == 1, rows.count > 2 { rows[rows.count / 2] = 0x1p90 }
                // Start from states that already hold something: windows then move up, stay
                // above the chunk's, or start below the vector versions' range.
                let earlier = [[3.5, -1e-20, 7e10], [1e300, 1, -2], [1e-300, -2e-290, 0x1p-1000], []][trial % 4]
                var fast = empty(), generic = empty()
                XCTAssertEqual(qclab_exact_record_using(version, &fast, earlier, earlier.count, 1), 1)
                depositOneByOne(&generic, earlier, branches: 1)
                XCTAssertEqual(qclab_exact_record_using(version, &fast, rows, count, branches), 1)
                depositOneByOne(&generic, Array(rows.prefix(count - count % branches)), branches: branches)
                XCTAssertEqual(
                    fast, generic, "version \(version), trial \(trial): \(count) rows in groups of \(branches)")
            }
        }
    }

    /// A chunk of values all in one vector version's range, many of them, so that each
    /// limb's sum grows large: the per-chunk integer sums must still be exact.
    func testLargeLimbSumsStayExact() {
        withEveryVersion { version in
            let rows =
                [Double](repeating: 0x1.fffffffffffffp31, count: 4096)
                + [Double](repeating: -0x1.ffffffffffffp-70, count: 999)
            var fast = empty(), generic = empty()
            XCTAssertEqual(qclab_exact_record_using(version, &fast, rows, rows.count, 1), 1)
            depositOneByOne(&generic, rows, branches: 1)
            XCTAssertEqual(fast, generic, "version \(version)")
        }
    }

    /// Many elements in one call (as the collector records an output's elements) land in
    /// the slots one call per element fills, with strides 1 and 2 (complex parts), through
    /// every version: short records go lanes across elements, each lane under its own
    /// windows, so elements of all zeros, of infinities, of tiny values (the scalar path)
    /// and of plain values sit side by side.
    func testManyElementsAtOnceEqualOneCallPerElement() {
        var generator = SystemRandomNumberGenerator()
        let cases = [
            (1, 7, 25, 1), (2, 5, 24, 2), (2, 3, 300, 3), (1, 1, 0, 1), (1, 9, 25, 1), (2, 17, 24, 2),
            (1, 16, 32, 1), (1, 8, 33, 1), (2, 12, 1, 1), (1, 20, 96, 3), (1, 24, 8, 1),
        ]
        withEveryVersion { version in
            for (trial, (stride, elements, count, branches)) in cases.enumerated() {
                let rows = (0..<elements * count).map { i -> Double in
                    let value = Double.random(in: -1...1, using: &generator) * 1e-3
                    switch (i / max(count, 1) + trial) % 6 {  // what element i / count holds
                    case 0: return 0
                    case 1: return i % 7 == 3 ? .infinity : value
                    case 2: return value * 0x1p-900  // below the vector windows: the scalar path
                    case 3: return i % 5 == 0 ? 0x1p-460 : value  // outside the exact split's range
                    default: return value
                    }
                }
                let slots = elements * stride + 1
                var together = [Int64](repeating: 0, count: slots * Int(QCLAB_EXACT_ELEMENT)), apart = together
                qclab_exact_clear(&together, slots)
                qclab_exact_clear(&apart, slots)
                // Some elements hold earlier sums, whose windows the record may raise or not.
                for e in stride..<slots where e % 3 == 0 {
                    together.withUnsafeMutableBufferPointer {
                        qclab_exact_deposit($0.baseAddress! + e * Int(QCLAB_EXACT_ELEMENT), 0.25, 1)
                    }
                    apart.withUnsafeMutableBufferPointer {
                        qclab_exact_deposit($0.baseAddress! + e * Int(QCLAB_EXACT_ELEMENT), 0.25, 1)
                    }
                }
                together.withUnsafeMutableBufferPointer {
                    XCTAssertEqual(
                        qclab_exact_record_elements_using(
                            version, $0.baseAddress! + Int(QCLAB_EXACT_ELEMENT), stride, elements, rows, count,
                            branches), 1)
                }
                apart.withUnsafeMutableBufferPointer { sums in
                    rows.withUnsafeBufferPointer { rows in
                        for e in 0..<elements {
                            depositOneByOneInto(
                                sums.baseAddress! + (1 + e * stride) * Int(QCLAB_EXACT_ELEMENT),
                                Array(rows[e * count..<(e + 1) * count]), branches: branches)
                        }
                    }
                }
                XCTAssertEqual(
                    together, apart, "version \(version): stride \(stride), \(elements) elements of \(count) rows")
                XCTAssertEqual(
                    Array(together.prefix(Int(QCLAB_EXACT_ELEMENT))), Array(empty().prefix(Int(QCLAB_EXACT_ELEMENT))))
            }
        }
        // The automatic choice records as its version does.
        let rows = (0..<9 * 25).map { Double($0) * 0.37 - 50 }
        var automatic = [Int64](repeating: 0, count: 9 * Int(QCLAB_EXACT_ELEMENT)), chosen = automatic
        qclab_exact_clear(&automatic, 9)
        qclab_exact_clear(&chosen, 9)
        qclab_exact_record_elements(&automatic, 1, 9, rows, 25, 1)
        XCTAssertEqual(qclab_exact_record_elements_using(qclab_exact_record_version(), &chosen, 1, 9, rows, 25, 1), 1)
        XCTAssertEqual(automatic, chosen)
        XCTAssertEqual(qclab_exact_record_elements_using(99, &chosen, 1, 9, rows, 25, 1), 0)
    }

    /// ``depositOneByOne(_:_:branches:)`` into the element at `element`.
    func depositOneByOneInto(_ element: UnsafeMutablePointer<Int64>, _ rows: [Double], branches: Int) {
        var state = Array(UnsafeBufferPointer(start: element, count: Int(QCLAB_EXACT_ELEMENT)))
        depositOneByOne(&state, rows, branches: branches)
        element.update(from: state, count: state.count)
    }

    /// The automatic `qclab_exact_record` is one of the versions, and an unknown version
    /// records nothing.
    func testAutomaticChoiceAndUnknownVersion() {
        let rows = (0..<300).map { Double($0) * 0.37 - 50 }
        var automatic = empty(), chosen = empty(), unknown = empty()
        qclab_exact_record(&automatic, rows, rows.count, 1)
        XCTAssertEqual(qclab_exact_record_using(qclab_exact_record_version(), &chosen, rows, rows.count, 1), 1)
        XCTAssertEqual(automatic, chosen)
        XCTAssertEqual(qclab_exact_record_using(99, &unknown, rows, rows.count, 1), 0)
        XCTAssertEqual(unknown, empty())
    }

    /// The moments' FMA build (fma() one instruction) against their portable build (fma()
    /// from libm, the only one a machine without FMA runs), and the automatic choice: the
    /// same bits for every kind of element (empty, non-finite, tiny, huge, identical
    /// samples, plain ones) and every normalization (none, one sample, branches).
    func testMomentsOfEveryBuildAreTheSameBits() throws {
        var generator = SystemRandomNumberGenerator()
        let kinds: [(Int) -> [Double]] = [
            { _ in [] },
            { n in (0..<n).map { $0 == n / 2 ? .nan : Double($0) } },
            { n in (0..<n).map { $0 == 0 ? -.infinity : 1 } },
            { n in (0..<n).map { _ in Double.random(in: -1...1, using: &generator) * 0x1p-1000 } },
            { n in (0..<n).map { _ in Double.random(in: -1...1, using: &generator) * 1e300 } },
            { n in [Double](repeating: 0.1, count: n) },
            // A large mean and a small spread: n S2 - S1² cancels down to the low parts of
            // the double-double products, so any difference in their rounding would show.
            { n in (0..<n).map { _ in 1e8 + Double.random(in: -1...1, using: &generator) * 1e-3 } },
            { n in (0..<n).map { _ in -3e5 + Double.random(in: -1...1, using: &generator) * 1e-7 } },
            { n in (0..<n).map { _ in Double.random(in: -1...1, using: &generator) } },
            { n in
                (0..<n).map { _ in
                    Double.random(in: -1...1, using: &generator)
                        * pow(2, Double(Int.random(in: -60...60, using: &generator)))
                }
            },
        ]
        for (samples, branches) in [(0, 1), (1, 1), (2, 1), (7, 1), (25, 1), (40, 3), (300, 2)] {
            let rows = samples * branches
            var elements = [Int64]()
            for trial in 0..<64 {
                var state = empty()
                depositOneByOne(&state, kinds[trial % kinds.count](rows), branches: branches)
                elements += state
            }
            let count = elements.count / Int(QCLAB_EXACT_ELEMENT)
            for normFactor in [rows, 0, max(rows, 1) * 5] {
                func moments(_ body: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)
                    -> [UInt64]
                {
                    var mean = [Double](repeating: 0, count: count), sem = mean
                    body(&mean, &sem)
                    return (mean + sem).map(\.bitPattern)
                }
                let label = "\(samples) samples of \(branches) rows, norm factor \(normFactor)"
                let portable = moments {
                    XCTAssertEqual(
                        qclab_exact_moments_using(0, elements, count, Int64(normFactor), Int64(samples), $0, $1), 1)
                }
                let automatic = moments {
                    qclab_exact_moments(elements, count, Int64(normFactor), Int64(samples), $0, $1)
                }
                XCTAssertEqual(automatic, portable, label)
                var fmaRuns: Int32 = 0
                let fused = moments {
                    fmaRuns = qclab_exact_moments_using(1, elements, count, Int64(normFactor), Int64(samples), $0, $1)
                }
                // A machine without AVX2 and FMA runs the portable build alone.
                if fmaRuns == 1 { XCTAssertEqual(fused, portable, label) }
            }
        }
    }
}

/// The benchmarks' switch to plain floating-point sums (``OutputReduction``), which times a
/// run without the exact reduction: off by default, and when on, the same means and error bars
/// as the exact sums to rounding, marked not exact.
final class PlainSumsTests: XCTestCase {
    func testPlainSumsAgreeWithExactSumsToRounding() throws {
        XCTAssertFalse(OutputReduction.plainFloatingPointSums, "off unless a benchmark sets it")
        // Deterministic surface hopping: samples of several rows (the branches).
        for (algorithm, deterministic) in [
            ("FewestSwitchesSurfaceHopping", false), ("MeanField", false), ("FewestSwitchesSurfaceHopping", true),
        ] {
            var simulation = try ParallelDriverTests.simulation(
                trajectories: deterministic ? 24 : 23, algorithm: algorithm, deterministic: deterministic)
            simulation.settings.batchSize = deterministic ? 6 : 5
            let exact = try serialDriver(simulation)
            OutputReduction.plainFloatingPointSums = true
            defer { OutputReduction.plainFloatingPointSums = false }
            let plain = try serialDriver(simulation)
            XCTAssertTrue(exact.isExact && exact.notExact == nil)
            XCTAssertFalse(plain.isExact)
            XCTAssertNotNil(plain.notExact)
            XCTAssertEqual(plain.normFactor, exact.normFactor)
            XCTAssertEqual(plain.sampleCount, exact.sampleCount)
            for observable in exact.observables {
                let name = observable.name
                let (a, b) = (try XCTUnwrap(exact.mean(name)), try XCTUnwrap(plain.mean(name)))
                let (ea, eb) = (try XCTUnwrap(exact.standardError(name)), try XCTUnwrap(plain.standardError(name)))
                XCTAssertEqual(a.count, b.count, name)
                let scale = a.map(abs).max() ?? 0, errorScale = ea.map(abs).max() ?? 0
                XCTAssertGreaterThan(scale, 0, "\(algorithm) \(name): something to compare")
                for i in a.indices {
                    XCTAssertEqual(a[i], b[i], accuracy: 1e-12 * scale, "\(algorithm) \(name)[\(i)]")
                    XCTAssertEqual(
                        ea[i], eb[i], accuracy: 1e-6 * errorScale + 1e-12 * scale, "\(algorithm) \(name)[\(i)]")
                }
            }
        }
    }
}
