import XCTest
@testable import QCLab

/// `SimulationData` reduction: merging in any grouping, QC Lab's seed rules, error bars.
final class DataMergeTests: XCTestCase {
    func spinBoson(trajectories: Int, batchSize: Int, algorithm: any Algorithm = MeanField()) -> Simulation {
        Simulation(
            settings: SimulationSettings(
                tmax: 1, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: trajectories, batchSize: batchSize),
            model: SpinBoson(A: 6), algorithm: algorithm, initialWavefunction: [Complex(1), Complex(0)])
    }

    func assertClose(_ a: SimulationData, _ b: SimulationData, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.seeds, b.seeds, file: file, line: line)
        XCTAssertEqual(a.normFactor, b.normFactor, file: file, line: line)
        for o in a.observables {
            for (x, y) in zip(a.mean(o.name)!, b.mean(o.name)!) {
                XCTAssertEqual(x, y, accuracy: 1e-13 * max(1, abs(y)), "\(o.name)", file: file, line: line)
            }
        }
    }

    func testAnyBatchingGivesTheSameAverages() throws {
        let reference = try serialDriver(spinBoson(trajectories: 12, batchSize: 12))
        for size in [1, 3, 5, 7] {
            let data = try serialDriver(spinBoson(trajectories: 12, batchSize: size))
            assertClose(data, reference)
        }
    }

    func testMergingInAnyGroupingGivesTheSameAverages() throws {
        let simulation = spinBoson(trajectories: 9, batchSize: 3)
        let parts = try (0..<3).map { try simulation.runBatch(seeds: Array($0 * 3..<$0 * 3 + 3)) }
        var leftFirst = SimulationData()
        for part in parts { try leftFirst.add(part) }
        var rightFirst = parts[1]
        try rightFirst.add(parts[2])
        var grouped = parts[0]
        try grouped.add(rightFirst)
        assertClose(grouped, leftFirst)
        assertClose(leftFirst, try serialDriver(simulation))
    }

    func testSeedRules() throws {
        // Default seeds 0..<num_trajs, the last batch smaller.
        let plan = try RunPlan(simulation: spinBoson(trajectories: 10, batchSize: 4))
        XCTAssertEqual(plan.seeds, Array(0..<10))
        XCTAssertEqual(plan.batches, [0..<4, 4..<8, 8..<10])
        // Continuing data: fresh seeds after the largest.
        let first = try serialDriver(spinBoson(trajectories: 5, batchSize: 2), seeds: [0, 4, 9])
        XCTAssertEqual(first.normFactor, 3, "explicit seeds set num_trajs")
        let continued = try serialDriver(spinBoson(trajectories: 4, batchSize: 3), data: first)
        XCTAssertEqual(continued.seeds, [0, 4, 9, 10, 11, 12, 13])
        XCTAssertEqual(continued.normFactor, 7)
        // Seeds already present are refused rather than counted twice.
        XCTAssertThrowsError(try serialDriver(spinBoson(trajectories: 2, batchSize: 2), seeds: [4, 20], data: first))
    }

    func testMismatchedTimeGridsAreRefused() throws {
        var a = try serialDriver(spinBoson(trajectories: 2, batchSize: 2))
        var other = spinBoson(trajectories: 2, batchSize: 2)
        other.settings.tmax = 2
        let b = try serialDriver(other, seeds: [5, 6])
        XCTAssertThrowsError(try a.add(b)) { error in
            XCTAssertEqual((error as? QCLabError)?.code, .incompatibleData, "\(error)")
        }
    }

    /// The standard error of every output equals a direct computation over per-trajectory
    /// (per initial condition, in deterministic FSSH) results.
    func testStandardErrorsMatchDirectComputation() throws {
        let cases: [(Simulation, Int)] = [
            (spinBoson(trajectories: 8, batchSize: 3), 1),
            (
                spinBoson(trajectories: 8, batchSize: 4, algorithm: FewestSwitchesSurfaceHopping(deterministic: true)),
                2
            ),
        ]
        for (simulation, branches) in cases {
            let data = try serialDriver(simulation)
            // One sample per initial condition: its branches run together.
            let samples = try stride(from: 0, to: 8, by: branches).map {
                try simulation.runBatch(seeds: Array($0..<$0 + branches))
            }
            XCTAssertEqual(data.sampleCount, samples.count)
            for name in ["dm_db", "quantum_energy", "classical_energy"] {
                let values = samples.map { $0.mean(name)! }
                let n = Double(values.count)
                let sem = data.standardError(name)!
                for i in sem.indices {
                    let mean = values.reduce(0) { $0 + $1[i] } / n
                    let variance = values.reduce(0) { $0 + ($1[i] - mean) * ($1[i] - mean) } / (n - 1)
                    XCTAssertEqual(
                        sem[i], (variance / n).squareRoot(), accuracy: 1e-10 * max(1, abs(mean)), "\(name)[\(i)]")
                }
                XCTAssertTrue(sem.contains { $0 > 0 }, "\(name): error bars should not all vanish")
            }
        }
    }

    /// Identical trajectories have exactly zero standard error.
    ///
    /// Tully's problems start every trajectory at one point, so there is no spread: the
    /// standard errors vanish to machine precision (the batch means differ in their last bit
    /// at most), also across batches of different sizes. A difference of large sums of
    /// squares would leave noise near 1e-8 of the mean.
    func testIdenticalTrajectoriesHaveExactlyZeroStandardError() throws {
        let simulation = Simulation(
            settings: SimulationSettings(tmax: 200, dtUpdate: 0.5, dtCollect: 10, numTrajs: 12, batchSize: 5),
            model: TullyProblemOne(initMomentum: 15, initPosition: -5), algorithm: MeanField(),
            initialWavefunction: [Complex(1), Complex(0)])
        let data = try serialDriver(simulation)
        for name in ["dm_db", "quantum_energy", "classical_energy", "t"] {
            for (sem, mean) in zip(data.standardError(name)!, data.mean(name)!) {
                XCTAssertLessThanOrEqual(sem, 1e-15 * abs(mean), name)
            }
        }
    }

    func testTimeGridRoundsLikeQCLab() {
        // dt_collect 0.333 -> 33 steps of 0.01; tmax 10 -> 30 collect intervals (np.round(10/0.333) = 30).
        let grid = TimeGrid(SimulationSettings(tmax: 10, dtUpdate: 0.01, dtCollect: 0.333))
        XCTAssertEqual(grid.stepsPerCollect, 33)
        XCTAssertEqual(grid.totalSteps, 990)
        XCTAssertEqual(grid.collectCount, 31)
        // dt_collect below dt_update becomes dt_update.
        let fine = TimeGrid(SimulationSettings(tmax: 1, dtUpdate: 0.1, dtCollect: 0.01))
        XCTAssertEqual(fine.stepsPerCollect, 1)
        XCTAssertEqual(fine.totalSteps, 10)
        // Half-way cases round to even, as NumPy does: 2.5 -> 2.
        XCTAssertEqual(TimeGrid(SimulationSettings(tmax: 1, dtUpdate: 0.1, dtCollect: 0.25)).stepsPerCollect, 2)
    }
}
