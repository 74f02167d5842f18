// swift-tools-version:6.1
import PackageDescription

// Benchmarks for QCLab for Swift, kept in their own package so that the library and
// its users never depend on package-benchmark. Run from this folder:
//
//     swift package benchmark                     # everything
//     swift package benchmark --filter 'Eigen.*'  # a subset
//
// The "MallocInterposer" trait gives the malloc metrics without jemalloc (no
// libjemalloc-dev needed); naming it also leaves out package-benchmark's default
// "RuntimeInterposer" trait, which would pull in ordo-one/swift-runtime-interposer.
let package = Package(
    name: "QCLabBenchmarks",
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "QCLab", path: "../"),
    ],
    targets: [
        .executableTarget(
            name: "QCLabBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "QCLab", package: "QCLab"),
            ],
            path: "QCLabBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
