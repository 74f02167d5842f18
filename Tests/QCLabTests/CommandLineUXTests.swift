import Foundation
import XCTest
@testable import QCLab

/// What a new user sees from `qclab`: the table after a run, an unknown subcommand,
/// the warnings for a run that differs from its job, `qclab models` and `qclab init`.
final class CommandLineUXTests: XCTestCase {
    func folder() throws -> URL { try QCLabCLI.temporaryFolder(self, "qclab-ux") }

    func write(_ text: String, _ name: String, in folder: URL) throws {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// A Holstein lattice of 12 sites started on site 5: the table shows the eight most
    /// populated states (site 5 among them), aligned, and never "-0.0000".
    func testTableAfterARunShowsTheMostPopulatedStatesAligned() throws {
        let folder = try folder()
        var wf = Array(repeating: "0.0", count: 12)
        wf[5] = "1.0"
        try write(
            BadJob.job(
                settings: #"{"tmax": 2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 4}"#,
                model: #"{"name": "HolsteinLattice", "constants": {"N": 12}}"#,
                initialState: #"{"wf_db": [\#(wf.joined(separator: ", "))]}"#), "job.json", in: folder)
        let run = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        let lines = run.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "wrote out.h5: 4 trajectories (seeds 0...3), 21 time points")
        XCTAssertEqual(lines[1], "populations of the 8 most populated of 12 states (`qclab plot` shows all):")
        let table = Array(lines[2...])
        XCTAssertEqual(table.count, 6, run.output)
        let header = table[0].split(separator: " ").map(String.init)
        XCTAssertEqual(header.count, 9)
        XCTAssertTrue(header.contains("P5"), "the initially populated site: \(header)")
        XCTAssertEqual(Set(table.map(\.count)).count, 1, "aligned columns:\n\(table.joined(separator: "\n"))")
        XCTAssertFalse(run.output.contains("-0.0000"))
        // Right-aligned columns end at the same character in every row.
        let ends = table.map { row in
            row.indices.filter {
                row[$0] != " " && (row.index(after: $0) == row.endIndex || row[row.index(after: $0)] == " ")
            }.count
        }
        XCTAssertEqual(Set(ends), [9])

        // Two states: both shown, no note.
        try write(BadJob.valid, "small.json", in: folder)
        let small = try QCLabCLI.run(["run", "small.json", "--output", "small.h5"], in: folder)
        let smallLines = small.output.split(separator: "\n")
        XCTAssertEqual(smallLines[1].split(separator: " "), ["t", "P0", "P1"])
    }

    func testAnUnknownSubcommandIsOneLine() throws {
        let outcome = try QCLabCLI.run(["export", "out.h5"], in: try folder())
        XCTAssertEqual(outcome.status, 64)
        XCTAssertEqual(outcome.errorLines.count, 1)
        XCTAssertTrue(
            outcome.errors.hasPrefix("qclab: error: unknown subcommand 'export' (known: run, info, plot, merge"),
            outcome.errors)
    }

    /// One line each on standard error, and the same sentences in the output's log.
    func testWarningsOnStandardErrorAndInTheLog() throws {
        let folder = try folder()
        try write(
            BadJob.job(
                settings: #"{"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.015, "num_trajs": 100, "batch_size": 2}"#,
                initialState: #"{"wf_db": [1.0, 1.0]}"#, extra: #", "seeds": [0, 1]"#), "job.json", in: folder)
        let run = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertEqual(
            run.errorLines,
            [
                "qclab: warning: the job's 2 seeds override its num_trajs 100: running 2 trajectories",
                "qclab: warning: dt_collect 0.015 is not a whole number of dt_update steps (0.01); collecting every 0.02 instead",
                "qclab: warning: tmax 0.2 becomes 0.26: QC Lab's rounding takes round(tmax / dt_collect) = 13 intervals of the rounded dt_collect 0.02",
                "qclab: warning: wf_db is not normalized (sum of |c|² is 2, not 1); it is used as given, as QC Lab does, so the populations start summing to 2",
            ])
        let log = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path).log
        for line in run.errorLines {
            XCTAssertTrue(
                log.contains("Warning: " + line.dropFirst("qclab: warning: ".count)), "\(line) not in the log:\n\(log)"
            )
        }
        // A job run as written: not a word on standard error.
        try write(BadJob.valid, "clean.json", in: folder)
        let clean = try QCLabCLI.run(["run", "clean.json", "--output", "clean.h5"], in: folder)
        XCTAssertEqual(clean.errors, "")
        // A zero wf_db: one line, no output.
        try write(BadJob.job(initialState: #"{"wf_db": [0.0, [0.0, 0.0]]}"#), "zero.json", in: folder)
        let zero = try QCLabCLI.run(["run", "zero.json", "--output", "zero.h5"], in: folder)
        XCTAssertEqual(zero.status, 1)
        XCTAssertEqual(
            zero.errors, "qclab: error: initial_state: wf_db is zero: there is no initial state to propagate\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("zero.h5").path))
    }

    func testModelsListsEveryModelConstantAlgorithmAndSetting() throws {
        let outcome = try QCLabCLI.run(["models"], in: try folder())
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        for model in try ModelRegistry.builtInNames.map(ModelRegistry.describe) {  // the program knows only these
            XCTAssertTrue(
                outcome.output.contains("\n\(model.name)  (\(model.defaultStateCount) quantum states"), model.name)
            for constant in model.constants {
                XCTAssertTrue(outcome.output.contains("  \(constant.name)  "), "\(model.name).\(constant.name)")
            }
        }
        for algorithm in JobCatalog.algorithms {
            XCTAssertTrue(outcome.output.contains("\n\(algorithm.name)  ("), algorithm.name)
            for setting in algorithm.settings {
                XCTAssertTrue(outcome.output.contains("  \(setting.name)  "), setting.name)
            }
        }
        XCTAssertTrue(
            outcome.output.contains("  l_reorg     0.005    real ≥ 0"),
            "defaults and allowed values, aligned:\n\(outcome.output)")
        let one = try QCLabCLI.run(["models", "TullyProblemTwo"], in: try folder())
        XCTAssertTrue(one.output.hasPrefix("\nTullyProblemTwo  (2 quantum states"), one.output)
        XCTAssertFalse(one.output.contains("SpinBoson"))
        let typo = try QCLabCLI.run(["models", "SpinBosun"], in: try folder())
        XCTAssertEqual(typo.status, 1)
        XCTAssertEqual(typo.errorLines.count, 1)
        XCTAssertTrue(typo.errors.contains("'SpinBosun'"), typo.errors)
    }

    /// `qclab init` writes a job that `qclab run` runs without a warning.
    func testInitPrintsACompleteJobThatRuns() throws {
        let folder = try folder()
        let outcome = try QCLabCLI.run(["init", "TullyProblemOne", "FewestSwitchesSurfaceHopping"], in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(
            outcome.output,
            try JobCatalog.defaultJob(model: "TullyProblemOne", algorithm: "FewestSwitchesSurfaceHopping"))
        for key in [
            "\"tmax\": 10.0", "\"batch_size\": 25", "\"init_momentum\": 10.0",
            "\"init_classical\": \"definite_position_momentum\"",
            "\"gauge_fixing\": \"sign_overlap\"", "\"wf_db\": [1.0, 0.0]",
        ] {
            XCTAssertTrue(outcome.output.contains(key), "\(key) in\n\(outcome.output)")
        }
        // Shortened so that the test is quick, then run.
        let job = outcome.output.replacingOccurrences(of: "\"tmax\": 10.0", with: "\"tmax\": 1.0")
            .replacingOccurrences(of: "\"num_trajs\": 100", with: "\"num_trajs\": 4")
            .replacingOccurrences(of: "\"batch_size\": 25", with: "\"batch_size\": 4")
        try write(job, "job.json", in: folder)
        let run = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertEqual(run.errors, "", "no warnings for a job as init writes it")
        let unknown = try QCLabCLI.run(["init", "SpinBoson", "Redfield"], in: folder)
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.errors.hasPrefix("qclab: error: unknown algorithm 'Redfield'"), unknown.errors)
    }

    func testRunHelpPointsAtTheReference() throws {
        let help = try QCLabCLI.run(["run", "--help"], in: try folder())
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.output.contains("docs/Reference.md"), help.output)
        XCTAssertTrue(
            FileManager.default.fileExists(
                atPath: DocumentationSnippetTests.root.appendingPathComponent("docs/Reference.md").path))
    }
}
