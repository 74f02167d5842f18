import Foundation
import XCTest
@testable import QCLab

/// The SLURM scripts of `Examples/` on a machine without environment modules:
/// `slurm-array.sh` run as SLURM would run it (one process per array task, told its
/// `SLURM_ARRAY_TASK_ID`), the parts merged by the script's `--merge` and by `qclab merge`,
/// with the merge's handling of missing parts; `slurm-mpi.sh` with `srun` standing for
/// `mpirun`.
final class SlurmScriptTests: XCTestCase {
    static let tasks = 4, seedsPerTask = 3

    /// The script in this checkout.
    static func script(_ name: String = "slurm-array.sh") throws -> String {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
            guard folder.path != "/" else { throw CocoaError(.fileNoSuchFile) }
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("Examples/\(name)").path
    }

    /// A folder with the job and `bin/qclab` (a link to the built executable), to put on PATH.
    func arrayFolder() throws -> URL {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-slurm-array")
        // Two states, random initial conditions, hops: every seed's trajectory differs.
        try BadJob.job(
            settings: #"{"tmax": 0.3, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 5, "batch_size": 2}"#,
            algorithm: #"{"name": "FewestSwitchesSurfaceHopping"}"#
        )
        .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: bin.appendingPathComponent("qclab"), withDestinationURL: try QCLabCLI.executable())
        return folder
    }

    /// Runs the script in `folder` as array task `task` (nil: outside an array), with only
    /// `folder/bin` and the system's folders on PATH and no `module` shell function.
    func runScript(
        _ arguments: [String], task: Int?, in folder: URL, environment: [String: String] = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> QCLabCLI.Outcome {
        var variables = [
            "PATH": folder.appendingPathComponent("bin").path + ":/usr/local/bin:/usr/bin:/bin",
            "SEEDS_PER_TASK": "\(Self.seedsPerTask)",
        ]
        if let task {
            variables["SLURM_ARRAY_TASK_ID"] = "\(task)"
            variables["SLURM_ARRAY_TASK_COUNT"] = "\(Self.tasks)"
            variables["SLURM_ARRAY_TASK_MIN"] = "0"
            variables["SLURM_ARRAY_TASK_MAX"] = "\(Self.tasks - 1)"
        }
        return try QCLabCLI.run(
            [try Self.script()] + arguments, in: folder, program: URL(fileURLWithPath: "/bin/bash"),
            environment: variables.merging(environment) { _, given in given },
            removingEnvironment: [
                "SLURM_ARRAY_TASK_ID", "BASH_FUNC_module%%", "BASH_FUNC_module()",
                "QCLAB", "QCLAB_MODULES", "RESULTS", "TASKS",
            ],
            file: file, line: line)
    }

    func results(_ folder: URL) -> URL { folder.appendingPathComponent("results") }

    /// Checks `path` holds exactly `reference`'s seeds and, to the bit, its means and standard errors.
    func assertSameBits(_ path: URL, _ reference: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let data = try SimulationData(contentsOf: path.path), expected = try SimulationData(contentsOf: reference.path)
        XCTAssertEqual(data.seeds, expected.seeds, file: file, line: line)
        XCTAssertEqual(data.normFactor, expected.normFactor, file: file, line: line)
        XCTAssertEqual(data.sampleCount, expected.sampleCount, file: file, line: line)
        XCTAssertEqual(data.observables.map(\.name), expected.observables.map(\.name), file: file, line: line)
        for o in expected.observables {
            XCTAssertEqual(
                data.mean(o.name)?.map(\.bitPattern), expected.mean(o.name)?.map(\.bitPattern), o.name, file: file,
                line: line)
            XCTAssertEqual(
                data.standardError(o.name)?.map(\.bitPattern), expected.standardError(o.name)?.map(\.bitPattern),
                "\(o.name) standard error", file: file, line: line)
        }
        XCTAssertGreaterThan(
            expected.standardError("dm_db")?.max() ?? 0, 0,
            "trajectories differ, so the bits compared depend on every seed")
    }

    func testArrayTasksWithoutModulesMergeIntoTheBitsOfOneSerialRun() throws {
        let folder = try arrayFolder()
        for task in 0..<Self.tasks {
            let outcome = try runScript(["job.json"], task: task, in: folder)
            XCTAssertEqual(outcome.status, 0, "task \(task): \(outcome.errors)")
            let first = task * Self.seedsPerTask
            XCTAssertTrue(
                outcome.output.contains(
                    "wrote results/part-0000\(task).h5: 3 trajectories (seeds \(first)...\(first + 2))"),
                outcome.output)
        }
        // Every part written, with its exact sums; every checkpoint removed.
        XCTAssertEqual(QCLabCLI.contents(of: results(folder)), (0..<Self.tasks).map { "part-0000\($0).h5" })
        for task in 0..<Self.tasks {
            let part = results(folder).appendingPathComponent("part-0000\(task).h5").path
            XCTAssertTrue(
                try SimulationData.datasetNames(inFileAt: part).contains("dm_db_exact"), "part \(task) is mergeable")
        }

        // A task resubmitted after it finished leaves its part alone.
        let part = results(folder).appendingPathComponent("part-00001.h5")
        let before = try Foundation.Data(contentsOf: part)
        let again = try runScript(["job.json"], task: 1, in: folder)
        XCTAssertEqual(again.status, 0, again.errors)
        XCTAssertEqual(again.output, "results/part-00001.h5 is already written (seeds 3:6); nothing to do\n")
        XCTAssertEqual(try Foundation.Data(contentsOf: part), before)

        let merge = try runScript(["--merge"], task: nil, in: folder, environment: ["TASKS": "\(Self.tasks)"])
        XCTAssertEqual(merge.status, 0, merge.errors)
        XCTAssertEqual(merge.errors, "", "no gaps, no warning")
        XCTAssertEqual(merge.output, "wrote results/all.h5: 12 trajectories (seeds 0...11) from 4 files\n")

        let serial = try QCLabCLI.run(
            ["run", "job.json", "--seeds", "0:12", "--driver", "serial", "--output", "serial.h5"], in: folder)
        XCTAssertEqual(serial.status, 0, serial.errors)
        try assertSameBits(
            results(folder).appendingPathComponent("all.h5"), folder.appendingPathComponent("serial.h5"))
    }

    func testAMissingPartIsNamedByMergeAndRefusedWithRequireContiguous() throws {
        let folder = try arrayFolder()
        for task in [0, 1, 3] {
            let outcome = try runScript(["job.json"], task: task, in: folder)
            XCTAssertEqual(outcome.status, 0, "task \(task): \(outcome.errors)")
        }
        let all = results(folder).appendingPathComponent("all.h5")
        let parts = ["part-00000.h5", "part-00001.h5", "part-00003.h5"]

        // The script's merge, told the number of tasks, names the missing task.
        let counted = try runScript(["--merge"], task: nil, in: folder, environment: ["TASKS": "\(Self.tasks)"])
        XCTAssertNotEqual(counted.status, 0)
        XCTAssertEqual(
            counted.errors,
            "slurm-array.sh: error: 1 of 4 parts missing in results (tasks 2); resubmit them with sbatch --array=2\n")
        // Without it, `qclab merge --require-contiguous` refuses the gap in the seeds.
        let gapLine = "merged seeds have gaps: 6...8 missing (3 seeds between 0 and 11)"
        let refused = try runScript(["--merge"], task: nil, in: folder)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.errors, "qclab: error: cannot merge data: \(gapLine) (--require-contiguous)\n")
        XCTAssertEqual(QCLabCLI.contents(of: results(folder)), parts, "nothing written, no temporary file")

        // By default `qclab merge` merges what is there, with one warning naming the missing seeds.
        let merged = try QCLabCLI.run(
            ["merge"] + parts.map { "results/\($0)" } + ["--output", "results/all.h5"], in: folder)
        XCTAssertEqual(merged.status, 0, merged.errors)
        XCTAssertEqual(merged.errors, "qclab: warning: \(gapLine)\n")
        XCTAssertEqual(merged.output, "wrote results/all.h5: 9 trajectories (seeds 0...5, 9...11) from 3 files\n")
        let data = try SimulationData(contentsOf: all.path)
        XCTAssertEqual(data.seeds, Array(0..<6) + Array(9..<12))
        XCTAssertTrue(data.log.contains("Warning: \(gapLine)\n"), data.log)

        // The missing task run afterwards completes the set: the merge is then whole and quiet.
        try FileManager.default.removeItem(at: all)
        XCTAssertEqual(try runScript(["job.json"], task: 2, in: folder).status, 0)
        let complete = try runScript(["--merge"], task: nil, in: folder, environment: ["TASKS": "\(Self.tasks)"])
        XCTAssertEqual(complete.status, 0, complete.errors)
        XCTAssertEqual(complete.errors, "")
        XCTAssertEqual(try SimulationData(contentsOf: all.path).seeds, Array(0..<12))
    }

    func testModulesAreLoadedOnlyWhereTheModuleCommandExists() throws {
        let folder = try arrayFolder()
        // A stand-in for the `module` command that records what it is asked.
        let module = folder.appendingPathComponent("bin/module")
        try "#!/bin/sh\necho \"$*\" >> \"$PWD/module.log\"\n".write(to: module, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: module.path)
        let log = folder.appendingPathComponent("module.log")

        XCTAssertEqual(try runScript(["job.json"], task: 0, in: folder).status, 0)
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "load hdf5 openblas\n")
        let site = try runScript(["job.json"], task: 1, in: folder, environment: ["QCLAB_MODULES": "gcc/13 hdf5/1.14"])
        XCTAssertEqual(site.status, 0, site.errors)
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "load hdf5 openblas\nload gcc/13 hdf5/1.14\n")
        let none = try runScript(["job.json"], task: 2, in: folder, environment: ["QCLAB_MODULES": ""])
        XCTAssertEqual(none.status, 0, none.errors)
        XCTAssertEqual(
            try String(contentsOf: log, encoding: .utf8), "load hdf5 openblas\nload gcc/13 hdf5/1.14\n", "none loaded")
        XCTAssertEqual(QCLabCLI.contents(of: results(folder)), ["part-00000.h5", "part-00001.h5", "part-00002.h5"])
    }

    func testATaskWithoutATaskNumberIsRefused() throws {
        let folder = try arrayFolder()
        for (environment, culprit) in [
            ([String: String](), "SLURM_ARRAY_TASK_ID is not set"),
            (["SLURM_ARRAY_TASK_ID": "7a"], "SLURM_ARRAY_TASK_ID '7a' is not a task number"),
            (["SLURM_ARRAY_TASK_ID": "0", "SEEDS_PER_TASK": "0"], "SEEDS_PER_TASK '0' is not a positive"),
        ] {
            let outcome = try runScript(["job.json"], task: nil, in: folder, environment: environment)
            XCTAssertNotEqual(outcome.status, 0, culprit)
            XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
            XCTAssertTrue(outcome.errors.hasPrefix("slurm-array.sh: error: \(culprit)"), outcome.errors)
            XCTAssertFalse(FileManager.default.fileExists(atPath: results(folder).path), culprit)
        }
    }

    /// `slurm-mpi.sh` with an `srun` that starts two ranks with `mpirun`: the job's output
    /// has the bits of a serial run, and the script shows it with `qclab info`.
    func testTheMPIScriptRunsWithoutModules() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let folder = try arrayFolder()
        let srun = folder.appendingPathComponent("bin/srun")
        try "#!/bin/sh\nexec '\(mpirun.path)' --oversubscribe -n 2 \"$@\"\n".write(
            to: srun, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: srun.path)
        let outcome = try QCLabCLI.run(
            [try Self.script("slurm-mpi.sh"), "job.json", "out/mpi.h5"], in: folder,
            program: URL(fileURLWithPath: "/bin/bash"),
            environment: [
                "PATH": folder.appendingPathComponent("bin").path + ":/usr/local/bin:/usr/bin:/bin",
                "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            ],
            removingEnvironment: ["BASH_FUNC_module%%", "BASH_FUNC_module()", "QCLAB", "QCLAB_MODULES"])
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertTrue(outcome.output.contains("trajectories: 5"), outcome.output)
        let serial = try QCLabCLI.run(["run", "job.json", "--driver", "serial", "--output", "serial.h5"], in: folder)
        XCTAssertEqual(serial.status, 0, serial.errors)
        try assertSameBits(folder.appendingPathComponent("out/mpi.h5"), folder.appendingPathComponent("serial.h5"))
    }

    func testSeedGapsAreTheRunsMissingBetweenTheSmallestAndTheLargest() {
        XCTAssertEqual(SeedList.gaps([]), [])
        XCTAssertEqual(SeedList.gaps([5, 3, 4]), [], "order does not matter")
        XCTAssertEqual(SeedList.gaps([9, 0, 1, 2, 5]), [3...4, 6...8])
        XCTAssertNil(SeedList.describeGaps(Array(1000..<2000)), "contiguous from the smallest seed, not from 0")
        XCTAssertEqual(
            SeedList.describeGaps(Array(0..<6000) + Array(8000..<20000)),
            "merged seeds have gaps: 6000...7999 missing (2000 seeds between 0 and 19999)")
        XCTAssertEqual(
            SeedList.describeGaps([0, 2, 4, 6], limit: 2),
            "merged seeds have gaps: 1, 3 and 1 more gap missing (3 seeds between 0 and 6)")
    }
}
