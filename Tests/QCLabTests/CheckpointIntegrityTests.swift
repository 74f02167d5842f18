import XCTest
import Foundation
@testable import QCLab
@testable import QCLabIO
#if canImport(Glibc)
import Glibc
#endif

/// What `--checkpoint` must never do: remove or replace a file it aliases (the output, the
/// job file, an `--append` input), resume from a damaged checkpoint, or muddle the story of
/// a resumed run (its log, its stderr, its progress rate).
final class CheckpointIntegrityTests: XCTestCase {
    /// The job of these tests: 16 batches of 4 seeds.
    static let jobJSON = ParallelDriverTests.jobJSON(trajectories: 64).replacingOccurrences(
        of: #""tmax": 2.0"#, with: #""tmax": 4"#)

    /// The job of the damaged checkpoints, a short one (11 collect points), which the
    /// fuzzer's seeds (Fuzz/Corpus/checkpoint) are of too: Fuzz/FuzzCheckpoint holds the same text.
    static let shortJobJSON = ParallelDriverTests.jobJSON(trajectories: 64).replacingOccurrences(
        of: #""tmax": 2.0"#, with: #""tmax": 1.0"#)

    func folder(job: String = jobJSON) throws -> URL {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-ckint")
        try job.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Writes CK in `folder` through the library, as a run of job.json stopped after
    /// `batches` leaves it; `running` are batches handed out (logged) but not done.
    static func writePartialCheckpoint(in folder: URL, batches: Range<Int>, running: [Int] = []) throws {
        let job = try Job(contentsOf: folder.appendingPathComponent("job.json").path)
        let checkpoint = Checkpointing(path: folder.appendingPathComponent("ck").path, interval: 0)
        let plan = try RunPlan(simulation: job.simulation, seeds: job.seeds)
        var run = try ParallelRun(
            simulation: job.simulation, plan: plan, data: SimulationData(), driver: "serial", tasks: 1,
            checkpoint: checkpoint)
        for batch in running { run.note(batchLine(batch, seeds: plan.seeds(ofBatch: batch)), forBatch: batch) }
        for batch in batches {
            run.note(batchLine(batch, seeds: plan.seeds(ofBatch: batch)), forBatch: batch)
            try run.store(job.simulation.runBatch(seeds: plan.seeds(ofBatch: batch)), forBatch: batch)
            try run.checkpointIfDue()
        }
    }

    // MARK: Paths that alias one another

    /// `--checkpoint` that names the output, the job file or the `--append` input, by the
    /// same path, another spelling, a hard link or a symbolic link, is refused before any
    /// work under every driver: one line naming both paths, and nothing in the folder changed.
    func testACheckpointThatAliasesAnotherFileIsRefusedBeforeAnyWork() throws {
        let folder = try folder()
        // An earlier output, to append to and to alias.
        let first = try QCLabCLI.run(["run", "job.json", "--output", "old.h5", "--seeds", "100:104"], in: folder)
        XCTAssertEqual(first.status, 0, first.errors)
        try FileManager.default.linkItem(
            atPath: folder.appendingPathComponent("old.h5").path,
            toPath: folder.appendingPathComponent("hard.h5").path)
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("soft.h5").path, withDestinationPath: "old.h5")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("sub"), withIntermediateDirectories: false)
        let cases: [(arguments: [String], checkpoint: String, other: String)] = [
            (["--output", "new.h5", "--checkpoint", "new.h5"], "new.h5", "new.h5"),
            (["--output", "new.h5", "--checkpoint", "sub/../new.h5"], "sub/../new.h5", "new.h5"),
            (["--output", "old.h5", "--checkpoint", "./old.h5"], "./old.h5", "old.h5"),
            (["--output", "old.h5", "--checkpoint", "hard.h5"], "hard.h5", "old.h5"),
            (["--output", "old.h5", "--checkpoint", "soft.h5"], "soft.h5", "old.h5"),
            (["--output", "new.h5", "--checkpoint", "job.json"], "job.json", "job.json"),
            (["--output", "new.h5", "--append", "old.h5", "--checkpoint", "hard.h5"], "hard.h5", "old.h5"),
        ]
        let before = try snapshot(folder)
        for driver in ["serial", "multiprocessing"] {
            for (arguments, checkpoint, other) in cases {
                let outcome = try QCLabCLI.run(["run", "job.json", "--driver", driver] + arguments, in: folder)
                let label = "\(driver) \(arguments.joined(separator: " "))"
                XCTAssertEqual(outcome.status, 1, label)
                XCTAssertEqual(outcome.errorLines.count, 1, "\(label): \(outcome.errors)")
                XCTAssertTrue(
                    outcome.errors.hasPrefix("qclab: error: --checkpoint '\(checkpoint)' is the same file as "),
                    outcome.errors)
                XCTAssertEqual(outcome.errorCode, "invalidPath", outcome.errors)
                XCTAssertTrue(
                    outcome.errors.contains("'\(other)'"), "\(label): names the other path: \(outcome.errors)")
                XCTAssertEqual(try snapshot(folder), before, "\(label): nothing touched")
            }
        }
        // MPI: rank 0 checks the paths for every rank.
        if let mpirun = try? ParallelDriverTests.mpirun() {
            let outcome = try QCLabCLI.run(
                [
                    "--oversubscribe", "-n", "2", try QCLabCLI.executable().path, "run", "job.json",
                    "--driver", "mpi", "--output", "old.h5", "--checkpoint", "hard.h5",
                ],
                in: folder, program: mpirun, environment: Self.mpiEnvironment)
            XCTAssertNotEqual(outcome.status, 0)
            XCTAssertEqual(outcome.errorLines.filter { $0.contains("qclab") }.count, 1, outcome.errors)
            XCTAssertEqual(outcome.errorCode, "invalidPath", outcome.errors)
            XCTAssertTrue(
                outcome.errors.contains("--checkpoint 'hard.h5' is the same file as --output 'old.h5'"), outcome.errors
            )
            XCTAssertEqual(try snapshot(folder), before, "mpi: nothing touched")
        }
        // A symbolic link to nothing yet is no place for a checkpoint either.
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("dangling").path, withDestinationPath: "later.h5")
        let dangling = try QCLabCLI.run(
            ["run", "job.json", "--output", "later.h5", "--checkpoint", "dangling"], in: folder)
        XCTAssertEqual(dangling.status, 1)
        XCTAssertEqual(
            dangling.errorLines,
            ["qclab: error: checkpoint path 'dangling' is a symbolic link, not a regular file; it is never replaced"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("later.h5").path))
        // Appending into the same file stays what the README documents: read first, replaced whole.
        let inPlace = try QCLabCLI.run(
            ["run", "job.json", "--append", "old.h5", "--output", "old.h5", "--checkpoint", "ck"], in: folder)
        XCTAssertEqual(inPlace.status, 0, inPlace.errors)
        XCTAssertEqual(try SimulationData(contentsOf: folder.appendingPathComponent("old.h5").path).normFactor, 68)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("ck").path))
    }

    /// Every name in `folder` with the bytes it leads to (links followed), or its link target.
    func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in QCLabCLI.contents(of: folder) {
            let path = folder.appendingPathComponent(name).path
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                files[name] = Data(("link to " + target).utf8) + (FileManager.default.contents(atPath: path) ?? Data())
            } else {
                files[name] = FileManager.default.contents(atPath: path) ?? Data("folder".utf8)
            }
        }
        return files
    }

    // MARK: Damaged checkpoints

    /// Where the parts of a checkpoint are (format 4), for the tests to damage them.
    struct Layout {
        /// The content, without the checksum.
        var content: [UInt8]
        var doneCountOffset = 0, doneCount = 0, sumsOffset = 0
        /// The bytes of each exact sum of `dm_db` (varints).
        var dmdbSums: [Range<Int>] = []
        /// Offset of the first exact sum of `dm_db`.
        var dmdbSumsOffset: Int { dmdbSums.first?.lowerBound ?? 0 }

        init(_ file: Data) throws {
            content = Array(file.dropLast(4))
            var reader = BinaryReader(bytes: content)
            _ = try reader.take(6, "magic and version")
            _ = try reader.string("job")
            _ = try reader.int64("batch size")
            _ = try reader.take(8 * reader.count("seeds", elementSize: 8), "seeds")
            doneCountOffset = reader.offset
            doneCount = try reader.count("batches done", elementSize: 8)
            _ = try reader.take(8 * doneCount, "batches done")
            _ = try reader.string("log")
            sumsOffset = reader.offset
            // The sums: magic, version, no seeds, norm factor, samples, no job, no note.
            _ = try reader.take(6, "QCLD")
            XCTAssertEqual(try reader.count("seeds", elementSize: 8), 0)
            _ = try reader.take(18, "counts and flags")
            for _ in 0..<(try reader.count("observables", elementSize: 1)) {
                let name = try reader.string("name")
                _ = try reader.take(8 * reader.count("rank", elementSize: 8), "shape")
                _ = try reader.take(1, "flag")
                let count = try reader.count("sums", elementSize: 1)
                for _ in 0..<count {
                    let start = reader.offset
                    _ = try reader.zigzagVarint("sum")
                    if name == "dm_db" { dmdbSums.append(start..<reader.offset) }
                }
            }
        }

        /// Exact sum `index` of `dm_db` replaced by `value` (the later offsets move).
        mutating func setSum(_ index: Int, _ value: Int64) {
            var writer = BinaryWriter()
            writer.zigzagVarint(value)
            content.replaceSubrange(dmdbSums[index], with: writer.bytes)
        }

        /// The same checkpoint in format 2: the sums at 8 bytes each.
        func formatTwo() throws -> [UInt8] {
            var head = Array(content[..<sumsOffset])
            head[4] = 2
            return Checkpointing.seal(
                head + (try SimulationData(encodedBytes: Array(content[sumsOffset...]))).encodedBytes())
        }

        /// The same checkpoint in format 3: the sums as varints, the upper triangle too.
        func formatThree() throws -> [UInt8] {
            var head = Array(content[..<sumsOffset])
            head[4] = 3
            let sums = try SimulationData(encodedBytes: Array(content[sumsOffset...]))
            return Checkpointing.seal(head + sums.encodedBytes(compactSums: true, mirrored: false))
        }

        var normFactorOffset: Int { sumsOffset + 14 }
        var sampleCountOffset: Int { sumsOffset + 22 }

        func int64(at offset: Int) -> Int64 {
            (0..<8).reduce(Int64(0)) { $0 | Int64(content[offset + $1]) << (8 * Int64($1)) }
        }

        mutating func setInt64(_ value: Int64, at offset: Int) {
            for i in 0..<8 { content[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * Int64(i))) }
        }

        /// The batches done replaced by `batches`.
        mutating func setDone(_ batches: [Int]) {
            let entries = batches.flatMap { batch in
                (0..<8).map { UInt8(truncatingIfNeeded: Int64(batch) >> (8 * Int64($0))) }
            }
            content.replaceSubrange(doneCountOffset + 8..<doneCountOffset + 8 + 8 * doneCount, with: entries)
            setInt64(Int64(batches.count), at: doneCountOffset)
        }
    }

    /// Damaged checkpoints are refused with one line and kept as they were.
    ///
    /// Made from a real one (3 of 16 batches done): each changed as written (its checksum
    /// left as it was), and each changed and sealed again with a valid checksum, which only
    /// the consistency checks can refuse.
    /// Each is refused through `qclab run` with one line naming CK and what is wrong, the
    /// output is not written, and CK is left byte for byte as it was.
    func testDamagedCheckpointsAreRefusedAndKept() throws {
        let folder = try folder(job: Self.shortJobJSON)
        try Self.writePartialCheckpoint(in: folder, batches: 0..<3)
        let ckURL = folder.appendingPathComponent("ck")
        let good = try Data(contentsOf: ckURL)
        let layout = try Layout(good)
        XCTAssertEqual(layout.doneCount, 3)
        XCTAssertEqual(layout.int64(at: layout.normFactorOffset), 12)
        XCTAssertGreaterThan(layout.dmdbSumsOffset, 0)
        Self.writeFuzzSeed(good, named: "good")
        func changed(_ change: (inout Layout) -> Void) -> Layout {
            var copy = layout
            change(&copy)
            return copy
        }
        let dropped = changed { $0.setDone([0, 1]) }
        let added = changed { $0.setDone([0, 1, 2, 3]) }
        let normFactor = changed { $0.setInt64(13, at: $0.normFactorOffset) }
        // The lowest bit of the first limb of dm_db[0]'s sum: a plausible sum, off by one unit.
        let flippedLimb = changed { $0.content[$0.dmdbSums[1].lowerBound] ^= 2 }
        let checksumOnly: [(String, Data)] = [
            ("a done batch dropped", Data(dropped.content) + good.suffix(4)),
            ("a done batch added", Data(added.content) + good.suffix(4)),
            ("the norm factor changed", Data(normFactor.content) + good.suffix(4)),
            ("one bit of a sum flipped", Data(flippedLimb.content) + good.suffix(4)),
            ("truncated", good.prefix(good.count - 100)),
            ("truncated to its checksum", good.suffix(4)),
        ]
        var cases = checksumOnly.map { ($0.0, $0.1, "its checksum does not match its content (truncated or altered)") }
        cases[5].2 = "it is truncated (4 bytes)"
        func sealed(_ layout: Layout) -> Data { Data(Checkpointing.seal(layout.content)) }
        cases += [
            (
                "a done batch dropped, sealed", sealed(dropped),
                "its norm factor is 12, but its 2 batch(es) done hold 8 seeds"
            ),
            (
                "a done batch added, sealed", sealed(added),
                "its norm factor is 12, but its 4 batch(es) done hold 16 seeds"
            ),
            (
                "a done batch twice, sealed", sealed(changed { $0.setDone([0, 1, 1, 2]) }),
                "it lists batch 2 as done twice"
            ),
            (
                "a batch out of the plan, sealed", sealed(changed { $0.setDone([0, 1, 16]) }),
                "it lists batch 17 as done, but this run has batches 1...16"
            ),
            (
                "the norm factor changed, sealed", sealed(normFactor),
                "its norm factor is 13, but its 3 batch(es) done hold 12 seeds"
            ),
            (
                "the samples changed, sealed", sealed(changed { $0.setInt64(11, at: $0.sampleCountOffset) }),
                "it counts 11 samples, but 12 trajectories make 12"
            ),
            (
                "a limb beyond its window, sealed", sealed(changed { $0.setSum(1, 1 << 62) }),
                "the exact sums of 'dm_db' are damaged"
            ),
            (
                "a window out of range, sealed", sealed(changed { $0.setSum(0, 100) }),
                "the exact sums of 'dm_db' are damaged"
            ),
        ]
        for (label, bytes, reason) in cases {
            try bytes.write(to: ckURL)
            for driver in ["serial", "multiprocessing"] {
                let outcome = try QCLabCLI.run(
                    ["run", "job.json", "--driver", driver, "--output", "out.h5", "--checkpoint", "ck"],
                    in: folder)
                XCTAssertEqual(outcome.status, 1, "\(label), \(driver)")
                XCTAssertEqual(outcome.errorLines.count, 1, "\(label), \(driver): \(outcome.errors)")
                XCTAssertTrue(
                    outcome.errors.hasPrefix("qclab: error: checkpoint 'ck' is damaged: "),
                    "\(label): \(outcome.errors)")
                XCTAssertEqual(outcome.errorCode, "invalidPath", outcome.errors)
                XCTAssertTrue(outcome.errors.contains(reason), "\(label): \(outcome.errors)")
                XCTAssertTrue(
                    outcome.errors.contains("remove it to start the run over"), "\(label): \(outcome.errors)")
                XCTAssertEqual(QCLabCLI.contents(of: folder), ["ck", "job.json"], "\(label): no output, nothing else")
                XCTAssertEqual(try Data(contentsOf: ckURL), bytes, "\(label): the checkpoint is kept as it was")
            }
            Self.writeFuzzSeed(bytes, named: label)
        }
        // Under MPI rank 0 reads CK and refuses it, once, for every rank.
        if let mpirun = try? ParallelDriverTests.mpirun() {
            let damaged = cases[0].1
            try damaged.write(to: ckURL)
            let outcome = try QCLabCLI.run(
                [
                    "--oversubscribe", "-n", "2", try QCLabCLI.executable().path, "run", "job.json",
                    "--driver", "mpi", "--output", "out.h5", "--checkpoint", "ck",
                ],
                in: folder, program: mpirun, environment: Self.mpiEnvironment)
            XCTAssertNotEqual(outcome.status, 0)
            XCTAssertEqual(outcome.errorLines.filter { $0.contains("qclab") }.count, 1, outcome.errors)
            XCTAssertEqual(outcome.errorCode, "invalidPath", outcome.errors)
            XCTAssertTrue(
                outcome.errors.contains("qclab: error: checkpoint 'ck' is damaged: its checksum does not match"),
                outcome.errors)
            XCTAssertEqual(QCLabCLI.contents(of: folder), ["ck", "job.json"], "mpi: no output, nothing else")
            XCTAssertEqual(try Data(contentsOf: ckURL), damaged, "mpi: the checkpoint is kept as it was")
        }
        // A checkpoint of format 1 (no checksum) is of an older qclab.
        var old = good
        old[4] = 1
        try old.write(to: ckURL)
        let older = try QCLabCLI.run(["run", "job.json", "--output", "out.h5", "--checkpoint", "ck"], in: folder)
        XCTAssertEqual(
            older.errorLines,
            [
                "qclab: error: checkpoint 'ck' was written by an older qclab (checkpoint format 1, without a checksum); remove it to start the run over"
            ])
        // The good one resumes, to the bits of an uninterrupted run.
        try good.write(to: ckURL)
        let resumed = try QCLabCLI.run(["run", "job.json", "--output", "out.h5", "--checkpoint", "ck"], in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        let whole = try QCLabCLI.run(["run", "job.json", "--output", "whole.h5"], in: folder)
        XCTAssertEqual(whole.status, 0, whole.errors)
        XCTAssertEqual(
            ParallelDriverTests.withoutLog(
                try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path)),
            ParallelDriverTests.withoutLog(
                try SimulationData(contentsOf: folder.appendingPathComponent("whole.h5").path)))
    }

    /// Checkpoints of formats 2 and 3 resume with the bits of a format 4 resume.
    ///
    /// A checkpoint of format 2 (the sums at 8 bytes each) or 3 (varints), as earlier releases
    /// wrote them, is still read: the run resumes from it with the bits of a resume from the
    /// same state in format 4 (varints, the density matrix's upper triangle as zeros), which
    /// is the smallest file.
    func testCheckpointsOfFormatsTwoAndThreeResumeAsFormatFour() throws {
        let folder = try folder(job: Self.shortJobJSON)
        try Self.writePartialCheckpoint(in: folder, batches: 0..<3)
        let ckURL = folder.appendingPathComponent("ck")
        let four = try Data(contentsOf: ckURL)
        XCTAssertEqual(four[4], 4, "format 4 written")
        let two = try Layout(four).formatTwo(), three = try Layout(four).formatThree()
        XCTAssertEqual(three[4], 3)
        XCTAssertLessThan(three.count, two.count * 3 / 4, "varints: \(three.count) bytes against \(two.count)")
        XCTAssertLessThan(four.count, three.count, "the upper triangle as zeros")
        var outputs: [SimulationData] = []
        for (name, bytes) in [("four.h5", Array(four)), ("three.h5", three), ("two.h5", two)] {
            try Data(bytes).write(to: ckURL)
            let outcome = try QCLabCLI.run(["run", "job.json", "--output", name, "--checkpoint", "ck"], in: folder)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
            XCTAssertTrue(
                outcome.errors.contains("resumed from checkpoint 'ck': 12 of 64 trajectories done"), outcome.errors)
            outputs.append(try SimulationData(contentsOf: folder.appendingPathComponent(name).path))
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertEqual(outputs[0], outputs[2])
        XCTAssertEqual(outputs[0].normFactor, 64)
    }

    func testACheckpointOfOtherOutputsOrAnotherTimeGridIsRefused() throws {
        let folder = try folder()
        let job = try Job(contentsOf: folder.appendingPathComponent("job.json").path)
        let plan = try RunPlan(simulation: job.simulation, seeds: job.seeds)
        let checkpoint = Checkpointing(path: folder.appendingPathComponent("ck").path, interval: 0)
        var shorter = job.simulation
        shorter.settings.tmax = 2
        var otherGrid = try shorter.runBatch(seeds: plan.seeds(ofBatch: 0))
        otherGrid.seeds = []
        var fewerOutputs = try job.simulation.runBatch(seeds: plan.seeds(ofBatch: 0))
        fewerOutputs.seeds = []
        fewerOutputs.observables.removeLast()
        for (sums, reason) in [
            (otherGrid, "output 't' has shape [21], but this job's time grid has 41 collect points"),
            (
                fewerOutputs,
                #"it holds outputs ["t", "dm_db", "quantum_energy"], but this job collects ["t", "dm_db", "quantum_energy", "classical_energy"]"#
            ),
        ] {
            try checkpoint.save(
                plan: plan, job: job.simulation.jobRecord, batchSize: 4, done: [0], sums: sums, log: "")
            let written = try Data(contentsOf: URL(fileURLWithPath: checkpoint.path))
            XCTAssertThrowsError(try serialDriver(job.simulation, checkpoint: checkpoint)) { error in
                XCTAssertEqual(
                    "\(error)",
                    "checkpoint '\(checkpoint.path)' is damaged: \(reason); it is left as it is: remove it to start the run over"
                )
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint.path)), written, "kept as it was")
        }
    }

    /// The checksum is CRC-32C: its check value, and a seal that any one flipped bit breaks.
    func testTheChecksumIsCRC32C() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        // The processor's instruction and the byte-wise table agree, on every length and
        // alignment (the instruction takes eight bytes a step, the rest one by one).
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4099).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<9 {
            for end in [start, start + 1, start + 7, start + 8, start + 9, start + 63, 4099] {
                let slice = bytes[start..<end]
                let fast = CRC32C.checksum(slice)
                CRC32C.forcesPortable = true
                let portable = CRC32C.checksum(slice)
                CRC32C.forcesPortable = false
                XCTAssertEqual(fast, portable, "bytes \(start)..<\(end)")
            }
        }
        CRC32C.forcesPortable = true
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        CRC32C.forcesPortable = false
        let content = Array((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let sealed = Checkpointing.seal(content)
        XCTAssertEqual(Checkpointing.unseal(sealed).map(Array.init), content)
        for bit in stride(from: 0, to: 8 * sealed.count, by: 13) {
            var damaged = sealed
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            XCTAssertNil(Checkpointing.unseal(damaged), "bit \(bit)")
        }
    }

    /// With `QCLAB_CHECKPOINT_CORPUS` set (to Fuzz/Corpus/checkpoint), the damaged
    /// checkpoints are written there as the fuzzer's seeds.
    static func writeFuzzSeed(_ bytes: Data, named label: String) {
        guard let corpus = ProcessInfo.processInfo.environment["QCLAB_CHECKPOINT_CORPUS"] else { return }
        let name = label.replacingOccurrences(of: ", ", with: "-").replacingOccurrences(of: " ", with: "-")
        try? bytes.write(to: URL(fileURLWithPath: corpus).appendingPathComponent(name + ".ck"))
    }

    // MARK: A resumed run

    /// A run killed once its checkpoint exists, then resumed: stderr says it resumed and
    /// from what, the log says so too and names every batch exactly once (batches that were
    /// running when it was killed are not in the checkpoint's log), under both local drivers.
    func testAResumedRunSaysSoAndLogsEachBatchOnce() throws {
        for driver in ["serial", "multiprocessing"] {
            let folder = try folder()
            let ck = folder.appendingPathComponent("ck").path
            let command = [
                "run", "job.json", "--driver", driver, "--num-tasks", driver == "serial" ? "1" : "2",
                "--output", "out.h5", "--checkpoint", "ck",
            ]
            // Killed when it says it paused after its first checkpoint (QCLAB_TEST_PAUSE_AT).
            let run = try WatchedProcess(
                QCLabCLI.executable(), command, in: folder,
                environment: ["QCLAB_CHECKPOINT_INTERVAL": "0", "QCLAB_TEST_PAUSE_AT": "checkpoint-1"])
            let paused = run.waitFor("qclab: paused at checkpoint-1\n")
            if run.process.isRunning { run.signalAndWait(SIGKILL) }
            XCTAssertTrue(paused, "\(driver): the run paused after its first checkpoint: \(run.errors)")
            XCTAssertEqual(run.process.terminationReason, .uncaughtSignal, "\(driver): killed before it finished")
            let saved = try Layout(Data(contentsOf: URL(fileURLWithPath: ck)))
            let done = 4 * saved.doneCount
            let resumed = try QCLabCLI.run(command, in: folder)
            XCTAssertEqual(resumed.status, 0, resumed.errors)
            XCTAssertEqual(
                resumed.errorLines, ["qclab: resumed from checkpoint 'ck': \(done) of 64 trajectories done"], driver)
            let log = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path).log
            for batch in 1...16 {
                let lines = log.split(separator: "\n").filter { $0.hasPrefix("Running batch \(batch) with") }
                XCTAssertEqual(lines.count, 1, "\(driver): batch \(batch) logged once:\n\(log)")
            }
            let resumedLines = log.split(separator: "\n").filter {
                $0.hasPrefix("Resumed from checkpoint 'ck': \(done) of 64 trajectories done")
            }
            XCTAssertEqual(resumedLines.count, 1, "\(driver):\n\(log)")
        }
    }

    static let mpiEnvironment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

    /// Under MPI, rank 0 resumes: it says so once, and the log names each batch once.
    func testAResumedMPIRunSaysSo() throws {
        let mpirun = try ParallelDriverTests.mpirun()
        let folder = try folder()
        try Self.writePartialCheckpoint(in: folder, batches: 0..<3, running: [3, 4])
        let outcome = try QCLabCLI.run(
            [
                "--oversubscribe", "-n", "3", try QCLabCLI.executable().path, "run", "job.json",
                "--driver", "mpi", "--output", "out.h5", "--checkpoint", "ck",
            ],
            in: folder, program: mpirun, environment: Self.mpiEnvironment)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        let resumed = outcome.errorLines.filter { $0.hasPrefix("qclab: resumed") }
        XCTAssertEqual(resumed, ["qclab: resumed from checkpoint 'ck': 12 of 64 trajectories done"], outcome.errors)
        let log = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path).log
        XCTAssertEqual(
            log.components(separatedBy: "Resumed from checkpoint 'ck': 12 of 64 trajectories done").count, 2, log)
        for batch in 1...3 {
            XCTAssertEqual(
                log.components(separatedBy: "Running batch \(batch) with").count, 2, "batch \(batch) once:\n\(log)")
        }
        XCTAssertFalse(
            log.contains("Running batch 4 with") || log.contains("Running batch 5 with"),
            "batches that were running:\n\(log)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("ck").path))
    }

    /// A checkpoint written while batches were still running keeps their lines out of its
    /// log (the library's side of the test above, whatever the timing).
    func testACheckpointLogsOnlyTheBatchesItHolds() throws {
        let folder = try folder()
        try Self.writePartialCheckpoint(in: folder, batches: 0..<2, running: [2, 3])
        let job = try Job(contentsOf: folder.appendingPathComponent("job.json").path)
        let plan = try RunPlan(simulation: job.simulation, seeds: job.seeds)
        let saved = try XCTUnwrap(
            Checkpointing(path: folder.appendingPathComponent("ck").path)
                .load(simulation: job.simulation, plan: plan, job: job.simulation.jobRecord, batchSize: 4))
        XCTAssertEqual(saved.done, [0, 1])
        XCTAssertTrue(
            saved.log.contains("Running batch 1 with") && saved.log.contains("Running batch 2 with"), saved.log)
        XCTAssertFalse(
            saved.log.contains("Running batch 3 with") || saved.log.contains("Running batch 4 with"), saved.log)
    }

    /// On a terminal (a pseudo-terminal made by `script`), the first bar after resuming
    /// shows the trajectories of the checkpoint and no rate yet: the rate counts only the
    /// trajectories this process ran (it used to divide the checkpoint's too by the
    /// moments since the process started).
    func testTheProgressRateOfAResumedRunCountsOnlyItsOwnWork() throws {
        let script = try TestEnvironment.requireTool("/usr/bin/script", "util-linux's script (to make a terminal)")
        let folder = try folder()
        try Self.writePartialCheckpoint(in: folder, batches: 0..<8)
        let command = "'\(try QCLabCLI.executable().path)' run job.json --output out.h5 --checkpoint ck >/dev/null"
        let outcome = try QCLabCLI.run(["-qec", command, "/dev/null"], in: folder, program: script)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertTrue(
            outcome.output.contains("qclab: resumed from checkpoint 'ck': 32 of 64 trajectories done"), outcome.output)
        let draws = outcome.output.split(separator: "\r").filter { $0.contains("/64 trajectories") }
        let first = try XCTUnwrap(draws.first, outcome.output)
        XCTAssertTrue(first.contains("] 32/64 trajectories, starting"), "\(first)")
        XCTAssertTrue(draws.last?.contains("64/64 trajectories") ?? false, outcome.output)
    }
}

#if os(Linux)
/// The checkpoint's name appears only by the rename of a whole file: checking the path, or
/// writing it, creates only the temporary name (an empty CK that a SIGKILL left behind would
/// be a damaged checkpoint).
final class CheckpointNameTests: XCTestCase {
    func testOnlyTheTemporaryNameIsCreated() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-ckname")
        let watch = inotify_init1(Int32(IN_NONBLOCK))
        XCTAssertGreaterThanOrEqual(watch, 0)
        defer { close(watch) }
        XCTAssertGreaterThanOrEqual(inotify_add_watch(watch, folder.path, UInt32(IN_CREATE)), 0)
        let path = folder.appendingPathComponent("ck").path
        _ = try OutputTarget(path: path, kind: "checkpoint", probingName: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        var simulation = try ParallelDriverTests.simulation(trajectories: 8)
        simulation.settings.batchSize = 4
        let plan = try RunPlan(simulation: simulation)
        var run = try ParallelRun(
            simulation: simulation, plan: plan, data: SimulationData(), driver: "serial", tasks: 1,
            checkpoint: Checkpointing(path: path, interval: 0))
        try run.store(simulation.runBatch(seeds: plan.seeds(ofBatch: 0)), forBatch: 0)
        try run.checkpointIfDue()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        // The names created in the folder, from the inotify events.
        var created: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(watch, &buffer, buffer.count)
        var offset = 0
        while count > 0, offset + 16 <= count {
            let length = buffer[offset + 12..<offset + 16].enumerated().reduce(0) {
                $0 | Int($1.element) << (8 * $1.offset)
            }
            let name = buffer[offset + 16..<offset + 16 + length].prefix { $0 != 0 }
            created.append(String(decoding: name, as: UTF8.self))
            offset += 16 + length
        }
        XCTAssertGreaterThan(created.count, 0, "the temporary names were seen")
        XCTAssertTrue(created.allSatisfy { $0.hasPrefix(".ck.tmp-") }, "\(created)")
    }
}
#endif
