import Foundation
import XCTest
@testable import QCLab

/// Damaged outputs, files of other jobs and models that record nothing are never merged,
/// appended to or shown as if they were sound: `info`, `merge`, `plot` and `--append`
/// through the executable.
final class IntegrityTests: XCTestCase {
    /// A small FSSH run with error bars, as a `qclab run` of a job file writes it.
    func output(in folder: URL, name: String = "out.h5", seeds: [Int] = Array(0..<6), mergeable: Bool = true) throws
        -> (path: String, data: SimulationData)
    {
        let simulation = Simulation(
            settings: SimulationSettings(
                tmax: 0.5, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: seeds.count, batchSize: 3),
            model: SpinBoson(A: 4), algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: [Complex(1), Complex(0)])
        let data = try serialDriver(simulation, seeds: seeds)
        let path = folder.appendingPathComponent(name).path
        try data.save(to: path, mergeable: mergeable)
        return (path, data)
    }

    /// A deterministic stream of numbers (SplitMix64), so that the flips are the same every run.
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Everything a merge carries over from a file, log aside (it names the file).
    func assertSameContents(
        _ a: SimulationData, _ b: SimulationData, _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(a.seeds, b.seeds, message, file: file, line: line)
        XCTAssertEqual(a.normFactor, b.normFactor, message, file: file, line: line)
        XCTAssertEqual(a.sampleCount, b.sampleCount, message, file: file, line: line)
        XCTAssertEqual(a.observables, b.observables, message, file: file, line: line)
        XCTAssertEqual(a.job, b.job, message, file: file, line: line)
        XCTAssertEqual(a.errorBarsUnavailable, b.errorBarsUnavailable, message, file: file, line: line)
    }

    /// 200 single-bit flips anywhere in a (default) output: `merge` either refuses the file
    /// in one line or writes exactly what the undamaged file merges into (a flip in unused
    /// bytes).
    func testRandomSingleBitFlipsAreRefusedOrChangeNothing() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-integrity")
        let (path, _) = try output(in: folder, mergeable: false)
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let reference = try QCLabCLI.run(["merge", "out.h5", "--output", "reference.h5"], in: folder)
        XCTAssertEqual(reference.status, 0, reference.errors)
        let expected = try SimulationData(contentsOf: folder.appendingPathComponent("reference.h5").path)

        let damaged = folder.appendingPathComponent("damaged")
        try FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        var random = SplitMix64(state: 20_251_206)
        var refused = 0, unchanged = 0
        for _ in 0..<200 {
            let bit = Int(random.next() % UInt64(original.count * 8))
            var bytes = original
            bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            try Data(bytes).write(to: damaged.appendingPathComponent("out.h5"))
            try? FileManager.default.removeItem(at: damaged.appendingPathComponent("merged.h5"))
            let merge = try QCLabCLI.run(["merge", "out.h5", "--output", "merged.h5"], in: damaged)
            if merge.status == 0 {
                unchanged += 1
                let merged = try SimulationData(contentsOf: damaged.appendingPathComponent("merged.h5").path)
                assertSameContents(merged, expected, "bit \(bit) (byte \(bit / 8)) was flipped and merge exited 0")
                XCTAssertEqual(merged.log, expected.log, "bit \(bit)")
            } else {
                refused += 1
                XCTAssertEqual(merge.errorLines.count, 1, "bit \(bit): \(merge.errors)")
                XCTAssertTrue(
                    merge.errors.hasPrefix("qclab: error: HDF5 file 'out.h5': "), "bit \(bit): \(merge.errors)")
                XCTAssertEqual(QCLabCLI.contents(of: damaged), ["out.h5"], "bit \(bit): nothing left behind")
            }
        }
        // Most of the file is data and metadata under a checksum: most flips are refused (the
        // rest fall in free space, such as the global heap that holds the strings, which a
        // default file without exact sums has in a larger proportion).
        XCTAssertGreaterThan(refused, 100, "refused \(refused), unchanged \(unchanged)")
    }

    /// The little-endian bytes of `values`, to find a dataset's data in a file.
    func bytes(of values: [Int64]) -> [UInt8] {
        values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }
    func bytes(of values: [Double]) -> [UInt8] { bytes(of: values.map { Int64(bitPattern: $0.bitPattern) }) }

    /// Where `needle` starts in `haystack` (once only).
    func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        let found = (0...(haystack.count - needle.count)).filter {
            haystack[$0] == needle[0] && Array(haystack[$0..<$0 + needle.count]) == needle
        }
        return found.count == 1 ? found[0] : nil
    }

    /// A population changed in the last bit of its mean (a default file: means and
    /// standard errors, stored as they are) went unnoticed before checksums; now `info`,
    /// `merge`, `plot` and `--append` refuse the file, naming the dataset. (Exact sums
    /// changed in a mergeable file: ``testMissingOrReplacedExactSumsAreReportedAsDamage``.)
    func testChangedMeanIsRefusedNamingTheDataset() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-integrity")
        let (path, data) = try output(in: folder, mergeable: false)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let means = try XCTUnwrap(data.mean("dm_db"))
        let start = try XCTUnwrap(offset(of: self.bytes(of: means), in: bytes), "dm_db stored as is, once")
        // The last bit of the first population.
        bytes[start] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let reason = "qclab: error: HDF5 file 'out.h5': damaged: dataset 'dm_db' does not match its checksum\n"
        for arguments in [
            ["info", "out.h5"], ["merge", "out.h5", "--output", "merged.h5"],
            ["plot", "out.h5", "--output", "pop.svg"],
            ["run", "job.json", "--output", "more.h5", "--append", "out.h5"],
        ] {
            let outcome = try QCLabCLI.run(arguments, in: folder)
            XCTAssertNotEqual(outcome.status, 0, "\(arguments)")
            XCTAssertEqual(outcome.errors, reason, "\(arguments)")
        }
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json", "out.h5"], "nothing written")
    }

    /// The interpreter of the test environment (qclab 1.3.0, h5py), or a skip.
    func python() throws -> String {
        guard let python = ProcessInfo.processInfo.environment["QCLAB_TEST_PYTHON"], !python.isEmpty else {
            throw XCTSkip("QCLAB_TEST_PYTHON is not set (a Python with qclab 1.3.0 and h5py)")
        }
        return python
    }

    func runPython(_ script: String, in folder: URL) throws {
        let outcome = try QCLabCLI.run(["-c", script], in: folder, program: URL(fileURLWithPath: try python()))
        XCTAssertEqual(outcome.status, 0, outcome.errors)
    }

    /// A file whose exact sums were removed or replaced with h5py (means left alone) is
    /// damaged, not "combined by averaging": its checksums list what it held.
    func testMissingOrReplacedExactSumsAreReportedAsDamage() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-integrity")
        _ = try output(in: folder, name: "dropped.h5")
        _ = try output(in: folder, name: "replaced.h5")
        try runPython(
            """
            import h5py
            with h5py.File("dropped.h5", "r+") as f:
                del f["dm_db_exact"]
            with h5py.File("replaced.h5", "r+") as f:
                values = f["dm_db_exact"][()]
                values[0, 0, 0, 0, 2] += 12345
                del f["dm_db_exact"]
                f["dm_db_exact"] = values
            """, in: folder)
        for (name, reason) in [
            ("dropped.h5", "dataset 'dm_db_exact' is missing"),
            ("replaced.h5", "dataset 'dm_db_exact' does not match its checksum"),
        ] {
            for arguments in [["info", name], ["merge", name, "--output", "merged.h5"]] {
                let outcome = try QCLabCLI.run(arguments, in: folder)
                XCTAssertNotEqual(outcome.status, 0, "\(arguments)")
                XCTAssertEqual(
                    outcome.errors, "qclab: error: HDF5 file '\(name)': damaged: \(reason)\n", "\(arguments)")
            }
        }
    }

    /// A file with checksums is also checked for consistency.
    ///
    /// A mean or a standard error that does not follow from the exact sums (edited, its
    /// checksum made to match, as a careless tool might) is damage, and so is a norm_factor
    /// that does not fit the seeds. The exact sums are stored as their differences from what the means and standard
    /// errors predict (`mean_residual`), so an edited mean reads as other sums: the digests
    /// of the sums written (`sums_crc32c`) tell.
    func testInconsistentFileIsRefusedEvenWithMatchingChecksums() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-integrity")
        let (_, data) = try output(in: folder)
        _ = try output(in: folder, name: "sem.h5")
        var miscounted = data
        miscounted.normFactor += 1
        try miscounted.save(to: folder.appendingPathComponent("miscounted.h5").path)
        let outcome = try QCLabCLI.run(["info", "miscounted.h5"], in: folder)
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertEqual(
            outcome.errors,
            "qclab: error: HDF5 file 'miscounted.h5': damaged: dataset 'norm_factor' counts 7 trajectories but 'seed' holds 6\n"
        )

        try runPython(
            """
            import struct, h5py
            def crc32c(data):
                crc = 0xFFFFFFFF
                for byte in data:
                    crc ^= byte
                    for _ in range(8):
                        crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
                return crc ^ 0xFFFFFFFF
            for path, name in [("out.h5", "quantum_energy"), ("sem.h5", "quantum_energy_sem")]:
                with h5py.File(path, "r+") as f:
                    values = f[name][()]
                    values[1] += 1.0
                    f[name][...] = values
                    digest = crc32c(b"f" + struct.pack("<QQ", 1, len(values)) + values.astype("<f8").tobytes())
                    lines = [f"{digest:08x} {name}" if line.endswith(" " + name) else line
                             for line in f.attrs["checksums"].split("\\n")]
                    f.attrs["checksums"] = "\\n".join(lines)
            """, in: folder)
        for (file, reason) in [
            ("out.h5", "dataset 'quantum_energy' does not match its exact sums ('quantum_energy_exact')"),
            ("sem.h5", "dataset 'quantum_energy_sem' does not match the exact sums ('quantum_energy_exact')"),
        ] {
            let edited = try QCLabCLI.run(["merge", file, "--output", "merged.h5"], in: folder)
            XCTAssertNotEqual(edited.status, 0)
            XCTAssertEqual(edited.errors, "qclab: error: HDF5 file '\(file)': damaged: \(reason)\n")
        }
    }

    // MARK: A file of QC Lab, of another job

    /// QC Lab's `Data.save` of MeanField, kBT = 5, E = -0.5, wf_db [0, 1] (no job
    /// recorded) with an FSSH kBT = 1 output: merged on what can be checked with one line
    /// saying the job could not be compared, keeping the known job; `--strict` refuses.
    func testQCLabFileOfAnotherJobIsNotedKeepsTheJobAndIsRefusedUnderStrict() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-integrity")
        try FileManager.default.copyItem(
            at: Fixtures.url("qclab_other_job_mf_kbt5.h5"), to: folder.appendingPathComponent("qclab.h5"))
        let job = #"""
            {"settings": {"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 2},
             "model": {"name": "SpinBoson", "constants": {"kBT": 1.0}},
             "algorithm": {"name": "FewestSwitchesSurfaceHopping"}, "initial_state": {"wf_db": [1.0, 0.0]}}
            """#
        try job.write(to: folder.appendingPathComponent("fssh.json"), atomically: true, encoding: .utf8)
        let run = try QCLabCLI.run(["run", "fssh.json", "--output", "fssh.h5", "--mergeable"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        let fssh = try SimulationData(contentsOf: folder.appendingPathComponent("fssh.h5").path)
        let recorded = try XCTUnwrap(fssh.job)

        let unchecked = "qclab: note: 'qclab.h5' carries no checksums (a file written by QC Lab, say): read unchecked"
        let merge = try QCLabCLI.run(["merge", "fssh.h5", "qclab.h5", "--output", "merged.h5"], in: folder)
        XCTAssertEqual(merge.status, 0, merge.errors)
        // (QC Lab's file holds seeds 1000...1003: the gap between the two is named too.)
        XCTAssertEqual(
            merge.errorLines,
            [
                "qclab: warning: merged seeds have gaps: 4...999 missing (996 seeds between 0 and 1003)",
                Substring(unchecked),
                "qclab: note: 'qclab.h5' records no job (a file written by QC Lab, say): its job could not be compared, only its outputs, shapes and time grid; the result records the job of 'fssh.h5'",
            ])
        let merged = try SimulationData(contentsOf: folder.appendingPathComponent("merged.h5").path)
        XCTAssertEqual(merged.job, recorded, "the known job is kept")
        XCTAssertEqual(merged.normFactor, 8)

        let append = try QCLabCLI.run(
            ["run", "fssh.json", "--output", "appended.h5", "--append", "qclab.h5"], in: folder)
        XCTAssertEqual(append.status, 0, append.errors)
        XCTAssertEqual(
            append.errorLines,
            [
                Substring(unchecked),
                "qclab: note: 'qclab.h5' records no job (a file written by QC Lab, say): its job could not be compared, only its outputs, shapes and time grid; the result records this job",
            ])
        XCTAssertEqual(try SimulationData(contentsOf: folder.appendingPathComponent("appended.h5").path).job, recorded)

        let strictMerge = try QCLabCLI.run(
            ["merge", "fssh.h5", "qclab.h5", "--output", "strict.h5", "--strict"], in: folder)
        XCTAssertNotEqual(strictMerge.status, 0)
        XCTAssertEqual(
            strictMerge.errors,
            "qclab: error: cannot merge data: 'qclab.h5' records no job (a file written by QC Lab, say), so its job cannot be compared ('fssh.h5' records one); refused under --strict\n"
        )
        let strictAppend = try QCLabCLI.run(
            ["run", "fssh.json", "--output", "strict.h5", "--append", "qclab.h5", "--strict"], in: folder)
        XCTAssertNotEqual(strictAppend.status, 0)
        XCTAssertEqual(
            strictAppend.errors,
            "qclab: error: cannot merge data: 'qclab.h5' records no job (a file written by QC Lab, say), so it cannot be compared with this job; refused under --strict\n"
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("strict.h5").path))

        // What can be checked still is: a time grid of another tmax is refused.
        try job.replacingOccurrences(of: #""tmax": 1.0"#, with: #""tmax": 2.0"#)
            .write(to: folder.appendingPathComponent("longer.json"), atomically: true, encoding: .utf8)
        let longer = try QCLabCLI.run(
            ["run", "longer.json", "--output", "longer.h5", "--append", "qclab.h5"], in: folder)
        XCTAssertNotEqual(longer.status, 0)
        XCTAssertEqual(
            longer.errors,
            "qclab: error: cannot merge data: time grids differ: the data continued has 11 points, dt_collect 0.1, tmax 1, this job 21 points, dt_collect 0.1, tmax 2\n"
        )

        let info = try QCLabCLI.run(["info", "qclab.h5"], in: folder)
        XCTAssertEqual(info.status, 0, info.errors)
        XCTAssertTrue(info.output.contains("checksums:    none (read unchecked)"), info.output)
        let ours = try QCLabCLI.run(["info", "fssh.h5"], in: folder)
        XCTAssertTrue(ours.output.contains("checksums:    verified"), ours.output)
    }

    // MARK: Models written in Swift

    /// A model whose constant lives only in a stored array: recorded through
    /// `JobRecordable`, so runs with another value are refused, naming the property.
    func testSwiftModelPropertiesAreRecordedAndADifferenceIsRefused() throws {
        let record = try StrictJSON.parse(Array(simulation(BiasedPair(eps: 0.5)).jobRecord.utf8))
        guard case let .object(top) = record, case let .object(model)? = top["model"],
            case let .object(properties)? = model["swift_properties"]
        else { return XCTFail("\(record)") }
        XCTAssertEqual(
            properties["onsite"], .array([.array([.number(0.5), .number(0)]), .array([.number(-0.5), .number(0)])]))
        XCTAssertEqual(properties["label"], .string("biased pair"))
        XCTAssertNotNil(properties["bath"])

        let folder = try QCLabCLI.temporaryFolder(self, "qclab-integrity")
        try serialDriver(simulation(BiasedPair(eps: 0.5)), seeds: [0, 1]).save(
            to: folder.appendingPathComponent("a.h5").path, mergeable: true)
        try serialDriver(simulation(BiasedPair(eps: 2.0)), seeds: [2, 3]).save(
            to: folder.appendingPathComponent("b.h5").path, mergeable: true)
        try serialDriver(simulation(BiasedPair(eps: 0.5)), seeds: [2, 3]).save(
            to: folder.appendingPathComponent("c.h5").path, mergeable: true)
        let refused = try QCLabCLI.run(["merge", "a.h5", "b.h5", "--output", "ab.h5"], in: folder)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(
            refused.errors,
            "qclab: error: cannot merge data: different jobs: model.swift_properties.onsite is "
                + "[[0.5, 0], [-0.5, 0]] in 'a.h5' but [[2, 0], [-2, 0]] in 'b.h5'\n")
        let same = try QCLabCLI.run(["merge", "a.h5", "c.h5", "--output", "ac.h5"], in: folder)
        XCTAssertEqual(same.status, 0, same.errors)
        XCTAssertEqual(same.errors, "")
    }

    /// A model that records nothing (it does not adopt `JobRecordable`) cannot be
    /// compared: `merge` and continuing refuse it unless told to trust the job.
    func testModelThatRecordsNothingIsRefusedUnlessTrusted() throws {
        let record = try StrictJSON.parse(Array(simulation(UnrecordedPair(eps: 0.5)).jobRecord.utf8))
        guard case let .object(top) = record, case let .object(model)? = top["model"] else {
            return XCTFail("\(record)")
        }
        XCTAssertEqual(model["swift_properties"], .null)

        let folder = try QCLabCLI.temporaryFolder(self, "qclab-integrity")
        let a = try serialDriver(simulation(UnrecordedPair(eps: 0.5)), seeds: [0, 1])
        try a.save(to: folder.appendingPathComponent("a.h5").path, mergeable: true)
        try serialDriver(simulation(UnrecordedPair(eps: 2.0)), seeds: [2, 3]).save(
            to: folder.appendingPathComponent("b.h5").path, mergeable: true)
        let refused = try QCLabCLI.run(["merge", "a.h5", "b.h5", "--output", "ab.h5"], in: folder)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(
            refused.errors,
            "qclab: error: cannot merge data: the jobs cannot be compared: model 'UnrecordedPair' records "
                + "none of its properties (adopt JobRecordable); --trust-job merges anyway\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("ab.h5").path))
        let trusted = try QCLabCLI.run(["merge", "a.h5", "b.h5", "--output", "ab.h5", "--trust-job"], in: folder)
        XCTAssertEqual(trusted.status, 0, trusted.errors)
        XCTAssertEqual(
            trusted.errors,
            "qclab: note: model 'UnrecordedPair' records none of its properties: jobs not compared (--trust-job)\n")

        // Continuing (`--append`), through the check the command makes before running.
        let more = simulation(UnrecordedPair(eps: 2.0))
        XCTAssertThrowsError(try SimulationData.checkContinuing(a, source: "a.h5", with: more)) { error in
            XCTAssertEqual(
                "\(error)",
                "cannot merge data: the jobs cannot be compared: model 'UnrecordedPair' records none of its "
                    + "properties (adopt JobRecordable); --trust-job continues anyway")
        }
        var notes: [String] = []
        XCTAssertNoThrow(
            try SimulationData.checkContinuing(
                a, source: "a.h5", with: more, comparison: JobComparison(trustJob: true),
                note: { notes.append($0) }))
        XCTAssertEqual(
            notes, ["model 'UnrecordedPair' records none of its properties: jobs not compared (--trust-job)"])
        // The library's merge refuses it alike.
        XCTAssertThrowsError(try SimulationData.merging([("a", a), ("b", try serialDriver(more, seeds: [2, 3]))]))
    }

    func simulation(_ model: any Model) -> Simulation {
        Simulation(
            settings: SimulationSettings(tmax: 0.3, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 2, batchSize: 2),
            model: model, algorithm: MeanField(), initialWavefunction: [Complex(1), Complex(0)])
    }
}

/// Two sites whose energies ±eps live only in a stored array (no scalar property holds eps).
private struct BiasedPair: DiagonalLinearHarmonicModel, JobRecordable {
    var modelName: String { "BiasedPair" }
    var numQuantumStates: Int { 2 }
    let label = "biased pair"
    let onsite: [Complex<Double>]
    let bath = HarmonicBath(frequency: [0.1], mass: [1], weight: [0.1], kBT: 1)
    let coupling = DiagonalLinearCoupling(gamma: [[0.01], [-0.01]])
    var constantHamiltonian: [Complex<Double>] { [onsite[0], Complex(0.1), Complex(0.1), onsite[1]] }

    init(eps: Double) { onsite = [Complex(eps), Complex(-eps)] }
}

/// The same model without `JobRecordable`: nothing of it is recorded.
private struct UnrecordedPair: DiagonalLinearHarmonicModel {
    var modelName: String { "UnrecordedPair" }
    var numQuantumStates: Int { 2 }
    let onsite: [Complex<Double>]
    let bath = HarmonicBath(frequency: [0.1], mass: [1], weight: [0.1], kBT: 1)
    let coupling = DiagonalLinearCoupling(gamma: [[0.01], [-0.01]])
    var constantHamiltonian: [Complex<Double>] { [onsite[0], Complex(0.1), Complex(0.1), onsite[1]] }

    init(eps: Double) { onsite = [Complex(eps), Complex(-eps)] }
}
