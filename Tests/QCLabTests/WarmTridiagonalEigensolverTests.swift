import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// The warm-started tridiagonal eigensolver (``BatchEigensolver/Strategy/warmStartTridiagonal``):
/// along a path of lattice Hamiltonians it agrees with LAPACK, it certifies or hands to LAPACK
/// every trajectory it cannot, and a trajectory's bits do not depend on its neighbours.
final class WarmTridiagonalEigensolverTests: XCTestCase {
    /// A batch of `n`-site chains (rings when `periodic`) with hopping -1 and on-site energies
    /// `sites(t, i)`.
    func lattice(n: Int, batch: Int, periodic: Bool, sites: (Int, Int) -> Double) -> ComplexBatch {
        var h = ComplexBatch(components: n * n, batchSize: batch)
        for t in 0..<batch {
            for i in 0..<n {
                h.re[(i * n + i) * batch + t] = sites(t, i)
                if i + 1 < n {
                    h.re[(i * n + i + 1) * batch + t] = -1
                    h.re[((i + 1) * n + i) * batch + t] = -1
                }
            }
            if periodic && n >= 3 {
                h.re[(n - 1) * batch + t] = -1
                h.re[((n - 1) * n) * batch + t] = -1
            }
        }
        return h
    }

    /// Gaussian on-site energies of width `width` for every (trajectory, site).
    func disorder(n: Int, batch: Int, width: Double, seed: Int) -> [Double] {
        var random = LegacyRandomState(seed: seed)
        return (0..<(n * batch)).map { _ in width * random.nextGaussian() }
    }

    func solve(_ h: ComplexBatch, with solver: inout BatchEigensolver) throws -> ([Double], ComplexBatch) {
        var values = [Double](repeating: .nan, count: solver.n * solver.batchSize)
        var vectors = ComplexBatch(components: solver.n * solver.n, batchSize: solver.batchSize)
        try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
        return (values, vectors)
    }

    /// Ascending eigenvalues within 1e-12 of LAPACK's, `H v = λ v` within 1e-12, `VᵀV = 1`
    /// within `tolerance` (the certificate bounds the overlap of eigenvectors it did not refine
    /// together by 1e-10), and each eigenvector LAPACK's up to sign where its eigenvalue is
    /// apart from the others by `apart`.
    func assertAgreesWithLAPACK(
        _ h: ComplexBatch, _ values: [Double], _ vectors: ComplexBatch, n: Int, tolerance: Double = 1e-10,
        apart: Double = 1e-3, _ label: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let batch = h.batchSize
        var lapack = try BatchEigensolver(states: n, batchSize: batch, isReal: true, strategy: .lapack)
        let (reference, referenceVectors) = try solve(h, with: &lapack)
        for t in 0..<batch {
            for k in 0..<n {
                let value = values[k * batch + t]
                XCTAssertEqual(
                    value, reference[k * batch + t], accuracy: 1e-12, "\(label): λ\(k) of \(t)", file: file,
                    line: line)
                var largestResidual = 0.0
                for a in 0..<n {
                    var product = 0.0
                    for b in 0..<n { product += h.re[(a * n + b) * batch + t] * vectors.re[(b * n + k) * batch + t] }
                    largestResidual = max(largestResidual, abs(product - value * vectors.re[(a * n + k) * batch + t]))
                }
                XCTAssertLessThan(largestResidual, 1e-12, "\(label): residual \(k) of \(t)", file: file, line: line)
                for j in 0...k {
                    var overlap = 0.0
                    for a in 0..<n {
                        overlap += vectors.re[(a * n + j) * batch + t] * vectors.re[(a * n + k) * batch + t]
                    }
                    XCTAssertEqual(
                        overlap, j == k ? 1 : 0, accuracy: tolerance, "\(label): overlap \(j), \(k) of \(t)",
                        file: file, line: line)
                }
                let below = k > 0 ? value - reference[(k - 1) * batch + t] : .infinity
                let above = k + 1 < n ? reference[(k + 1) * batch + t] - value : .infinity
                guard min(below, above) > apart else { continue }
                var overlap = 0.0
                for a in 0..<n {
                    overlap += vectors.re[(a * n + k) * batch + t] * referenceVectors.re[(a * n + k) * batch + t]
                }
                XCTAssertEqual(
                    abs(overlap), 1, accuracy: 1e-10, "\(label): v\(k) of \(t) is LAPACK's", file: file,
                    line: line)
            }
        }
        XCTAssertTrue(
            vectors.im.allSatisfy { $0.bitPattern == 0 }, "\(label): real eigenvectors", file: file, line: line)
    }

    /// Along a path of rings (and chains) it agrees with LAPACK at every step.
    ///
    /// The on-site energies move a little each step, as a Holstein lattice's do under FSSH:
    /// the first call is solved densely, the rest by Rayleigh quotient iteration. A partial lane block (19 trajectories) is included.
    func testAlongAPathOfRingsItAgreesWithLAPACK() throws {
        for (n, periodic) in [(24, true), (17, false), (3, true)] {
            let batch = 19
            let start = disorder(n: n, batch: batch, width: 0.6, seed: n)
            let drift = disorder(n: n, batch: batch, width: 0.005, seed: n + 1)
            var solver = try BatchEigensolver(
                states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
                structure: .tridiagonalWithCorners)
            let steps = 120
            for step in 0..<steps {
                let h = lattice(n: n, batch: batch, periodic: periodic) { t, i in
                    start[t * n + i] + Double(step) * drift[t * n + i] * (1 + sin(Double(step) * 0.1))
                }
                let (values, vectors) = try solve(h, with: &solver)
                if step % 10 == 0 || step == steps - 1 {
                    try assertAgreesWithLAPACK(h, values, vectors, n: n, "\(n) sites, step \(step)")
                }
            }
            // The warm path did the work: LAPACK redid at most a few trajectory-steps.
            XCTAssertLessThan(solver.fallbackCount, steps * batch / 50, "\(n) sites: fallbacks")
        }
    }

    /// A start handed in (a frame's gauge-fixed previous eigenvectors: the last solution with
    /// some signs flipped) gives every eigenvalue and eigenvector of the solver's own copy, bit for
    /// bit up to the flipped signs, along a path of rings; and handing in none after it still
    /// gives LAPACK's eigenpairs (the solver's own copy is stale by then: it solves densely).
    func testAHandedInStartGivesTheOwnCopysBitsUpToSign() throws {
        let n = 20, batch = 19, steps = 8
        let start = disorder(n: n, batch: batch, width: 0.6, seed: 3)
        let drift = disorder(n: n, batch: batch, width: 0.01, seed: 4)
        func ring(_ step: Int) -> ComplexBatch {
            lattice(n: n, batch: batch, periodic: true) { t, i in start[t * n + i] + Double(step) * drift[t * n + i] }
        }
        func makeSolver() throws -> BatchEigensolver {
            try BatchEigensolver(
                states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
                structure: .tridiagonalWithCorners)
        }
        var own = try makeSolver(), handed = try makeSolver()
        var previous = ComplexBatch(components: n * n, batchSize: batch)
        for step in 0..<steps {
            let h = ring(step)
            let (values, vectors) = try solve(h, with: &own)
            var handedValues = [Double](repeating: .nan, count: n * batch)
            var handedVectors = ComplexBatch(components: n * n, batchSize: batch)
            try handed.diagonalize(h, eigenvalues: &handedValues, eigenvectors: &handedVectors, start: previous)
            XCTAssertEqual(handedValues, values, "step \(step): eigenvalues")
            for t in 0..<batch {
                for k in 0..<n {
                    // The two signs compared on the largest component.
                    let largest = (0..<n).max {
                        abs(vectors.re[($0 * n + k) * batch + t]) < abs(vectors.re[($1 * n + k) * batch + t])
                    }!
                    let e0 = (largest * n + k) * batch + t
                    let sign = handedVectors.re[e0] * vectors.re[e0] < 0 ? -1.0 : 1.0
                    for a in 0..<n {
                        let e = (a * n + k) * batch + t
                        XCTAssertEqual(
                            handedVectors.re[e].bitPattern, (sign * vectors.re[e]).bitPattern,
                            "step \(step): v\(k)[\(a)] of \(t)")
                    }
                }
            }
            XCTAssertTrue(handedVectors.im.allSatisfy { $0.bitPattern == 0 })
            // The next start: this solution with every third eigenvector's sign flipped.
            previous = handedVectors
            for t in 0..<batch {
                for k in stride(from: step % 3, to: n, by: 3) {
                    for a in 0..<n { previous.re[(a * n + k) * batch + t].negate() }
                }
            }
        }
        XCTAssertEqual(handed.fallbackCount, own.fallbackCount)
        // Without a start: LAPACK's eigenpairs.
        let h = ring(steps)
        let (values, vectors) = try solve(h, with: &handed)
        try assertAgreesWithLAPACK(h, values, vectors, n: n, "dense after handed-in starts")
    }

    /// A frame's solutions have imaginary parts of exactly +0.0 after every diagonalization,
    /// whichever gauge wrote the buffer it reuses (phases, or signs that make -0.0), with real
    /// or complex products: the solver skips its check only where the frame knows them clean.
    func testTheFramesRealSolutionsKeepPositiveZeroImaginaryParts() throws {
        let model = HolsteinLattice(g: 0.8, N: 12)
        for gauge in FewestSwitchesSurfaceHopping.GaugeFixing.allCases {
            for realProducts in [false, true] where !(realProducts && gauge == .phaseOverlap) {
                var frame = try AdiabaticFrame(
                    states: 12, rows: 5, isReal: true, strategy: .warmStartTridiagonal,
                    realEigenvectors: realProducts, structure: .tridiagonalWithCorners)
                var z = model.initialClassicalCoordinates(seeds: Array(0..<5))
                var h = ComplexBatch(components: 144, batchSize: 5)
                model.quantumHamiltonian(z: z, into: &h)
                try frame.diagonalizeAtStart(h, z: z, model: model)
                for step in 0..<4 {
                    frame.beginStep()
                    for i in z.re.indices { z.re[i] += 0.01 * sin(Double(i + step)) }
                    model.quantumHamiltonian(z: z, into: &h)
                    try frame.diagonalize(h)
                    XCTAssertTrue(
                        frame.eigenvectors.im.allSatisfy { $0.bitPattern == 0 },
                        "\(gauge), real products \(realProducts), step \(step)")
                    frame.fixGauge(gauge, z: z, model: model)
                }
            }
        }
    }

    /// A clean ring has exactly degenerate pairs (±k): pairs are refined together or handed
    /// to LAPACK, and the eigenvectors come out orthonormal either way.
    func testDegeneratePairsOfACleanRing() throws {
        let n = 12, batch = 4
        var solver = try BatchEigensolver(
            states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
            structure: .tridiagonalWithCorners)
        let noisy = lattice(n: n, batch: batch, periodic: true) { t, i in 0.05 * sin(Double(7 * i + t)) }
        _ = try solve(noisy, with: &solver)
        let clean = lattice(n: n, batch: batch, periodic: true) { _, _ in 0 }
        let (values, vectors) = try solve(clean, with: &solver)
        try assertAgreesWithLAPACK(clean, values, vectors, n: n, "clean ring")
    }

    /// `pieces` identical open chains of `length` sites side by side (one chain of
    /// n = pieces · length sites, the bonds between pieces zero), site i of trajectory t
    /// shifted by `shift(t, i)`: each eigenvalue of a piece is `pieces`-fold, split by the
    /// shifts.
    func identicalPieces(pieces: Int, length: Int, batch: Int, shift: (Int, Int) -> Double) -> ComplexBatch {
        let n = pieces * length
        var h = lattice(n: n, batch: batch, periodic: false, sites: shift)
        for t in 0..<batch {
            for piece in 1..<pieces {
                let i = piece * length - 1  // the bond between site i and i + 1
                h.re[(i * n + i + 1) * batch + t] = 0
                h.re[((i + 1) * n + i) * batch + t] = 0
            }
        }
        return h
    }

    /// A solver's step from `pieces` nearly equal pieces of `length` sites (disorder 1e-9,
    /// seeds `seed` and `seed + 1`) to the next, checked against LAPACK; returns how many
    /// trajectories of the second step LAPACK redid.
    func fallbacksAfterAStepOfNearlyEqualPieces(pieces: Int, length: Int, batch: Int, seed: Int) throws -> Int {
        let n = pieces * length
        var solver = try BatchEigensolver(
            states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
            structure: .tridiagonalWithCorners)
        let before = disorder(n: n, batch: batch, width: 1e-9, seed: seed)
        let after = disorder(n: n, batch: batch, width: 1e-9, seed: seed + 1)
        _ = try solve(
            identicalPieces(pieces: pieces, length: length, batch: batch) { t, i in before[t * n + i] },
            with: &solver)
        let fallbacksBefore = solver.fallbackCount
        let h = identicalPieces(pieces: pieces, length: length, batch: batch) { t, i in after[t * n + i] }
        let (values, vectors) = try solve(h, with: &solver)
        try assertAgreesWithLAPACK(h, values, vectors, n: n, "\(pieces)-fold clusters")
        return solver.fallbackCount - fallbacksBefore
    }

    /// Three or four nearly equal eigenvalues (split by 1e-9, far closer than the certificate
    /// separates) are refined together as a block from their start vectors, whose span holds
    /// even where the vectors within it turn: certified, not handed to LAPACK.
    func testNearlyEqualTriplesAndQuadruplesAreRefinedTogether() throws {
        for pieces in [3, 4] {
            let fallbacks = try fallbacksAfterAStepOfNearlyEqualPieces(pieces: pieces, length: 5, batch: 3, seed: 21)
            XCTAssertEqual(fallbacks, 0, "\(pieces)-fold clusters: certified without LAPACK")
        }
    }

    /// Nine nearly equal eigenvalues are more than a block refines together: those
    /// trajectories go to LAPACK and still come out right.
    func testClustersLargerThanABlockFallBackToLAPACK() throws {
        let fallbacks = try fallbacksAfterAStepOfNearlyEqualPieces(pieces: 9, length: 2, batch: 2, seed: 31)
        XCTAssertEqual(fallbacks, 2, "9-fold clusters: LAPACK for both trajectories")
    }

    /// A start unrelated to the matrix (another batch's eigenvectors) is not certified: those
    /// trajectories go to LAPACK and still come out right.
    func testAnUnrelatedStartFallsBackToLAPACK() throws {
        let n = 20, batch = 5
        var solver = try BatchEigensolver(
            states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
            structure: .tridiagonalWithCorners)
        let first = disorder(n: n, batch: batch, width: 1, seed: 7)
        let second = disorder(n: n, batch: batch, width: 1, seed: 8)
        _ = try solve(lattice(n: n, batch: batch, periodic: true) { t, i in first[t * n + i] }, with: &solver)
        let unrelated = lattice(n: n, batch: batch, periodic: true) { t, i in 3 * second[t * n + i] }
        let (values, vectors) = try solve(unrelated, with: &solver)
        try assertAgreesWithLAPACK(unrelated, values, vectors, n: n, "unrelated start")
        XCTAssertGreaterThan(solver.fallbackCount, 0, "some trajectory was not certified")
    }

    /// The forced fallback sends every trajectory of a warm call to LAPACK.
    func testTheForcedFallbackIsLAPACK() throws {
        let n = 9, batch = 3
        var solver = try BatchEigensolver(
            states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
            structure: .tridiagonalWithCorners)
        let sites = disorder(n: n, batch: batch, width: 0.5, seed: 4)
        let h = lattice(n: n, batch: batch, periodic: true) { t, i in sites[t * n + i] }
        _ = try solve(h, with: &solver)
        solver.forcesFallback = true
        let (values, vectors) = try solve(h, with: &solver)
        XCTAssertEqual(solver.fallbackCount, batch)
        var lapack = try BatchEigensolver(states: n, batchSize: batch, isReal: true, strategy: .lapack)
        let (reference, referenceVectors) = try solve(h, with: &lapack)
        XCTAssertEqual(values, reference)
        XCTAssertEqual(vectors.re, referenceVectors.re)
    }

    /// A trajectory's eigenpairs are the same bits whichever trajectories share its lane block
    /// and wherever it sits in the batch.
    func testATrajectoryDoesNotDependOnItsNeighbours() throws {
        let n = 15, batch = 21
        let sites = disorder(n: n, batch: batch, width: 0.7, seed: 11)
        let drift = disorder(n: n, batch: batch, width: 0.01, seed: 12)
        let order = Array((0..<batch).reversed())
        var forward = try BatchEigensolver(
            states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
            structure: .tridiagonalWithCorners)
        var backward = forward
        var results: [([Double], ComplexBatch)] = []
        for (solverIndex, permutation) in [Array(0..<batch), order].enumerated() {
            var last: ([Double], ComplexBatch)!
            for step in 0..<4 {
                let h = lattice(n: n, batch: batch, periodic: true) { t, i in
                    let source = permutation[t]
                    return sites[source * n + i] + Double(step) * drift[source * n + i]
                }
                last = solverIndex == 0 ? try solve(h, with: &forward) : try solve(h, with: &backward)
            }
            results.append(last)
        }
        for t in 0..<batch {
            let u = order[t]  // trajectory t of the forward batch sits at u in the backward one
            for k in 0..<n {
                XCTAssertEqual(results[0].0[k * batch + t].bitPattern, results[1].0[k * batch + u].bitPattern)
                for a in 0..<n {
                    XCTAssertEqual(
                        results[0].1.re[(a * n + k) * batch + t].bitPattern,
                        results[1].1.re[(a * n + k) * batch + u].bitPattern, "trajectory \(t), v[\(a)][\(k)]")
                }
            }
        }
    }

    /// Input that is not finite goes to LAPACK, which reports it.
    func testNonFiniteInputGoesToLAPACKWhichReportsIt() throws {
        let n = 6, batch = 4
        var solver = try BatchEigensolver(
            states: n, batchSize: batch, isReal: true, strategy: .warmStartTridiagonal,
            structure: .tridiagonalWithCorners)
        _ = try solve(lattice(n: n, batch: batch, periodic: true) { t, i in Double(i * t) * 0.1 }, with: &solver)
        var h = lattice(n: n, batch: batch, periodic: true) { t, i in Double(i * t) * 0.1 }
        h.re[(2 * n + 2) * batch + 1] = .nan
        XCTAssertThrowsError(try solve(h, with: &solver)) { error in
            guard case QCLabError.lapack(let routine, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(routine, "dsyevd")
        }
    }

    /// The structure a model declares, and which strategy that makes fastest.
    func testStructureOfModelsAndTheChoiceOfStrategy() throws {
        XCTAssertEqual(HamiltonianStructure.of(HolsteinLattice(N: 30)), .tridiagonalWithCorners)
        XCTAssertEqual(HamiltonianStructure.of(HolsteinLattice(N: 30, periodic: false)), .tridiagonalWithCorners)
        XCTAssertEqual(HamiltonianStructure.of(FMOComplex()), .dense)
        XCTAssertEqual(HamiltonianStructure.of(TullyProblemOne()), .dense)
        let coupled = ComplexAvoidedCrossingA()
        XCTAssertEqual(HamiltonianStructure.of(coupled), .dense)
        XCTAssertEqual(
            BatchEigensolver.Strategy.fastest(states: 50, isReal: true, structure: .tridiagonalWithCorners),
            .warmStartTridiagonal)
        XCTAssertEqual(
            BatchEigensolver.Strategy.fastest(states: 3, isReal: true, structure: .tridiagonalWithCorners),
            .jacobiWarmStart)
        XCTAssertEqual(
            BatchEigensolver.Strategy.fastest(states: 50, isReal: false, structure: .tridiagonalWithCorners),
            .batchedHouseholder)
        XCTAssertThrowsError(
            try BatchEigensolver(states: 8, batchSize: 1, isReal: true, strategy: .warmStartTridiagonal)
        ) { error in
            XCTAssertEqual(
                error as? QCLabError,
                .invalidSetting(
                    "eigensolver",
                    "warm-started tridiagonal Rayleigh quotient iteration does not apply to real 8x8 problems"
                ))
        }
        XCTAssertEqual(
            FewestSwitchesSurfaceHopping().stepPlan(for: HolsteinLattice(N: 50))!.eigensolver, .warmStartTridiagonal)
    }
}
