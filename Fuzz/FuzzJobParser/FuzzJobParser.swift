import Foundation
import QCLab

/// libFuzzer entry: parse the bytes as a job file. Any error thrown is a refusal, which
/// is fine; a crash, trap or hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func FuzzJobParser(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Foundation.Data(bytes: $0, count: count) } ?? Foundation.Data()
    if let job = try? Job(json: bytes, source: "fuzz.json") {
        // A job that parses must also plan without trapping (counts, seeds, memory).
        _ = try? RunPlan(simulation: job.simulation, seeds: job.seeds)
        _ = job.simulation.timeGrid.collectCount
    }
    return 0
}

/// SwiftPM links every executable with `main` renamed to `<module>_main` (so that tests
/// can link it); with -parse-as-library there is no Swift main, so this one hands the
/// command line to libFuzzer's driver, which is what libFuzzer's own main does.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzJobParser_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments) { FuzzJobParser($0, $1) }
}
