import CQCLabKernels

/// Diagonalizes every real symmetric `N x N` matrix of a struct-of-arrays batch with SIMD
/// lanes across trajectories (the C kernel `qclab_symmetric_eigen`): Householder
/// tridiagonalization, implicit QL for the eigenvalues, inverse iteration for the
/// eigenvectors and back-transformation, in lockstep over sixteen trajectories at a time
/// (LAPACK's `dsyevx` route; Golub & Van Loan, Matrix Computations, §8.3 and §8.2.2).
///
/// Eigenvalues come out ascending and eigenvectors orthonormal, eigenvector `k` in column
/// `k`, each with an arbitrary sign, as from LAPACK (the caller's gauge fixing settles it;
/// within an exactly degenerate eigenspace the basis may differ from LAPACK's). The
/// trajectories the kernel flags (input not finite, inverse iteration not converged, a
/// residual above `16 n ε ||H||`) are redone one by one with `dsyevd`, so a batch either
/// succeeds in full or throws LAPACK's error. Allocates nothing per call.
public struct BatchedSymmetricEigensolver {
    public let n: Int
    public let batchSize: Int
    private var workspace: [Double]
    private var failed: [UInt8]
    private var fallback: SingleMatrixLAPACK
    /// Trajectories redone with LAPACK since this solver was made.
    public private(set) var fallbackCount = 0
    /// Flags every trajectory for LAPACK (tests of the fallback path).
    var forcesFallback = false

    /// A solver for batches of `batchSize` real symmetric `n x n` matrices.
    public init(states n: Int, batchSize: Int) throws {
        self.n = n
        self.batchSize = batchSize
        workspace = [Double](repeating: 0, count: Int(qclab_symmetric_eigen_workspace(Int64(n))))
        failed = [UInt8](repeating: 0, count: batchSize)
        fallback = try SingleMatrixLAPACK(n: n)
    }

    /// Eigenvalues (`N` components, ascending) and eigenvectors (`N*N` components, element
    /// `(a, k)` is component `a` of eigenvector `k`) of every trajectory's matrix `h`, of
    /// which only the lower triangle is read.
    public mutating func diagonalize(_ h: [Double], eigenvalues: inout [Double], eigenvectors: inout [Double]) throws {
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

/// One real symmetric matrix of a struct-of-arrays batch through `dsyevd`: gathered into a
/// column-major matrix, solved in place, scattered back. Workspaces sized once.
struct SingleMatrixLAPACK {
    let n: Int
    private var matrix: [Double]
    private var values: [Double]
    private var work: [Double]
    private var iwork: [Int32]

    init(n: Int) throws {
        self.n = n
        matrix = [Double](repeating: 0, count: n * n)
        values = [Double](repeating: 0, count: n)
        let (lwork, liwork) = try LAPACK.dsyevdWorkspace(n: n)
        work = [Double](repeating: 0, count: max(lwork, 1))
        iwork = [Int32](repeating: 0, count: max(liwork, 1))
    }

    /// Solves trajectory `t` of `h` (`n*n` components of `batchSize` trajectories).
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
}
