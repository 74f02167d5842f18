import Foundation
import XCTest
@testable import QCLab
@testable import QCLabMPI

/// Ranks of one MPI job started with different arguments (an MPMD launch, `mpirun -n 1
/// qclab run A : -n 1 qclab run B`) never hang: before any work every rank compares the
/// arguments, and the job ends with one line from qclab naming the difference, a
/// non-zero status, and nothing written.
final class RankAgreementTests: XCTestCase {
    /// Runs `first` on rank 0 and `second` on rank 1 (after `qclab run job.json --driver
    /// mpi --output out.h5`) in a fresh folder holding `job.json` and `other.json`.
    func runMPMD(
        _ first: [String], _ second: [String], firstJob: String = "job.json", secondJob: String = "job.json",
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> (QCLabCLI.Outcome, URL) {
        let mpirun = try ParallelDriverTests.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-agree")
        try ParallelDriverTests.jobJSON(trajectories: 8).write(
            to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        try ParallelDriverTests.jobJSON(trajectories: 12).write(
            to: folder.appendingPathComponent("other.json"), atomically: true, encoding: .utf8)
        func rank(_ job: String, _ extra: [String]) -> [String] {
            ["-n", "1", qclab, "run", job, "--driver", "mpi", "--output", "out.h5"] + extra
        }
        let arguments = ["--oversubscribe"] + rank(firstJob, first) + [":"] + rank(secondJob, second)
        // A generous safety limit only: a hang fails the test instead of blocking the suite.
        let outcome = try ParallelDriverTests.run(mpirun, arguments, in: folder, timeout: 120, file: file, line: line)
        return (outcome, folder)
    }

    func assertRefused(
        _ first: [String], _ second: [String], firstJob: String = "job.json", secondJob: String = "job.json",
        naming words: [String], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (outcome, folder) = try runMPMD(
            first, second, firstJob: firstJob, secondJob: secondJob, file: file, line: line)
        XCTAssertNotEqual(outcome.status, 0, file: file, line: line)
        let ours = outcome.errorLines.filter { $0.hasPrefix("qclab:") }
        XCTAssertEqual(ours.count, 1, "one line from qclab: \(outcome.errors)", file: file, line: line)
        let message = String(ours.first ?? "")
        XCTAssertEqual(outcome.errorCode, "mpi", message, file: file, line: line)
        XCTAssertTrue(message.contains("rank 1"), message, file: file, line: line)
        for word in words { XCTAssertTrue(message.contains(word), "'\(word)' in: \(message)", file: file, line: line) }
        XCTAssertEqual(
            QCLabCLI.contents(of: folder), ["job.json", "other.json"], "nothing written", file: file, line: line)
    }

    func testDifferentNumTasksAreRefusedNamingThem() throws {
        try assertRefused(["--num-tasks", "3"], [], naming: ["--num-tasks 3", "no --num-tasks"])
        try assertRefused(["--num-tasks", "2"], ["--num-tasks", "3"], naming: ["--num-tasks 2", "--num-tasks 3"])
    }

    func testACheckpointOnOneRankOnlyIsRefused() throws {
        try assertRefused([], ["--checkpoint", "ck"], naming: ["--checkpoint ck", "no --checkpoint"])
        try assertRefused(["--checkpoint", "ck"], [], naming: ["--checkpoint ck", "no --checkpoint"])
    }

    func testSeedsOnOneRankOnlyAreRefused() throws {
        try assertRefused([], ["--seeds", "0:4"], naming: ["--seeds 0:4", "no --seeds"])
        try assertRefused(["--seeds", "0:4"], ["--seeds", "4:8"], naming: ["--seeds 0:4", "--seeds 4:8"])
    }

    func testADifferentJobIsRefused() throws {
        try assertRefused(
            [], [], secondJob: "other.json", naming: ["the job file other.json", "the job file job.json"])
    }

    func testOtherOutputsAreRefused() throws {
        try assertRefused([], ["--output", "elsewhere.h5"], naming: ["--output elsewhere.h5", "--output out.h5"])
    }

    /// The same arguments, launched the same way, run: the check refuses only a difference.
    func testRanksThatAgreeRun() throws {
        let (outcome, folder) = try runMPMD(["--seeds", "0:8"], ["--seeds", "0:8"])
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(
            try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path).seeds, Array(0..<8))
    }

    /// The library's MPI driver compares what it is called with on every rank (the job
    /// record, seeds, task count, checkpoint) before anything else: a program that calls
    /// it differently on one rank gets the same error on every rank, and no rank waits.
    func testTheMPIDriverRefusesRanksCalledDifferently() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let probe = try QCLabCLI.executable(named: "MPIFailureProbe")
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-agree-probe")
        for (what, words) in [
            ("job", ["rank 1 has the job of digest", "rank 0 has the job of digest"]),
            ("trajectories", ["num_trajs and batch_size 24 and 4", "num_trajs and batch_size 23 and 4"]),
            ("seeds", ["seeds 0,1,2", "no seeds"]),
            ("tasks", ["num_tasks 2", "no num_tasks"]), ("checkpoint", ["checkpoint ck", "no checkpoint"]),
        ] {
            let outcome = try ParallelDriverTests.run(
                mpirun, ["--oversubscribe", "-n", "2", probe.path, "disagree", what], in: folder,
                timeout: 120)
            XCTAssertNotEqual(outcome.status, 0, what)
            let lines = Set(outcome.errorLines.filter { $0.hasPrefix("probe: error:") })
            XCTAssertEqual(lines.count, 1, "\(what): the same error on every rank: \(outcome.errors)")
            let line = String(lines.first ?? "")
            XCTAssertTrue(line.contains("rank 1 has"), "\(what): \(line)")
            for word in words { XCTAssertTrue(line.contains(word), "\(what): '\(word)' in \(line)") }
            XCTAssertEqual(QCLabCLI.contents(of: folder), [], "\(what): nothing written")
        }
    }

    func testDigestsTellArgumentsApart() {
        XCTAssertNotEqual(RankAgreement.digest("1ck"), RankAgreement.digest("1ck2"))
        XCTAssertNotEqual(RankAgreement.digest("0"), RankAgreement.digest("1"))
        XCTAssertEqual(RankAgreement.digest(""), 0xcbf2_9ce4_8422_2325, "FNV-1a's offset basis")
        XCTAssertEqual(RankAgreement.digest("a"), 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 of 'a'")
    }
}
