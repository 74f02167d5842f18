import XCTest
@testable import QCLab

/// Every fixture job, run by our serial driver, agrees with qclab 1.3.0's output, array by array.
///
/// Per-seed FSSH cases localise a disagreement to one trajectory.
final class GoldenFixtureTests: XCTestCase {
    func testEveryFixtureAgreesWithQCLab() throws {
        let cases = try Fixtures.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 30, "fixture index looks incomplete")
        for (name, purpose) in cases {
            let job = try Fixtures.job(name)
            let ours = try serialDriver(job.simulation, seeds: job.seeds)
            let theirs = try SimulationData(contentsOf: Fixtures.url("\(name).h5").path)
            XCTAssertEqual(ours.seeds, theirs.seeds, "\(name): seeds")
            XCTAssertEqual(ours.normFactor, theirs.normFactor, "\(name): norm_factor")
            let extras = job.simulation.outputs.map(\.name)
            XCTAssertEqual(
                ours.observables.map(\.name), ["t", "dm_db", "quantum_energy", "classical_energy"] + extras,
                "\(name): outputs in order")
            for output in ["t", "dm_db", "quantum_energy", "classical_energy"] + extras {
                guard let mine = ours.mean(output), let reference = theirs.mean(output),
                    let observable = theirs.observable(output)
                else {
                    XCTFail("\(name): output \(output) missing"); continue
                }
                XCTAssertEqual(ours.observable(output)?.shape, observable.shape, "\(name): \(output) shape")
                assertAgrees(mine, reference, isComplex: observable.isComplex, "\(name) (\(purpose)) \(output)")
            }
            // Extra outputs: QC Lab's mean of their squares gives the standard error of the
            // mean, sqrt((<x²> - <x>²) n / (n - 1) / n), when every trajectory is one sample.
            for output in extras where job.simulation.algorithm.branchCount(for: job.simulation.model) == 1 {
                guard let mean = theirs.mean(output), let squares = theirs.mean(output + "_sq"),
                    let sem = ours.standardError(output)
                else {
                    XCTFail("\(name): \(output)_sq or our \(output)_sem missing"); continue
                }
                let n = Double(theirs.normFactor)
                let expected = zip(mean, squares).map { ((max($1 - $0 * $0, 0)) / (n - 1)).squareRoot() }
                XCTAssertTrue(
                    expected.contains { $0 > 1e-3 }, "\(name): \(output) never varies, the check would be empty")
                assertAgrees(sem, expected, isComplex: false, "\(name) \(output)_sem")
            }
        }
    }

    /// Each model family is covered by both algorithms, so no model can silently drop out.
    func testFixturesCoverEveryModelAndAlgorithm() throws {
        var covered = Set<String>()
        for (name, _) in try Fixtures.cases() + Fixtures.cases(index: "index_msmash.json")
            + Fixtures.cases(index: "index_lvc.json")
        {
            let job = try Fixtures.job(name)
            covered.insert("\(job.simulation.model.modelName)/\(job.simulation.algorithm.algorithmName)")
        }
        for model in ModelRegistry.builtInNames {  // not the models other tests register
            for algorithm in ["MeanField", "FewestSwitchesSurfaceHopping"] {
                XCTAssertTrue(covered.contains("\(model)/\(algorithm)"), "no fixture for \(model) with \(algorithm)")
            }
        }
    }
}
