// swift-tools-version:5.10
import PackageDescription

// An example of a package that uses QCLab as a library: a user-defined three-state model
// run through QCLab's drivers. Build and run it from this folder:
//
//     swift run -c release ThreeStateModel [OUTPUT.h5] [--verbose]
//
// Another project depends on QCLab the same way, by path or by URL:
//
//     .package(url: "<this repository's URL>", branch: "main")   // then .product(name: "QCLab", package: "<its name>")
let package = Package(
    name: "ThreeStateModel",
    dependencies: [
        .package(name: "QCLab", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "ThreeStateModel",
            dependencies: [
                .product(name: "QCLab", package: "QCLab"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ThreeStateModel")
    ]
)
