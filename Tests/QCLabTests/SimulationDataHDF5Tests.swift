import Foundation
import XCTest
@testable import QCLab

/// HDF5 save and load of `SimulationData` in QC Lab 1.3.0's layout (see job-format.md, "Output file").
final class DataHDF5Tests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("DataHDF5Tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: Round trip

    func testRoundTripKeepsMeansBitForBitAndStandardErrors() throws {
        try checkRoundTrip(of: makeData(trajectories: 7, samples: 7))
    }

    func testRoundTripWithFewerSamplesThanTrajectories() throws {
        // Deterministic surface hopping: 12 branches averaged, from 4 independent samples.
        try checkRoundTrip(of: makeData(trajectories: 12, samples: 4))
    }

    /// A default file holds the means and standard errors alone: read back, they are the
    /// same bits, with error bars, and the data says it is not exact; a mergeable file of
    /// the same data differs only by its exact sums, and is the larger.
    func testDefaultFileKeepsMeansAndStandardErrorsWithoutExactSums() throws {
        let data = makeData(trajectories: 12, samples: 4)
        let compact = folder.appendingPathComponent("compact.h5").path,
            mergeable = folder.appendingPathComponent("mergeable.h5").path
        try data.save(to: compact)
        try data.save(to: mergeable, mergeable: true)
        let names = try SimulationData.datasetNames(inFileAt: compact)
        XCTAssertFalse(names.contains { $0.hasSuffix("_exact") || $0 == "exact_sums" }, "\(names)")
        XCTAssertTrue(names.contains("dm_db_sem") && names.contains("num_samples"), "\(names)")
        XCTAssertEqual(
            Set(try SimulationData.datasetNames(inFileAt: mergeable)).subtracting(names),
            Set(data.observables.map { $0.name + "_exact" } + ["exact_sums"]))
        let size = { (path: String) in try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0 }
        XCTAssertLessThan(try size(compact), try size(mergeable))

        let loaded = try SimulationData(contentsOf: compact)
        XCTAssertFalse(loaded.isExact)
        XCTAssertEqual(loaded.notExact, "written without exact sums")
        XCTAssertTrue(loaded.hasErrorBars)
        XCTAssertEqual(loaded.sampleCount, 4)
        for o in data.observables {
            XCTAssertEqual(loaded.mean(o.name)?.map(\.bitPattern), data.mean(o.name)?.map(\.bitPattern), o.name)
            XCTAssertEqual(
                loaded.standardError(o.name)?.map(\.bitPattern), data.standardError(o.name)?.map(\.bitPattern), o.name)
        }
        XCTAssertTrue(loaded.summary().contains("error bars:   yes"), loaded.summary())
        // Some elements' means alone are those elements of the whole, from sums or as read.
        let picked = [0, 7, 22]
        for source in [data, loaded] {
            XCTAssertEqual(
                source.mean("dm_db", elements: picked)?.map(\.bitPattern),
                picked.map { data.mean("dm_db")![$0].bitPattern })
        }
        XCTAssertNil(data.mean("dm_db", elements: [data.observable("dm_db")!.elementCount]))
        // Data that is not exact is saved without exact sums even when asked for them, and
        // keeps saying why; its binary form (pipes, MPI) carries it unchanged.
        let again = folder.appendingPathComponent("again.h5").path
        try loaded.save(to: again, mergeable: true)
        XCTAssertFalse(try SimulationData.datasetNames(inFileAt: again).contains("exact_sums"))
        XCTAssertEqual(try SimulationData(contentsOf: again).notExact, loaded.notExact)
        XCTAssertEqual(try SimulationData(encodedBytes: loaded.encodedBytes()), loaded)
    }

    /// Parts without exact sums combine in floating point, in the order given: the means
    /// weighted by trajectories, the standard errors from the pooled spread of the
    /// samples, close to the exact combination's; with exact sums, to the bit.
    func testPartsWithoutExactSumsCombineInFloatingPointCloseToExact() throws {
        var exact = makeData(trajectories: 12, samples: 4)
        exact.seeds = Array(0..<12)
        var second = makeData(trajectories: 9, samples: 3, log: "second")
        second.seeds = Array(12..<21)
        let a = folder.appendingPathComponent("a.h5").path, b = folder.appendingPathComponent("b.h5").path
        try exact.save(to: a)
        try second.save(to: b)
        var notes: [String] = []
        // (This data records no job: notes say so too, which are not what is looked at here.)
        let note: (String) -> Void = { if $0.contains("exact sums") { notes.append($0) } }
        let merged = try SimulationData.merging(files: [a, b], note: note)
        XCTAssertEqual(
            notes,
            [
                "'\(a)', '\(b)' were written without exact sums: merged in floating point, not bit-identical to one run; write the parts with --mergeable"
            ])
        XCTAssertTrue(merged.log.contains("Note: \(notes[0])\n"), merged.log)
        var whole = exact
        try whole.add(second)
        XCTAssertTrue(whole.isExact)
        XCTAssertFalse(merged.isExact)
        XCTAssertEqual(merged.sampleCount, 7)
        XCTAssertEqual(merged.normFactor, 21)
        for o in whole.observables {
            let expected = try XCTUnwrap(whole.mean(o.name)), actual = try XCTUnwrap(merged.mean(o.name))
            for (x, y) in zip(actual, expected) { XCTAssertEqual(x, y, accuracy: 1e-14 * max(1, abs(y)), o.name) }
            guard o.name != "t" else { continue }
            let expectedSem = try XCTUnwrap(whole.standardError(o.name)),
                sem = try XCTUnwrap(merged.standardError(o.name))
            XCTAssertGreaterThan(expectedSem.max() ?? 0, 0)
            for (x, y) in zip(sem, expectedSem) {
                XCTAssertEqual(x, y, accuracy: 1e-12 * max(1e-3, abs(y)), "\(o.name) standard error")
            }
        }
        // The order of the parts is the order of the additions: the same order, the same bits.
        XCTAssertEqual(try SimulationData.merging(files: [a, b]), merged)
        // Mergeable parts merge into the bits of one run.
        try exact.save(to: a, mergeable: true)
        try second.save(to: b, mergeable: true)
        notes = []
        let exactMerge = try SimulationData.merging(files: [a, b], note: note)
        XCTAssertEqual(notes, [])
        XCTAssertEqual(exactMerge.observables, whole.observables)
    }

    func testRoundTripOfEmptyData() throws {
        let path = folder.appendingPathComponent("empty.h5").path
        try SimulationData().save(to: path)
        XCTAssertEqual(try SimulationData(contentsOf: path), SimulationData())
    }

    func testSaveReplacesAnExistingFile() throws {
        let path = folder.appendingPathComponent("out.h5").path
        try makeData(trajectories: 3, samples: 3).save(to: path)
        let second = makeData(trajectories: 5, samples: 5, log: "second")
        try second.save(to: path)
        XCTAssertEqual(try SimulationData(contentsOf: path).log, "second")
        XCTAssertEqual(try folderContents(), ["out.h5"])
    }

    // MARK: Failures

    func testSaveIntoMissingFolderThrowsAndCreatesNothing() throws {
        let missing = folder.appendingPathComponent("missing")
        let path = missing.appendingPathComponent("out.h5").path
        XCTAssertThrowsError(try makeData(trajectories: 2, samples: 2).save(to: path)) { error in
            XCTAssertEqual(error as? QCLabError, .invalidPath("output folder '\(missing.path)' does not exist"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
        XCTAssertEqual(try folderContents(), [])
    }

    func testFailedSaveLeavesNoTemporaryFileAndKeepsTheOldOne() throws {
        let path = folder.appendingPathComponent("out.h5").path
        let original = makeData(trajectories: 3, samples: 3)
        try original.save(to: path)
        var broken = original
        broken.observables[1].exactSums.removeLast(8)  // fails while writing, after the temporary file exists
        XCTAssertThrowsError(try broken.save(to: path)) { error in
            guard case let .hdf5(reportedPath, reason)? = error as? QCLabError else { return XCTFail("\(error)") }
            XCTAssertEqual(reportedPath, path)
            XCTAssertTrue(reason.contains("dm_db"), reason)
        }
        XCTAssertEqual(try folderContents(), ["out.h5"])
        XCTAssertEqual(try SimulationData(contentsOf: path), try roundTripped(original, mergeable: false))
    }

    func testSaveRefusesReservedOutputNames() throws {
        var data = makeData(trajectories: 2, samples: 2)
        data.observables.append(OutputAccumulator(name: "seed", shape: [3], isComplex: false))
        XCTAssertThrowsError(try data.save(to: folder.appendingPathComponent("out.h5").path))
        XCTAssertEqual(try folderContents(), [])
    }

    func testLoadingANonHDF5FileThrowsAClearError() throws {
        let path = folder.appendingPathComponent("notes.h5").path
        try "just text\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SimulationData(contentsOf: path)) { error in
            XCTAssertEqual(error as? QCLabError, .hdf5(path: path, reason: "not an HDF5 file"))
        }
    }

    func testLoadingAMissingFileThrows() {
        let path = folder.appendingPathComponent("absent.h5").path
        XCTAssertThrowsError(try SimulationData(contentsOf: path)) { error in
            XCTAssertEqual(error as? QCLabError, .invalidPath("input file '\(path)' does not exist"))
        }
    }

    // MARK: Files written by QC Lab

    /// A file made by qclab 1.3.0's `SimulationData.save` (make_interchange_fixture.py), with an
    /// extra complex output `dm_adb`; the pinned values are those h5py reads.
    func testLoadsTheInterchangeFileWrittenByQCLab() throws {
        let data = try SimulationData(contentsOf: try fixture("interchange_qclab_written.h5"))
        XCTAssertEqual(data.seeds, [0, 1, 2, 3])
        XCTAssertEqual(data.normFactor, 4)
        XCTAssertEqual(data.sampleCount, 4)
        XCTAssertEqual(data.observables.map(\.name), ["t", "dm_db", "quantum_energy", "classical_energy", "dm_adb"])
        XCTAssertEqual(data.observable("dm_db")?.shape, [11, 2, 2])
        XCTAssertEqual(data.observable("dm_adb")?.isComplex, true)
        XCTAssertEqual(data.observable("quantum_energy")?.isComplex, false)
        XCTAssertEqual(data.times[10], 0x1.0000000000000p+0)
        let offDiagonal = 2 * (5 * 4 + 1)  // [5, 0, 1], interleaved re, im
        XCTAssertEqual(data.mean("dm_db")?[offDiagonal], -0x1.b528f4acb2d78p-6)
        XCTAssertEqual(data.mean("dm_db")?[offDiagonal + 1], 0x1.d0ff736f80d16p-3)
        XCTAssertEqual(data.mean("dm_adb")?[offDiagonal], -0x1.024eff9951ea8p-2)
        XCTAssertEqual(data.mean("dm_adb")?[offDiagonal + 1], -0x1.d0ff736f80d17p-3)
        XCTAssertEqual(data.mean("quantum_energy")?[7], 0x1.a85bb60c173b5p-2)
        XCTAssertEqual(data.mean("classical_energy")?[3], 0x1.8aea84eb9cec4p+2)
        XCTAssertEqual(data.log.count, 2003)
        XCTAssertTrue(data.log.hasPrefix("INFO:qclab.dynamics.serial_driver:Running 2 batches"))
        // QC Lab's files hold no error bars: none are reported, and the data says why.
        XCTAssertNil(data.standardError("dm_db"))
        XCTAssertTrue(data.errorBarsUnavailable?.contains("QC Lab") ?? false)
    }

    /// Every golden file written by qclab loads, with QC Lab's outputs first, and its means
    /// survive a save and reload bit for bit.
    func testLoadsEveryFixtureWrittenByQCLab() throws {
        let fixtures = try FileManager.default.contentsOfDirectory(
            at: try fixtureFolder(), includingPropertiesForKeys: nil
        )
        .filter { $0.pathExtension == "h5" }
        XCTAssertFalse(fixtures.isEmpty)
        for url in fixtures {
            let data = try SimulationData(contentsOf: url.path)
            let name = url.lastPathComponent
            // MSMASH collects t and dm_db only, as QC Lab does.
            let outputs =
                name.contains("msmash") ? ["t", "dm_db"] : ["t", "dm_db", "quantum_energy", "classical_energy"]
            XCTAssertEqual(Array(data.observables.map(\.name).prefix(outputs.count)), outputs, name)
            XCTAssertGreaterThan(data.normFactor, 0, name)
            XCTAssertEqual(data.sampleCount, data.normFactor, name)
            XCTAssertFalse(data.seeds.isEmpty, name)
            XCTAssertFalse(data.log.isEmpty, name)
            XCTAssertEqual(data.times.first, 0, name)
            for observable in data.observables {
                XCTAssertEqual(observable.shape.first, data.times.count, "\(name): \(observable.name)")
            }
            let reloaded = try roundTripped(data)
            XCTAssertEqual(reloaded.seeds, data.seeds, name)
            for observable in data.observables {
                XCTAssertEqual(
                    reloaded.mean(observable.name), data.mean(observable.name), "\(name): \(observable.name)")
            }
        }
    }

    // MARK: Helpers

    /// Saves `data`, loads it back and checks that everything survived.
    private func checkRoundTrip(of data: SimulationData, file: StaticString = #filePath, line: UInt = #line) throws {
        let loaded = try roundTripped(data)
        XCTAssertEqual(loaded.seeds, data.seeds, file: file, line: line)
        XCTAssertEqual(loaded.normFactor, data.normFactor, file: file, line: line)
        XCTAssertEqual(loaded.sampleCount, data.sampleCount, file: file, line: line)
        XCTAssertEqual(loaded.log, data.log, file: file, line: line)
        XCTAssertEqual(loaded.observables.map(\.name), data.observables.map(\.name), file: file, line: line)
        for observable in data.observables {
            let name = observable.name
            XCTAssertEqual(loaded.observable(name)?.shape, observable.shape, file: file, line: line)
            XCTAssertEqual(loaded.observable(name)?.isComplex, observable.isComplex, file: file, line: line)
            XCTAssertEqual(loaded.mean(name), data.mean(name), "mean of \(name)", file: file, line: line)
            guard name != "t" else { continue }  // t has no standard error in the file: it is exact
            let expected = try XCTUnwrap(data.standardError(name)), actual = try XCTUnwrap(loaded.standardError(name))
            XCTAssertGreaterThan(expected.max() ?? 0, 0, file: file, line: line)
            for (a, e) in zip(actual, expected) {
                XCTAssertEqual(a, e, accuracy: 1e-12 * abs(e), "standard error of \(name)", file: file, line: line)
            }
        }
    }

    private func roundTripped(_ data: SimulationData, mergeable: Bool = true) throws -> SimulationData {
        let path = folder.appendingPathComponent("roundtrip-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try data.save(to: path, mergeable: mergeable)
        return try SimulationData(contentsOf: path)
    }

    /// SimulationData shaped like a run: `t`, complex `dm_db` (T, 2, 2), two energies and an extra
    /// output, accumulated from pseudo-random trajectories grouped into `samples` samples.
    private func makeData(trajectories: Int, samples: Int, log: String = "run 1 ✓ héllo\nline 2\n") -> SimulationData {
        var generator = SplitMix64(seed: UInt64(trajectories * 31 + samples))
        let times = 6
        var observables = [
            OutputAccumulator(name: "t", shape: [times], isComplex: false),
            OutputAccumulator(name: "dm_db", shape: [times, 2, 2], isComplex: true),
            OutputAccumulator(name: "quantum_energy", shape: [times], isComplex: false),
            OutputAccumulator(name: "classical_energy", shape: [times], isComplex: false),
            OutputAccumulator(name: "populations", shape: [times, 3], isComplex: false),
        ]
        for index in observables.indices {
            let count = observables[index].elementCount
            var sampleTotals = [[Double]](repeating: [Double](repeating: 0, count: count), count: samples)
            for trajectory in 0..<trajectories {
                for element in 0..<count {
                    let value =
                        index == 0 ? 0.25 * Double(element) : 1.5 + generator.nextUnit() * 0.8 - Double(element % 3)
                    sampleTotals[trajectory % samples][element] += value
                }
            }
            // Each sample is the sum of its trajectories' values.
            for totals in sampleTotals { observables[index].addSample(totals) }
        }
        return SimulationData(
            seeds: (0..<trajectories).map { 3 * $0 + 1 }, normFactor: trajectories,
            sampleCount: samples, observables: observables, log: log)
    }

    private func folderContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    private func fixtureFolder() throws -> URL {
        try XCTUnwrap(
            Bundle.module.url(forResource: "Fixtures", withExtension: nil),
            "Fixtures folder missing from the test bundle")
    }

    private func fixture(_ name: String) throws -> String {
        try fixtureFolder().appendingPathComponent(name).path
    }
}

/// A small deterministic generator for test data.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func nextUnit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
