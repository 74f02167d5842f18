import Foundation
import QCLab

/// The job the seed checkpoints (Fuzz/Corpus/checkpoint) belong to: the same text as
/// `CheckpointIntegrityTests.shortJobJSON`, whose test writes them (with
/// QCLAB_CHECKPOINT_CORPUS set). 16 batches of 4 seeds, 11 collect points.
let jobJSON = """
    {"settings": {"tmax": 1.0, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 64, "batch_size": 4},
     "model": {"name": "SpinBoson", "constants": {"A": 10}},
     "algorithm": {"name": "FewestSwitchesSurfaceHopping", "settings": {"fssh_deterministic": false}},
     "initial_state": {"wf_db": [[1.0, 0.0], [0.0, 0.0]]}}
    """
let job = try! Job(json: Foundation.Data(jobJSON.utf8), source: "fuzz.json")
let plan = try! RunPlan(simulation: job.simulation, seeds: job.seeds)
/// One file per fuzzing process (fork mode runs several).
let path = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-fuzz-checkpoint-\(getpid())").path

/// Resumes a run from `bytes` as its checkpoint: a refusal (thrown) is fine; a crash, trap
/// or hang is a finding. A resumed run is finished too (it throws for the batches missing).
func resume(from bytes: [UInt8]) {
    guard FileManager.default.createFile(atPath: path, contents: Foundation.Data(bytes)) else { fatalError("cannot write \(path)") }
    defer { unlink(path) }
    guard var run = try? ParallelRun(simulation: job.simulation, plan: plan, data: SimulationData(), driver: "serial", tasks: 1,
                                     checkpoint: Checkpointing(path: path)) else { return }
    _ = run.missingSeeds
    _ = try? run.finish()
}

/// CRC-32C, as a checkpoint's seal (Checkpointing.seal), so that mutated inputs re-sealed
/// reach the parser and the consistency checks behind the checksum.
let crcTable: [UInt32] = (0..<256).map { index in
    var crc = UInt32(index)
    for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    return crc
}

func sealed(_ content: ArraySlice<UInt8>) -> [UInt8] {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in content { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    crc ^= 0xFFFF_FFFF
    return Array(content) + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
}

/// libFuzzer entry: the bytes as a checkpoint as they are, then with their last four bytes
/// replaced by the checksum of the rest.
@_cdecl("LLVMFuzzerTestOneInput")
public func FuzzCheckpoint(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    resume(from: bytes)
    if bytes.count >= 4 { resume(from: sealed(bytes.dropLast(4))) }
    return 0
}

/// SwiftPM links every executable with `main` renamed to `<module>_main`; with
/// -parse-as-library there is no Swift main, so this one hands the command line to
/// libFuzzer's driver (see FuzzJobParser).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzCheckpoint_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments) { FuzzCheckpoint($0, $1) }
}
