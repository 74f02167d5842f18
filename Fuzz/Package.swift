// swift-tools-version:5.10
import PackageDescription

// libFuzzer targets for QCLab for Swift, in their own package so that the library never
// builds them. Build and run them with scripts/fuzz.sh (it passes -sanitize=fuzzer and
// -parse-as-library, which link libFuzzer's main in place of a Swift one).
//
// - FuzzJobParser: bytes as a job file (`Job(json:)`).
// - FuzzHDF5Reader: bytes as an HDF5 output (`SimulationData(contentsOf:)`, `datasetNames`).
// - FuzzCheckpoint: bytes as a run's checkpoint (`ParallelRun(... checkpoint:)`), as they
//   are and re-sealed with a valid checksum.
let package = Package(
    name: "QCLabFuzz",
    dependencies: [.package(name: "QCLab", path: "../")],
    targets: [
        .executableTarget(name: "FuzzJobParser", dependencies: [.product(name: "QCLab", package: "QCLab")],
                          path: "FuzzJobParser"),
        .executableTarget(name: "FuzzHDF5Reader", dependencies: [.product(name: "QCLab", package: "QCLab")],
                          path: "FuzzHDF5Reader"),
        .executableTarget(name: "FuzzCheckpoint", dependencies: [.product(name: "QCLab", package: "QCLab")],
                          path: "FuzzCheckpoint"),
    ]
)
