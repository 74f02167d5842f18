import Foundation
import QCLab

/// The file the bytes are written to: HDF5 reads files by name. In the temporary folder
/// (scripts/fuzz.sh removes what a crashed or timed-out input leaves there).
private let scratchPath: String = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-fuzz-\(getpid()).h5").path

/// libFuzzer entry: reads the bytes as an HDF5 output, as `info`, `merge` and `--append` do.
///
/// Only the public API is reachable from this package, so the plots (package-only) are not
/// driven here. Any error thrown is a refusal, which is fine; a crash, trap, failed
/// allocation or hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func FuzzHDF5Reader(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Foundation.Data(bytes: $0, count: count) } ?? Foundation.Data()
    guard FileManager.default.createFile(atPath: scratchPath, contents: bytes) else { return 0 }
    defer { unlink(scratchPath) }
    if let (data, _) = try? SimulationData.load(contentsOf: scratchPath) {
        _ = data.summary(datasetNames: (try? SimulationData.datasetNames(inFileAt: scratchPath)) ?? [])
        var merged = SimulationData()
        try? merged.add(data)
    }
    return 0
}

/// SwiftPM links every executable with `main` renamed to `<module>_main` (so that tests
/// can link it); with -parse-as-library there is no Swift main, so this one hands the
/// command line to libFuzzer's driver, which is what libFuzzer's own main does.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzHDF5Reader_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments) { FuzzHDF5Reader($0, $1) }
}
