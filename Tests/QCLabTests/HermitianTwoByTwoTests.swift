import Foundation
import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// The closed-form complex Hermitian 2 x 2 eigensolver against NumPy's `eigh` (zheevd) on
/// `Fixtures/hermitian_2x2_eigh.json`: eigenvalues and eigenvector phases bit for bit.
final class HermitianTwoByTwoTests: XCTestCase {
    func testClosedFormMatchesNumPyEighBitForBit() throws {
        let object = try JSONSerialization.jsonObject(
            with: Foundation.Data(contentsOf: Fixtures.url("hermitian_2x2_eigh.json")))
        let cases = (object as! [String: Any])["cases"] as! [[String: Any]]
        XCTAssertGreaterThan(cases.count, 100)
        var h = ComplexBatch(components: 4, batchSize: cases.count)
        for (t, c) in cases.enumerated() {
            let v = (c["h"] as! [String]).map { Double($0)! }
            h[0, t] = Complex(v[0]); h[1, t] = Complex(v[1], v[2]); h[2, t] = Complex(v[1], -v[2]);
            h[3, t] = Complex(v[3])
        }
        var solver = try BatchEigensolver(states: 2, batchSize: cases.count, isReal: false)
        var values = [Double](repeating: 0, count: 2 * cases.count)
        var vectors = ComplexBatch(components: 4, batchSize: cases.count)
        try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
        var mismatches = 0
        for (t, c) in cases.enumerated() {
            let e = (c["eigvals"] as! [String]).map { Double($0)! }
            let v = (c["eigvecs"] as! [String]).map { Double($0)! }
            let ours = [values[t], values[cases.count + t]]
            let oursV = (0..<4).flatMap { [vectors[$0, t].real, vectors[$0, t].imaginary] }
            let close = zip(ours + oursV, e + v).allSatisfy { abs($0 - $1) <= 1e-13 * max(1, abs($1)) }
            XCTAssertTrue(close, "case \(t): ours \(ours) \(oursV), NumPy \(e) \(v)")
            if ours != e || zip(oursV, v).contains(where: { $0 != $1 && !($0 == 0 && $1 == 0) }) { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0, "cases not bit-identical to NumPy's eigh")
    }
}
