import Foundation
import XCTest
@testable import QCLab

/// Mergeable outputs: the job file's `"output_file": {"mergeable": ...}` beside `--mergeable`,
/// end to end through the executable, and the compact storage of the exact sums
/// (``ExactSumsEncoding``), which must read back as the same bits as the plain storage of
/// earlier versions.
final class MergeableOutputTests: XCTestCase {
    func folder() throws -> URL { try QCLabCLI.temporaryFolder(self, "qclab-mergeable") }

    func write(_ json: String, _ name: String, in folder: URL) throws {
        try json.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func hasExactSums(_ path: String) throws -> Bool {
        try SimulationData.datasetNames(inFileAt: path).contains("dm_db_exact")
    }

    // MARK: The job file's setting

    /// A job asking for mergeable output writes the exact sums without `--mergeable`; the
    /// setting is recorded (`qclab info` shows it) but never compared, so its parts merge
    /// with parts of the same job written with `--mergeable` into the bits of one run.
    func testTheJobsOutputFileSettingWritesPartsThatMergeIntoOneRun() throws {
        let folder = try folder()
        let asked = #", "output_file": {"mergeable": true}"#
        try write(BadJob.job(extra: #", "seeds": [0, 1, 2, 3]"# + asked), "all.json", in: folder)
        try write(BadJob.job(extra: #", "seeds": [0, 1]"# + asked), "a.json", in: folder)
        try write(BadJob.job(extra: #", "seeds": [2, 3]"#), "b.json", in: folder)
        for (name, extra) in [("all", [String]()), ("a", []), ("b", ["--mergeable"])] {
            let outcome = try QCLabCLI.run(["run", "\(name).json", "--output", "\(name).h5"] + extra, in: folder)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
        }
        let path = { folder.appendingPathComponent($0).path }
        for name in ["all.h5", "a.h5", "b.h5"] { XCTAssertTrue(try hasExactSums(path(name)), name) }

        let info = try QCLabCLI.run(["info", "a.h5"], in: folder)
        XCTAssertEqual(info.status, 0, info.errors)
        XCTAssertTrue(info.output.contains("\noutput_file:  mergeable = true\n"), info.output)
        let plain = try QCLabCLI.run(["info", "b.h5"], in: folder)
        XCTAssertFalse(plain.output.contains("output_file"), plain.output)

        let merge = try QCLabCLI.run(["merge", "a.h5", "b.h5", "--output", "merged.h5", "--mergeable"], in: folder)
        XCTAssertEqual(merge.status, 0, merge.errors)
        XCTAssertEqual(merge.errors, "", "an exact merge says nothing")
        let merged = try SimulationData(contentsOf: path("merged.h5"))
        let whole = try SimulationData(contentsOf: path("all.h5"))
        XCTAssertEqual(merged.observables, whole.observables)
        XCTAssertTrue(merged.isExact)
        XCTAssertNil(merged.notExact)

        // --append of the recorded job continues it exactly too (the setting is not compared).
        try write(
            BadJob.job(settings: #"{"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 2}"#),
            "more.json", in: folder)
        let append = try QCLabCLI.run(
            ["run", "more.json", "--append", "a.h5", "--output", "appended.h5", "--mergeable"], in: folder)
        XCTAssertEqual(append.status, 0, append.errors)
        XCTAssertEqual(try SimulationData(contentsOf: path("appended.h5")).observables, whole.observables)
    }

    /// `"mergeable": false` (or no setting) writes no exact sums; `--mergeable` keeps them
    /// whatever the job says, and the job's own setting is what the file records.
    func testTheFlagForcesMergeableOutputAndTheJobsSettingIsRecorded() throws {
        let folder = try folder()
        try write(BadJob.job(extra: #", "output_file": {"mergeable": false}"#), "off.json", in: folder)
        try write(BadJob.job(extra: #", "output_file": {}"#), "silent.json", in: folder)
        for (job, output, extra) in [
            ("off.json", "off.h5", [String]()), ("off.json", "forced.h5", ["--mergeable"]),
            ("silent.json", "silent.h5", []),
        ] {
            let outcome = try QCLabCLI.run(["run", job, "--output", output] + extra, in: folder)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
        }
        let path = { folder.appendingPathComponent($0).path }
        XCTAssertFalse(try hasExactSums(path("off.h5")))
        XCTAssertTrue(try hasExactSums(path("forced.h5")))
        XCTAssertFalse(try hasExactSums(path("silent.h5")))
        for name in ["off.h5", "forced.h5"] {
            let info = try QCLabCLI.run(["info", name], in: folder)
            XCTAssertTrue(info.output.contains("\noutput_file:  mergeable = false\n"), info.output)
        }
        let silent = try QCLabCLI.run(["info", "silent.h5"], in: folder)
        XCTAssertFalse(silent.output.contains("output_file"), silent.output)
        // The same values either way.
        XCTAssertEqual(
            try SimulationData(contentsOf: path("off.h5")).mean("dm_db"),
            try SimulationData(contentsOf: path("forced.h5")).mean("dm_db"))
    }

    // MARK: How the exact sums are stored

    /// Surface hopping on a 4-site Holstein ring: a complex 4 x 4 density matrix.
    func holstein(_ seeds: Range<Int>) throws -> SimulationData {
        let simulation = Simulation(
            settings: SimulationSettings(tmax: 0.3, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 8, batchSize: 2),
            model: HolsteinLattice(N: 4), algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: [Complex(1), Complex(0), Complex(0), Complex(0)])
        return try serialDriver(simulation, seeds: Array(seeds))
    }

    /// The encoding qclab wrote before `mean_residual` (`hermitian_residual,zigzag`).
    let previousEncoding = ExactSumsEncoding(steps: [.hermitianResidual, .zigzag])

    /// Files written with the compact storage and files in the storages of earlier versions
    /// (plain, and without `mean_residual`) read as the same exact sums, and merge with each
    /// other into the bits of one run.
    func testCompactAndEarlierExactSumsReadAlikeAndMergeIntoOneRun() throws {
        let folder = try folder()
        let path = { folder.appendingPathComponent($0).path }
        let whole = try holstein(0..<8), first = try holstein(0..<4), second = try holstein(4..<8)
        let encodings: [(suffix: String, encoding: ExactSumsEncoding)] = [
            ("", .current), ("-plain", .plain), ("-previous", previousEncoding),
        ]
        for (suffix, encoding) in encodings {
            try first.save(to: OutputTarget(path: path("a\(suffix).h5")), mergeable: true, exactEncoding: encoding)
            try second.save(to: OutputTarget(path: path("b\(suffix).h5")), mergeable: true, exactEncoding: encoding)
            XCTAssertEqual(try SimulationData(contentsOf: path("a\(suffix).h5")).observables, first.observables)
            XCTAssertEqual(try SimulationData(contentsOf: path("b\(suffix).h5")).observables, second.observables)
        }
        for (a, _) in encodings {
            for (b, _) in encodings {
                let parts = ["a\(a).h5", "b\(b).h5"]
                let merged = try SimulationData.merging(files: parts.map(path))
                XCTAssertEqual(merged.observables, whole.observables, "\(parts)")
                XCTAssertNil(merged.notExact, "\(parts)")
            }
        }
        // The mixed merge written again (compact) reads as one run's sums.
        try SimulationData.merging(files: [path("a-plain.h5"), path("b-previous.h5")])
            .save(to: OutputTarget(path: path("merged.h5")), mergeable: true)
        XCTAssertEqual(try SimulationData(contentsOf: path("merged.h5")).observables, whole.observables)
        // Smaller than the earlier storages of the same sums.
        let size = { (name: String) in try FileManager.default.attributesOfItem(atPath: path(name))[.size] as! Int }
        XCTAssertLessThan(try size("a.h5"), try size("a-previous.h5"))
        XCTAssertLessThan(try size("a-previous.h5"), try size("a-plain.h5"))
    }

    /// What a file stores beside an output's exact sums, as writing it stores them.
    func storedMoments(_ data: SimulationData, _ observable: OutputAccumulator) -> ExactSumsEncoding.StoredMoments {
        let moments = observable.moments(
            normFactor: data.normFactor, samples: data.sampleCount, standardErrors: observable.name != "t")
        return ExactSumsEncoding.StoredMoments(
            means: moments.mean, standardErrors: moments.sem, normFactor: data.normFactor, samples: data.sampleCount)
    }

    /// The density matrix's exact sums are Hermitian to the bit: stored compactly, the upper
    /// triangle is all zero; the top limbs are stored as their (small) differences from what
    /// the stored means and standard errors predict; every transform undoes exactly, for any
    /// int64 values and any stored moments.
    func testTheEncodingIsLosslessAndStoresLittleMoreThanTheLowerLimbs() throws {
        let data = try holstein(0..<4)
        let n = 4, element = OutputAccumulator.exactValuesPerElement, state = element / 2, perElement = 2 * element
        for observable in data.observables {
            let moments = storedMoments(data, observable)
            let stored = ExactSumsEncoding.current.encode(
                observable.exactSums, shape: observable.shape, isComplex: observable.isComplex, moments: moments)
            XCTAssertEqual(
                ExactSumsEncoding.current.decode(
                    stored, shape: observable.shape, isComplex: observable.isComplex, moments: moments),
                observable.exactSums, observable.name)
            // A top limb is stored as the carries of the limb below it (at most one per
            // deposit: two per sample into the sums of squares), zigzag-coded.
            let carries = Int64(4 * data.normFactor + 4)
            for start in stride(from: 0, to: stored.count, by: state) {
                XCTAssertLessThanOrEqual(stored[start + 1], carries, "\(observable.name) at \(start)")
            }
            // The top two limbs take less than half the bits they would take as they are.
            func bits(_ values: [Int64]) -> Int {
                stride(from: 0, to: values.count, by: state).map { start in
                    (1...2).map { 64 - values[start + $0].magnitude.leadingZeroBitCount }.reduce(0, +)
                }.reduce(0, +)
            }
            let plain = ExactSumsEncoding(steps: [.zigzag]).encode(
                observable.exactSums, shape: observable.shape, isComplex: observable.isComplex, moments: moments)
            XCTAssertLessThan(2 * bits(stored), bits(plain), observable.name)
        }
        let dm = try XCTUnwrap(data.observable("dm_db"))
        let stored = ExactSumsEncoding.current.encode(
            dm.exactSums, shape: dm.shape, isComplex: true, moments: storedMoments(data, dm))
        for point in 0..<dm.shape[0] {
            for i in 0..<n {
                for j in 0..<n {
                    let start = ((point * n + i) * n + j) * perElement
                    let element = stored[start..<(start + perElement)]
                    if i < j {
                        XCTAssertTrue(element.allSatisfy { $0 == 0 }, "(\(point), \(i), \(j))")
                    } else {
                        XCTAssertTrue(element.contains { $0 != 0 }, "(\(point), \(i), \(j)) holds sums")
                    }
                }
            }
        }
        // Arbitrary values, extremes included, through every encoding and shape, with stored
        // moments of every kind (those of other sums, non-finite, extreme, absent).
        let extremes: [Int64] = [.min, .max, 0, -1, 1, .min + 1]
        let oddMoments: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, 1e-300, -3.5]
        for (shape, isComplex) in [([3, 4, 4], true), ([3, 2, 3], true), ([5], false), ([2, 3, 3], false)] {
            let reals = shape.reduce(1, *) * (isComplex ? 2 : 1)
            let count = reals * element
            // The rest spread over all 64 bits (Weyl sequence); windows of every kind.
            let values = (0..<count).map { index -> Int64 in
                if index < extremes.count { return extremes[index] }
                if index % state == 0 { return [Int64.min, .max, -1, 0, 30, 33, 66, 67][index / state % 8] }
                return Int64(bitPattern: UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            }
            let means = (0..<reals).map { oddMoments[$0 % oddMoments.count] * Double($0 % 3 + 1) }
            for (sem, normFactor, samples) in [(nil, 4, 4), (Array(means.reversed()), 6, 3), (means, 0, 0)] {
                let moments = ExactSumsEncoding.StoredMoments(
                    means: means, standardErrors: sem, normFactor: normFactor, samples: samples)
                for encoding in [
                    ExactSumsEncoding.current, .plain, previousEncoding, ExactSumsEncoding(steps: [.zigzag]),
                    ExactSumsEncoding(steps: [.meanResidual]),
                ] {
                    let encoded = encoding.encode(values, shape: shape, isComplex: isComplex, moments: moments)
                    XCTAssertEqual(
                        encoding.decode(encoded, shape: shape, isComplex: isComplex, moments: moments), values,
                        "\(shape) \(encoding.attribute)")
                }
            }
        }
        XCTAssertEqual(ExactSumsEncoding(attribute: "mean_residual,hermitian_residual,zigzag"), .current)
        XCTAssertEqual(ExactSumsEncoding(attribute: "hermitian_residual,zigzag"), previousEncoding)
        XCTAssertEqual(ExactSumsEncoding(attribute: ExactSumsEncoding.current.attribute), .current)
        XCTAssertNil(ExactSumsEncoding(attribute: "zigzag,delta"))
    }

    /// A standard error of 4 KB or more is stored deflated (chunks of whole time points, not
    /// shuffled), smaller ones in one piece, and h5py reads them all as the bits written;
    /// no dataset records a modification time; the exact sums carry their digests.
    func testLargeStandardErrorsAreDeflatedAndReadByH5pyAsWritten() throws {
        let python = try TestEnvironment.requirePython()
        let folder = try folder()
        let simulation = Simulation(
            settings: SimulationSettings(tmax: 2, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 4, batchSize: 2),
            model: HolsteinLattice(N: 4), algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: [Complex(1), Complex(0), Complex(0), Complex(0)])
        let data = try serialDriver(simulation, seeds: Array(0..<4))
        try data.save(to: OutputTarget(path: folder.appendingPathComponent("out.h5").path), mergeable: true)
        let expected = try XCTUnwrap(data.standardError("dm_db")).map(\.bitPattern)
        try expected.map(String.init).joined(separator: " ")
            .write(to: folder.appendingPathComponent("sem.txt"), atomically: true, encoding: .utf8)
        let script = """
            import h5py, numpy as np
            with h5py.File("out.h5", "r") as f:
                sem = f["dm_db_sem"]
                bits = np.stack([sem[()].real, sem[()].imag], -1).reshape(-1).view(np.uint64)
                print(sem.compression, sem.shuffle, sem.chunks, sem.nbytes >= 4096)
                print(f["quantum_energy_sem"].compression, f["quantum_energy_sem"].chunks)
                print(" ".join(map(str, bits)) == open("sem.txt").read())
                print(sorted(f["dm_db_exact"].attrs.keys()))
                print(any(f[name].id.get_create_plist().get_obj_track_times() for name in f))
            """
        let outcome = try QCLabCLI.run(["-c", script], in: folder, program: python)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(
            outcome.output.split(separator: "\n"),
            ["gzip False (21, 4, 4) True", "None None", "True", "['sums_crc32c']", "False"])
    }
}
