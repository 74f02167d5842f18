import Foundation
import XCTest
@testable import QCLab

/// The complex avoided crossings (mean field; FSSH stochastic and deterministic, every gauge
/// fixing, with and without the gauge-field force) and MSMASH on every built-in model,
/// against qclab 1.3.0 (`Fixtures/generate_msmash_fixtures.py`, listed in `index_msmash.json`).
final class CrossingAndMSMASHFixtureTests: XCTestCase {
    static func cases(prefix: String) throws -> [String] {
        let object = try JSONSerialization.jsonObject(
            with: Foundation.Data(contentsOf: Fixtures.url("index_msmash.json")))
        return (object as! [[String: Any]]).map { $0["case"] as! String }.filter { $0.hasPrefix(prefix) }
    }

    /// Runs fixture `name` and compares every output QC Lab wrote.
    static func compare(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let job = try Fixtures.job(name)
        let ours = try serialDriver(job.simulation, seeds: job.seeds)
        let theirs = try SimulationData(contentsOf: Fixtures.url("\(name).h5").path)
        XCTAssertEqual(ours.seeds, theirs.seeds, "\(name): seeds", file: file, line: line)
        for output in ["t", "dm_db", "quantum_energy", "classical_energy"] {
            guard let reference = theirs.mean(output), let observable = theirs.observable(output) else { continue }
            guard let mine = ours.mean(output) else {
                XCTFail("\(name): output \(output) missing", file: file, line: line); continue
            }
            assertAgrees(mine, reference, isComplex: observable.isComplex, "\(name) \(output)", file: file, line: line)
        }
    }

    func testComplexAvoidedCrossingsUnderMeanFieldAndFSSH() throws {
        let names = try Self.cases(prefix: "mf_cac") + Self.cases(prefix: "fssh_cac")
        XCTAssertGreaterThanOrEqual(names.count, 39)
        for name in names { try Self.compare(name) }
    }

    /// MSMASH on spin-boson, Holstein (real and reciprocal space), FMO and Tully I-III, some
    /// with non-default settings: every output within tolerance.
    func testMSMASHOnTheBuiltInModels() throws {
        let names = try Self.cases(prefix: "msmash_").filter { !$0.hasPrefix("msmash_cac") }
        XCTAssertGreaterThanOrEqual(names.count, 8)
        for name in names { try Self.compare(name) }
    }

    /// MSMASH on the complex avoided crossings, which is sensitive at the level of rounding.
    ///
    /// A near-tie of two adiabatic populations decides an active surface, so a change of the mass
    /// by 1e-13 moves some of QC Lab's own trajectories by far more than the tolerance
    /// (`Fixtures/msmash_crossings_rounding.json`, seeds 0-7 of each model, run as is and
    /// perturbed). Trajectory by trajectory we must agree wherever QC Lab agrees with itself;
    /// elsewhere (and as a whole, over 32 more trajectories) within the error bars.
    func testMSMASHOnTheCrossingsPerTrajectoryAndStatistically() throws {
        let object = try JSONSerialization.jsonObject(
            with: Foundation.Data(contentsOf: Fixtures.url("msmash_crossings_rounding.json")))
        let study = object as! [String: Any]
        let grid = study["grid"] as! [String: Double]
        let settings = SimulationSettings(
            tmax: grid["tmax"]!, dtUpdate: grid["dt_update"]!, dtCollect: grid["dt_collect"]!,
            numTrajs: 1, batchSize: 1)
        var selfConsistent = 0, unstable: [String] = []
        for entry in study["models"] as! [[String: Any]] {
            let gaugeFieldForce = (entry["settings"] as? [String: Bool])?["use_gauge_field_force"] ?? false
            let algorithm = try MultiStateMappingApproachToSurfaceHopping(useGaugeFieldForce: gaugeFieldForce)
            let name = entry["model"] as! String + (gaugeFieldForce ? " (gauge-field force)" : "")
            let model = try ModelRegistry.make(name: entry["model"] as! String)
            func run(_ seeds: [Int]) throws -> SimulationData {
                var s = settings
                (s.numTrajs, s.batchSize) = (seeds.count, seeds.count)
                return try serialDriver(
                    Simulation(
                        settings: s, model: model, algorithm: algorithm,
                        initialWavefunction: [Complex(1), Complex(0)]), seeds: seeds)
            }
            var stable: [Int] = []
            for trajectory in entry["trajectories"] as! [[String: Any]] {
                let seed = trajectory["seed"] as! Int
                let theirs = (trajectory["dm_db"] as! [String]).map { Double($0)! }
                let perturbed = (trajectory["dm_db_perturbed"] as! [String]).map { Double($0)! }
                let agreesWithItself = stride(from: 0, to: theirs.count, by: 2).allSatisfy { i in
                    let d =
                        ((theirs[i] - perturbed[i]) * (theirs[i] - perturbed[i])
                        + (theirs[i + 1] - perturbed[i + 1]) * (theirs[i + 1] - perturbed[i + 1])).squareRoot()
                    return d <= 1e-6 + 1e-5 * (theirs[i] * theirs[i] + theirs[i + 1] * theirs[i + 1]).squareRoot()
                }
                guard agreesWithItself else {
                    unstable.append("\(name) \(seed): QC Lab disagrees with itself"); continue
                }
                // A hop decided by a rescaling direction that cancelled to rounding (MSMASHRows)
                // depends on the last bits of the arithmetic, which the mass does not probe.
                var batch = try MSMASHBatch(
                    algorithm: algorithm, model: model, seeds: [seed],
                    initialWavefunction: [Complex(1), Complex(0)])
                for _ in 0..<TimeGrid(settings).totalSteps { try batch.step(dt: settings.dtUpdate) }
                guard batch.roundingDecidedHops[0] == 0 else {
                    unstable.append(
                        "\(name) \(seed): \(batch.roundingDecidedHops[0]) hop decisions along a direction cancelled to rounding"
                    )
                    continue
                }
                stable.append(seed)
                assertAgrees(try run([seed]).mean("dm_db")!, theirs, isComplex: true, "\(name) seed \(seed)")
            }
            selfConsistent += stable.count
            // As a whole: populations within four combined standard errors at every time.
            let seeds = entry["stats_seeds"] as! [Int]
            let ours = try run(seeds)
            let mean = ours.mean("dm_db")!, error = ours.standardError("dm_db")!
            let theirMean = entry["population_mean"] as! [[Double]],
                theirError = entry["population_stderr"] as! [[Double]]
            for (time, row) in theirMean.enumerated() {
                for state in 0..<2 {
                    let slot = 2 * (time * 4 + state * 3)
                    let bound =
                        4
                        * (error[slot] * error[slot] + theirError[time][state] * theirError[time][state]).squareRoot()
                        + 1e-6
                    XCTAssertLessThanOrEqual(
                        abs(mean[slot] - row[state]), bound, "\(name) population \(state) at collect \(time)")
                }
            }
        }
        print(
            "MSMASH crossings compared one by one: \(selfConsistent); not compared:\n  "
                + unstable.joined(separator: "\n  "))
        XCTAssertGreaterThanOrEqual(selfConsistent, 5, "too few trajectories to compare one by one")
    }
}
