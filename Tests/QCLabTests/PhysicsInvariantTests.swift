import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// Invariants the dynamics must keep whatever QC Lab does: norm, energy, trace, and
/// the exact bookkeeping of hops.
final class PhysicsInvariantTests: XCTestCase {
    /// Per-trajectory `Σ_n |ψ_n|²`.
    func norms(_ psi: ComplexBatch) -> [Double] {
        (0..<psi.batchSize).map { t in psi.trajectory(t).reduce(0) { $0 + $1.lengthSquared } }
    }

    /// Per-trajectory mean-field energy `<ψ|H|ψ> + H_c(z)`.
    func meanFieldEnergy(_ batch: MeanFieldBatch) -> [Double] {
        var quantum = [Double](repeating: 0, count: batch.z.batchSize), classical = quantum
        var scratch = batch.wavefunction
        ComplexBatchAlgebra.expectation(batch.wavefunction, batch.hamiltonian, into: &quantum, scratch: &scratch)
        batch.model.classicalEnergy(z: batch.z, into: &classical)
        return zip(quantum, classical).map(+)
    }

    /// Largest relative drift of the mean-field energy over `tmax` at step `dt`.
    func meanFieldEnergyDrift(dt: Double, tmax: Double) -> (drift: Double, norms: [Double]) {
        var batch = MeanFieldBatch(
            model: SpinBoson(A: 20), seeds: Array(0..<6), initialWavefunction: [Complex(1), Complex(0)])
        let initial = meanFieldEnergy(batch)
        for _ in 0..<Int((tmax / dt).rounded()) { batch.step(dt: dt) }
        let drift = zip(initial, meanFieldEnergy(batch)).map { abs($1 - $0) / abs($0) }.max()!
        return (drift, norms(batch.wavefunction))
    }

    func testMeanFieldConservesNormAndTotalEnergyOnSpinBoson() {
        // Ehrenfest dynamics conserves <ψ|H|ψ> + H_c. QC Lab's scheme moves z (RK4, ψ
        // frozen) and then ψ (RK4, H of the step's start) one after the other, a splitting
        // whose energy error is first order in dt: over t = 10 at dt = 0.01 the stated
        // tolerance is a relative drift of 5e-5, and halving dt must halve it.
        let coarse = meanFieldEnergyDrift(dt: 0.01, tmax: 10)
        let fine = meanFieldEnergyDrift(dt: 0.005, tmax: 10)
        XCTAssertLessThan(coarse.drift, 5e-5, "relative energy drift at dt = 0.01")
        XCTAssertLessThan(
            fine.drift, 0.6 * coarse.drift, "the drift must shrink with dt (integration error, not physics)")
        XCTAssertGreaterThan(fine.drift, 0.4 * coarse.drift, "first-order splitting expected")
        for (t, norm) in coarse.norms.enumerated() {
            XCTAssertEqual(norm, 1, accuracy: 1e-9, "norm of trajectory \(t)")
        }
    }

    func testMeanFieldConservesNormOnFMO() {
        var wavefunction = [Complex<Double>](repeating: .zero, count: 7)
        wavefunction[0] = Complex(0.6)
        wavefunction[5] = Complex(0, 0.8)
        var batch = MeanFieldBatch(model: FMOComplex(N: 5), seeds: [1, 2, 3], initialWavefunction: wavefunction)
        for _ in 0..<500 { batch.step(dt: 0.01) }
        for norm in norms(batch.wavefunction) { XCTAssertEqual(norm, 1, accuracy: 1e-9) }
    }

    /// Surface-hopping energy: the active surface's eigenvalue plus the kinetic energy.
    func surfaceHoppingEnergy(_ batch: SurfaceHoppingBatch) -> [Double] {
        var kinetic = [Double](repeating: 0, count: batch.rows)
        batch.model.classicalEnergy(z: batch.z, into: &kinetic)
        return (0..<batch.rows).map { batch.eigenvalues[batch.activeSurface[$0] * batch.rows + $0] + kinetic[$0] }
    }

    func runTully(_ model: TullyProblemOne, steps: Int, check: (SurfaceHoppingBatch, [Double], [Double]) -> Void)
        throws -> [HopEvent]
    {
        let settings = SimulationSettings(tmax: Double(steps) * 0.5, dtUpdate: 0.5, dtCollect: 10)
        var batch = try SurfaceHoppingBatch(
            algorithm: FewestSwitchesSurfaceHopping(), model: model, grid: TimeGrid(settings),
            seeds: Array(0..<40), initialWavefunction: [Complex(1), Complex(0)])
        var events: [HopEvent] = []
        var energy = surfaceHoppingEnergy(batch)
        for _ in 0..<steps {
            let surfaces = batch.activeSurface
            try batch.step(dt: 0.5)
            let next = surfaceHoppingEnergy(batch)
            check(batch, energy, next)
            for event in batch.hopEvents {
                XCTAssertEqual(event.from, surfaces[event.row], "a hop starts from the active surface")
                XCTAssertEqual(
                    batch.activeSurface[event.row], event.succeeded ? event.to : event.from,
                    "a successful hop switches the surface; a frustrated one leaves it")
            }
            events += batch.hopEvents
            energy = next
        }
        return events
    }

    func testTotalEnergyIsConservedThroughHopsOnTullyOne() throws {
        let events = try runTully(TullyProblemOne(initMomentum: 15, initPosition: -5), steps: 3000) {
            _, before, after in
            for t in before.indices {
                // A hop moves energy between the surface and the momentum; it must not create
                // any. The surfaces of Tully's first problem are at least 2C = 0.01 apart, so an
                // unconserved hop would jump by >= 0.01; RK4 at dt = 0.5 changes the energy by
                // ~2e-7 per step in the crossing region, hop or no hop.
                XCTAssertEqual(after[t], before[t], accuracy: 1e-6, "energy jump in trajectory \(t)")
            }
        }
        XCTAssertGreaterThan(events.filter(\.succeeded).count, 5, "expected successful hops to test")
    }

    func testFrustratedHopsChangeNothing() throws {
        // With momentum 7 from q = -4 the excited surface (0.02 above) is out of reach.
        let events = try runTully(TullyProblemOne(initMomentum: 7, initPosition: -4), steps: 4000) {
            batch, before, after in
            for t in before.indices {
                XCTAssertEqual(batch.activeSurface[t], 0, "no trajectory can reach the upper surface")
                XCTAssertEqual(after[t], before[t], accuracy: 1e-6, "energy jump in trajectory \(t)")
            }
        }
        XCTAssertGreaterThan(events.count, 3, "expected attempted hops")
        XCTAssertTrue(events.allSatisfy { !$0.succeeded }, "every attempt must be frustrated")
    }

    func testFreeParticleHopRescalingConservesEnergyOrIsFrustrated() {
        let model = TullyProblemOne()
        let z = [Complex(-3.0, (0.5 / 2000.0).squareRoot() * 10)]  // p = 10: kinetic energy 0.025
        let direction = [Complex(0.7)]
        var energy = [0.0], shifted = [0.0]
        var batch = ComplexBatch(components: 1, batchSize: 1)
        batch[0, 0] = z[0]
        model.classicalEnergy(z: batch, into: &energy)
        let shift = model.hopShift(z: z, direction: direction, energyGap: 0.02)!
        batch[0, 0] = z[0] + shift[0]
        model.classicalEnergy(z: batch, into: &shifted)
        XCTAssertEqual(shifted[0], energy[0] - 0.02, accuracy: 1e-15)
        XCTAssertNil(model.hopShift(z: z, direction: direction, energyGap: 0.03), "0.03 exceeds the kinetic energy")
    }

    func testHarmonicHopRescalingConservesEnergy() {
        let model = SpinBoson(A: 8)
        let z = model.initialClassicalCoordinates(seeds: [4])
        let row = z.trajectory(0)
        let direction = (0..<8).map { Complex(0.1 * Double($0 + 1), 0.05 * Double($0 % 3)) }
        var before = [0.0]
        model.classicalEnergy(z: z, into: &before)
        // A hop down (negative gap) gives energy to the bath; a tiny hop up takes it.
        for gap in [-0.01 * before[0], 1e-6 * before[0]] {
            guard let shift = model.hopShift(z: row, direction: direction, energyGap: gap) else {
                XCTFail("hop with gap \(gap) should be allowed"); continue
            }
            var moved = z, after = [0.0]
            moved.setTrajectory(0, zip(row, shift).map { $0 + $1 })
            model.classicalEnergy(z: moved, into: &after)
            XCTAssertEqual(after[0], before[0] - gap, accuracy: 1e-12 * before[0])
        }
        // More energy than the bath holds along the direction: frustrated.
        XCTAssertNil(model.hopShift(z: row, direction: direction, energyGap: 10 * before[0]))
    }

    func testSurfaceHoppingDiabaticPopulationsSumToOne() throws {
        for name in ["fssh_fmo", "fssh_holstein_det", "fssh_spin_boson_det", "fssh_tully2"] {
            let job = try Fixtures.job(name)
            let data = try serialDriver(job.simulation, seeds: job.seeds)
            let n = job.simulation.model.numQuantumStates
            let dm = data.mean("dm_db")!
            let norm = job.simulation.initialWavefunction.reduce(0) { $0 + $1.lengthSquared }
            for k in 0..<data.times.count {
                let trace = (0..<n).reduce(0.0) { $0 + dm[2 * ((k * n + $1) * n + $1)] }
                XCTAssertEqual(trace, norm, accuracy: 1e-10, "\(name): trace at time index \(k)")
            }
        }
    }
}
