import Foundation
import XCTest
@testable import QCLab

/// Every ``QCLabError/Code`` reaches a caller unchanged: through the binary form workers and
/// ranks send, through the serial, forked and MPI drivers of `qclab run`, and on its error
/// line (`QCLAB_ERROR_CODES=1`) as the Python bridge reads it.
final class ErrorCodeTests: XCTestCase {
    func testEachCodeHasOneCaseAndItsBinaryFormKeepsIt() {
        for code in QCLabError.Code.allCases {
            let sample = TestFailure.sample(code)
            XCTAssertEqual(sample.code, code)
            XCTAssertEqual(QCLabError(encodedBytes: sample.encodedBytes()), sample, code.rawValue)
            XCTAssertEqual(BatchFailure(encodedBytes: BatchFailure(sample).encodedBytes()), .error(sample), code.rawValue)
            XCTAssertEqual(sample.errorDescription, sample.description)
            XCTAssertEqual((sample as Error).localizedDescription, sample.description)
        }
        XCTAssertEqual(Set(QCLabError.Code.allCases.map { TestFailure.sample($0).encodedBytes()[0] }).count,
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
    /// Under every driver: the error's message behind its code (`QCLAB_ERROR_CODES=1`), and
    /// without a code by default.
    func testEachCodeComesThroughTheSerialForkedAndMPIDrivers() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-codes")
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let qclab = try QCLabCLI.executable()
        let mpi = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]
        for code in QCLabError.Code.allCases {
            let runs: [(String, URL, [String])] = [
                ("serial", qclab, ["run", "job.json", "-o", "out.h5", "--driver", "serial"]),
                ("forked", qclab, ["run", "job.json", "-o", "out.h5", "--driver", "multiprocessing", "--num-tasks", "2"]),
                ("MPI", mpirun, ["--oversubscribe", "-n", "2", qclab.path, "run", "job.json", "-o", "out.h5", "--driver", "mpi"]),
            ]
            for (driver, program, arguments) in runs {
                let outcome = try QCLabCLI.run(arguments, in: folder, program: program, timeout: 120,
                                               environment: mpi.merging(["QCLAB_TEST_FAIL_WITH": code.rawValue]) { $1 },
                                               removingEnvironment: ["QCLAB_ERROR_CODES"])
                let label = "\(code.rawValue), \(driver)"
                XCTAssertEqual(outcome.status, 1, "\(label): \(outcome.errors)")
                XCTAssertEqual(outcome.errorCode, code.rawValue, label)
                let ours = outcome.errors.split(separator: "\n").filter { $0.hasPrefix("qclab: error") }
                XCTAssertEqual(ours, ["qclab: error: \(TestFailure.sample(code).description)"], label)
                XCTAssertEqual(QCLabCLI.contents(of: folder), ["job.json"], "\(label): nothing written")
            }
            // Without QCLAB_ERROR_CODES=1, the line users see: no code.
            let plain = try QCLabCLI.run(["run", "job.json", "-o", "out.h5"], in: folder,
                                         environment: ["QCLAB_TEST_FAIL_WITH": code.rawValue, "QCLAB_ERROR_CODES": "0"])
            XCTAssertNil(plain.errorCode)
            XCTAssertEqual(plain.errorLines, ["qclab: error: \(TestFailure.sample(code).description)"], code.rawValue)
        }
    }

    /// The Python bridge lists the same codes in the same order, and docs/Reference.md each.
    func testTheBridgeAndTheReferenceKnowEveryCode() throws {
        let root = DocumentationSnippetTests.root
        let python = try String(contentsOf: root.appendingPathComponent("python/qclab_swift/errors.py"), encoding: .utf8)
        let listed = python.components(separatedBy: "CODES = (")[1].components(separatedBy: ")")[0]
            .split { ",\n ".contains($0) }.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        XCTAssertEqual(listed, QCLabCLI.errorCodes)
        let reference = try String(contentsOf: root.appendingPathComponent("docs/Reference.md"), encoding: .utf8)
        for code in QCLabCLI.errorCodes {
            XCTAssertTrue(reference.contains("| `\(code)` |"), "\(code) is not in the table of docs/Reference.md")
        }
    }
}
