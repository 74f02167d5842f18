import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore
@testable import QCLabIO
@testable import QCLabRuntime

/// The run's log names the step plan's eigensolver and how many trajectory solves LAPACK redid,
/// of how many, summed over batches and over the workers that ran them.
final class EigensolverLogTests: XCTestCase {
    /// FSSH on an 8-site Holstein ring (the warm-started tridiagonal solver): 4 trajectories
    /// in batches of 2, 10 steps, so 2 × 2 × 11 trajectory solves.
    func holsteinRun() -> Simulation {
        var settings = SimulationSettings(tmax: 0.1, dtUpdate: 0.01, dtCollect: 0.05)
        settings.numTrajs = 4
        settings.batchSize = 2
        var wavefunction = [Complex<Double>](repeating: .zero, count: 8)
        wavefunction[0] = Complex(1)
        return Simulation(
            settings: settings, model: HolsteinLattice(N: 8), algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: wavefunction)
    }

    override func tearDown() {
        BatchEigensolver.newSolversForceFallback = false
        super.tearDown()
    }

    func testTheLogCountsTheSolvesLAPACKRedidUnderEveryDriver() throws {
        let simulation = holsteinRun()
        XCTAssertEqual(simulation.stepPlan()?.eigensolver, .warmStartTridiagonal)
        let name = BatchEigensolver.Strategy.warmStartTridiagonal.description
        for forced in [false, true] {
            BatchEigensolver.newSolversForceFallback = forced
            let serial = try serialDriver(simulation)
            let forked = try parallelDriverMultiprocessing(simulation, numTasks: 2)
            var sameLog = forked
            sameLog.log = serial.log
            XCTAssertTrue(sameLog == serial, "forced: \(forced): the same results")
            for (driver, data) in [("serial", serial), ("multiprocessing", forked)] {
                let line = data.log.split(separator: "\n").first { $0.hasPrefix("Eigensolver (") }
                let expected = forced ? "LAPACK redid 44 of 44 trajectory solves." : " of 44 trajectory solves."
                XCTAssertTrue(
                    line?.hasPrefix("Eigensolver (\(name)): LAPACK redid ") == true
                        && line?.hasSuffix(expected) == true,
                    "\(driver), forced: \(forced): \(data.log)")
            }
            // Every solve redone by LAPACK gives LAPACK's eigenpairs: the same dynamics to rounding.
            if forced {
                BatchEigensolver.newSolversForceFallback = false
                let unforced = try serialDriver(simulation)
                let (a, b) = (serial.mean("dm_db")!, unforced.mean("dm_db")!)
                for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-9) }
            }
        }
    }

    /// A plan without an eigensolver (mean field), or with one that never hands trajectories to
    /// LAPACK (the 2 x 2 closed form), logs no such line.
    func testPlansWithoutFallbacksLogNoEigensolverLine() throws {
        var simulation = holsteinRun()
        simulation.algorithm = MeanField()
        XCTAssertFalse(try serialDriver(simulation).log.contains("Eigensolver ("))
        simulation = holsteinRun()
        simulation.model = SpinBoson()
        simulation.initialWavefunction = [Complex(1), Complex(0)]
        XCTAssertEqual(simulation.stepPlan()?.eigensolver, .closedFormTwoByTwo)
        let data = try serialDriver(simulation)
        XCTAssertTrue(data.log.contains("Step plan: "), data.log)
        XCTAssertFalse(data.log.contains("Eigensolver ("), data.log)
    }

    /// The counts go through the binary form (worker pipes, MPI messages, checkpoints), which
    /// leaves data without them as it was, bit for bit; equality ignores them.
    func testTheCountsRoundTripThroughTheBinaryForm() throws {
        BatchEigensolver.newSolversForceFallback = true
        let simulation = holsteinRun()
        let batch = try simulation.runBatch(seeds: [0, 1])
        XCTAssertEqual(batch.eigensolverCounts, EigensolverCounts(solves: 22, redoneByLAPACK: 22))
        let decoded = try SimulationData(encodedBytes: batch.encodedBytes())
        XCTAssertEqual(decoded.eigensolverCounts, batch.eigensolverCounts)
        XCTAssertEqual(
            try SimulationData(encodedBytes: batch.encodedBytes(compactSums: true)).eigensolverCounts,
            batch.eigensolverCounts)
        var without = batch
        without.eigensolverCounts = EigensolverCounts()
        XCTAssertEqual(without, batch)
        XCTAssertEqual(try SimulationData(encodedBytes: without.encodedBytes()).eigensolverCounts, EigensolverCounts())
        XCTAssertEqual(
            without.encodedBytes().count + 16, batch.encodedBytes().count, "16 bytes more, at the end")
        // Damaged counts are refused.
        var bytes = batch.encodedBytes()
        bytes.replaceSubrange((bytes.count - 8)..., with: [0xff, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try SimulationData(encodedBytes: bytes))
    }
}
