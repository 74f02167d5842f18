// swift-tools-version:5.10
import PackageDescription

// An algorithm written outside the library from its building blocks: fewest-switches
// surface hopping that reverses the momentum on frustrated hops (QC Lab's "modify FSSH"
// tutorial). Build and run it from this folder:
//
//     swift run -c release ReversingFSSH [OUTPUT.h5]
let package = Package(
    name: "ReversingFSSH",
    dependencies: [
        .package(name: "QCLab", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "ReversingFSSH",
            dependencies: [.product(name: "QCLab", package: "QCLab")],
            path: "Sources/ReversingFSSH")
    ]
)
