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
        return try driver(
            Simulation(
                settings: settings, model: HolsteinLattice(N: states), algorithm: MeanField(),
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
                XCTAssertEqual(
                    data.population(ofState: state)![k], Estimate(value: mean[flat], standardError: error[flat]))
            }
            XCTAssertEqual(populations[k].reduce(0, +), 1, accuracy: 1e-10, "mean field conserves the norm")
            let coherence = data.densityMatrixElement(0, 1)![k], flat = 2 * ((k * n + 0) * n + 1)
            XCTAssertEqual(coherence, Complex(mean[flat], mean[flat + 1]))
            XCTAssertEqual(data.densityMatrix(atTimeIndex: k)![0][1], coherence)
            XCTAssertEqual(
                data.densityMatrix(atTimeIndex: k)![1][0].real, coherence.real, accuracy: 1e-14, "Hermitian")
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

    /// `dm_db[t][i][j]` and the other shaped accessors read the flat arrays in QC Lab's
    /// order, and nothing else; a shape they do not take gives nil.
    func testShapedMatricesAndVectorsReadTheFlatArrays() throws {
        let states = 3
        var wavefunction = [Complex<Double>](repeating: Complex(0), count: states)
        wavefunction[1] = Complex(0.6, 0.8)
        var simulation = Simulation(
            settings: SimulationSettings(tmax: 0.5, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 6, batchSize: 2),
            model: HolsteinLattice(N: states), algorithm: MeanField(), initialWavefunction: wavefunction)
        simulation.outputs = [try OutputRegistry.make("q", model: simulation.model)]
        let data = try serialDriver(simulation)
        let mean = data.mean("dm_db")!, error = data.standardError("dm_db")!, times = data.times.count
        let rho = try XCTUnwrap(data.dm_db), sem = try XCTUnwrap(data.matrices("dm_db", standardErrors: true))
        XCTAssertEqual([rho.count, rho[0].count, rho[0][0].count], [times, states, states])
        XCTAssertEqual(rho, data.matrices("dm_db"))
        for t in 0..<times {
            XCTAssertEqual(rho[t], data.densityMatrix(atTimeIndex: t))
            for i in 0..<states {
                for j in 0..<states {
                    let flat = 2 * ((t * states + i) * states + j)
                    XCTAssertEqual(rho[t][i][j], Complex(mean[flat], mean[flat + 1]))
                    XCTAssertEqual(sem[t][i][j], Complex(error[flat], error[flat + 1]))
                }
            }
        }
        XCTAssertEqual(rho[0][1][1], Complex(1), "all of it on state 1 at t = 0")
        XCTAssertNotEqual(rho.last![0][1], rho.last![1][0], "not transposed: ρ01 = conj(ρ10), not ρ10")
        // A real (T, C) output by coordinate, and a real output as complex matrices.
        let q = try XCTUnwrap(data.vectors("q")), qFlat = data.mean("q")!,
            coordinates = simulation.model.numClassicalCoordinates
        XCTAssertEqual([q.count, q[0].count], [times, coordinates])
        XCTAssertEqual(q.flatMap { $0 }, qFlat)
        XCTAssertEqual(data.vectors("q", standardErrors: true)?.flatMap { $0 }, data.standardError("q"))
        // Shapes they do not take: nil.
        XCTAssertNil(data.matrices("q"))
        XCTAssertNil(data.matrices("quantum_energy"))
        XCTAssertNil(data.vectors("dm_db"))
        XCTAssertNil(data.vectors("quantum_energy"))
        XCTAssertNil(data.matrices("nope"))
        XCTAssertNil(SimulationData().dm_db)
    }

    /// Read from a file `qclab run` wrote, `dm_db[t][i][j]` is what h5py reads as
    /// `f["dm_db"][t, i, j]`, and `vectors("adiabatic_populations")[t][k]` is
    /// `f["adiabatic_populations"][t, k]`, to the bit.
    func testShapedAccessorsOfAFileAgreeWithH5py() throws {
        let python = try TestEnvironment.requirePython()
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-shaped")
        try BadJob.job(
            model: #"{"name": "HolsteinLattice", "constants": {"N": 3}}"#,
            initialState: #"{"wf_db": [[0.6, 0.0], [0.0, 0.8], 0.0]}"#,
            extra: #", "outputs": ["adiabatic_populations"]"#
        )
        .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let run = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        let read = try QCLabCLI.run(
            [
                "-c",
                """
                import h5py
                with h5py.File("out.h5", "r") as f:
                    for t, i, j in [(0, 0, 1), (1, 0, 1), (2, 1, 0), (2, 2, 2), (1, 1, 2)]:
                        z = f["dm_db"][t, i, j]
                        print("dm_db", t, i, j, z.real.hex(), z.imag.hex())
                    for t, k in [(0, 0), (2, 1), (1, 2)]:
                        print("adiabatic_populations", t, k, float(f["adiabatic_populations"][t, k]).hex())
                """,
            ], in: folder, program: python)
        XCTAssertEqual(read.status, 0, read.errors)
        let data = try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path)
        let rho = try XCTUnwrap(data.dm_db), populations = try XCTUnwrap(data.vectors("adiabatic_populations"))
        let lines = read.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.count, 8, read.output)
        for line in lines {
            let index = line.dropFirst().prefix(line[0] == "dm_db" ? 3 : 2).map { Int($0)! }
            let values = line.suffix(line[0] == "dm_db" ? 2 : 1).map { Double($0)! }
            if line[0] == "dm_db" {
                XCTAssertEqual(
                    rho[index[0]][index[1]][index[2]], Complex(values[0], values[1]), line.joined(separator: " "))
            } else {
                XCTAssertEqual(populations[index[0]][index[1]], values[0], line.joined(separator: " "))
            }
        }
        XCTAssertNotEqual(rho[1][0][1], Complex(0), "a coherence that is not zero is compared")
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
