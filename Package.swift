// swift-tools-version:5.10
import PackageDescription

// QCLab for Swift: mixed quantum-classical dynamics (mean-field and FSSH).
// Built and tested on Linux only (x86_64): no Apple platform is declared.
//
// C libraries come in as system libraries found through pkg-config; anything Swift
// cannot import directly (C macros such as MPI_COMM_WORLD or H5T_NATIVE_DOUBLE) goes
// through a small shim target. No unsafe compiler flags are set, so other packages can depend
// on this one.
let package = Package(
    name: "QCLab",
    products: [
        .library(name: "QCLab", targets: ["QCLab"]),
        .library(name: "QCLabMPI", targets: ["QCLabMPI"]),
        .executable(name: "qclab", targets: ["qclab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.0"),
    ],
    targets: [
        // MARK: System libraries
        .systemLibrary(
            name: "CLAPACKE", path: "CSources/CLAPACKE", pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "CSources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CHDF5", path: "CSources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CMPI", path: "CSources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        // MARK: Shims for what Swift cannot import
        // HDF5's and MPI's macros (type handles, property lists, MPI_COMM_WORLD), as functions.
        .target(name: "CHDF5Shims", dependencies: ["CHDF5"], path: "CSources/CHDF5Shims"),
        .target(name: "CMPIShims", dependencies: ["CMPI"], path: "CSources/CMPIShims"),

        // MARK: C by concern
        // Hot loops that vectorize only with C's `restrict` (kernels, eigensolver, random
        // numbers), and the CRC-32C checksum (SSE 4.2 chosen at load, like the kernels' clones).
        .target(name: "CQCLabKernels", path: "CSources/CQCLabKernels"),
        // The exact, order-free reduction of outputs (128-bit integers, fma).
        .target(name: "CQCLabExactSums", path: "CSources/CQCLabExactSums"),
        // Process and signal helpers: prctl, /proc, resource limits, and the signal handler
        // that removes half-written files and records a stop.
        .target(name: "CQCLabProcess", path: "CSources/CQCLabProcess"),

        // MARK: Swift
        // The layers, each only on those below it: Core (physics, no I/O) <- System (syscalls,
        // processes, signals) <- IO (job files, HDF5, checkpoints, plots) <- Runtime (drivers)
        // <- QCLab (the user's module, re-exporting them) <- QCLabMPI.
        .target(
            name: "QCLabCore",
            dependencies: [
                "CLAPACKE", "COpenBLAS", "CQCLabKernels", "CQCLabExactSums",
                .product(name: "Numerics", package: "swift-numerics"),
            ]),
        .target(
            name: "QCLabSystem",
            dependencies: [
                "QCLabCore", "CQCLabKernels", "CQCLabProcess",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "QCLabIO",
            dependencies: [
                "QCLabCore", "QCLabSystem", "CHDF5", "CHDF5Shims", "CQCLabProcess",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "QCLabRuntime",
            dependencies: [
                "QCLabCore", "QCLabSystem", "QCLabIO", "COpenBLAS", "CQCLabProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(name: "QCLab", dependencies: ["QCLabCore", "QCLabSystem", "QCLabIO", "QCLabRuntime"]),
        .target(
            name: "QCLabMPI",
            dependencies: ["QCLab", "QCLabCore", "QCLabSystem", "QCLabIO", "QCLabRuntime", "CMPI", "CMPIShims"]),
        .executableTarget(
            name: "qclab",
            dependencies: [
                "QCLab", "QCLabMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Run by the tests under mpirun (no product: packages that depend on ours never build it).
        .executableTarget(
            name: "MPIFailureProbe", dependencies: ["QCLab", "QCLabMPI"], path: "Tests/MPIFailureProbe"),
        .testTarget(
            name: "QCLabTests",
            dependencies: ["QCLab", "QCLabMPI", .product(name: "Numerics", package: "swift-numerics")],
            resources: [.copy("Fixtures")]),
    ]
)
