import CLAPACKE
import CQCLabKernels

/// Diagonalizes the `N x N` Hamiltonian of every trajectory of a batch (QC Lab's
/// `diagonalize_matrix`, NumPy's `eigh`): eigenvalues ascending, eigenvector `k` in
/// column `k`.
///
/// How it solves is its ``Strategy``, fixed when it is made (by a batch's ``StepPlan``):
/// the closed forms of 2 x 2 problems (complex ones with `zheevd`'s arithmetic), Jacobi
/// sweeps warm-started from the previous solution, the batched SIMD Householder-QL solver
/// with lanes across trajectories, Rayleigh quotient iteration from the previous solution
/// for tridiagonal (and periodic) Hamiltonians, or LAPACK (`dsyevd` for real symmetric, `zheevd` for
/// complex Hermitian matrices, with the workspace sized once, so a call allocates nothing;
/// each trajectory's matrix is gathered from the struct-of-arrays batch into one contiguous
/// column-major matrix, solved in place, and scattered back).
///
/// The batched solver (the C kernels `qclab_symmetric_eigen` and `qclab_hermitian_eigen`)
/// reduces to a real tridiagonal matrix by Householder reflections, finds the eigenvalues
/// by implicit QL and the eigenvectors by inverse iteration and back-transformation, in
/// lockstep over sixteen trajectories at a time (LAPACK's `dsyevx`/`zheevx` route; Golub &
/// Van Loan, Matrix Computations, §8.3 and §8.2.2). Its eigenvalues come out ascending and
/// its eigenvectors orthonormal, each with an arbitrary sign (phase), as from LAPACK (the
/// caller's gauge fixing settles it; within an exactly degenerate eigenspace the basis may
/// differ from LAPACK's). The trajectories it flags (input not finite, inverse iteration
/// not converged, a residual above `16 n ε ||H||`) are redone one by one with `dsyevd` or
/// `zheevd` (counted by ``fallbackCount``), so a batch either succeeds in full or throws
/// LAPACK's error.
@_spi(Benchmarks) public struct BatchEigensolver {
    /// How a batch's eigenproblems are solved.
    ///
    /// Adding a strategy is adding a case here, its rule in ``applies(states:isReal:structure:)``,
    /// and its arm in ``diagonalize(_:eigenvalues:eigenvectors:)``.
    @_spi(Benchmarks) public enum Strategy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `dsyevd` / `zheevd`, one call per trajectory: any size, real or complex (the reference).
        case lapack
        /// The closed form of 2 x 2 problems, vectorized over the batch: real `λ = m ∓ r`,
        /// complex Hermitian with `zheevd`'s arithmetic (the same phases as NumPy's `eigh`).
        case closedFormTwoByTwo
        /// Jacobi sweeps started from the previous solution (LAPACK for the first call and
        /// whenever the sweeps do not converge): real problems of 3 to ``jacobiLimit`` states.
        case jacobiWarmStart
        /// The batched SIMD solver (eigensolver.c: Householder tridiagonalization, QL and
        /// inverse iteration in lockstep, lanes across trajectories), real or complex, up to
        /// ``batchedLimit`` states; trajectories it flags are redone by LAPACK.
        case batchedHouseholder
        /// Rayleigh quotient iteration from the previous solution, O(N²) per matrix, for real
        /// Hamiltonians that are tridiagonal but for the periodic corners (lattices such as
        /// Holstein's; the C kernel `qclab_tridiagonal_warm_eigen`). The first call, and every
        /// trajectory whose result the kernel cannot certify, are solved densely (the batched
        /// solver, or LAPACK above ``batchedLimit`` states; LAPACK for single trajectories).
        case warmStartTridiagonal

        /// Whether this strategy solves `states x states` problems, real symmetric or not, of
        /// the given sparsity.
        package func applies(states: Int, isReal: Bool, structure: HamiltonianStructure = .dense) -> Bool {
            switch self {
            case .lapack: return true
            case .closedFormTwoByTwo: return states == 2
            case .jacobiWarmStart: return isReal && states > 2 && states <= BatchEigensolver.jacobiLimit
            case .batchedHouseholder: return states >= 2 && states <= BatchEigensolver.batchedLimit
            case .warmStartTridiagonal: return isReal && states >= 3 && structure == .tridiagonalWithCorners
            }
        }

        /// The fastest applicable strategy, from the crossovers measured by the benchmarks
        /// "Eigen method ..." (Benchmarks/README.md): the closed forms for 2 x 2, warm-started
        /// Jacobi for real 3 x 3 (its few rotations beat the batched solver's fixed costs),
        /// Rayleigh quotient iteration for larger tridiagonal (periodic) real problems, the
        /// batched solver up to ``batchedLimit`` states (real or complex), LAPACK above.
        @_spi(Benchmarks) public static func fastest(
            states: Int, isReal: Bool, structure: HamiltonianStructure = .dense
        ) -> Strategy {
            if states == 2 { return .closedFormTwoByTwo }
            if isReal && states == 3 { return .jacobiWarmStart }
            if warmStartTridiagonal.applies(states: states, isReal: isReal, structure: structure) {
                return .warmStartTridiagonal
            }
            return batchedHouseholder.applies(states: states, isReal: isReal) ? .batchedHouseholder : .lapack
        }

        /// Whether trajectories it cannot certify are redone by LAPACK (counted in ``fallbackCount``).
        package var redoesUncertifiedWithLAPACK: Bool { self == .batchedHouseholder || self == .warmStartTridiagonal }

        @_spi(Benchmarks) public var description: String {
            switch self {
            case .lapack: return "LAPACK"
            case .closedFormTwoByTwo: return "2x2 closed form"
            case .jacobiWarmStart: return "warm-started Jacobi"
            case .batchedHouseholder: return "batched SIMD Householder-QL"
            case .warmStartTridiagonal: return "warm-started tridiagonal Rayleigh quotient iteration"
            }
        }
    }

    package let n: Int
    package let batchSize: Int
    package let isReal: Bool
    /// The sparsity its problems share (``Strategy/warmStartTridiagonal`` needs it).
    package let structure: HamiltonianStructure
    /// How it solves; chosen when it is made.
    package let strategy: Strategy
    /// LAPACK, one trajectory at a time (also the batched solver's fallback).
    private let lapack: SingleMatrixLAPACK
    /// Whether this solver has solved a batch before (the warm starts need a previous solution).
    private var hasPreviousSolution = false
    /// Whether `lastEigenvectors` holds the previous solution (the caller may hand in its own
    /// copy instead, ``diagonalize(_:eigenvalues:eigenvectors:start:)``).
    private var lastEigenvectorsAreCurrent = false
    /// The previous solution, from which small real problems start Jacobi sweeps and
    /// tridiagonal ones Rayleigh quotient iteration (unless the caller hands in its own),
    /// and the sweeps' workspaces (all empty when neither is used; the tridiagonal one's
    /// allocated at its first copy).
    private var lastEigenvectors: [Double] = []
    private var jacobiMatrix: UnsafeScratch<Double>?
    private var jacobiScratch: UnsafeScratch<Double>?
    /// The batched solver's workspace and per-trajectory failure flags, at fixed addresses
    /// (empty unless the strategy is ``Strategy/batchedHouseholder``).
    private let householderWorkspace: UnsafeScratch<Double>
    private let householderFailed: UnsafeScratch<UInt8>
    /// The Rayleigh quotient iteration's workspace (empty unless the strategy is
    /// ``Strategy/warmStartTridiagonal``); its failure flags are `householderFailed`.
    private let warmWorkspace: UnsafeScratch<Double>
    /// Trajectories the batched solver flagged and LAPACK redid since this solver was made.
    package private(set) var fallbackCount = 0
    /// Trajectory solves since this solver was made (its batch size per call).
    package private(set) var solveCount = 0
    /// ``solveCount`` and ``fallbackCount``, for the run's log.
    package var counts: EigensolverCounts { EigensolverCounts(solves: solveCount, redoneByLAPACK: fallbackCount) }
    /// Flags every trajectory of the batched solver for LAPACK (tests of the fallback path).
    package var forcesFallback = BatchEigensolver.newSolversForceFallback
    /// Whether solvers made from now on start with ``forcesFallback`` set: tests of a whole
    /// run's counts, whose solvers they cannot reach (forked workers inherit it).
    nonisolated(unsafe) package static var newSolversForceFallback = false
    /// Takes the batched solver's portable QL loop even where the AVX-512 one runs (tests of
    /// the portable loop).
    package var forcesPortableQL = false

    /// Real problems up to this size go through warm-started Jacobi sweeps once a previous
    /// solution exists: for them LAPACK's call overhead dominates its arithmetic.
    package static let jacobiLimit = 16
    /// Above this size `dsyevd`'s blocked, BLAS-3 reduction overtakes the batched solver.
    package static let batchedLimit = 256

    /// A solver for batches of `batchSize` matrices of `n x n`, real symmetric or Hermitian,
    /// with the fastest strategy that applies.
    package init(states n: Int, batchSize: Int, isReal: Bool, structure: HamiltonianStructure = .dense) throws {
        try self.init(
            states: n, batchSize: batchSize, isReal: isReal,
            strategy: Strategy.fastest(states: n, isReal: isReal, structure: structure), structure: structure)
    }

    /// A solver that uses `strategy`; throws ``QCLabError/invalidSetting(_:_:)`` when the
    /// strategy does not apply to such problems (of sparsity `structure`).
    ///
    /// It leaves the number of BLAS threads alone: that is the drivers' business.
    @_spi(Benchmarks) public init(
        states n: Int, batchSize: Int, isReal: Bool, strategy: Strategy, structure: HamiltonianStructure = .dense
    ) throws {
        guard strategy.applies(states: n, isReal: isReal, structure: structure) else {
            let kind = structure == .dense ? "" : " \(structure)"
            throw QCLabError.invalidSetting(
                "eigensolver",
                "\(strategy) does not apply to \(isReal ? "real" : "complex")\(kind) \(n)x\(n) problems")
        }
        self.n = n
        self.batchSize = batchSize
        self.isReal = isReal
        self.structure = structure
        self.strategy = strategy
        // The warm start's first call goes through the batched solver where it applies.
        let batched =
            strategy == .batchedHouseholder
            || (strategy == .warmStartTridiagonal && Strategy.batchedHouseholder.applies(states: n, isReal: isReal))
        let householder =
            !batched
            ? 0
            : Int(isReal ? qclab_symmetric_eigen_workspace(Int64(n)) : qclab_hermitian_eigen_workspace(Int64(n)))
        householderWorkspace = UnsafeScratch(repeating: 0, count: householder)
        let flagged = strategy == .batchedHouseholder || strategy == .warmStartTridiagonal
        householderFailed = UnsafeScratch(repeating: 0, count: flagged ? batchSize : 0)
        warmWorkspace = UnsafeScratch(
            repeating: 0,
            count: strategy == .warmStartTridiagonal ? Int(qclab_tridiagonal_warm_eigen_workspace(Int64(n))) : 0)
        lapack = try SingleMatrixLAPACK(n: n, isReal: isReal)
        if isReal && strategy == .jacobiWarmStart {
            jacobiMatrix = UnsafeScratch(repeating: 0, count: n * n * batchSize)
            jacobiScratch = UnsafeScratch(repeating: 0, count: n * n * batchSize)
        }
        if isReal && strategy == .jacobiWarmStart {
            lastEigenvectors = [Double](repeating: 0, count: n * n * batchSize)
        }
    }

    /// Eigenvalues (`N` components) and eigenvectors (`N*N` components, element
    /// `(a, k)` is component `a` of eigenvector `k`) of every trajectory's `hamiltonian`.
    ///
    /// `start`, when given, is the previous solution up to the sign of each eigenvector (a
    /// frame's gauge-fixed previous eigenvectors, which it keeps anyway): the warm-started
    /// tridiagonal strategy then refines from it instead of from a copy of its own, which it
    /// then does not make (Rayleigh quotient iteration gives each eigenvector its start's
    /// sign, so the signs change nothing but the signs). Other strategies ignore it.
    /// `imaginaryPartsAreZero` promises that every imaginary part of `eigenvectors` is +0.0
    /// already, as a real problem's solution has them: the solver then does not check them.
    @_spi(Benchmarks) public mutating func diagonalize(
        _ hamiltonian: ComplexBatch, eigenvalues: inout [Double],
        eigenvectors: inout ComplexBatch, start: ComplexBatch? = nil, imaginaryPartsAreZero: Bool = false
    ) throws {
        solveCount += batchSize
        switch strategy {
        case .closedFormTwoByTwo where isReal:
            Self.diagonalizeRealTwoByTwo(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
        case .closedFormTwoByTwo:
            Self.diagonalizeHermitianTwoByTwo(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
        case .batchedHouseholder:
            try diagonalizeBatched(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            if isReal && !imaginaryPartsAreZero { eigenvectors.zeroImaginaryParts() }
        case .warmStartTridiagonal:
            if hasPreviousSolution, let start {
                precondition(start.components == n * n && start.batchSize == batchSize, "a start of another shape")
                try start.withUnsafeHandle { start in
                    try refineWarmTridiagonal(
                        hamiltonian, from: start.re!, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
                }
            } else if hasPreviousSolution && lastEigenvectorsAreCurrent {
                try lastEigenvectors.withUnsafeBufferPointer { start in
                    try refineWarmTridiagonal(
                        hamiltonian, from: start.baseAddress!, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
                }
            } else if Strategy.batchedHouseholder.applies(states: n, isReal: isReal) {
                try diagonalizeBatched(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            } else {
                try diagonalizeWithLAPACK(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            }
            if !imaginaryPartsAreZero { eigenvectors.zeroImaginaryParts() }
            // The next call's start: the caller's, or else a copy of this solution.
            if start == nil {
                if lastEigenvectors.isEmpty { lastEigenvectors = [Double](repeating: 0, count: n * n * batchSize) }
                lastEigenvectors.update(from: eigenvectors.re)
            }
            lastEigenvectorsAreCurrent = start == nil
            hasPreviousSolution = true
        case .lapack:
            try diagonalizeWithLAPACK(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
        case .jacobiWarmStart:
            if hasPreviousSolution,
                warmStartJacobi(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            {
                return
            }
            try diagonalizeWithLAPACK(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            lastEigenvectors.update(from: eigenvectors.re)
            hasPreviousSolution = true
        }
    }

    /// The batched SIMD solver over the whole batch, LAPACK for the trajectories it flags.
    private mutating func diagonalizeBatched(
        _ hamiltonian: ComplexBatch, eigenvalues: inout [Double], eigenvectors: inout ComplexBatch
    ) throws {
        precondition(
            hamiltonian.batchSize == batchSize && hamiltonian.components == n * n
                && eigenvectors.components == n * n && eigenvalues.count == n * batchSize)
        let isReal = isReal
        try eigenvectors.withUnsafeMutableHandle(reading: hamiltonian) { v, h in
            try eigenvalues.withUnsafeMutableBufferPointer { w in
                try solveHouseholder(
                    hr: h.re, hi: isReal ? nil : h.im, w: w.baseAddress, vr: v.re,
                    vi: isReal ? nil : v.im)
            }
        }
    }

    /// Rayleigh quotient iteration from `start` (the real parts of approximate eigenvectors,
    /// not overlapping `eigenvectors`) over the whole batch (real, tridiagonal with corners),
    /// LAPACK for the trajectories it cannot certify.
    private mutating func refineWarmTridiagonal(
        _ hamiltonian: ComplexBatch, from start: UnsafePointer<Double>, eigenvalues: inout [Double],
        eigenvectors: inout ComplexBatch
    ) throws {
        precondition(
            hamiltonian.batchSize == batchSize && hamiltonian.components == n * n
                && eigenvectors.components == n * n && eigenvalues.count == n * batchSize)
        let (n, batch) = (Int64(n), Int64(batchSize))
        let (workspace, failed) = (warmWorkspace.pointer, householderFailed.pointer)
        var failures = eigenvectors.withUnsafeMutableHandle(reading: hamiltonian) { v, h in
            eigenvalues.withUnsafeMutableBufferPointer { w in
                qclab_tridiagonal_warm_eigen(batch, n, h.re, start, w.baseAddress, v.re, workspace, failed)
            }
        }
        if forcesFallback {
            failed.update(repeating: 1, count: batchSize)
            failures = batch
        }
        if failures > 0 {
            try eigenvectors.withUnsafeMutableHandle(reading: hamiltonian) { v, h in
                try eigenvalues.withUnsafeMutableBufferPointer { w in
                    try redoFlaggedWithLAPACK(hr: h.re, hi: nil, w: w.baseAddress, vr: v.re, vi: nil)
                }
            }
        }
    }

    /// The real case of ``Strategy/batchedHouseholder`` on the real parts alone (tests).
    package mutating func diagonalize(_ h: [Double], eigenvalues: inout [Double], eigenvectors: inout [Double]) throws
    {
        precondition(isReal && strategy == .batchedHouseholder, "the real parts alone need the real batched solver")
        precondition(
            h.count == n * n * batchSize && eigenvectors.count == h.count && eigenvalues.count == n * batchSize)
        try h.withUnsafeBufferPointer { h in
            try eigenvalues.withUnsafeMutableBufferPointer { w in
                try eigenvectors.withUnsafeMutableBufferPointer { v in
                    try solveHouseholder(hr: h.baseAddress, hi: nil, w: w.baseAddress, vr: v.baseAddress, vi: nil)
                }
            }
        }
    }

    /// The batched kernel over the whole batch (`hi` and `vi` nil for a real problem, whose
    /// eigenvectors' imaginary parts it leaves as they are), then LAPACK for each trajectory
    /// it flags.
    private mutating func solveHouseholder(
        hr: UnsafePointer<Double>?, hi: UnsafePointer<Double>?,
        w: UnsafeMutablePointer<Double>?, vr: UnsafeMutablePointer<Double>?,
        vi: UnsafeMutablePointer<Double>?
    ) throws {
        let (n, batch) = (Int64(n), Int64(batchSize))
        let options = Int32(
            (forcesFallback ? QCLAB_EIGEN_FORCE_FALLBACK : 0)
                | (forcesPortableQL ? QCLAB_EIGEN_PORTABLE_QL : 0))
        let (workspace, failed) = (householderWorkspace.pointer, householderFailed.pointer)
        let failures =
            isReal
            ? qclab_symmetric_eigen(batch, n, hr, w, vr, workspace, failed, options)
            : qclab_hermitian_eigen(batch, n, hr, hi, w, vr, vi, workspace, failed, options)
        guard failures > 0 else { return }
        try redoFlaggedWithLAPACK(hr: hr, hi: hi, w: w, vr: vr, vi: vi)
    }

    /// LAPACK, one trajectory at a time, for every trajectory flagged in `householderFailed`
    /// (by the batched or the warm-started kernel), counted in ``fallbackCount``.
    private mutating func redoFlaggedWithLAPACK(
        hr: UnsafePointer<Double>?, hi: UnsafePointer<Double>?,
        w: UnsafeMutablePointer<Double>?, vr: UnsafeMutablePointer<Double>?,
        vi: UnsafeMutablePointer<Double>?
    ) throws {
        let failed = householderFailed.pointer
        for t in 0..<batchSize where failed[t] != 0 {
            try lapack.solve(trajectory: t, batchSize: batchSize, hr: hr!, hi: hi, w: w!, vr: vr!, vi: vi)
            fallbackCount += 1
        }
    }

    /// Jacobi sweeps started from the previous solution, which a time step changes little;
    /// false, with `eigenvectors` spoiled, when they do not converge in a few sweeps.
    private mutating func warmStartJacobi(
        _ hamiltonian: ComplexBatch, eigenvalues: inout [Double],
        eigenvectors: inout ComplexBatch
    ) -> Bool {
        let n = n, batch = batchSize
        eigenvectors.re.update(from: lastEigenvectors)
        eigenvectors.im.update(repeating: 0)
        let (a, scratch) = (jacobiMatrix!.pointer, jacobiScratch!.pointer)
        let sweeps = eigenvectors.withUnsafeMutableHandle(reading: hamiltonian) { v, h in
            eigenvalues.withUnsafeMutableBufferPointer { w in
                qclab_jacobi_warm_start(Int64(batch), Int64(n), h.re, v.re, w.baseAddress, a, scratch, 6, 1e-14)
            }
        }
        guard sweeps >= 0 else { return false }
        lastEigenvectors.update(from: eigenvectors.re)
        return true
    }

    /// One `dsyevd` or `zheevd` call per trajectory.
    private func diagonalizeWithLAPACK(
        _ hamiltonian: ComplexBatch, eigenvalues: inout [Double],
        eigenvectors: inout ComplexBatch
    ) throws {
        let lapack = lapack, batch = batchSize, isReal = isReal
        try eigenvectors.withUnsafeMutableHandle(reading: hamiltonian) { v, h in
            try eigenvalues.withUnsafeMutableBufferPointer { w in
                for t in 0..<batch {
                    try lapack.solve(
                        trajectory: t, batchSize: batch, hr: h.re!, hi: isReal ? nil : h.im, w: w.baseAddress!,
                        vr: v.re!, vi: v.im)
                }
            }
        }
    }

    /// The closed form of a real symmetric 2 x 2 eigenproblem, vectorized over the batch
    /// (the C kernel `qclab_eigen_real_symmetric_2x2`): `λ = m ∓ r` with `m = (a + d)/2`,
    /// `r = sqrt(((a - d)/2)² + b²)`; each eigenvector normalized, its sign left free
    /// (gauge fixing settles it).
    package static func diagonalizeRealTwoByTwo(
        _ h: ComplexBatch, eigenvalues: inout [Double], eigenvectors: inout ComplexBatch
    ) {
        eigenvectors.withUnsafeMutableHandle(reading: h) { v, h in
            eigenvalues.withUnsafeMutableBufferPointer { e in
                qclab_eigen_real_symmetric_2x2(Int64(h.batchSize), h.re, e.baseAddress, v.re, v.im)
            }
        }
    }

    /// The closed form of a complex Hermitian 2 x 2 eigenproblem, vectorized over the batch
    /// (the C kernel `qclab_eigen_hermitian_2x2`), with `zheevd`'s arithmetic: the same
    /// eigenvalues and eigenvector phases as NumPy's `eigh`, without a LAPACK call per trajectory.
    package static func diagonalizeHermitianTwoByTwo(
        _ h: ComplexBatch, eigenvalues: inout [Double],
        eigenvectors: inout ComplexBatch
    ) {
        eigenvectors.withUnsafeMutableHandle(reading: h) { v, h in
            eigenvalues.withUnsafeMutableBufferPointer { e in
                qclab_eigen_hermitian_2x2(Int64(h.batchSize), h.re, h.im, e.baseAddress, v.re, v.im)
            }
        }
    }
}

extension ComplexBatch {
    /// Makes every imaginary part +0.0, as real eigenvectors have them.
    ///
    /// A batch usually has them already (the frame's real path never writes them), which a read confirms faster
    /// than a write.
    fileprivate mutating func zeroImaginaryParts() {
        if qclab_all_positive_zeros(Int64(im.count), im) == 0 { im.update(repeating: 0) }
    }
}

/// How many trajectory eigenproblems a run's eigensolvers solved, and how many of them the
/// batched or warm-started solver could not certify and LAPACK redid (the run's log reports
/// both, summed over batches, workers and ranks).
package struct EigensolverCounts: Sendable, Equatable {
    package var solves = 0
    package var redoneByLAPACK = 0

    package init(solves: Int = 0, redoneByLAPACK: Int = 0) {
        self.solves = solves
        self.redoneByLAPACK = redoneByLAPACK
    }

    package static func + (a: EigensolverCounts, b: EigensolverCounts) -> EigensolverCounts {
        EigensolverCounts(solves: a.solves + b.solves, redoneByLAPACK: a.redoneByLAPACK + b.redoneByLAPACK)
    }
}
