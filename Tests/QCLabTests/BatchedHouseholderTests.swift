import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// The batched SIMD eigensolver (eigensolver.c) against LAPACK's `dsyevd` on random,
/// Holstein, exactly degenerate, clustered and badly scaled spectra, n from 3 to 128 and
/// odd batch sizes (partial lane blocks): residual, orthogonality, eigenvalues, and
/// eigenvectors up to sign where the spectrum is well separated, through both QL loops
/// (AVX-512 and portable); the LAPACK fallback for flagged trajectories.
final class BatchedHouseholderTests: XCTestCase {
    /// A batch in struct-of-arrays layout from one symmetric matrix per trajectory.
    func batch(n: Int, count: Int, _ element: (_ t: Int, _ i: Int, _ j: Int) -> Double) -> [Double] {
        var h = [Double](repeating: 0, count: n * n * count)
        for t in 0..<count {
            for i in 0..<n {
                for j in 0...i {
                    let x = element(t, i, j)
                    h[(i * n + j) * count + t] = x
                    h[(j * n + i) * count + t] = x
                }
            }
        }
        return h
    }

    /// Random symmetric matrices with Gaussian entries (GOE-like).
    func random(n: Int, count: Int, seed: Int = 11) -> [Double] {
        var rng = LegacyRandomState(seed: seed)
        return batch(n: n, count: count) { _, _, _ in rng.nextGaussian() }
    }

    /// The Holstein lattice's electronic Hamiltonian (QC Lab's HolsteinLattice): a periodic
    /// ring with hopping -J = -1 and on-site energies 2 γ Re z from thermal phonons, here
    /// `disorder` times a Gaussian; `disorder = 0` is the clean ring, whose eigenvalues
    /// -2 cos(2πk/N) come in exactly degenerate pairs.
    func holstein(n: Int, count: Int, disorder: Double, seed: Int = 5) -> [Double] {
        var rng = LegacyRandomState(seed: seed)
        return batch(n: n, count: count) { _, i, j in
            if i == j { return disorder * rng.nextGaussian() }
            return (i - j == 1 || (i == n - 1 && j == 0)) ? -1.0 : 0.0
        }
    }

    struct Solution {
        var values: [Double]
        var vectors: [Double]
    }

    func solve(_ h: [Double], n: Int, count: Int, method: BatchEigensolver.Strategy) throws -> Solution {
        var solver = try BatchEigensolver(states: n, batchSize: count, isReal: true, strategy: method)
        var hamiltonian = ComplexBatch(components: n * n, batchSize: count)
        hamiltonian.re = h
        var values = [Double](repeating: .nan, count: n * count)
        var vectors = ComplexBatch(components: n * n, batchSize: count)
        vectors.im = [Double](repeating: .nan, count: n * n * count)
        try solver.diagonalize(hamiltonian, eigenvalues: &values, eigenvectors: &vectors)
        XCTAssertTrue(vectors.im.allSatisfy { $0 == 0 }, "real eigenvectors have zero imaginary parts")
        return Solution(values: values, vectors: vectors.re)
    }

    /// Checks the batched solution of `h` against dsyevd's: ascending eigenvalues within
    /// `c n ε ||H||` of LAPACK's, residual ||HV - VΛ||_max and |VᵀV - I|_max within
    /// `c n ε` (relative to ||H||), and, when `vectorsToo`, each eigenvector equal to
    /// LAPACK's up to sign.
    func check(
        _ h: [Double], n: Int, count: Int, vectorsToo: Bool, label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let ours = try solve(h, n: n, count: count, method: .batchedHouseholder)
        let lapack = try solve(h, n: n, count: count, method: .lapack)
        let eps = Double.ulpOfOne, tolerance = 8 * Double(n) * eps
        // |VᵀV - I| ≤ 30 n ε: LAPACK's own eigensolver tests pass a ratio |VᵀV - I| / (n ε)
        // below THRESH = 30 (TESTING/dtest.in). Rotations accumulated over n² steps reach
        // 12 n ε on AVX2 (random n = 16, vectors 6 and 7 of trajectory 4, a gap of 6e-4 ||H||).
        let orthonormalityTolerance = 30 * Double(n) * eps
        // The kernel itself solved every trajectory: none went to the LAPACK fallback.
        var direct = try BatchEigensolver(states: n, batchSize: count, isReal: true, strategy: .batchedHouseholder)
        var w = [Double](repeating: 0, count: n * count), v = [Double](repeating: 0, count: n * n * count)
        try direct.diagonalize(h, eigenvalues: &w, eigenvectors: &v)
        XCTAssertEqual(direct.fallbackCount, 0, "\(label): trajectories redone with LAPACK", file: file, line: line)
        XCTAssertEqual(v, ours.vectors, "\(label): the same through a ComplexBatch", file: file, line: line)
        // The portable QL loop (which an AVX-512 machine otherwise never runs) meets the same bounds.
        var portable = try BatchEigensolver(states: n, batchSize: count, isReal: true, strategy: .batchedHouseholder)
        portable.forcesPortableQL = true
        var portableSolution = Solution(values: w, vectors: v)
        try portable.diagonalize(h, eigenvalues: &portableSolution.values, eigenvectors: &portableSolution.vectors)
        XCTAssertEqual(
            portable.fallbackCount, 0, "\(label): trajectories redone with LAPACK (portable QL)", file: file,
            line: line)
        for (loop, ours) in [("", ours), (" (portable QL)", portableSolution)] {
            let label = label + loop
            for t in 0..<count {
                var norm = 0.0
                for c in 0..<(n * n) { norm = max(norm, abs(h[c * count + t])) }
                norm = max(norm * Double(n), .leastNormalMagnitude)
                func v(_ a: Int, _ k: Int) -> Double { ours.vectors[(a * n + k) * count + t] }
                for k in 0..<n {
                    let value = ours.values[k * count + t]
                    if k > 0 {
                        XCTAssertLessThanOrEqual(
                            ours.values[(k - 1) * count + t], value, "\(label): ascending", file: file, line: line)
                    }
                    XCTAssertEqual(
                        value, lapack.values[k * count + t], accuracy: tolerance * norm,
                        "\(label): eigenvalue \(k) of \(t)", file: file, line: line)
                    var residual = 0.0
                    for a in 0..<n {
                        var r = -value * v(a, k)
                        for b in 0..<n { r += h[(a * n + b) * count + t] * v(b, k) }
                        residual = max(residual, abs(r))
                    }
                    XCTAssertLessThan(
                        residual, tolerance * norm, "\(label): residual of \(k) in \(t)", file: file, line: line)
                    for j in 0...k {
                        var overlap = 0.0
                        for a in 0..<n { overlap += v(a, j) * v(a, k) }
                        XCTAssertEqual(
                            overlap, j == k ? 1 : 0, accuracy: orthonormalityTolerance,
                            "\(label): orthonormality (\(j), \(k)) of \(t)", file: file, line: line)
                    }
                    if vectorsToo {
                        var overlap = 0.0
                        for a in 0..<n { overlap += v(a, k) * lapack.vectors[(a * n + k) * count + t] }
                        XCTAssertEqual(
                            abs(overlap), 1, accuracy: 1e-9, "\(label): eigenvector \(k) of \(t) vs LAPACK",
                            file: file, line: line)
                    }
                }
            }
        }
    }

    func testRandomSpectraFromThreeTo128States() throws {
        for (n, count) in [
            (3, 1), (4, 3), (5, 9), (7, 13), (8, 8), (9, 17), (16, 5), (17, 3), (31, 3), (50, 11), (64, 3), (100, 3),
            (128, 3),
        ] {
            // Random spectra are well separated but for rare near-collisions: eigenvectors
            // are compared with LAPACK's up to sign.
            try check(
                random(n: n, count: count), n: n, count: count, vectorsToo: n <= 17, label: "random n=\(n) B=\(count)")
        }
    }

    func testHolsteinLattices() throws {
        for (n, count) in [(3, 5), (10, 7), (50, 25), (51, 9), (128, 3)] {
            try check(
                holstein(n: n, count: count, disorder: 0.7), n: n, count: count, vectorsToo: false,
                label: "Holstein n=\(n) B=\(count)")
        }
    }

    func testExactlyDegenerateSpectra() throws {
        // The clean ring (pairs), the identity and the zero matrix (one eigenvalue n
        // times), and a matrix made of two equal blocks (every eigenvalue twice).
        for (n, count) in [(4, 3), (12, 5), (50, 9), (101, 3)] {
            try check(
                holstein(n: n, count: count, disorder: 0), n: n, count: count, vectorsToo: false,
                label: "clean ring n=\(n)")
        }
        for n in [3, 9, 40] {
            try check(
                batch(n: n, count: 3) { _, i, j in i == j ? 1 : 0 }, n: n, count: 3, vectorsToo: false,
                label: "identity n=\(n)")
            try check(batch(n: n, count: 3) { _, _, _ in 0 }, n: n, count: 3, vectorsToo: false, label: "zero n=\(n)")
        }
        let half = random(n: 10, count: 5, seed: 21)
        let doubled = batch(n: 20, count: 5) { t, i, j in
            (i < 10) == (j < 10) ? half[((i % 10) * 10 + j % 10) * 5 + t] : 0
        }
        try check(doubled, n: 20, count: 5, vectorsToo: false, label: "two equal blocks")
    }

    func testClusteredSpectra() throws {
        // Diagonal values from a few integers plus couplings of 1e-9: clusters of eigenvalues
        // 1e-9 apart, far below the 1e-3 ||T|| at which inverse iteration orthogonalizes.
        for (n, count) in [(10, 7), (33, 5), (64, 3)] {
            var rng = LegacyRandomState(seed: 8)
            let h = batch(n: n, count: count) { _, i, j in
                i == j ? Double(Int(rng.nextDouble() * 4)) : 1e-9 * rng.nextGaussian()
            }
            try check(h, n: n, count: count, vectorsToo: false, label: "clustered n=\(n)")
        }
        // Wilkinson's W+: pairs of eigenvalues agreeing to many digits.
        let w = batch(n: 21, count: 3) { _, i, j in i == j ? Double(abs(10 - i)) : (i - j == 1 ? 1 : 0) }
        try check(w, n: 21, count: 3, vectorsToo: false, label: "Wilkinson W+21")
    }

    func testScalingAgainstOverflowAndUnderflow() throws {
        // Entries near 1e300 would overflow any sum of squares, near 1e-300 underflow; the
        // solver scales each matrix by a power of two, so results scale exactly.
        let base = random(n: 12, count: 5, seed: 4)
        for scale in [1e300, 1e-300, 0x1p-1060] {
            let h = base.map { $0 * scale }
            try check(h, n: 12, count: 5, vectorsToo: true, label: "scaled by \(scale)")
        }
        // A matrix whose columns differ by 600 orders of magnitude (dlarfg's rescaling).
        let graded = batch(n: 9, count: 3) { t, i, j in
            Double(t + 1) * pow(1e-70, Double(i + j)) * (i == j ? 2 : 1)
        }
        let ours = try solve(graded, n: 9, count: 3, method: .batchedHouseholder)
        XCTAssertTrue(ours.values.allSatisfy { $0.isFinite } && ours.vectors.allSatisfy { $0.isFinite })
        try check(graded, n: 9, count: 3, vectorsToo: false, label: "graded")
    }

    func testFlaggedTrajectoriesAreRedoneWithLAPACK() throws {
        let n = 6, count = 7
        let h = random(n: n, count: count, seed: 17)
        var solver = try BatchEigensolver(states: n, batchSize: count, isReal: true, strategy: .batchedHouseholder)
        solver.forcesFallback = true
        var values = [Double](repeating: 0, count: n * count), vectors = [Double](repeating: 0, count: n * n * count)
        try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
        XCTAssertEqual(solver.fallbackCount, count)
        let lapack = try solve(h, n: n, count: count, method: .lapack)
        XCTAssertEqual(values, lapack.values, "the fallback is dsyevd itself")
        XCTAssertEqual(vectors, lapack.vectors)
        // Without forcing, these matrices need no fallback.
        var plain = try BatchEigensolver(states: n, batchSize: count, isReal: true, strategy: .batchedHouseholder)
        try plain.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
        XCTAssertEqual(plain.fallbackCount, 0)
    }

    func testATrajectorysEigenpairsDoNotDependOnItsNeighbours() throws {
        // Lanes in lockstep iterate as long as the slowest lane of their block; each lane's
        // result must still be its own, bit for bit, so that how trajectories are grouped
        // into batches (serial, forked, MPI) cannot change it.
        let n = 12, count = 19
        // Holstein matrices and, in every third trajectory, a clustered spectrum (integer
        // diagonal, couplings of 1e-9), whose vectors take more iterations.
        let ring = holstein(n: n, count: count, disorder: 0.4, seed: 9)
        var rng = LegacyRandomState(seed: 10)
        let h = batch(n: n, count: count) { t, i, j in
            guard t % 3 == 0 else { return ring[(i * n + j) * count + t] }
            return i == j ? Double(Int(rng.nextDouble() * 3)) : 1e-9 * rng.nextGaussian()
        }
        let all = try solve(h, n: n, count: count, method: .batchedHouseholder)
        for t in [0, 1, 5, 9, 16, 18] {
            let alone = (0..<(n * n)).map { h[$0 * count + t] }
            let one = try solve(alone, n: n, count: 1, method: .batchedHouseholder)
            for c in 0..<n { XCTAssertEqual(one.values[c], all.values[c * count + t], "eigenvalue \(c) of \(t)") }
            for c in 0..<(n * n) {
                XCTAssertEqual(one.vectors[c], all.vectors[c * count + t], "eigenvector component \(c) of \(t)")
            }
        }
    }

    func testNonFiniteInputGoesToLAPACKWhichReportsIt() throws {
        let n = 5, count = 9
        var h = random(n: n, count: count, seed: 2)
        h[(2 * n + 1) * count + 4] = .nan
        var solver = try BatchEigensolver(states: n, batchSize: count, isReal: true, strategy: .batchedHouseholder)
        var values = [Double](repeating: 0, count: n * count), vectors = [Double](repeating: 0, count: n * n * count)
        XCTAssertThrowsError(try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)) { error in
            guard case QCLabError.lapack(let routine, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(routine, "dsyevd")
        }
        XCTAssertEqual(solver.fallbackCount, 0, "the NaN trajectory was the one flagged, and it threw")
        // Trajectories before the NaN one were solved by the batched kernel.
        let lapack = try solve(
            h.enumerated().map { $0.offset % count == 4 ? 0 : $0.element }, n: n, count: count, method: .lapack)
        for k in 0..<n { XCTAssertEqual(values[k * count], lapack.values[k * count], accuracy: 1e-13) }
    }

    // MARK: Hermitian

    /// Random Hermitian matrices, or `rng`-free ones from `element` (re, im of the lower triangle).
    func hermitian(n: Int, count: Int, _ element: (_ t: Int, _ i: Int, _ j: Int) -> Complex<Double>) -> ComplexBatch {
        var h = ComplexBatch(components: n * n, batchSize: count)
        for t in 0..<count {
            for i in 0..<n {
                for j in 0...i {
                    let x = element(t, i, j)
                    h[i * n + j, t] = i == j ? Complex(x.real) : x
                    h[j * n + i, t] = i == j ? Complex(x.real) : x.conjugate
                }
            }
        }
        return h
    }

    /// As `check`, for Hermitian matrices against zheevd.
    func checkHermitian(
        _ h: ComplexBatch, n: Int, label: String, vectorsToo: Bool,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let count = h.batchSize
        func run(_ method: BatchEigensolver.Strategy) throws -> ([Double], ComplexBatch) {
            var solver = try BatchEigensolver(states: n, batchSize: count, isReal: false, strategy: method)
            var values = [Double](repeating: .nan, count: n * count)
            var vectors = ComplexBatch(components: n * n, batchSize: count)
            try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
            return (values, vectors)
        }
        let (values, v) = try run(.batchedHouseholder)
        let (lapackValues, lapackVectors) = try run(.lapack)
        var direct = try BatchEigensolver(states: n, batchSize: count, isReal: false, strategy: .batchedHouseholder)
        var w = values, vectors = v
        try direct.diagonalize(h, eigenvalues: &w, eigenvectors: &vectors)
        XCTAssertEqual(direct.fallbackCount, 0, "\(label): trajectories redone with LAPACK", file: file, line: line)
        // The portable QL loop (which an AVX-512 machine otherwise never runs) meets the same bounds.
        var portable = try BatchEigensolver(states: n, batchSize: count, isReal: false, strategy: .batchedHouseholder)
        portable.forcesPortableQL = true
        var portableValues = values, portableVectors = v
        try portable.diagonalize(h, eigenvalues: &portableValues, eigenvectors: &portableVectors)
        XCTAssertEqual(
            portable.fallbackCount, 0, "\(label): trajectories redone with LAPACK (portable QL)", file: file,
            line: line)
        let eps = Double.ulpOfOne, tolerance = 8 * Double(n) * eps
        // |VᵀV - I| ≤ 30 n ε: LAPACK's own eigensolver tests pass a ratio |VᵀV - I| / (n ε)
        // below THRESH = 30 (TESTING/dtest.in). Rotations accumulated over n² steps reach
        // 12 n ε on AVX2 (random n = 16, vectors 6 and 7 of trajectory 4, a gap of 6e-4 ||H||).
        let orthonormalityTolerance = 30 * Double(n) * eps
        for (loop, values, v) in [("", values, v), (" (portable QL)", portableValues, portableVectors)] {
            let label = label + loop
            for t in 0..<count {
                var norm = 0.0
                // |Re| + |Im| bounds the modulus without squaring (which overflows near 1e300).
                for c in 0..<(n * n) { norm = max(norm, abs(h[c, t].real) + abs(h[c, t].imaginary)) }
                norm = max(norm * Double(n), .leastNormalMagnitude)
                for k in 0..<n {
                    XCTAssertEqual(
                        values[k * count + t], lapackValues[k * count + t], accuracy: tolerance * norm,
                        "\(label): eigenvalue \(k)", file: file, line: line)
                    var residual = 0.0
                    for a in 0..<n {
                        // (H v - λ v) / ||H||, formed on the scaled matrix.
                        var r = v[a * n + k, t] * Complex(-values[k * count + t] / norm)
                        for b in 0..<n {
                            r +=
                                Complex(h[a * n + b, t].real / norm, h[a * n + b, t].imaginary / norm)
                                * v[b * n + k, t]
                        }
                        residual = max(residual, r.length)
                    }
                    XCTAssertLessThan(
                        residual, tolerance, "\(label): residual of \(k) in \(t)", file: file, line: line)
                    for j in 0...k {
                        var overlap = Complex<Double>.zero
                        for a in 0..<n { overlap += v[a * n + j, t].conjugate * v[a * n + k, t] }
                        XCTAssertEqual(
                            overlap.real, j == k ? 1 : 0, accuracy: orthonormalityTolerance,
                            "\(label): orthonormality", file: file,
                            line: line)
                        XCTAssertEqual(
                            overlap.imaginary, 0, accuracy: orthonormalityTolerance, "\(label): orthonormality",
                            file: file,
                            line: line)
                    }
                    if vectorsToo {
                        var overlap = Complex<Double>.zero
                        for a in 0..<n { overlap += lapackVectors[a * n + k, t].conjugate * v[a * n + k, t] }
                        XCTAssertEqual(
                            overlap.length, 1, accuracy: 1e-9, "\(label): eigenvector \(k) vs LAPACK up to phase",
                            file: file, line: line)
                    }
                }
            }
        }
    }

    func testHermitianAgainstZHEEVD() throws {
        var rng = LegacyRandomState(seed: 41)
        for (n, count) in [(2, 3), (3, 5), (4, 1), (7, 9), (10, 17), (17, 3), (50, 5), (128, 1)] {
            let h = hermitian(n: n, count: count) { _, _, _ in Complex(rng.nextGaussian(), rng.nextGaussian()) }
            try checkHermitian(h, n: n, label: "random Hermitian n=\(n) B=\(count)", vectorsToo: n <= 17)
        }
        // The Holstein ring in reciprocal space has a complex H; a clean ring with complex
        // (Peierls) hopping e^{iφ} has degenerate pairs only at special φ: here φ = 0.3.
        for n in [6, 31] {
            let hop = Complex<Double>.unit(phase: 0.3)
            let ring = hermitian(n: n, count: 5) { _, i, j in
                i - j == 1
                    ? hop.multiplied(by: -1) : ((i == n - 1 && j == 0) ? hop.conjugate.multiplied(by: -1) : .zero)
            }
            try checkHermitian(ring, n: n, label: "complex ring n=\(n)", vectorsToo: false)
        }
        // Exactly degenerate: the identity, and a real matrix given as complex.
        try checkHermitian(
            hermitian(n: 9, count: 3) { _, i, j in i == j ? Complex(1) : .zero }, n: 9,
            label: "identity", vectorsToo: false)
        // Scaled near the overflow and underflow limits.
        for scale in [1e300, 1e-300] {
            let h = hermitian(n: 8, count: 5) { _, _, _ in
                Complex(scale * rng.nextGaussian(), scale * rng.nextGaussian())
            }
            try checkHermitian(h, n: 8, label: "Hermitian scaled by \(scale)", vectorsToo: true)
        }
    }

    func testHermitianFallbackIsZHEEVD() throws {
        var rng = LegacyRandomState(seed: 43)
        let n = 5, count = 7
        let h = hermitian(n: n, count: count) { _, _, _ in Complex(rng.nextGaussian(), rng.nextGaussian()) }
        var solver = try BatchEigensolver(states: n, batchSize: count, isReal: false, strategy: .batchedHouseholder)
        solver.forcesFallback = true
        var values = [Double](repeating: 0, count: n * count)
        var vectors = ComplexBatch(components: n * n, batchSize: count)
        try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
        XCTAssertEqual(solver.fallbackCount, count)
        var lapack = try BatchEigensolver(states: n, batchSize: count, isReal: false, strategy: .lapack)
        var lapackValues = values, lapackVectors = vectors
        try lapack.diagonalize(h, eigenvalues: &lapackValues, eigenvectors: &lapackVectors)
        XCTAssertEqual(values, lapackValues)
        XCTAssertEqual(vectors, lapackVectors)
    }
}
