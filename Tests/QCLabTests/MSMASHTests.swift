import Foundation
import XCTest
@testable import QCLab

/// MSMASH's physics invariants, its settings' validation and its two outputs through
/// `qclab run`, `merge`, `info` and `plot`.
final class MSMASHTests: XCTestCase {
    /// `Φ_n = 1/N + α (|c_n|² - 1/N)` sums to one in every trajectory at every time, since the
    /// propagation is unitary: checked on the 7-state FMO complex and the spin-boson model.
    func testPopulationsSumToOne() throws {
        let cases: [(any Model, Int)] = [
            (try FMOComplex(constants: ModelConstants(model: "FMOComplex")), 7), (SpinBoson(V: 1.0, A: 20), 2),
        ]
        for (model, states) in cases {
            var initial = [Complex<Double>](repeating: Complex(0), count: states)
            initial[0] = Complex(1)
            let algorithm = try MultiStateMappingApproachToSurfaceHopping()
            var batch = try MSMASHBatch(
                algorithm: algorithm, model: model, seeds: [0, 1, 2, 3], initialWavefunction: initial)
            var rho = ComplexBatch(components: states * states, batchSize: 4)
            for step in 0...200 {
                batch.densityMatrix(into: &rho)
                for t in 0..<4 {
                    let trace = (0..<states).map { rho[$0 * states + $0, t].real }.reduce(0, +)
                    XCTAssertEqual(trace, 1, accuracy: 1e-10, "\(model.modelName) step \(step) row \(t)")
                }
                if step == 0 {
                    // The focused sampling puts Φ_init(0) = 1 exactly in every trajectory.
                    for t in 0..<4 { XCTAssertEqual(rho[0, t].real, 1, accuracy: 1e-12) }
                }
                try batch.step(dt: 0.01)
            }
        }
    }

    /// Energy `p²/2m + E_active` is conserved through MSMASH's hops on Tully's first problem:
    /// a step with a hop (the active surface jumps by the gap, about 0.01 to 0.02 here) moves
    /// the total no more than the integrator does in steps without one, and over the whole
    /// run it drifts only by the integrator's error (QC Lab's scheme keeps the active
    /// eigenvector of the step's start through its RK4 stages).
    func testEnergyIsConservedThroughHopsOnTully() throws {
        let model = TullyProblemOne(initMomentum: 12, initPosition: -6)
        let algorithm = try MultiStateMappingApproachToSurfaceHopping()
        let seeds = Array(0..<16)
        var batch = try MSMASHBatch(
            algorithm: algorithm, model: model, seeds: seeds,
            initialWavefunction: [Complex(1), Complex(0)])
        func energies() throws -> [Double] {
            var h = ComplexBatch(components: 4, batchSize: seeds.count)
            model.quantumHamiltonian(z: batch.z, into: &h)
            var frame = try AdiabaticFrame(states: 2, rows: seeds.count, isReal: model.hamiltonianIsReal)
            try frame.diagonalize(h)
            let values = frame.eigenvalues
            var kinetic = [Double](repeating: 0, count: seeds.count)
            model.classicalEnergy(z: batch.z, into: &kinetic)
            return seeds.indices.map { kinetic[$0] + values[batch.activeSurface[$0] * seeds.count + $0] }
        }
        let start = try energies()
        var previous = start
        var hops = 0, largestHopStepChange = 0.0, largestStepChange = 0.0
        for _ in 0..<4000 {
            let before = batch.activeSurface
            try batch.step(dt: 0.5)
            let now = try energies()
            for t in seeds.indices {
                let change = abs(now[t] - previous[t])
                largestStepChange = max(largestStepChange, change)
                if before[t] != batch.activeSurface[t] {
                    hops += 1
                    largestHopStepChange = max(largestHopStepChange, change)
                }
            }
            previous = now
        }
        XCTAssertGreaterThan(hops, 0, "no trajectory hopped: the test would prove nothing")
        XCTAssertLessThan(largestHopStepChange, 1e-6, "a hop step changed the energy by more than the integrator does")
        XCTAssertLessThan(largestStepChange, 1e-6)
        for (a, b) in zip(start, previous) { XCTAssertEqual(a, b, accuracy: 3e-3 * abs(a)) }
        print(
            "MSMASH Tully I: \(hops) hops, largest energy change in a hop step \(largestHopStepChange), in any step \(largestStepChange)"
        )
    }

    func testSettingsAreValidatedWithOneLineErrors() throws {
        func job(_ settings: String) -> String {
            #"{"model": {"name": "SpinBoson"}, "algorithm": {"name": "MultiStateMappingApproachToSurfaceHopping", "settings": \#(settings)}, "initial_state": {"wf_db": [1, 0]}}"#
        }
        let bad: [(settings: String, code: QCLabError.Code, culprit: String)] = [
            (#"{"msmash_num_bisections": 0}"#, .invalidAlgorithmSetting, "msmash_num_bisections"),
            (#"{"msmash_max_hops": 1.5}"#, .invalidAlgorithmSetting, "msmash_max_hops"),
            (#"{"gauge_fixing": "phase"}"#, .unknownName, "phase"),
            (#"{"reverse_frustrated_hops": 1}"#, .invalidAlgorithmSetting, "reverse_frustrated_hops"),
            (#"{"fssh_deterministic": true}"#, .unknownName, "fssh_deterministic"),
        ]
        for (settings, code, culprit) in bad {
            XCTAssertThrowsError(try Job(json: Foundation.Data(job(settings).utf8))) { error in
                XCTAssertEqual((error as? QCLabError)?.code, code, "\(error)")
                XCTAssertEqual((error as? QCLabError)?.culprit, culprit, "\(error)")
            }
        }
        let parsed = try Job(
            json: Foundation.Data(job(#"{"gauge_fixing": "phase_der_couple", "msmash_max_hops": 3}"#).utf8))
        let algorithm = try XCTUnwrap(parsed.simulation.algorithm as? MultiStateMappingApproachToSurfaceHopping)
        XCTAssertEqual(algorithm.gaugeFixing, .phaseDerCouple)
        XCTAssertEqual(algorithm.maxHops, 3)
        XCTAssertEqual(algorithm.numBisections, 10)
        XCTAssertTrue(algorithm.reverseFrustratedHops)
        XCTAssertFalse(algorithm.useGaugeFieldForce)
    }

    /// MSMASH writes `t` and `dm_db` only; `qclab merge`, `info` and `plot` take them.
    func testTwoOutputsThroughRunMergeInfoAndPlot() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-msmash")
        func write(_ name: String, _ seeds: String) throws {
            let text =
                #"{"settings": {"tmax": 0.5, "dt_update": 0.01, "dt_collect": 0.1, "batch_size": 2}, "#
                + #""model": {"name": "SpinBoson"}, "algorithm": {"name": "MultiStateMappingApproachToSurfaceHopping"}, "#
                + #""initial_state": {"wf_db": [1, 0]}, "seeds": \#(seeds)}"#
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("a.json", "[0, 1]")
        try write("b.json", "[2, 3, 4]")
        for name in ["a", "b"] {
            let outcome = try QCLabCLI.run(["run", "\(name).json", "--output", "\(name).h5"], in: folder)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
        }
        let data = try SimulationData(contentsOf: folder.appendingPathComponent("a.h5").path)
        XCTAssertEqual(data.observables.map(\.name), ["t", "dm_db"])
        let merge = try QCLabCLI.run(["merge", "a.h5", "b.h5", "--output", "m.h5"], in: folder)
        XCTAssertEqual(merge.status, 0, merge.errors)
        let info = try QCLabCLI.run(["info", "m.h5"], in: folder)
        XCTAssertEqual(info.status, 0, info.errors)
        for expected in ["trajectories: 5", "t (6,) real", "dm_db (6, 2, 2) complex"] {
            XCTAssertTrue(info.output.contains(expected), "'\(expected)' not in:\n\(info.output)")
        }
        XCTAssertFalse(info.output.contains("quantum_energy"))
        let plot = try QCLabCLI.run(["plot", "m.h5", "--output", "pop.svg"], in: folder)
        XCTAssertEqual(plot.status, 0, plot.errors)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("pop.svg").path))
    }
}
