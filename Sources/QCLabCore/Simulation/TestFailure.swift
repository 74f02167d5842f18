import Foundation

/// Test-only: makes every batch throw a sample error of a chosen code.
///
/// With `QCLAB_TEST_FAIL_WITH=CODE` (a ``QCLabError/Code`` raw value) in the environment,
/// every batch throws ``sample(_:)`` of CODE, so that tests see each code come through the
/// serial, forked and MPI drivers, the command line and the Python bridge unchanged.
/// Unset, as outside the tests, it is one comparison with nil.
enum TestFailure {
    private static let setting = ProcessInfo.processInfo.environment["QCLAB_TEST_FAIL_WITH"]

    /// Throws the sample error `QCLAB_TEST_FAIL_WITH` names, if it is set.
    static func check() throws {
        guard let setting else { return }
        guard let code = QCLabError.Code(rawValue: setting) else {
            throw QCLabError.invalidEnvironment(
                variable: "QCLAB_TEST_FAIL_WITH", value: setting,
                expected: "an error code (such as invalidSetting)")
        }
        throw sample(code)
    }

    /// An error of `code`, every value of its case set (and a non-ASCII letter in its text).
    static func sample(_ code: QCLabError.Code) -> QCLabError {
        switch code {
        case .invalidSetting: return .invalidSetting("tmax", "must be positive, got −1")
        case .invalidConstant: return .invalidConstant(model: "SpinBoson", name: "kBT", reason: "must be positive")
        case .invalidAlgorithmSetting: return .invalidAlgorithmSetting(name: "gauge_fixing", reason: "is not known")
        case .invalidInitialState: return .invalidInitialState("wf_db has 3 entries; the model has 2 states")
        case .unknownName: return .unknownName(kind: "model", name: "SpinBosun", known: ["SpinBoson", "FMOComplex"])
        case .malformedJob: return .malformedJob("line 1, column 2: unexpected ‘}’")
        case .lapack: return .lapack(routine: "zheev", info: -4)
        case .hdf5: return .hdf5(path: "out.h5", reason: "cannot be created")
        case .incompatibleData: return .incompatibleData("time grids differ")
        case .workerFailed:
            return .workerFailed(worker: "worker 2 (pid 7)", reason: "exited with status 3", lostSeeds: [0, 1, 2, 5])
        case .mpi: return .mpi("MPI_Send failed")
        case .invalidPath: return .invalidPath("output 'a/b.h5': its folder does not exist")
        case .unusableData: return .unusableData("the data has no 'dm_db'")
        case .nonFinite:
            return .nonFinite(output: "classical_energy", value: -.infinity, time: 0.5, seeds: [4, 5, 6, 7])
        case .invalidEnvironment:
            return .invalidEnvironment(
                variable: "QCLAB_CHECKPOINT_INTERVAL", value: "inf", expected: "a number of seconds")
        case .system: return .system("cannot start a worker: resource temporarily unavailable")
        }
    }
}
