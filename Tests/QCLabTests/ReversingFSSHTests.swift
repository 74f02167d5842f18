import XCTest
// Only the public API, as a user's package sees it: no @testable.
import QCLab

// The algorithm is Examples/ReversingFSSH/Sources/ReversingFSSH/ReversingFSSH.swift,
// compiled into this test target through the symlink ReversingFSSH.swift beside this file.

/// The example algorithm built outside the library from its public blocks.
final class ReversingFSSHTests: XCTestCase {
    private func simulation(
        _ model: any Model, _ algorithm: any Algorithm, tmax: Double, dt: Double,
        trajectories: Int
    ) throws -> Simulation {
        var settings = SimulationSettings(tmax: tmax, dtUpdate: dt, dtCollect: tmax / 20)
        settings.numTrajs = trajectories
        settings.batchSize = trajectories / 2
        var simulation = Simulation(
            settings: settings, model: model, algorithm: algorithm,
            initialWavefunction: (0..<model.numQuantumStates).map { Complex($0 == 0 ? 1 : 0) })
        simulation.outputs = [try OutputRegistry.make("p", model: model)]
        return simulation
    }

    /// Without the reversal, the blocks put together give QC Lab's FSSH: the built-in
    /// algorithm's outputs (and so its hops) on a scattering model, a bath and three states.
    func testWithoutReversalItIsTheBuiltInFSSH() throws {
        let cases: [(any Model, Double, Double)] = [
            (TullyProblemOne(initMomentum: 20, initPosition: -3), 600, 1),
            (SpinBoson(A: 6, lReorg: 0.05), 3, 0.02),
            (ThreeStateCrossing(), 1000, 1),
        ]
        for (model, tmax, dt) in cases {
            let ours = try serialDriver(
                simulation(
                    model, ReversingFSSH(reverseFrustratedHops: false), tmax: tmax, dt: dt,
                    trajectories: 16))
            let builtIn = try serialDriver(
                simulation(
                    model, FewestSwitchesSurfaceHopping(), tmax: tmax, dt: dt,
                    trajectories: 16))
            XCTAssertEqual(ours.observables.map(\.name), builtIn.observables.map(\.name))
            for name in builtIn.observables.map(\.name) {
                let worst = zip(ours.mean(name)!, builtIn.mean(name)!).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                XCTAssertLessThanOrEqual(worst, 1e-10, "\(model.modelName): \(name)")
            }
        }
    }

    /// Below the upper surface's threshold every upward hop in Tully's first problem is
    /// frustrated: plain FSSH transmits every particle, the reversing one sends some back,
    /// and both conserve the energy.
    func testFrustratedHopsReverseTheMomentum() throws {
        let model = TullyProblemOne(initMomentum: 7, initPosition: -4)
        let reversing = try serialDriver(simulation(model, ReversingFSSH(), tmax: 2000, dt: 0.5, trajectories: 40))
        let plain = try serialDriver(
            simulation(model, FewestSwitchesSurfaceHopping(), tmax: 2000, dt: 0.5, trajectories: 40))
        let p = reversing.mean("p")!, pPlain = plain.mean("p")!
        XCTAssertGreaterThan(pPlain.last!, 6.5, "plain FSSH transmits")
        XCTAssertLessThan(p.last!, pPlain.last! - 1, "the reversal sends particles back")
        // QC Lab's FSSH holds the force's eigenvector fixed through a step, which drifts the
        // energy by about 2e-5 through the crossing; the reversal adds nothing to that.
        func drift(_ data: SimulationData) -> Double {
            let total = zip(data.mean("quantum_energy")!, data.mean("classical_energy")!).map(+)
            return total.map { abs($0 - total[0]) }.max()!
        }
        XCTAssertLessThan(drift(plain), 5e-5)
        XCTAssertLessThan(drift(reversing), drift(plain) + 1e-6)
    }
}
