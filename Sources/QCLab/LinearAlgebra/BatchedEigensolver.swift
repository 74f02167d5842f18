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
    /// The kernel's workspace and per-trajectory failure flags, at fixed addresses.
    private let workspace: UnsafeScratch<Double>
    private let failed: UnsafeScratch<UInt8>
    private let fallback: SingleMatrixLAPACK
    /// Trajectories redone with LAPACK since this solver was made.
    public private(set) var fallbackCount = 0
    /// Flags every trajectory for LAPACK (tests of the fallback path).
    var forcesFallback = false
    /// Takes the portable QL loop even where the AVX-512 one runs (tests of the portable loop).
    var forcesPortableQL = false

    /// A solver for batches of `batchSize` real symmetric (`isReal`) or complex Hermitian
    /// `n x n` matrices.
    public init(states n: Int, batchSize: Int, isReal: Bool = true) throws {
        self.n = n
        self.batchSize = batchSize
        self.isReal = isReal
        let size = isReal ? qclab_symmetric_eigen_workspace(Int64(n)) : qclab_hermitian_eigen_workspace(Int64(n))
        workspace = UnsafeScratch(repeating: 0, count: Int(size))
        failed = UnsafeScratch(repeating: 0, count: batchSize)
        fallback = try SingleMatrixLAPACK(n: n, isReal: isReal)
    }

    /// Eigenvalues (`N` components, ascending) and eigenvectors (`N*N` components, element
    /// `(a, k)` is component `a` of eigenvector `k`) of every trajectory's matrix `h`, of
    /// which only the lower triangle is read. Real problems leave `eigenvectors.im` as it is.
    public mutating func diagonalize(_ h: ComplexBatch, eigenvalues: inout [Double], eigenvectors: inout ComplexBatch) throws {
        precondition(h.batchSize == batchSize && h.components == n * n && eigenvectors.components == n * n
                     && eigenvalues.count == n * batchSize)
        let isReal = isReal
        try eigenvectors.withUnsafeMutableHandle(reading: h) { v, h in try eigenvalues.withUnsafeMutableBufferPointer { w in
            try solve(hr: h.re, hi: isReal ? nil : h.im, w: w.baseAddress, vr: v.re, vi: isReal ? nil : v.im)
        }}
    }

    /// The real case on the real parts alone.
    public mutating func diagonalize(_ h: [Double], eigenvalues: inout [Double], eigenvectors: inout [Double]) throws {
        precondition(isReal, "a Hermitian solver needs the imaginary parts")
        precondition(h.count == n * n * batchSize && eigenvectors.count == h.count && eigenvalues.count == n * batchSize)
        try h.withUnsafeBufferPointer { h in try eigenvalues.withUnsafeMutableBufferPointer { w in
            try eigenvectors.withUnsafeMutableBufferPointer { v in
                try solve(hr: h.baseAddress, hi: nil, w: w.baseAddress, vr: v.baseAddress, vi: nil)
            }
        }}
    }

    /// The kernel over the whole batch (`hi` and `vi` nil for a real problem), then LAPACK
    /// for each trajectory it flags.
    private mutating func solve(hr: UnsafePointer<Double>?, hi: UnsafePointer<Double>?, w: UnsafeMutablePointer<Double>?,
                                vr: UnsafeMutablePointer<Double>?, vi: UnsafeMutablePointer<Double>?) throws {
        let (n, batch) = (Int64(n), Int64(batchSize))
        let options = Int32((forcesFallback ? QCLAB_EIGEN_FORCE_FALLBACK : 0)
                            | (forcesPortableQL ? QCLAB_EIGEN_PORTABLE_QL : 0))
        let failures = isReal
            ? qclab_symmetric_eigen(batch, n, hr, w, vr, workspace.pointer, failed.pointer, options)
            : qclab_hermitian_eigen(batch, n, hr, hi, w, vr, vi, workspace.pointer, failed.pointer, options)
        guard failures > 0 else { return }
        for t in 0..<batchSize where failed[t] != 0 {
            try fallback.solve(trajectory: t, batchSize: batchSize, hr: hr!, hi: hi, w: w!, vr: vr!, vi: vi)
            fallbackCount += 1
        }
    }
}

/// One matrix of a struct-of-arrays batch through `dsyevd` (real symmetric) or `zheevd`
/// (Hermitian): gathered into a column-major matrix, solved in place, scattered back. The
/// matrix, eigenvalues and workspaces are sized once, at fixed addresses (scratch: copies
/// share it, which is harmless as long as they are not used at the same time).
struct SingleMatrixLAPACK {
    let n: Int
    let isReal: Bool
    private let matrix: UnsafeScratch<Double>
    private let values: UnsafeScratch<Double>
    private let work: UnsafeScratch<Double>
    private let rwork: UnsafeScratch<Double>
    private let iwork: UnsafeScratch<Int32>

    init(n: Int, isReal: Bool = true) throws {
        self.n = n
        self.isReal = isReal
        values = UnsafeScratch(repeating: 0, count: n)
        if isReal {
            matrix = UnsafeScratch(repeating: 0, count: n * n)
            let (lwork, liwork) = try LAPACK.dsyevdWorkspace(n: n)
            work = UnsafeScratch(repeating: 0, count: max(lwork, 1))
            rwork = UnsafeScratch(repeating: 0, count: 0)
            iwork = UnsafeScratch(repeating: 0, count: max(liwork, 1))
        } else {
            matrix = UnsafeScratch(repeating: 0, count: 2 * n * n)
            let (lwork, lrwork, liwork) = try LAPACK.zheevdWorkspace(n: n)
            work = UnsafeScratch(repeating: 0, count: 2 * max(lwork, 1))
            rwork = UnsafeScratch(repeating: 0, count: max(lrwork, 1))
            iwork = UnsafeScratch(repeating: 0, count: max(liwork, 1))
        }
    }

    /// Solves trajectory `t` of a batch of `batch` matrices (real parts `hr`, imaginary parts
    /// `hi` for a Hermitian problem; only the lower triangle is read): its eigenvalues into
    /// `w` and its eigenvectors into `vr`, and into `vi` when given (zeros for a real problem).
    func solve(trajectory t: Int, batchSize batch: Int, hr: UnsafePointer<Double>, hi: UnsafePointer<Double>?,
               w: UnsafeMutablePointer<Double>, vr: UnsafeMutablePointer<Double>,
               vi: UnsafeMutablePointer<Double>?) throws {
        let n = n, m = matrix.pointer
        if isReal {
            // Column-major gather of trajectory t.
            for b in 0..<n { for a in b..<n { m[a + b * n] = hr[(a * n + b) * batch + t] } }
            try LAPACK.dsyevd(n: n, a: m, w: values.pointer, work: work.buffer, iwork: iwork.buffer)
            for a in 0..<n {
                for k in 0..<n {
                    vr[(a * n + k) * batch + t] = m[a + k * n]
                    vi?[(a * n + k) * batch + t] = 0
                }
            }
        } else {
            let hi = hi!, vi = vi!
            for b in 0..<n {
                for a in b..<n {
                    m[2 * (a + b * n)] = hr[(a * n + b) * batch + t]
                    m[2 * (a + b * n) + 1] = hi[(a * n + b) * batch + t]
                }
            }
            try LAPACK.zheevd(n: n, a: m, w: values.pointer, work: work.buffer, rwork: rwork.buffer, iwork: iwork.buffer)
            for a in 0..<n {
                for k in 0..<n {
                    vr[(a * n + k) * batch + t] = m[2 * (a + k * n)]
                    vi[(a * n + k) * batch + t] = m[2 * (a + k * n) + 1]
                }
            }
        }
        for k in 0..<n { w[k * batch + t] = values[k] }
    }
}
