import Foundation
import XCTest
@testable import QCLab

/// NumPy's `default_rng(seed)` (SeedSequence + PCG64) and `uniform`, against the draws in
/// `Fixtures/pcg64_draws.json` (NumPy 2.4.6, written by `generate_msmash_fixtures.py`).
final class PCG64Tests: XCTestCase {
    private func draws() throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(
            with: Foundation.Data(contentsOf: Fixtures.url("pcg64_draws.json")))
        return (object as! [String: Any])["draws"] as! [[String: Any]]
    }

    func testRawOutputsMatchNumPy() throws {
        let all = try draws()
        XCTAssertGreaterThanOrEqual(all.count, 5)
        for entry in all {
            let seed = UInt64(entry["seed"] as! Int)
            var generator = PCG64(seed: seed)
            let expected = (entry["raw"] as! [String]).map { UInt64($0)! }
            XCTAssertEqual((0..<expected.count).map { _ in generator.next() }, expected, "seed \(seed)")
        }
    }

    func testUniformMatchesNumPyExactly() throws {
        for entry in try draws() {
            let seed = UInt64(entry["seed"] as! Int)
            var generator = PCG64(seed: seed)
            let expected = (entry["uniform"] as! [String]).map { Double($0)! }
            XCTAssertEqual(generator.uniform(0, 2 * Double.pi, count: expected.count), expected, "seed \(seed)")
        }
    }

    func testDifferentSeedsGiveDifferentStreams() {
        var a = PCG64(seed: 5), b = PCG64(seed: 6)
        XCTAssertNotEqual(a.next(), b.next())
    }
}
