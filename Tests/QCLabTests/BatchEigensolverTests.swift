import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// The batched eigensolver: LAPACK, warm-started Jacobi, the batched SIMD solver and the 2 x 2 closed form all
/// return ascending eigenvalues and orthonormal eigenvectors with `H v = λ v`.
final class BatchEigensolverTests: XCTestCase {
    /// A batch of random real symmetric matrices, `H(s) = A + s B`.
    func matrices(n: Int, batch: Int, s: Double, seed: Int = 3) -> ComplexBatch {
        var random = LegacyRandomState(seed: seed)
        var a = [Double](repeating: 0, count: n * n * batch), b = a
        for t in 0..<batch {
            for i in 0..<n {
                for j in i..<n {
                    let x = random.nextGaussian(), y = random.nextGaussian()
                    a[(i * n + j) * batch + t] = x; a[(j * n + i) * batch + t] = x
                    b[(i * n + j) * batch + t] = y; b[(j * n + i) * batch + t] = y
                }
            }
        }
        var h = ComplexBatch(components: n * n, batchSize: batch)
        for i in h.re.indices { h.re[i] = a[i] + s * b[i] }
        return h
    }

    func assertEigenpairs(
        _ h: ComplexBatch, _ values: [Double], _ vectors: ComplexBatch, n: Int,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let batch = h.batchSize
        for t in 0..<batch {
            for k in 0..<n {
                if k > 0 {
                    XCTAssertLessThanOrEqual(
                        values[(k - 1) * batch + t], values[k * batch + t], "ascending", file: file, line: line)
                }
                for a in 0..<n {
                    // (H v_k)_a - λ_k v_ak
                    var residual = Complex<Double>.zero
                    for b in 0..<n { residual += h[a * n + b, t] * vectors[b * n + k, t] }
                    residual = residual - vectors[a * n + k, t].multiplied(by: values[k * batch + t])
                    XCTAssertLessThan(residual.length, 1e-12, "residual", file: file, line: line)
                }
                for j in 0..<n {
                    var overlap = Complex<Double>.zero
                    for a in 0..<n { overlap += vectors[a * n + j, t].conjugate * vectors[a * n + k, t] }
                    XCTAssertEqual(
                        overlap.real, j == k ? 1 : 0, accuracy: 1e-12, "orthonormal", file: file, line: line)
                }
            }
        }
    }

    func testWarmStartedJacobiAgreesWithLAPACKAlongAPath() throws {
        let n = 7, batch = 5
        var solver = try BatchEigensolver(states: n, batchSize: batch, isReal: true, strategy: .jacobiWarmStart)
        var values = [Double](repeating: 0, count: n * batch)
        var vectors = ComplexBatch(components: n * n, batchSize: batch)
        // The first call goes through LAPACK; the later ones through Jacobi from it. The
        // path crosses near-degeneracies, so the ascending re-ordering is exercised too.
        for step in 0..<200 {
            let h = matrices(n: n, batch: batch, s: Double(step) * 0.01)
            try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
            if step % 20 == 0 { assertEigenpairs(h, values, vectors, n: n) }
            var fresh = try BatchEigensolver(states: n, batchSize: batch, isReal: true, strategy: .lapack)
            var lapackValues = values, lapackVectors = vectors
            try fresh.diagonalize(h, eigenvalues: &lapackValues, eigenvectors: &lapackVectors)
            for i in values.indices { XCTAssertEqual(values[i], lapackValues[i], accuracy: 1e-12) }
        }
    }

    func testJacobiRecoversFromAnUnrelatedPreviousSolution() throws {
        let n = 5, batch = 3
        var solver = try BatchEigensolver(states: n, batchSize: batch, isReal: true, strategy: .jacobiWarmStart)
        var values = [Double](repeating: 0, count: n * batch)
        var vectors = ComplexBatch(components: n * n, batchSize: batch)
        try solver.diagonalize(
            matrices(n: n, batch: batch, s: 0, seed: 1), eigenvalues: &values, eigenvectors: &vectors)
        let unrelated = matrices(n: n, batch: batch, s: 0, seed: 99)
        try solver.diagonalize(unrelated, eigenvalues: &values, eigenvectors: &vectors)
        assertEigenpairs(unrelated, values, vectors, n: n)
    }

    func testComplexHermitianAndTwoByTwoAndLarge() throws {
        // Complex Hermitian through zheevd.
        var h = matrices(n: 4, batch: 3, s: 0.5)
        for t in 0..<3 { h[1, t] = Complex(h[1, t].real, 0.3); h[4, t] = Complex(h[4, t].real, -0.3) }
        var solver = try BatchEigensolver(states: 4, batchSize: 3, isReal: false)
        var values = [Double](repeating: 0, count: 12)
        var vectors = ComplexBatch(components: 16, batchSize: 3)
        try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
        assertEigenpairs(h, values, vectors, n: 4)
        // The 2 x 2 closed form, including a diagonal matrix in either order.
        var two = matrices(n: 2, batch: 4, s: 0.2)
        two[1, 3] = .zero; two[2, 3] = .zero; two[0, 3] = Complex(2); two[3, 3] = Complex(-1)
        var small = try BatchEigensolver(states: 2, batchSize: 4, isReal: true)
        var values2 = [Double](repeating: 0, count: 8)
        var vectors2 = ComplexBatch(components: 4, batchSize: 4)
        try small.diagonalize(two, eigenvalues: &values2, eigenvectors: &vectors2)
        assertEigenpairs(two, values2, vectors2, n: 2)
        // LAPACK per trajectory, chosen explicitly.
        let large = matrices(n: 20, batch: 2, s: 0.1)
        var big = try BatchEigensolver(states: 20, batchSize: 2, isReal: true, strategy: .lapack)
        var values3 = [Double](repeating: 0, count: 40)
        var vectors3 = ComplexBatch(components: 400, batchSize: 2)
        try big.diagonalize(large, eigenvalues: &values3, eigenvectors: &vectors3)
        try big.diagonalize(large, eigenvalues: &values3, eigenvectors: &vectors3)
        assertEigenpairs(large, values3, vectors3, n: 20)
    }

    func testPreferredMethodsAndUnsupportedChoices() throws {
        XCTAssertEqual(BatchEigensolver.Strategy.fastest(states: 2, isReal: true), .closedFormTwoByTwo)
        XCTAssertEqual(BatchEigensolver.Strategy.fastest(states: 3, isReal: true), .jacobiWarmStart)
        XCTAssertEqual(BatchEigensolver.Strategy.fastest(states: 4, isReal: true), .batchedHouseholder)
        XCTAssertEqual(BatchEigensolver.Strategy.fastest(states: 50, isReal: true), .batchedHouseholder)
        XCTAssertEqual(BatchEigensolver.Strategy.fastest(states: 7, isReal: false), .batchedHouseholder)
        XCTAssertEqual(BatchEigensolver.Strategy.fastest(states: 300, isReal: true), .lapack)
        XCTAssertThrowsError(
            try BatchEigensolver(states: 3, batchSize: 1, isReal: true, strategy: .closedFormTwoByTwo))
        XCTAssertThrowsError(try BatchEigensolver(states: 2, batchSize: 1, isReal: true, strategy: .jacobiWarmStart))
        XCTAssertThrowsError(try BatchEigensolver(states: 3, batchSize: 1, isReal: false, strategy: .jacobiWarmStart))
        { error in
            XCTAssertEqual(
                error as? QCLabError,
                .invalidSetting("eigensolver", "warm-started Jacobi does not apply to complex 3x3 problems"))
        }
    }

    /// The batched solver's real path gives eigenvectors whose imaginary parts are +0 bit
    /// for bit, whether the batch passed in held nonzero imaginary parts, only -0s, or
    /// zeros already (which it checks rather than rewrites).
    func testBatchedRealEigenvectorsHavePositiveZeroImaginaryParts() throws {
        let n = 6, batch = 5, h = matrices(n: n, batch: batch, s: 0.3)
        var solver = try BatchEigensolver(states: n, batchSize: batch, isReal: true, strategy: .batchedHouseholder)
        var values = [Double](repeating: 0, count: n * batch)
        for (label, fill) in [("nonzero", 3.0), ("negative zeros", -0.0), ("zeros", 0.0)] {
            var vectors = ComplexBatch(components: n * n, batchSize: batch)
            for i in vectors.im.indices where i % 7 == 2 { vectors.im[i] = fill }
            try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
            XCTAssertTrue(vectors.im.allSatisfy { $0.bitPattern == 0 }, label)
            assertEigenpairs(h, values, vectors, n: n)
        }
    }
}
