import XCTest
@testable import QCLab

/// Every fixture job, run by our serial driver, agrees with the output qclab 1.3.0 wrote
/// for it, array by array. Per-seed FSSH cases localise a disagreement to one trajectory.
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
            for output in ["t", "dm_db", "quantum_energy", "classical_energy"] {
                guard let mine = ours.mean(output), let reference = theirs.mean(output),
                      let observable = theirs.observable(output) else {
                    XCTFail("\(name): output \(output) missing"); continue
                }
                XCTAssertEqual(ours.observable(output)?.shape, observable.shape, "\(name): \(output) shape")
                assertAgrees(mine, reference, isComplex: observable.isComplex, "\(name) (\(purpose)) \(output)")
            }
        }
    }

    /// Each model family is covered by both algorithms, so no model can silently drop out.
    func testFixturesCoverEveryModelAndAlgorithm() throws {
        var covered = Set<String>()
        for (name, _) in try Fixtures.cases() + Fixtures.cases(index: "index_msmash.json") {
            let job = try Fixtures.job(name)
            covered.insert("\(job.simulation.model.modelName)/\(job.simulation.algorithm.algorithmName)")
        }
        for model in ModelRegistry.names {
            for algorithm in ["MeanField", "FewestSwitchesSurfaceHopping"] {
                XCTAssertTrue(covered.contains("\(model)/\(algorithm)"), "no fixture for \(model) with \(algorithm)")
            }
        }
    }
}
