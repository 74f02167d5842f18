import Foundation
import XCTest
@testable import QCLab

/// Typed accessors agree with the flat arrays they read, and `hasSameResults(as:)`
/// compares numbers, not logs.
final class SimulationDataAccessorsTests: XCTestCase {
    func run(_ driver: (Simulation) throws -> SimulationData, states: Int = 3) throws -> SimulationData {
        var wavefunction = [Complex<Double>](repeating: Complex(0), count: states)
        wavefunction[1] = Complex(0.6, 0.8)
        let settings = SimulationSettings(tmax: 0.5, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 6, batchSize: 2)
        return try driver(Simulation(settings: settings, model: HolsteinLattice(N: states), algorithm: MeanField(),
                                     initialWavefunction: wavefunction))
    }

    func testPopulationsDensityMatrixAndEstimatesReadTheRightElements() throws {
        let data = try run { try serialDriver($0) }
        let n = 3, mean = data.mean("dm_db")!, error = data.standardError("dm_db")!
        XCTAssertEqual(data.stateCount, n)
        let populations = try XCTUnwrap(data.populations)
        XCTAssertEqual(populations.count, data.times.count)
        XCTAssertEqual(populations[0], [0, 1, 0].map { Double($0) }, "all of it on state 1 at t = 0")
        for k in data.times.indices {
            for state in 0..<n {
                let flat = 2 * ((k * n + state) * n + state)
                XCTAssertEqual(populations[k][state], mean[flat])
                XCTAssertEqual(data.population(ofState: state)![k], Estimate(value: mean[flat], standardError: error[flat]))
            }
            XCTAssertEqual(populations[k].reduce(0, +), 1, accuracy: 1e-10, "mean field conserves the norm")
            let coherence = data.densityMatrixElement(0, 1)![k], flat = 2 * ((k * n + 0) * n + 1)
            XCTAssertEqual(coherence, Complex(mean[flat], mean[flat + 1]))
            XCTAssertEqual(data.densityMatrix(atTimeIndex: k)![0][1], coherence)
            XCTAssertEqual(data.densityMatrix(atTimeIndex: k)![1][0].real, coherence.real, accuracy: 1e-14, "Hermitian")
        }
        XCTAssertGreaterThan(data.population(ofState: 1)!.last!.standardError, 0, "error bars from 6 trajectories")
        let energy = try XCTUnwrap(data.estimates("quantum_energy"))
        XCTAssertEqual(energy.map(\.value), data.mean("quantum_energy"))
        XCTAssertEqual(energy.map(\.standardError), data.standardError("quantum_energy"))
        // Out of range or unknown: nil, never a crash.
        XCTAssertNil(data.population(ofState: 3))
        XCTAssertNil(data.densityMatrixElement(0, -1))
        XCTAssertNil(data.densityMatrix(atTimeIndex: data.times.count))
        XCTAssertNil(data.estimates("quantum_energy", element: 1))
        XCTAssertNil(data.estimates("nope"))
        XCTAssertNil(SimulationData().populations)
    }

    func testSameResultsAcrossDriversDespiteDifferentLogs() throws {
        let serial = try run { try serialDriver($0) }
        let forked = try run { try parallelDriverMultiprocessing($0, numTasks: 2) }
        XCTAssertNotEqual(serial.log, forked.log, "the logs name the driver")
        XCTAssertTrue(serial.hasSameResults(as: forked))
        XCTAssertNotEqual(serial, forked, "== compares the log too")
        var other = forked
        other.seeds[0] = 99
        XCTAssertFalse(serial.hasSameResults(as: other))
        other = forked
        var tiny = [Double](repeating: 0, count: other.observables[1].elementCount)
        tiny[0] = 1e-12
        other.observables[1].addSample(tiny)
        XCTAssertFalse(serial.hasSameResults(as: other))
    }
}
