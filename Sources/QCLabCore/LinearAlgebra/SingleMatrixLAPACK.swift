/// One matrix of a struct-of-arrays batch through LAPACK's eigensolvers.
///
/// The solver is `dsyevd` (real symmetric) or `zheevd` (Hermitian). The matrix is gathered into a
/// column-major matrix, solved in place and scattered back. The matrix, eigenvalues and workspaces
/// are sized once, at fixed addresses (scratch: copies share it, which is harmless as long as they
/// are not used at the same time).
package struct SingleMatrixLAPACK {
    package let n: Int
    package let isReal: Bool
    private let matrix: UnsafeScratch<Double>
    private let values: UnsafeScratch<Double>
    private let work: UnsafeScratch<Double>
    private let rwork: UnsafeScratch<Double>
    private let iwork: UnsafeScratch<Int32>

    package init(n: Int, isReal: Bool = true) throws {
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
    package func solve(
        trajectory t: Int, batchSize batch: Int, hr: UnsafePointer<Double>, hi: UnsafePointer<Double>?,
        w: UnsafeMutablePointer<Double>, vr: UnsafeMutablePointer<Double>,
        vi: UnsafeMutablePointer<Double>?
    ) throws {
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
            try LAPACK.zheevd(
                n: n, a: m, w: values.pointer, work: work.buffer, rwork: rwork.buffer, iwork: iwork.buffer)
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
