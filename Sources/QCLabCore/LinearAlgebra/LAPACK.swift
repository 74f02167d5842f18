import CLAPACKE
import COpenBLAS

/// Every LAPACK call of the package, in one place: each wrapper turns LAPACK's `info`
/// code into a thrown ``QCLabError/lapack(routine:info:)``.
///
/// Matrices are column-major and only the lower triangle is read (`uplo = 'L'`), as
/// NumPy's `eigh` calls LAPACK, so eigenvectors come out with the same phases.
package enum LAPACK {
    /// Throws unless `info` is zero.
    @inline(__always)
    package static func check(_ info: Int32, _ routine: String) throws {
        if info != 0 { throw QCLabError.lapack(routine: routine, info: Int32(info)) }
    }

    /// Workspace sizes of `dsyevd` for an `n x n` matrix: (work, iwork).
    package static func dsyevdWorkspace(n: Int) throws -> (Int, Int) {
        var a = [Double](repeating: 0, count: max(n * n, 1)), w = [Double](repeating: 0, count: max(n, 1))
        var work = 0.0
        var iwork: Int32 = 0
        let info = LAPACKE_dsyevd_work(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")),
            Int32(n), &a, Int32(max(n, 1)), &w, &work, -1, &iwork, -1)
        try check(info, "dsyevd (workspace query)")
        return (Int(work), Int(iwork))
    }

    /// Eigenvalues (ascending) and eigenvectors of the real symmetric matrix in `a`,
    /// overwritten by the eigenvectors (`dsyevd`).
    @inline(__always)
    package static func dsyevd(
        n: Int, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>,
        work: UnsafeMutableBufferPointer<Double>, iwork: UnsafeMutableBufferPointer<Int32>
    ) throws {
        let info = LAPACKE_dsyevd_work(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")),
            Int32(n), a, Int32(n), w, work.baseAddress,
            Int32(work.count), iwork.baseAddress, Int32(iwork.count))
        try check(info, "dsyevd")
    }

    /// Workspace sizes of `zheevd` for an `n x n` matrix: (work, rwork, iwork).
    package static func zheevdWorkspace(n: Int) throws -> (Int, Int, Int) {
        var a = [qclab_lapack_complex_double](repeating: .init(real: 0, imag: 0), count: max(n * n, 1))
        var w = [Double](repeating: 0, count: max(n, 1))
        var work = qclab_lapack_complex_double(real: 0, imag: 0)
        var rwork = 0.0
        var iwork: Int32 = 0
        let info = LAPACKE_zheevd_work(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")),
            Int32(n), &a, Int32(max(n, 1)), &w, &work, -1, &rwork, -1, &iwork, -1)
        try check(info, "zheevd (workspace query)")
        return (Int(work.real), Int(rwork), Int(iwork))
    }

    /// Eigenvalues (ascending) and eigenvectors of the Hermitian matrix in `a` (interleaved
    /// real and imaginary parts), overwritten by the eigenvectors (`zheevd`).
    @inline(__always)
    package static func zheevd(
        n: Int, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>,
        work: UnsafeMutableBufferPointer<Double>, rwork: UnsafeMutableBufferPointer<Double>,
        iwork: UnsafeMutableBufferPointer<Int32>
    ) throws {
        let info = a.withMemoryRebound(to: qclab_lapack_complex_double.self, capacity: n * n) { matrix in
            work.baseAddress!.withMemoryRebound(to: qclab_lapack_complex_double.self, capacity: work.count / 2) {
                cwork in
                LAPACKE_zheevd_work(
                    LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")),
                    Int32(n), matrix, Int32(n), w, cwork, Int32(work.count / 2),
                    rwork.baseAddress, Int32(rwork.count), iwork.baseAddress, Int32(iwork.count))
            }
        }
        try check(info, "zheevd")
    }

    /// `c = alpha a aᵀ + beta c` for the column-major `n x k` matrix `a`, lower triangle of the
    /// `n x n` matrix `c` only (`dsyrk`).
    @inline(__always)
    package static func dsyrkLower(
        n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, beta: Double, c: UnsafeMutablePointer<Double>
    ) {
        cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(n), Int32(k), alpha, a, Int32(n), beta, c, Int32(n))
    }

    /// `c = alpha aᵀ a + beta c` for the column-major `k x n` matrix `a`, lower triangle of the
    /// `n x n` matrix `c` only (`dsyrk`, transposed).
    @inline(__always)
    package static func dsyrkLowerTransposed(
        n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, beta: Double, c: UnsafeMutablePointer<Double>
    ) {
        cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, Int32(n), Int32(k), alpha, a, Int32(k), beta, c, Int32(n))
    }

    /// Limits OpenBLAS to `count` threads in this process (one per forked worker or MPI
    /// rank, so that workers do not oversubscribe the cores).
    package static func setBLASThreads(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }
}

/// The number of threads OpenBLAS (and so LAPACK) uses in this process.
package func linearAlgebraThreads() -> Int { Int(openblas_get_num_threads()) }

/// Limits OpenBLAS (and so LAPACK) to `count` threads in this process.
@_spi(Benchmarks) public func setLinearAlgebraThreads(_ count: Int) { LAPACK.setBLASThreads(count) }
