import Foundation
import XCTest
@testable import QCLab

/// Mergeable outputs: the job file's `"output_file": {"mergeable": ...}` beside `--mergeable`,
/// end to end through the executable.
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
}
