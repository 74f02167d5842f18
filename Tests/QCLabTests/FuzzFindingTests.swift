import Foundation
import XCTest
@testable import QCLab

/// What the fuzzers (Fuzz/, scripts/fuzz.sh) found, kept as regression tests: every
/// input in `Fuzz/Findings/<target>`, in `Fuzz/Findings/HDF5Library` (crashes and loops
/// inside HDF5 itself) and in the seed corpora must be read or refused cleanly by
/// `qclab`, never crash or hang it.
final class FuzzFindingTests: XCTestCase {
    /// The repository's `Fuzz/` folder, found from this file's path.
    private func fuzzFolder() throws -> URL {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("Fuzz")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path) {
                return candidate
            }
            folder.deleteLastPathComponent()
        }
        throw TestEnvironment.Missing(description: "no Fuzz/ folder above \(#filePath): the checkout is incomplete")
    }

    private func files(in folders: [URL]) -> [URL] {
        folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
                .filter { !$0.lastPathComponent.hasPrefix(".") && $0.pathExtension != "md" }
        }.sorted { $0.path < $1.path }
    }

    /// Each HDF5 input goes through `qclab info` (a crash there is a signal, not a
    /// refusal): status 0, or status 1 with one line naming the file.
    func testHDF5FindingsAreReadOrRefusedCleanly() throws {
        let fuzz = try fuzzFolder()
        let inputs = files(in: [
            fuzz.appendingPathComponent("Findings/FuzzHDF5Reader"),
            fuzz.appendingPathComponent("Findings/HDF5Library"),
            fuzz.appendingPathComponent("Corpus/hdf5"),
        ])
        for finding in [
            "compact-size-mismatch.h5", "damaged-float-type.h5", "damaged-complex-compound.h5",
            "vlen-log-heap-damage.h5", "symbol-table-btree-damage.h5",
            "heap-loop.h5", "vlen-heap-read-crash.h5",
        ] {
            XCTAssertTrue(inputs.contains { $0.lastPathComponent == finding }, finding)
        }
        let folder = try QCLabCLI.temporaryFolder(self)
        for input in inputs {
            // A short time limit for the child read, so that the hang finding costs 5 s.
            let outcome = try QCLabCLI.run(
                ["info", input.path], in: folder, timeout: 60,
                environment: ["QCLAB_INPUT_CHECK_SECONDS": "5"])
            XCTAssertFalse(outcome.signaled, "\(input.lastPathComponent): ended by signal \(outcome.status)")
            XCTAssertTrue(
                outcome.status == 0 || outcome.status == 1, "\(input.lastPathComponent): status \(outcome.status)")
            if outcome.status != 0 {
                XCTAssertEqual(outcome.errorLines.count, 1, "\(input.lastPathComponent): \(outcome.errors)")
                XCTAssertTrue(outcome.errors.contains(input.lastPathComponent), outcome.errors)
            }
        }
        XCTAssertEqual(QCLabCLI.contents(of: folder), [])
    }

    /// The damaged compact dataset HDF5 1.10 would copy past the end of its buffer for.
    func testDamagedCompactDatasetIsRefused() throws {
        let input = try fuzzFolder().appendingPathComponent("Findings/FuzzHDF5Reader/compact-size-mismatch.h5")
        XCTAssertThrowsError(try SimulationData(contentsOf: input.path)) { error in
            XCTAssertEqual((error as? QCLabError)?.code, .hdf5, "\(error)")
            XCTAssertEqual((error as? QCLabError)?.culprit, input.path, "\(error)")
            XCTAssertTrue("\(error)".contains("damaged"), "\(error)")
        }
    }

    /// A float type with damaged bit positions, which HDF5 1.10 would convert out of bounds.
    func testDamagedFloatTypeIsRefused() throws {
        let input = try fuzzFolder().appendingPathComponent("Findings/FuzzHDF5Reader/damaged-float-type.h5")
        XCTAssertThrowsError(try SimulationData(contentsOf: input.path)) { error in
            XCTAssertEqual((error as? QCLabError)?.code, .hdf5, "\(error)")
            XCTAssertEqual((error as? QCLabError)?.culprit, input.path, "\(error)")
            XCTAssertTrue("\(error)".contains("standard number type"), "\(error)")
        }
    }

    /// A complex compound whose members lie past its end, which HDF5 1.10 would convert out of bounds.
    func testDamagedComplexCompoundIsRefused() throws {
        let input = try fuzzFolder().appendingPathComponent("Findings/FuzzHDF5Reader/damaged-complex-compound.h5")
        XCTAssertThrowsError(try SimulationData(contentsOf: input.path)) { error in
            XCTAssertEqual((error as? QCLabError)?.code, .hdf5, "\(error)")
            XCTAssertEqual((error as? QCLabError)?.culprit, input.path, "\(error)")
            XCTAssertTrue("\(error)".contains("complex {r, i} compound"), "\(error)")
        }
    }

    /// Each job input is parsed, and planned if it parses, in this process: an error is
    /// fine, a trap would end the test run.
    func testJobFindingsAreParsedOrRefusedCleanly() throws {
        let fuzz = try fuzzFolder()
        let inputs = files(in: [
            fuzz.appendingPathComponent("Findings/FuzzJobParser"), fuzz.appendingPathComponent("Corpus/job"),
        ])
        XCTAssertGreaterThan(inputs.count, 5)
        for input in inputs {
            let bytes = try Foundation.Data(contentsOf: input)
            if let job = try? Job(json: bytes, source: input.lastPathComponent) {
                _ = try? RunPlan(simulation: job.simulation, seeds: job.seeds)
            }
        }
    }
}
