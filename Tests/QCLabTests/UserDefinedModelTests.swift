import Foundation
import XCTest
// Only the public API, as a user's package sees it: no @testable.
import QCLab

// The model is Examples/ThreeStateModel/Sources/ThreeStateModel/ThreeStateCrossing.swift,
// compiled into this test target through the symlink ThreeStateCrossing.swift beside this file.

/// The short route to a model: a constant `H_q` coupled diagonally and linearly to a harmonic bath.
///
/// Such a model needs only the bath, the coupling and `H_q` (``DiagonalLinearHarmonicModel``
/// supplies the rest). Donor, bridge and acceptor, each with its own Debye bath of `modes`
/// oscillators (the `UserDefinedModels` article shows this model).
struct DonorBridgeAcceptor: DiagonalLinearHarmonicModel, JobRecordable {
    var modelName: String { "DonorBridgeAcceptor" }
    var numQuantumStates: Int { 3 }
    let bath: HarmonicBath
    let coupling: DiagonalLinearCoupling
    let constantHamiltonian: [Complex<Double>]

    init(
        energies: [Double] = [0.5, 1.0, -0.5], donorBridge: Double = 0.3, bridgeAcceptor: Double = 0.3,
        reorganization: Double = 0.1, cutoff: Double = 0.2, modes: Int = 20, kBT: Double = 1.0
    ) {
        // Debye spectral density discretized as in QC Lab's spin-boson model.
        let frequency = (0..<modes).map { cutoff * tan((Double($0) + 0.5) * Double.pi / (2 * Double(modes))) }
        let gamma = frequency.map { w in w * (2 * reorganization / Double(modes)).squareRoot() / (2 * w).squareRoot() }
        let all = frequency + frequency + frequency
        bath = HarmonicBath(frequency: all, mass: Array(repeating: 1, count: all.count), weight: all, kBT: kBT)
        let zeros = Array(repeating: 0.0, count: modes)
        coupling = DiagonalLinearCoupling(gamma: [gamma + zeros + zeros, zeros + gamma + zeros, zeros + zeros + gamma])
        constantHamiltonian = [
            energies[0], donorBridge, 0,
            donorBridge, energies[1], bridgeAcceptor,
            0, bridgeAcceptor, energies[2],
        ].map { Complex($0) }
    }
}

/// The two-state route: Tully's first problem again, written in Swift with ``VectorMath``.
///
/// A scattering model supplies its masses, starting point and its diabatic surfaces for a whole
/// batch; ``TwoStateScatteringModel`` supplies the rest.
struct SwiftTullyOne: TwoStateScatteringModel, JobRecordable {
    var modelName: String { "SwiftTullyOne" }
    var mass = 2000.0, initPosition = -5.0, initMomentum = 10.0
    var A = 0.01, B = 1.6, C = 0.005, D = 1.0

    func diabatic(positions q: [Double], into s: inout ScatteringSurfaces) {
        let n = q.count
        for t in 0..<n {
            s.scratch[t] = -B * abs(q[t])  // e^{-B|q|}
            s.scratch[n + t] = -D * q[t] * q[t]  // e^{-Dq²}
        }
        s.scratch.withUnsafeMutableBufferPointer { VectorMath.exp(inPlace: $0) }
        for t in 0..<n {
            let decay = s.scratch[t], gaussian = s.scratch[n + t]
            let v11 = q[t] >= 0 ? A * (1 - decay) : -A * (1 - decay)
            (s.v11[t], s.v12[t], s.v22[t]) = (v11, C * gaussian, -v11)
            (s.d11[t], s.d12[t], s.d22[t]) = (A * B * decay, -2 * C * D * q[t] * gaussian, -A * B * decay)
        }
    }
}

/// A model written outside the library runs through the same drivers and keeps the physics.
final class UserDefinedModelTests: XCTestCase {
    let start: [Complex<Double>] = [Complex(1), Complex(0), Complex(0)]

    /// `Σ_n dm_db[t, n, n]` (real part) at every collect time.
    func traces(_ data: SimulationData) -> [Double] {
        let dm = data.mean("dm_db")!, n = data.observable("dm_db")!.shape[1]
        return (0..<data.times.count).map { k in (0..<n).reduce(0) { $0 + dm[2 * ((k * n + $1) * n + $1)] } }
    }

    func populations(_ data: SimulationData, at k: Int) -> [Double] {
        let dm = data.mean("dm_db")!, n = data.observable("dm_db")!.shape[1]
        return (0..<n).map { dm[2 * ((k * n + $0) * n + $0)] }
    }

    func totalEnergy(_ data: SimulationData) -> [Double] {
        zip(data.mean("quantum_energy")!, data.mean("classical_energy")!).map(+)
    }

    func testMeanFieldConservesTraceAndEnergy() throws {
        // Every trajectory starts alike (a definite position and momentum), so the means
        // are one trajectory's values. Mean-field energy <ψ|H|ψ> + p²/2m is conserved up
        // to the integrator's error, which shrinks with the step.
        func drift(dt: Double) throws -> (Double, SimulationData) {
            let settings = SimulationSettings(tmax: 1000, dtUpdate: dt, dtCollect: 10, numTrajs: 2, batchSize: 2)
            let data = try serialDriver(
                Simulation(
                    settings: settings, model: ThreeStateCrossing(), algorithm: MeanField(),
                    initialWavefunction: start))
            let energy = totalEnergy(data)
            return (energy.map { abs($0 - energy[0]) }.max()! / abs(energy[0]), data)
        }
        let (coarse, data) = try drift(dt: 0.5)
        let (fine, _) = try drift(dt: 0.25)
        for (k, trace) in traces(data).enumerated() {
            XCTAssertEqual(trace, 1, accuracy: 1e-9, "trace at collect point \(k)")
        }
        XCTAssertLessThan(coarse, 1e-3, "relative energy drift at dt 0.5")
        XCTAssertLessThan(fine, 0.75 * coarse, "the drift shrinks with the step")
        // The particle went through the crossing: population left state 0.
        XCTAssertLessThan(populations(data, at: data.times.count - 1)[0], 0.95)
    }

    func testSurfaceHoppingRunsHopsAndConservesEnergy() throws {
        let settings = SimulationSettings(tmax: 1000, dtUpdate: 0.5, dtCollect: 10, numTrajs: 24, batchSize: 12)
        for deterministic in [false, true] {
            let simulation = Simulation(
                settings: settings, model: ThreeStateCrossing(),
                algorithm: FewestSwitchesSurfaceHopping(deterministic: deterministic),
                initialWavefunction: start)
            let data = try serialDriver(simulation)
            XCTAssertEqual(data.normFactor, 24)
            XCTAssertEqual(data.sampleCount, deterministic ? 8 : 24, "deterministic: one sample per 3 branches")
            for (k, trace) in traces(data).enumerated() {
                XCTAssertEqual(trace, 1, accuracy: 1e-9, "trace at collect point \(k), deterministic \(deterministic)")
            }
            let final = populations(data, at: data.times.count - 1)
            // (QC Lab's diabatic populations in FSSH mix active surfaces with wavefunction
            // coherences, so a few trajectories can push them a little outside [0, 1].)
            XCTAssertEqual(final.reduce(0, +), 1, accuracy: 1e-9)
            XCTAssertGreaterThan(final[1] + final[2], 0.05, "trajectories hopped to the other surfaces: \(final)")
            // The active surface's energy plus p²/2m is conserved, hops included (the
            // momentum is rescaled), up to the integrator's error.
            let energy = totalEnergy(data)
            let drift = energy.map { abs($0 - energy[0]) }.max()! / abs(energy[0])
            XCTAssertLessThan(drift, 1e-3, "relative energy drift, deterministic \(deterministic)")
            // Error bars exist and are finite.
            let sem = data.standardError("dm_db")!
            XCTAssertTrue(sem.allSatisfy(\.isFinite) && sem.contains { $0 > 0 })
        }
    }

    func testTheMultiprocessingDriverAgreesToTheBit() throws {
        let settings = SimulationSettings(tmax: 500, dtUpdate: 0.5, dtCollect: 10, numTrajs: 12, batchSize: 4)
        let simulation = Simulation(
            settings: settings, model: ThreeStateCrossing(), algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: start)
        let serial = try serialDriver(simulation)
        let parallel = try parallelDriverMultiprocessing(simulation, numTasks: 2)
        XCTAssertEqual(parallel.seeds, serial.seeds)
        XCTAssertEqual(parallel.mean("dm_db"), serial.mean("dm_db"))
    }

    func testTheShortRouteModelRunsWithBothAlgorithms() throws {
        let settings = SimulationSettings(tmax: 5, dtUpdate: 0.01, dtCollect: 0.5, numTrajs: 6, batchSize: 3)
        for algorithm in [MeanField() as any Algorithm, FewestSwitchesSurfaceHopping()] {
            let data = try serialDriver(
                Simulation(
                    settings: settings, model: DonorBridgeAcceptor(), algorithm: algorithm,
                    initialWavefunction: start))
            for trace in traces(data) { XCTAssertEqual(trace, 1, accuracy: 1e-9, algorithm.algorithmName) }
            XCTAssertGreaterThan(populations(data, at: data.times.count - 1)[1], 0.01, "the bridge is populated")
        }
    }

    func testAScatteringModelWrittenInSwiftMatchesTheBuiltInOne() throws {
        let settings = SimulationSettings(tmax: 1500, dtUpdate: 0.5, dtCollect: 50, numTrajs: 40, batchSize: 20)
        let start: [Complex<Double>] = [Complex(1), Complex(0)]
        let ours = try serialDriver(
            Simulation(
                settings: settings, model: SwiftTullyOne(),
                algorithm: FewestSwitchesSurfaceHopping(), initialWavefunction: start))
        let builtIn = try serialDriver(
            Simulation(
                settings: settings, model: TullyProblemOne(initPosition: -5),
                algorithm: FewestSwitchesSurfaceHopping(), initialWavefunction: start))
        let final = populations(ours, at: ours.times.count - 1)
        XCTAssertGreaterThan(final[1], 0.05, "trajectories hop to the upper surface")
        for name in ["dm_db", "quantum_energy", "classical_energy"] {
            let a = try XCTUnwrap(ours.mean(name)), b = try XCTUnwrap(builtIn.mean(name))
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-9 + 1e-7 * abs(y), name) }
        }
    }
}
