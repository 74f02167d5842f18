import Foundation
import XCTest
// Only the public API, as a user's package sees it: no @testable. (The step plan two
// tests force is System Programming Interface, hence the SPI import.)
import QCLab
@_spi(Benchmarks) import QCLabCore

/// What a program that imports the library can add: outputs written in Swift, models and
/// algorithms registered by name and run from job files, and the correctness checks of
/// the model flags.
final class OpenEngineTests: XCTestCase {
    private func settings(trajectories: Int, batch: Int, tmax: Double = 2, dt: Double = 0.01) -> SimulationSettings {
        var s = SimulationSettings(tmax: tmax, dtUpdate: dt, dtCollect: 0.25)
        s.numTrajs = trajectories
        s.batchSize = batch
        return s
    }

    /// A user's output gets sums, error bars, merging, the parallel driver and HDF5 exactly
    /// as a built-in one: the classical energy recomputed in Swift equals the built-in
    /// `classical_energy` to the bit (weights of deterministic branches included), and the
    /// first coordinate's position equals column 0 of the built-in `q`.
    func testAUserOutputIsCollectedLikeABuiltInOne() throws {
        let energy = Output(name: "my_classical_energy", shape: []) { state, values in
            state.model.classicalEnergy(z: state.z, into: &values.re)
            if let weights = state.weights {
                for t in 0..<state.rows { values.re[t] *= weights[t] }
            }
        }
        let q0 = Output(name: "q0", shape: []) { state, values in
            let scale = (2 / (state.model.classicalCoordinateMass[0] * state.model.classicalCoordinateWeight[0]))
                .squareRoot()
            for t in 0..<state.rows { values.re[t] = scale * state.z.re[t] }
        }
        let algorithms: [any Algorithm] = [MeanField(), FewestSwitchesSurfaceHopping(deterministic: true)]
        for algorithm in algorithms {
            var simulation = Simulation(
                settings: settings(trajectories: 12, batch: 4), model: SpinBoson(A: 8),
                algorithm: algorithm, initialWavefunction: [Complex(0.6), Complex(0, 0.8)])
            simulation.outputs = [energy, try OutputRegistry.make("q", model: simulation.model), q0]
            let data = try serialDriver(simulation)
            let label = algorithm.algorithmName
            XCTAssertEqual(
                data.observables.map(\.name),
                ["t", "dm_db", "quantum_energy", "classical_energy", "my_classical_energy", "q", "q0"], label)
            XCTAssertEqual(
                data.observable("my_classical_energy")?.exactSums, data.observable("classical_energy")?.exactSums,
                label)
            XCTAssertEqual(data.standardError("my_classical_energy"), data.standardError("classical_energy"), label)
            let q = data.mean("q")!, coordinates = simulation.model.numClassicalCoordinates
            XCTAssertEqual(data.mean("q0")!, stride(from: 0, to: q.count, by: coordinates).map { q[$0] }, label)
            XCTAssertTrue(data.standardError("q0")!.dropFirst().allSatisfy { $0 > 0 }, "\(label): error bars")

            // Forked workers, merging and the HDF5 file treat it alike.
            let parallel = try parallelDriverMultiprocessing(simulation, numTasks: 2)
            XCTAssertEqual(parallel.observables, data.observables, label)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("user-output-\(UUID()).h5").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try data.save(to: path)
            let loaded = try SimulationData(contentsOf: path)
            XCTAssertEqual(loaded.mean("q0"), data.mean("q0"), label)
            XCTAssertEqual(loaded.standardError("q0"), data.standardError("q0"), label)
        }
    }

    func testJobOutputsAreCheckedAndNamed() throws {
        func job(_ outputs: String, algorithm: String = "FewestSwitchesSurfaceHopping") -> String {
            """
            {"settings": {"tmax": 1, "dt_update": 0.01, "num_trajs": 4, "batch_size": 2},
             "model": {"name": "SpinBoson", "constants": {"A": 5}},
             "algorithm": {"name": "\(algorithm)"},
             "initial_state": {"wf_db": [1, 0]}, "outputs": \(outputs)}
            """
        }
        let parsed = try Job(
            json: Data(job(#"["q", "p", "adiabatic_populations", "active_surface_populations"]"#).utf8))
        XCTAssertEqual(
            parsed.simulation.outputs.map(\.name), ["q", "p", "adiabatic_populations", "active_surface_populations"])
        let data = try serialDriver(parsed.simulation)
        XCTAssertEqual(data.observable("q")?.shape, [11, 5])
        XCTAssertEqual(data.observable("active_surface_populations")?.shape, [11, 2])
        // Active-surface populations of one trajectory sum to one; adiabatic populations too.
        for name in ["active_surface_populations", "adiabatic_populations"] {
            let mean = data.mean(name)!
            for k in 0..<11 { XCTAssertEqual(mean[2 * k] + mean[2 * k + 1], 1, accuracy: 1e-12, name) }
        }
        // Mean field has adiabatic populations (it diagonalizes at collect points) but no surfaces.
        let meanField = try Job(json: Data(job(#"["adiabatic_populations"]"#, algorithm: "MeanField").utf8))
        let mfData = try serialDriver(meanField.simulation)
        XCTAssertEqual(
            mfData.mean("adiabatic_populations")![0] + mfData.mean("adiabatic_populations")![1], 1, accuracy: 1e-12)

        let bad: [(String, String, String)] = [
            (job(#"["q", "x"]"#), "output", "x"),
            (job(#"["q", "q"]"#), "outputs", "twice"),
            (job(#"["dm_db"]"#), "output", "dm_db"),
            (job(#""q""#), "outputs", "array"),
            (job(#"[1]"#), "outputs", "array"),
            (
                job(#"["active_surface_populations"]"#, algorithm: "MeanField"), "active_surface_populations",
                "MeanField"
            ),
        ]
        for (text, culprit, detail) in bad {
            XCTAssertThrowsError(try Job(json: Data(text.utf8))) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(culprit) && message.contains(detail), message)
            }
        }
    }

    /// A model and an algorithm written in Swift and registered by name run from a job file,
    /// exactly as the same simulation built in Swift.
    func testRegisteredModelAndAlgorithmRunFromAJobFile() throws {
        ModelRegistry.register("RegisteredThreeState") { constants, distribution in
            var model = ThreeStateCrossing()
            for (name, value) in constants {
                guard case let .number(x) = value else {
                    throw QCLabError.invalidConstant(
                        model: "RegisteredThreeState", name: name, reason: "must be a number")
                }
                switch name {
                case "init_momentum": model.initMomentum = x
                case "init_position": model.initPosition = x
                default:
                    throw QCLabError.unknownName(
                        kind: "constant of RegisteredThreeState", name: name,
                        known: ["init_momentum", "init_position"])
                }
            }
            return model
        }
        AlgorithmRegistry.register("GenericFSSH") { settings in
            guard settings.isEmpty else {
                throw QCLabError.invalidAlgorithmSetting(
                    name: settings.keys.sorted()[0], reason: "is not a setting of GenericFSSH")
            }
            return FewestSwitchesSurfaceHopping(stepPlan: .generic(diagonalizes: true))
        }
        XCTAssertTrue(ModelRegistry.names.contains("RegisteredThreeState"))
        XCTAssertTrue(AlgorithmRegistry.names.contains("GenericFSSH"))
        let text = """
            {"settings": {"tmax": 200, "dt_update": 1, "dt_collect": 20, "num_trajs": 6, "batch_size": 3},
             "model": {"name": "RegisteredThreeState", "constants": {"init_momentum": 25, "init_position": -3}},
             "algorithm": {"name": "GenericFSSH"},
             "initial_state": {"wf_db": [1, 0, 0]}, "outputs": ["p"]}
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("registered-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let job = try Job(contentsOf: path)
        let fromJob = try serialDriver(job.simulation)

        var model = ThreeStateCrossing()
        model.initMomentum = 25
        model.initPosition = -3
        var simulation = Simulation(
            settings: job.simulation.settings, model: model,
            algorithm: FewestSwitchesSurfaceHopping(stepPlan: .generic(diagonalizes: true)),
            initialWavefunction: [Complex(1), Complex(0), Complex(0)])
        simulation.outputs = [try OutputRegistry.make("p", model: model)]
        let inSwift = try serialDriver(simulation)
        XCTAssertEqual(fromJob.observables, inSwift.observables)
        XCTAssertNotEqual(fromJob.mean("p")!.first, fromJob.mean("p")!.last, "the particle was slowed by the crossing")

        // Its own errors reach the job reader.
        let badConstant = text.replacingOccurrences(of: "init_position", with: "init_positon")
        XCTAssertThrowsError(try Job(json: Data(badConstant.utf8))) {
            XCTAssertEqual(($0 as? QCLabError)?.code, .unknownName, "\($0)")
            XCTAssertEqual(($0 as? QCLabError)?.culprit, "init_positon", "\($0)")
        }
    }

    /// A flag that claims too much is an error naming the model (tests run debug builds).
    func testWrongCorrectnessFlagsAreCaughtInDebugBuilds() throws {
        let cases: [(any Model, String)] = [
            (
                Misflagged(
                    base: HolsteinLatticeReciprocalSpace(N: 4), claimsRealHamiltonian: true, claimsFixedCoupling: false
                ),
                "hamiltonianIsReal"
            ),
            (
                Misflagged(base: TullyProblemOne(), claimsRealHamiltonian: true, claimsFixedCoupling: true),
                "couplingGradientDependsOnZ"
            ),
        ]
        for (model, flag) in cases {
            for algorithm in [MeanField(), FewestSwitchesSurfaceHopping()] as [any Algorithm] {
                let simulation = Simulation(
                    settings: settings(trajectories: 2, batch: 2, tmax: 0.1),
                    model: model, algorithm: algorithm,
                    initialWavefunction: (0..<model.numQuantumStates).map { Complex($0 == 0 ? 1 : 0) })
                XCTAssertThrowsError(try serialDriver(simulation)) { error in
                    guard case let QCLabError.invalidConstant(name, constant, _) = error else {
                        return XCTFail("\(error)")
                    }
                    XCTAssertEqual(name, "Misflagged")
                    XCTAssertEqual(constant, flag)
                }
            }
        }
        // Honest flags pass.
        let honest = Misflagged(base: TullyProblemOne(), claimsRealHamiltonian: true, claimsFixedCoupling: false)
        XCTAssertNoThrow(
            try serialDriver(
                Simulation(
                    settings: settings(trajectories: 2, batch: 2, tmax: 1, dt: 0.5),
                    model: honest, algorithm: FewestSwitchesSurfaceHopping(),
                    initialWavefunction: [Complex(1), Complex(0)])))
    }
}

/// A model that passes on another's physics under flags of its own.
struct Misflagged: ModelWrapper {
    let base: any Model
    let claimsRealHamiltonian: Bool
    let claimsFixedCoupling: Bool

    var modelName: String { "Misflagged" }
    var hamiltonianIsReal: Bool { claimsRealHamiltonian }
    var couplingGradientDependsOnZ: Bool { !claimsFixedCoupling }
}
