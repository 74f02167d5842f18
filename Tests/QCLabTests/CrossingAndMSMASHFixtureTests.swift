import Foundation
import XCTest
@testable import QCLab

/// The complex avoided crossings (mean field; FSSH stochastic and deterministic, every gauge
/// fixing, with and without the gauge-field force) and MSMASH on every built-in model,
/// against qclab 1.3.0 (`Fixtures/generate_msmash_fixtures.py`, listed in `index_msmash.json`).
final class CrossingAndMSMASHFixtureTests: XCTestCase {
    static func cases(prefix: String) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Foundation.Data(contentsOf: Fixtures.url("index_msmash.json")))
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
            guard let mine = ours.mean(output) else { XCTFail("\(name): output \(output) missing", file: file, line: line); continue }
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

    /// Exploratory: the MSMASH crossing fixtures compared as a whole (rounding-sensitive).
    func testMSMASHCrossingFixturesAsAWholeExploratory() throws {
        for name in try Self.cases(prefix: "msmash_cac") { try Self.compare(name) }
    }
}
