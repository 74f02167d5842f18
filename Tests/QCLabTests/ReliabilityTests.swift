import CHDF5
import CHDF5Shims
import Foundation
import XCTest
@testable import QCLab

/// Faults and bad inputs, end to end through the `qclab` executable: each is
/// refused with one line naming the culprit, a non-zero status, no backtrace, nothing
/// destroyed and nothing left behind.
final class ReliabilityTests: XCTestCase {
    // MARK: Destroying things

    /// A device node, a named pipe or a symbolic link is never replaced by the output,
    /// and they are refused before anything runs.
    func testOutputThatIsNotARegularFileIsRefusedAndKept() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let device = folder.appendingPathComponent("null").path
        let pipe = folder.appendingPathComponent("pipe").path
        let link = folder.appendingPathComponent("link.h5").path
        try "kept\n".write(toFile: folder.appendingPathComponent("target").path, atomically: true, encoding: .utf8)
        XCTAssertEqual(symlink("target", link), 0)
        XCTAssertEqual(mkfifo(pipe, 0o644), 0)
        // A character device like /dev/null (1, 3); only root may make one.
        let madeDevice = mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0
        var cases = [("pipe", "named pipe"), ("link.h5", "symbolic link")]
        if madeDevice { cases.append(("null", "character device")) }
        for (name, kind) in cases {
            let before = try Syscalls.linkStatus(folder.appendingPathComponent(name).path)
            let outcome = try QCLabCLI.run(["run", "job.json", "--output", name], in: folder)
            XCTAssertEqual(outcome.status, 1, "\(name): \(outcome.errors)")
            XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
            XCTAssertEqual(outcome.errorCode, "invalidPath", outcome.errors)
            XCTAssertTrue(outcome.errors.contains("'\(name)'") && outcome.errors.contains(kind), outcome.errors)
            let after = try Syscalls.linkStatus(folder.appendingPathComponent(name).path)
            XCTAssertTrue(after.isSameFile(as: before) && after.st_mode == before.st_mode, "\(name) was replaced")
        }
        XCTAssertEqual(
            try String(contentsOfFile: folder.appendingPathComponent("target").path, encoding: .utf8), "kept\n")
        XCTAssertEqual(
            QCLabCLI.contents(of: folder),
            ["job.json", "link.h5"] + (madeDevice ? ["null"] : []) + ["pipe", "target"])
    }

    /// A write killed with SIGKILL (which no handler sees) leaves its temporary file; the
    /// next run of the same output removes it, and leaves alone a live writer's.
    func testTemporaryFilesOfKilledWritesAreRemovedByTheNextRun() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let dead = ".out.h5.tmp-999999-abc", live = ".out.h5.tmp-\(getpid())-abc", other = ".other.h5.tmp-999999-abc"
        for name in [dead, live, other] {
            try "partial".write(to: folder.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        let outcome = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(
            left, [live, other, "job.json", "out.h5"].sorted(), "only the dead writer's file of out.h5 is gone")
    }

    /// `--output` naming the job file (by any path) is refused and the job is kept.
    func testOutputThatIsTheJobFileIsRefused() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        for output in ["job.json", "./job.json", folder.appendingPathComponent("job.json").path] {
            let outcome = try QCLabCLI.run(["run", "job.json", "--output", output], in: folder)
            XCTAssertEqual(outcome.status, 1, outcome.errors)
            XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
            XCTAssertEqual(outcome.errorCode, "invalidPath", outcome.errors)
            XCTAssertTrue(outcome.errors.contains("job file"), outcome.errors)
            XCTAssertEqual(
                try String(contentsOfFile: folder.appendingPathComponent("job.json").path, encoding: .utf8),
                BadJob.valid)
        }
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"])
        // plot must not write its picture over the data it draws.
        let data = try QCLabCLI.run(["run", "job.json", "--output", "data.h5"], in: folder)
        XCTAssertEqual(data.status, 0, data.errors)
        let saved = try Foundation.Data(contentsOf: folder.appendingPathComponent("data.h5"))
        let plot = try QCLabCLI.run(["plot", "data.h5", "--output", "./data.h5"], in: folder)
        XCTAssertEqual(plot.status, 1, plot.errors)
        XCTAssertEqual(plot.errorLines.count, 1, plot.errors)
        XCTAssertEqual(plot.errorCode, "invalidPath", plot.errors)
        XCTAssertTrue(plot.errors.contains("input 'data.h5'"), plot.errors)
        XCTAssertEqual(try Foundation.Data(contentsOf: folder.appendingPathComponent("data.h5")), saved)
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["data.h5", "job.json"])
    }

    /// Problems with the output are found before the run: with a job that would take
    /// hours, an output that is a folder, or whose name the file system cannot hold, is
    /// refused at once.
    func testOutputProblemsAreFoundBeforeComputing() throws {
        let slow = BadJob.job(
            settings: #"{"tmax": 1000, "dt_update": 0.01, "dt_collect": 1, "num_trajs": 1000000, "batch_size": 100}"#)
        let tooLong = String(repeating: "x", count: 300) + ".h5"
        try assertRefused(
            ["run", "job.json", "--output", "out"], files: ["job.json": slow], code: "invalidPath",
            naming: ["'out'", "folder"],
            "existing folder", timeout: 60)
        try assertRefused(
            ["run", "job.json", "--output", "out/" + tooLong], files: ["job.json": slow],
            code: "invalidPath", naming: [tooLong, "too long"], "name too long", timeout: 60)
    }

    /// A name the file system can hold but whose temporary name (".name.tmp-...") would be
    /// too long is written all the same.
    func testLongestNameIsWritten() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let name = String(repeating: "y", count: 252) + ".h5"
        let outcome = try QCLabCLI.run(["run", "job.json", "--output", name], in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json", name])
    }

    // MARK: Arithmetic edges and misleading messages

    func testSettingsWhoseCountsOverflowAreRefusedNamingTheSetting() throws {
        let cases: [(settings: String, culprits: [String])] = [
            (#"{"tmax": 1, "dt_update": 0.01, "dt_collect": 1e300}"#, ["'dt_collect'", "1e+300"]),
            (#"{"tmax": 0, "dt_update": 1e-300}"#, ["'dt_collect'", "dt_update 1e-300"]),
            (#"{"tmax": 1e308, "dt_update": 0.01}"#, ["'tmax'", "1e+308"]),
            (#"{"tmax": 1e9, "dt_update": 1e-3, "dt_collect": 1}"#, ["'tmax'", "update steps"]),
            (#"{"num_trajs": 1e12}"#, ["'num_trajs'", "at most 4294967296", "1000000000000"]),
            (#"{"num_trajs": 1e20}"#, ["'num_trajs'", "too large"]),
            (#"{"num_trajs": 4e9, "batch_size": 1e11}"#, ["'batch_size'", "100000000000"]),
            (#"{"num_trajs": 2.5}"#, ["'num_trajs'", "whole number"]),
        ]
        for (settings, culprits) in cases {
            try assertRefused(
                ["run", "job.json", "--output", "out/r.h5"], files: ["job.json": BadJob.job(settings: settings)],
                code: "invalidSetting", naming: culprits, settings, timeout: 60)
            XCTAssertThrowsError(try Job(json: Foundation.Data(BadJob.job(settings: settings).utf8)), settings)
        }
    }

    /// Continuing a file whose largest seed is 2^32 - 1 is refused (serial and forked):
    /// there is no next seed.
    func testContinuingAfterTheLargestSeedIsRefused() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.job(extra: #", "seeds": [4294967294, 4294967295]"#)
            .write(to: folder.appendingPathComponent("last.json"), atomically: true, encoding: .utf8)
        let first = try QCLabCLI.run(["run", "last.json", "--output", "last.h5"], in: folder)
        XCTAssertEqual(first.status, 0, first.errors)
        let bytes = try [UInt8](Foundation.Data(contentsOf: folder.appendingPathComponent("last.h5")))
        for driver in ["serial", "multiprocessing"] {
            try assertRefused(
                ["run", "job.json", "--output", "out/more.h5", "--append", "last.h5", "--driver", driver],
                files: ["job.json": BadJob.valid], binaryFiles: ["last.h5": bytes],
                code: "invalidSetting", naming: ["'num_trajs'", "4294967295", "seeds"],
                "continue after the last seed, \(driver)")
        }
    }

    /// Results that become NaN or infinite stop the run with the output's name, the first
    /// collect time at which it is not finite, and the batch's seeds; nothing is written.
    func testNonFiniteResultsAreRefusedNamingOutputTimeAndSeeds() throws {
        let job = BadJob.job(model: #"{"name": "SpinBoson", "constants": {"kBT": 1e308}}"#)
        try assertRefused(
            ["run", "job.json", "--output", "out/r.h5"], files: ["job.json": job],
            code: "nonFinite", naming: ["output '", "t = ", "seeds 0...1"], "kBT 1e308")
        try assertRefused(
            ["run", "job.json", "--output", "out/r.h5", "--driver", "multiprocessing", "--num-tasks", "2"],
            files: ["job.json": job], code: "nonFinite", naming: ["output '", "t = ", "in the batch of seeds "],
            "kBT 1e308, forked (both workers' batches fail; either may be reported first)")
        // Library level: the batch result never reaches the caller.
        var settings = SimulationSettings(tmax: 0.2, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 2, batchSize: 2)
        settings.progressBar = false
        let simulation = Simulation(
            settings: settings, model: SpinBoson(kBT: 1e308), algorithm: MeanField(),
            initialWavefunction: [Complex(1), Complex(0)])
        XCTAssertThrowsError(try simulation.runBatch(seeds: [7, 8])) { error in
            guard case let QCLabError.nonFinite(_, _, time, seeds) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(seeds, [7, 8])
            XCTAssertNotNil(time)
        }
    }

    // MARK: Resources

    /// Runs that cannot fit in memory are refused before they start, with the numbers.
    func testRunsThatCannotFitInMemoryAreRefusedWithTheNumbers() throws {
        let cases: [(settings: String, culprits: [String])] = [
            // 4e9 seeds: the seed list alone is tens of GB.
            (
                #"{"tmax": 0.2, "dt_update": 0.01, "num_trajs": 4e9, "batch_size": 10}"#,
                ["'num_trajs'", "seed list", "available"]
            ),
            // 10^10 collect points of a 2x2 density matrix.
            (#"{"tmax": 1e8, "dt_update": 0.01, "dt_collect": 0.01}"#, ["'tmax'", "outputs", "TiB", "available"]),
        ]
        for (settings, culprits) in cases {
            try assertRefused(
                ["run", "job.json", "--output", "out/r.h5"], files: ["job.json": BadJob.job(settings: settings)],
                code: "invalidSetting", naming: culprits, settings, timeout: 60)
        }
        XCTAssertNotNil(
            SystemMemory.available(), "this machine's available memory must be readable for the check to apply")
    }

    /// A file of a few KB that declares 10^11 elements is refused by info, plot, merge and
    /// --append before anything is read, contiguous or compressed.
    func testFilesDeclaringHugeDatasetsAreRefusedBeforeReading() throws {
        let source = try QCLabCLI.temporaryFolder(self)
        for (name, dataset, compressed) in [
            ("huge.h5", "t", false), ("seeds.h5", "seed", false), ("packed.h5", "t", true),
        ] {
            let path = source.appendingPathComponent(name).path
            try HDF5Forge.declaringHugeDataset(
                at: path, name: dataset, elements: 100_000_000_000, compressed: compressed)
            let bytes = try [UInt8](Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertLessThan(bytes.count, 16_384)
            let culprits = [name, dataset == "seed" || !compressed ? "'\(dataset)'" : "memory"]
            let files = ["job.json": BadJob.valid]
            try assertRefused(
                ["info", name], files: files, binaryFiles: [name: bytes], code: "hdf5", naming: culprits,
                "info \(name)")
            try assertRefused(
                ["plot", name, "--output", "out/p.svg"], binaryFiles: [name: bytes], code: "hdf5", naming: culprits,
                "plot \(name)")
            try assertRefused(
                ["merge", name, "--output", "out/all.h5"], binaryFiles: [name: bytes], code: "hdf5", naming: culprits,
                "merge \(name)")
            try assertRefused(
                ["run", "job.json", "--append", name, "--output", "out/more.h5"], files: files,
                binaryFiles: [name: bytes], code: "hdf5", naming: culprits, "--append \(name)")
        }
    }

    // MARK: Disk and signals

    private func smallFileSystem(kilobytes: Int) throws -> URL {
        try QCLabCLI.smallFileSystem(self, kilobytes: kilobytes)
    }

    /// A nearly full disk fails the write cleanly and keeps the earlier output.
    ///
    /// The error says so, the process exits with status 1 (HDF5's exit handler used to
    /// segfault after the message), no temporary file is left, and an earlier output of the
    /// same name is kept intact.
    /// Tried at many fill levels, so that the write fails at creation, in a dataset and at the
    /// final flush.
    func testNearlyFullDiskFailsCleanlyAndKeepsTheEarlierOutput() throws {
        let disk = try smallFileSystem(kilobytes: 96)
        let inputs = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: inputs.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let job = inputs.appendingPathComponent("job.json").path
        let earlier = try QCLabCLI.run(
            ["run", job, "--output", disk.appendingPathComponent("out.h5").path], in: inputs)
        XCTAssertEqual(earlier.status, 0, earlier.errors)
        var kept = try Foundation.Data(contentsOf: disk.appendingPathComponent("out.h5"))
        var failures = 0
        for filler in stride(from: 60_000, through: 98_304, by: 2_000) {
            let fill = disk.appendingPathComponent("filler")
            try? FileManager.default.removeItem(at: fill)
            _ = FileManager.default.createFile(atPath: fill.path, contents: nil)
            let handle = try FileHandle(forWritingTo: fill)
            try? handle.write(contentsOf: Foundation.Data(count: filler))
            try? handle.close()
            let outcome = try QCLabCLI.run(
                ["run", job, "--output", disk.appendingPathComponent("out.h5").path], in: inputs)
            XCTAssertFalse(outcome.signaled, "filler \(filler): ended by signal \(outcome.status): \(outcome.errors)")
            XCTAssertFalse(outcome.errors.contains("Backtrac"), outcome.errors)
            if outcome.status == 0 {
                kept = try Foundation.Data(contentsOf: disk.appendingPathComponent("out.h5"))
            } else {
                failures += 1
                XCTAssertEqual(outcome.status, 1)
                XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
                // Found while writing, or before the run when not even the data fits.
                XCTAssertTrue(
                    outcome.errors.contains("out.h5")
                        && (outcome.errors.contains("No space left on device") || outcome.errors.contains("B free")),
                    outcome.errors)
                XCTAssertEqual(
                    try Foundation.Data(contentsOf: disk.appendingPathComponent("out.h5")), kept,
                    "the earlier output must be kept whole")
            }
            XCTAssertEqual(QCLabCLI.contents(of: disk), ["filler", "out.h5"], "filler \(filler): debris")
        }
        XCTAssertGreaterThan(failures, 3, "the disk must have been full for several fill levels")
    }

    /// A run whose output cannot fit in the free space is refused before it starts (the
    /// job here would take hours), with both numbers.
    func testRunWhoseOutputCannotFitIsRefusedBeforeComputing() throws {
        let disk = try smallFileSystem(kilobytes: 64)
        let inputs = try QCLabCLI.temporaryFolder(self)
        // 10001 collect points: at least 1.7 MB of means and standard errors.
        try BadJob.job(
            settings: #"{"tmax": 1000, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 1000000, "batch_size": 100}"#
        )
        .write(to: inputs.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let output = disk.appendingPathComponent("out.h5").path
        let outcome = try QCLabCLI.run(["run", "job.json", "--output", output], in: inputs, timeout: 60)
        XCTAssertEqual(outcome.status, 1, outcome.errors)
        XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
        XCTAssertTrue(
            outcome.errors.contains(output) && outcome.errors.contains("MiB")
                && outcome.errors.contains("KiB free"), outcome.errors)
        XCTAssertEqual(QCLabCLI.contents(of: disk), [])
    }

    /// A signal during the computation ends qclab with nothing written: SIGHUP as the
    /// signal says; SIGTERM and SIGINT, once the run has started, with status 128 + the
    /// signal and one line (StopTests), and as the signal says before.
    func testSignalsDuringTheComputationLeaveNothing() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.job(
            settings: #"{"tmax": 1000, "dt_update": 0.01, "dt_collect": 1, "num_trajs": 1000000, "batch_size": 100}"#
        )
        .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            // Signalled once its log (-v) says the first batch is running.
            let run = try WatchedProcess(
                QCLabCLI.executable(), ["run", "job.json", "--output", "result.h5", "-v"], in: folder)
            XCTAssertTrue(run.waitFor("Running batch 1 "), "signal \(signal): the run began: \(run.errors)")
            run.signalAndWait(signal)
            // SIGTERM and SIGINT stop the run with one line and status 128 + n; SIGHUP ends it.
            if signal != SIGHUP && run.process.terminationReason == .exit {
                XCTAssertEqual(run.process.terminationStatus, 128 + signal)
            } else {
                XCTAssertEqual(run.process.terminationReason, .uncaughtSignal)
                XCTAssertEqual(run.process.terminationStatus, signal)
            }
            XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"], "signal \(signal): debris")
        }
    }

    /// SIGTERM, SIGINT or SIGHUP while the output is being written ends qclab as the
    /// signal says and leaves no temporary file (nor a partial output) behind.
    func testSignalsDuringTheWriteLeaveNoTemporaryFile() throws {
        let folder = try QCLabCLI.temporaryFolder(self)
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            // Signalled with the output written under its temporary name, not yet renamed
            // (the run pauses there: QCLAB_TEST_PAUSE_AT).
            let run = try WatchedProcess(
                QCLabCLI.executable(), ["run", "job.json", "--output", "out/result.h5"], in: folder,
                environment: ["QCLAB_TEST_PAUSE_AT": "write-result.h5"])
            XCTAssertTrue(run.waitFor("qclab: paused at write-result.h5\n"), "signal \(signal): \(run.errors)")
            XCTAssertEqual(
                QCLabCLI.contents(of: out).filter { $0.hasPrefix(".result.h5.tmp-") }.count, 1,
                "signal \(signal): the temporary file is there: \(QCLabCLI.contents(of: out))")
            run.signalAndWait(signal)
            XCTAssertEqual(run.process.terminationReason, .uncaughtSignal, "signal \(signal)")
            XCTAssertEqual(run.process.terminationStatus, signal, "ended by the signal sent")
            XCTAssertEqual(QCLabCLI.contents(of: out), [], "signal \(signal): debris or a partial output")
        }
    }
}

/// Builds HDF5 files that lie about their size, for the declared-size checks.
enum HDF5Forge {
    /// A file in our layout (`seed`, `norm_factor`, `t`) in which dataset `name` declares
    /// `elements` float64 values that are never stored (HDF5 allocates on first write).
    static func declaringHugeDataset(at path: String, name: String, elements: UInt64, compressed: Bool) throws {
        struct Failed: Error {}
        _ = H5Eset_auto2(qclab_h5e_default(), nil, nil)
        let file = H5Fcreate(path, qclab_h5f_acc_trunc(), qclab_h5p_default(), qclab_h5p_default())
        guard file >= 0 else { throw Failed() }
        defer { H5Fclose(file) }
        func dataset(_ dname: String, _ dims: [hsize_t], type: hid_t, values: [Double]?) throws {
            let space = dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
            defer { H5Sclose(space) }
            let properties = H5Pcreate(H5P_CLS_DATASET_CREATE_ID_g)
            defer { H5Pclose(properties) }
            if compressed && values == nil {
                var chunk: [hsize_t] = [1000]
                H5Pset_chunk(properties, 1, &chunk)
                H5Pset_deflate(properties, 6)
            }
            let id = H5Dcreate2(file, dname, type, space, qclab_h5p_default(), properties, qclab_h5p_default())
            guard id >= 0 else { throw Failed() }
            defer { H5Dclose(id) }
            if let values {
                let status = values.withUnsafeBytes {
                    H5Dwrite(
                        id, qclab_h5t_native_double(), qclab_h5s_all(), qclab_h5s_all(), qclab_h5p_default(),
                        $0.baseAddress)
                }
                guard status >= 0 else { throw Failed() }
            }
        }
        try dataset(
            "seed", [name == "seed" ? elements : 2], type: qclab_h5t_std_i64le(),
            values: name == "seed" ? nil : [0, 1])
        try dataset("norm_factor", [], type: qclab_h5t_std_i64le(), values: [2])
        try dataset(
            "t", [name == "t" ? elements : 3], type: qclab_h5t_ieee_f64le(), values: name == "t" ? nil : [0, 0.1, 0.2])
    }
}
