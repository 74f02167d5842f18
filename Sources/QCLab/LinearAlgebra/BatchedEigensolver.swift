import CQCLabKernels

/// Diagonalizes every real symmetric or complex Hermitian `N x N` matrix of a
/// struct-of-arrays batch with SIMD lanes across trajectories (the C kernels
/// `qclab_symmetric_eigen` and `qclab_hermitian_eigen`): Householder reduction to a real
/// tridiagonal matrix, implicit QL for the eigenvalues, inverse iteration for the
/// eigenvectors and back-transformation, in lockstep over sixteen trajectories at a time
/// (LAPACK's `dsyevx`/`zheevx` route; Golub & Van Loan, Matrix Computations, §8.3 and §8.2.2).
///
/// Eigenvalues come out ascending and eigenvectors orthonormal, eigenvector `k` in column
/// `k`, each with an arbitrary sign (phase), as from LAPACK (the caller's gauge fixing
/// settles it; within an exactly degenerate eigenspace the basis may differ from
/// LAPACK's). The trajectories the kernel flags (input not finite, inverse iteration not
/// converged, a residual above `16 n ε ||H||`) are redone one by one with `dsyevd` or
/// `zheevd`, so a batch either succeeds in full or throws LAPACK's error. Allocates
/// nothing per call.
public struct BatchedEigensolver {
    public let n: Int
    public let batchSize: Int
    public let isReal: Bool
    private var workspace: [Double]
    private var failed: [UInt8]
    private var fallback: SingleMatrixLAPACK
    /// Trajectories redone with LAPACK since this solver was made.
    public private(set) var fallbackCount = 0
    /// Flags every trajectory for LAPACK (tests of the fallback path).
    var forcesFallback = false

    /// A solver for batches of `batchSize` real symmetric (`isReal`) or complex Hermitian
    /// `n x n` matrices.
    public init(states n: Int, batchSize: Int, isReal: Bool = true) throws {
        self.n = n
        self.batchSize = batchSize
        self.isReal = isReal
        let size = isReal ? qclab_symmetric_eigen_workspace(Int64(n)) : qclab_hermitian_eigen_workspace(Int64(n))
        workspace = [Double](repeating: 0, count: Int(size))
        failed = [UInt8](repeating: 0, count: batchSize)
        fallback = try SingleMatrixLAPACK(n: n, isReal: isReal)
    }

    /// Eigenvalues (`N` components, ascending) and eigenvectors (`N*N` components, element
    /// `(a, k)` is component `a` of eigenvector `k`) of every trajectory's matrix `h`, of
    /// which only the lower triangle is read. Real problems leave `eigenvectors.im` as it is.
    public mutating func diagonalize(_ h: ComplexBatch, eigenvalues: inout [Double], eigenvectors: inout ComplexBatch) throws {
        if isReal {
            try diagonalize(h.re, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors.re)
            return
        }
        let n = n, batch = batchSize, force: Int32 = forcesFallback ? 1 : 0
        let failures = h.re.withUnsafeBufferPointer { hr in h.im.withUnsafeBufferPointer { hi in
        eigenvalues.withUnsafeMutableBufferPointer { w in
        eigenvectors.re.withUnsafeMutableBufferPointer { vr in eigenvectors.im.withUnsafeMutableBufferPointer { vi in
        workspace.withUnsafeMutableBufferPointer { work in failed.withUnsafeMutableBufferPointer { failed in
            qclab_hermitian_eigen(Int64(batch), Int64(n), hr.baseAddress, hi.baseAddress, w.baseAddress, vr.baseAddress,
                                  vi.baseAddress, work.baseAddress, failed.baseAddress, force)
        }}}}}}}
        guard failures > 0 else { return }
        for t in 0..<batch where failed[t] != 0 {
            try fallback.solve(trajectory: t, of: h, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            fallbackCount += 1
        }
    }

    /// The real case on the real parts alone.
    public mutating func diagonalize(_ h: [Double], eigenvalues: inout [Double], eigenvectors: inout [Double]) throws {
        precondition(isReal, "a Hermitian solver needs the imaginary parts")
        let n = n, batch = batchSize, force: Int32 = forcesFallback ? 1 : 0
        let failures = h.withUnsafeBufferPointer { h in
            eigenvalues.withUnsafeMutableBufferPointer { w in
                eigenvectors.withUnsafeMutableBufferPointer { v in
                    workspace.withUnsafeMutableBufferPointer { work in
                        failed.withUnsafeMutableBufferPointer { failed in
                            qclab_symmetric_eigen(Int64(batch), Int64(n), h.baseAddress, w.baseAddress, v.baseAddress,
                                                  work.baseAddress, failed.baseAddress, force)
                        }
                    }
                }
            }
        }
        guard failures > 0 else { return }
        for t in 0..<batch where failed[t] != 0 {
            try fallback.solve(trajectory: t, of: h, batchSize: batch, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            fallbackCount += 1
        }
    }
}

/// One matrix of a struct-of-arrays batch through `dsyevd` (real symmetric) or `zheevd`
/// (Hermitian): gathered into a column-major matrix, solved in place, scattered back.
/// Workspaces sized once.
struct SingleMatrixLAPACK {
    let n: Int
    let isReal: Bool
    private var matrix: [Double]
    private var values: [Double]
    private var work: [Double]
    private var rwork: [Double]
    private var iwork: [Int32]

    init(n: Int, isReal: Bool = true) throws {
        self.n = n
        self.isReal = isReal
        values = [Double](repeating: 0, count: n)
        if isReal {
            matrix = [Double](repeating: 0, count: n * n)
            let (lwork, liwork) = try LAPACK.dsyevdWorkspace(n: n)
            work = [Double](repeating: 0, count: max(lwork, 1))
            rwork = []
            iwork = [Int32](repeating: 0, count: max(liwork, 1))
        } else {
            matrix = [Double](repeating: 0, count: 2 * n * n)
            let (lwork, lrwork, liwork) = try LAPACK.zheevdWorkspace(n: n)
            work = [Double](repeating: 0, count: 2 * max(lwork, 1))
            rwork = [Double](repeating: 0, count: max(lrwork, 1))
            iwork = [Int32](repeating: 0, count: max(liwork, 1))
        }
    }

    /// Solves real trajectory `t` of `h` (`n*n` components of `batchSize` trajectories).
    mutating func solve(trajectory t: Int, of h: [Double], batchSize batch: Int, eigenvalues: inout [Double],
                        eigenvectors: inout [Double]) throws {
        let n = n
        for b in 0..<n { for a in b..<n { matrix[a + b * n] = h[(a * n + b) * batch + t] } }
        try matrix.withUnsafeMutableBufferPointer { m in
            try values.withUnsafeMutableBufferPointer { w in
                try work.withUnsafeMutableBufferPointer { work in
                    try iwork.withUnsafeMutableBufferPointer { iwork in
                        try LAPACK.dsyevd(n: n, a: m.baseAddress!, w: w.baseAddress!, work: work, iwork: iwork)
                    }
                }
            }
        }
        for a in 0..<n { for k in 0..<n { eigenvectors[(a * n + k) * batch + t] = matrix[a + k * n] } }
        for k in 0..<n { eigenvalues[k * batch + t] = values[k] }
    }

    /// Solves Hermitian trajectory `t` of `h`.
    mutating func solve(trajectory t: Int, of h: ComplexBatch, eigenvalues: inout [Double],
                        eigenvectors: inout ComplexBatch) throws {
        let n = n, batch = h.batchSize
        for b in 0..<n {
            for a in b..<n {
                matrix[2 * (a + b * n)] = h.re[(a * n + b) * batch + t]
                matrix[2 * (a + b * n) + 1] = h.im[(a * n + b) * batch + t]
            }
        }
        try matrix.withUnsafeMutableBufferPointer { m in
            try values.withUnsafeMutableBufferPointer { w in
                try work.withUnsafeMutableBufferPointer { work in
                    try rwork.withUnsafeMutableBufferPointer { rwork in
                        try iwork.withUnsafeMutableBufferPointer { iwork in
                            try LAPACK.zheevd(n: n, a: m.baseAddress!, w: w.baseAddress!, work: work, rwork: rwork, iwork: iwork)
                        }
                    }
                }
            }
        }
        for a in 0..<n {
            for k in 0..<n {
                eigenvectors.re[(a * n + k) * batch + t] = matrix[2 * (a + k * n)]
                eigenvectors.im[(a * n + k) * batch + t] = matrix[2 * (a + k * n) + 1]
            }
        }
        for k in 0..<n { eigenvalues[k * batch + t] = values[k] }
    }
}
