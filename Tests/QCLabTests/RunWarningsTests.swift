import Foundation
import Logging
import XCTest
@testable import QCLab

/// A run that differs from what was asked says so.
///
/// Rounded time grid, dt_update beyond tmax, seeds overriding num_trajs, an unnormalized wf_db; a
/// zero wf_db is refused. The library itself stays quiet unless the program gives it a logger.
final class RunWarningsTests: XCTestCase {
    func simulation(
        tmax: Double = 1, dtUpdate: Double = 0.01, dtCollect: Double = 0.1,
        wavefunction: [Complex<Double>] = [Complex(1), Complex(0)]
    ) -> Simulation {
        Simulation(
            settings: SimulationSettings(
                tmax: tmax, dtUpdate: dtUpdate, dtCollect: dtCollect, numTrajs: 2, batchSize: 2),
            model: SpinBoson(A: 4), algorithm: MeanField(), initialWavefunction: wavefunction)
    }

    func testAJobRunAsWrittenHasNoWarnings() {
        XCTAssertEqual(simulation().warnings, [])
        XCTAssertEqual(
            simulation(wavefunction: [Complex(0.6), Complex(0, 0.8)]).warnings, [], "normalized up to rounding")
    }

    func testRoundedGridAndLongStepAreNamed() throws {
        XCTAssertEqual(
            simulation(dtCollect: 0.015).warnings,
            [
                "dt_collect 0.015 is not a whole number of dt_update steps (0.01); collecting every 0.02 instead",
                "tmax 1 becomes 1.34: QC Lab's rounding takes round(tmax / dt_collect) = 67 intervals of the rounded dt_collect 0.02",
            ])
        XCTAssertEqual(
            simulation(tmax: 1.05).warnings,
            ["tmax 1.05 is not a whole number of dt_collect intervals (0.1); running to tmax 1 instead"])
        XCTAssertEqual(
            simulation(tmax: 0.2, dtUpdate: 0.5).warnings,
            ["dt_update 0.5 is larger than tmax 0.2: the run has 1 time point (t = 0)"])
        // The time grid the warnings describe is the one that runs.
        XCTAssertEqual(try serialDriver(simulation(dtCollect: 0.015)).times.last!, 1.34, accuracy: 1e-12)
    }

    func testUnnormalizedWavefunctionWarnsAndZeroIsRefused() throws {
        XCTAssertEqual(
            simulation(wavefunction: [Complex(1), Complex(1)]).warnings,
            [
                "wf_db is not normalized (sum of |c|² is 2, not 1); it is used as given, as QC Lab does, so the populations start summing to 2"
            ])
        XCTAssertThrowsError(try serialDriver(simulation(wavefunction: [Complex(0), Complex(0)]))) { error in
            XCTAssertEqual("\(error)", "initial_state: wf_db is zero: there is no initial state to propagate")
        }
    }

    func testWarningsGoIntoTheRunsLog() throws {
        let data = try serialDriver(simulation(wavefunction: [Complex(1), Complex(1)]))
        XCTAssertTrue(data.log.contains("Warning: wf_db is not normalized"), data.log)
    }

    func testTheJobsSeedsOverridingNumTrajsWarn() throws {
        let job = try Job(json: Data(BadJob.job(extra: #", "seeds": [3, 4, 5]"#).utf8))
        XCTAssertEqual(job.warnings, ["the job's 3 seeds override its num_trajs 4: running 3 trajectories"])
        XCTAssertEqual(
            try Job(json: Data(BadJob.job(settings: #"{"num_trajs": 3}"#, extra: #", "seeds": [3, 4, 5]"#).utf8))
                .warnings, [])
        XCTAssertEqual(
            try Job(json: Data(BadJob.job(settings: #"{"tmax": 0.2}"#, extra: #", "seeds": [3, 4, 5]"#).utf8))
                .warnings, [],
            "no num_trajs in the job: nothing overridden")
    }

    /// A log handler that keeps what it receives.
    final class Recorder: LogHandler, @unchecked Sendable {
        let lock = NSLock()
        var messages: [String] = []
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            lock.withLock { messages.append("\(event.level): \(event.message)") }
        }
    }

    func testTheLibraryIsQuietUntilGivenALogger() throws {
        XCTAssertNil(QCLabLogging.logger, "quiet by default")
        let recorder = Recorder()
        QCLabLogging.logger = Logger(label: "qclab", factory: { _ in recorder })
        defer { QCLabLogging.logger = nil }
        _ = try serialDriver(simulation(wavefunction: [Complex(1), Complex(1)]))
        XCTAssertTrue(
            recorder.messages.contains { $0.hasPrefix("warning: Warning: wf_db is not normalized") },
            "\(recorder.messages)")
        XCTAssertTrue(recorder.messages.contains("info: Simulation complete."), "\(recorder.messages)")
    }
}
