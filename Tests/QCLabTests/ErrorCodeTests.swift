import Foundation
import XCTest
@testable import QCLab
@testable import QCLabCore

/// Every ``QCLabError/Code`` reaches a caller unchanged: through the binary form workers and
/// ranks send, through the serial, forked and MPI drivers of `qclab run`, and on its error
/// line (`QCLAB_ERROR_CODES=1`) as the Python bridge reads it.
final class ErrorCodeTests: XCTestCase {
    func testEachCodeHasOneCaseAndItsBinaryFormKeepsIt() {
        for code in QCLabError.Code.allCases {
            let sample = TestFailure.sample(code)
            XCTAssertEqual(sample.code, code)
            XCTAssertEqual(QCLabError(encodedBytes: sample.encodedBytes()), sample, code.rawValue)
            XCTAssertEqual(
                BatchFailure(encodedBytes: BatchFailure(sample).encodedBytes()), .error(sample), code.rawValue)
            XCTAssertEqual(sample.errorDescription, sample.description)
            XCTAssertEqual((sample as Error).localizedDescription, sample.description)
        }
        XCTAssertEqual(
            Set(QCLabError.Code.allCases.map { TestFailure.sample($0).encodedBytes()[0] }).count,
            QCLabError.Code.allCases.count, "one binary tag per code")
    }

    func testTheCulpritIsTheNamedThing() {
        XCTAssertEqual(QCLabError.invalidSetting("tmax", "must be positive").culprit, "tmax")
        XCTAssertEqual(QCLabError.invalidConstant(model: "SpinBoson", name: "kBT", reason: "").culprit, "kBT")
        XCTAssertEqual(QCLabError.unknownName(kind: "model", name: "X", known: []).culprit, "X")
        XCTAssertEqual(QCLabError.hdf5(path: "a.h5", reason: "").culprit, "a.h5")
        XCTAssertEqual(QCLabError.invalidEnvironment(variable: "V", value: "", expected: "").culprit, "V")
        XCTAssertNil(QCLabError.malformedJob("x").culprit)
    }

    func testSystemErrorsHaveTheSystemCode() {
        XCTAssertEqual(QCLabError.code(of: Errno(rawValue: ENOSPC)), .system)
        XCTAssertEqual(QCLabError.code(of: NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))), .system)
        struct Other: Error {}
        XCTAssertNil(QCLabError.code(of: Other()))
    }

    /// Each code thrown in a batch (`QCLAB_TEST_FAIL_WITH`) ends `qclab run` with the same line.
    ///
    /// Under every driver: the error's message behind its code (`QCLAB_ERROR_CODES=1`).
    func testEachCodeComesThroughTheSerialForkedAndMPIDrivers() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-codes")
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let qclab = try QCLabCLI.executable()
        let mpi = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]
        for code in QCLabError.Code.allCases {
            let runs: [(String, URL, [String])] = [
                ("serial", qclab, ["run", "job.json", "-o", "out.h5", "--driver", "serial"]),
                (
                    "forked", qclab,
                    ["run", "job.json", "-o", "out.h5", "--driver", "multiprocessing", "--num-tasks", "2"]
                ),
                (
                    "MPI", mpirun,
                    ["--oversubscribe", "-n", "2", qclab.path, "run", "job.json", "-o", "out.h5", "--driver", "mpi"]
                ),
            ]
            for (driver, program, arguments) in runs {
                let outcome = try QCLabCLI.run(
                    arguments, in: folder, program: program, timeout: 120,
                    environment: mpi.merging(["QCLAB_TEST_FAIL_WITH": code.rawValue]) { $1 },
                    removingEnvironment: ["QCLAB_ERROR_CODES"])
                let label = "\(code.rawValue), \(driver)"
                XCTAssertEqual(outcome.status, 1, "\(label): \(outcome.errors)")
                XCTAssertEqual(outcome.errorCode, code.rawValue, label)
                let ours = outcome.errors.split(separator: "\n").filter { $0.hasPrefix("qclab: error") }
                XCTAssertEqual(ours, ["qclab: error: \(TestFailure.sample(code).description)"], label)
                XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"], "\(label): nothing written")
            }
        }
    }

    /// The Python bridge lists the same codes in the same order, and docs/Reference.md each.
    func testTheBridgeAndTheReferenceKnowEveryCode() throws {
        let root = DocumentationSnippetTests.root
        let python = try String(
            contentsOf: root.appendingPathComponent("python/qclab_swift/errors.py"), encoding: .utf8)
        let listed = python.components(separatedBy: "CODES = (")[1].components(separatedBy: ")")[0]
            .split { ",\n ".contains($0) }.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        XCTAssertEqual(listed, QCLabCLI.errorCodes)
        let reference = try String(contentsOf: root.appendingPathComponent("docs/Reference.md"), encoding: .utf8)
        for code in QCLabCLI.errorCodes {
            XCTAssertTrue(reference.contains("| `\(code)` |"), "\(code) is not in the table of docs/Reference.md")
        }
    }
}

/// The wording of the messages, pinned: the only tests that match error text exactly.
///
/// Every other test checks which error it got by its code (and culprit); these keep the
/// one-line messages and the default error line what users read.
final class MessageWordingTests: XCTestCase {
    func testEachCaseReadsAsPinned() {
        let expected: [QCLabError.Code: String] = [
            .invalidSetting: "setting 'tmax' must be positive, got −1",
            .invalidConstant: "SpinBoson constant 'kBT' must be positive",
            .invalidAlgorithmSetting: "algorithm setting 'gauge_fixing' is not known",
            .invalidInitialState: "initial_state: wf_db has 3 entries; the model has 2 states",
            .unknownName: "unknown model 'SpinBosun'; did you mean 'SpinBoson'? (known: SpinBoson, FMOComplex)",
            .malformedJob: "malformed job: line 1, column 2: unexpected ‘}’",
            .lapack: "LAPACK zheev failed with info = -4",
            .hdf5: "HDF5 file 'out.h5': cannot be created",
            .incompatibleData: "cannot merge data: time grids differ",
            .workerFailed: "worker 2 (pid 7) failed (exited with status 3); lost seeds 0...2, 5",
            .mpi: "MPI: MPI_Send failed",
            .invalidPath: "output 'a/b.h5': its folder does not exist",
            .unusableData: "the data has no 'dm_db'",
            .nonFinite: "output 'classical_energy' became infinite at t = 0.5 (its first collect time not finite) "
                + "in the batch of seeds 4...7",
            .invalidEnvironment: "environment variable QCLAB_CHECKPOINT_INTERVAL='inf' is not a number of seconds",
            .system: "cannot start a worker: resource temporarily unavailable",
        ]
        for code in QCLabError.Code.allCases {
            XCTAssertEqual(TestFailure.sample(code).description, expected[code], code.rawValue)
        }
        XCTAssertEqual(
            QCLabError.nonFinite(output: "dm_db", value: .nan, time: nil, seeds: [3]).description,
            "output 'dm_db' became NaN in the batch of seeds 3")
        XCTAssertEqual(QCLabError.unknownName(kind: "driver", name: "x", known: []).description, "unknown driver 'x'")
    }

    /// Without `QCLAB_ERROR_CODES=1` the error line is `qclab: error: MESSAGE`, for every code.
    func testTheDefaultErrorLineCarriesNoCode() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-wording")
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        for code in QCLabError.Code.allCases {
            let plain = try QCLabCLI.run(
                ["run", "job.json", "-o", "out.h5"], in: folder,
                environment: ["QCLAB_TEST_FAIL_WITH": code.rawValue, "QCLAB_ERROR_CODES": "0"])
            XCTAssertEqual(plain.status, 1, code.rawValue)
            XCTAssertNil(plain.errorCode)
            XCTAssertEqual(plain.errors, "qclab: error: \(TestFailure.sample(code).description)\n", code.rawValue)
        }
        let usage = try QCLabCLI.run(["run", "--bogus"], in: folder, environment: ["QCLAB_ERROR_CODES": "0"])
        XCTAssertEqual(usage.errors, "qclab: error: Unknown option '--bogus' (see 'qclab run --help')\n")
        let coded = try QCLabCLI.run(["run", "--bogus"], in: folder)
        XCTAssertEqual(coded.errorCode, "usage")
        XCTAssertEqual(coded.errors, usage.errors, "the same text behind the code")
        let refused = try QCLabCLI.run(["models"], in: folder, environment: ["QCLAB_ERROR_CODES": "yes"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.errors, "qclab: error: environment variable QCLAB_ERROR_CODES='yes' is not 0 or 1\n")
        XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"])
    }
}
