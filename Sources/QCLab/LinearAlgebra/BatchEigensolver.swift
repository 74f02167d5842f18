import CLAPACKE
import CQCLabKernels

/// Diagonalizes the `N x N` Hamiltonian of every trajectory of a batch (QC Lab's
/// `diagonalize_matrix`, NumPy's `eigh`): eigenvalues ascending, eigenvector `k` in
/// column `k`.
///
/// The method is chosen once, at creation (``Method/preferred(states:isReal:)``): two-state
/// problems in closed form (complex ones with `zheevd`'s arithmetic), every other one up to
/// 256 states by the batched SIMD solver (``BatchedEigensolver``), larger ones through
/// `dsyevd`/`zheevd`, one trajectory at a time (gathered from the struct-of-arrays batch into
/// one contiguous column-major matrix, solved in place, scattered back). Workspaces are
/// sized once, so a call allocates nothing.
public struct BatchEigensolver {
    /// How a batch is diagonalized.
    public enum Method: String, Sendable, CaseIterable {
        /// 2 x 2 in closed form: real `λ = m ∓ r`, complex Hermitian with `zheevd`'s arithmetic.
        case closedFormTwoByTwo = "closed-form 2x2"
        /// Real: cyclic Jacobi sweeps from the previous step's eigenvectors (`dsyevd` on the
        /// first call and whenever the sweeps do not converge).
        case jacobiWarmStart = "warm-started Jacobi"
        /// The batched SIMD solver, lanes across trajectories (eigensolver.c), real or complex.
        case batchedHouseholder = "batched Householder-QL-inverse-iteration"
        /// `dsyevd` (real) or `zheevd` (complex) per trajectory.
        case lapack = "LAPACK per trajectory"

        /// The fastest method for `n x n` problems, from the crossovers measured by the
        /// benchmarks "Eigen method ..." (Benchmarks/README.md): the closed forms for
        /// 2 x 2, warm-started Jacobi for real 3 x 3 (where its few rotations beat the
        /// batched solver's fixed costs), the batched solver for every other problem up
        /// to `batchedLimit` states (real or complex; 6-7x `zheevd` at n = 2...17), LAPACK above.
        public static func preferred(states n: Int, isReal: Bool) -> Method {
            if n == 2 { return .closedFormTwoByTwo }
            if n == 3 && isReal { return .jacobiWarmStart }  // 0.12-0.27 µs against 0.2-0.34 per matrix
            return n >= 2 && n <= batchedLimit ? .batchedHouseholder : .lapack
        }

        /// Above this size `dsyevd`'s blocked, BLAS-3 reduction overtakes the batched solver.
        public static let batchedLimit = 256

        /// Whether this method can solve `n x n` problems of this kind.
        func supports(states n: Int, isReal: Bool) -> Bool {
            switch self {
            case .closedFormTwoByTwo: return n == 2
            case .jacobiWarmStart: return isReal && n >= 3  // its kernel's sweeps need three states
            case .batchedHouseholder, .lapack: return true
            }
        }
    }

    public let n: Int
    public let batchSize: Int
    public let isReal: Bool
    /// The method every call uses.
    public let method: Method
    private var batched: BatchedEigensolver?
    private var matrix: [Double]
    private var values: [Double]
    private var work: [Double]
    private var rwork: [Double]
    private var iwork: [Int32]
    /// Whether `lastEigenvectors` holds this solver's previous (orthonormal) solution.
    private var hasPreviousSolution = false
    /// The previous solution, from which small real problems start Jacobi sweeps, and the
    /// sweeps' workspaces (all empty when Jacobi is not used).
    private var lastEigenvectors: [Double] = []
    private var jacobiMatrix: [Double] = []
    private var jacobiScratch: [Double] = []

    /// A solver for batches of `batchSize` matrices of `n x n`, real symmetric or Hermitian.
    ///
    /// Limits OpenBLAS to one thread in this process: the matrices are small and the
    /// drivers parallelize over trajectories, so BLAS threads would only spin and compete.
    /// `method` defaults to the preferred one for the size; one that cannot solve the
    /// problem (the closed form for n != 2, a real method for complex H) throws
    /// ``QCLabError/invalidSetting(_:_:)`` naming it.
    public init(states n: Int, batchSize: Int, isReal: Bool, method: Method? = nil) throws {
        LAPACK.setBLASThreads(1)
        self.n = n
        self.batchSize = batchSize
        self.isReal = isReal
        let method = method ?? Method.preferred(states: n, isReal: isReal)
        guard method.supports(states: n, isReal: isReal) else {
            throw QCLabError.invalidSetting("eigensolver method", "\(method.rawValue) cannot solve \(isReal ? "real" : "complex") \(n) x \(n) problems")
        }
        self.method = method
        if method == .batchedHouseholder { batched = try BatchedEigensolver(states: n, batchSize: batchSize, isReal: isReal) }
        values = [Double](repeating: 0, count: n)
        if isReal {
            matrix = [Double](repeating: 0, count: n * n)
            let (lwork, liwork) = try LAPACK.dsyevdWorkspace(n: n)
            work = [Double](repeating: 0, count: max(lwork, 1))
            rwork = []
            iwork = [Int32](repeating: 0, count: max(liwork, 1))
            if method == .jacobiWarmStart {
                jacobiMatrix = [Double](repeating: 0, count: n * n * batchSize)
                jacobiScratch = jacobiMatrix
                lastEigenvectors = jacobiMatrix
            }
        } else {
            matrix = [Double](repeating: 0, count: 2 * n * n)
            let (lwork, lrwork, liwork) = try LAPACK.zheevdWorkspace(n: n)
            work = [Double](repeating: 0, count: 2 * max(lwork, 1))
            rwork = [Double](repeating: 0, count: max(lrwork, 1))
            iwork = [Int32](repeating: 0, count: max(liwork, 1))
        }
    }

    /// Eigenvalues (`N` components) and eigenvectors (`N*N` components, element
    /// `(a, k)` is component `a` of eigenvector `k`) of every trajectory's `hamiltonian`.
    public mutating func diagonalize(_ hamiltonian: ComplexBatch, eigenvalues: inout [Double],
                              eigenvectors: inout ComplexBatch) throws {
        switch method {
        case .closedFormTwoByTwo:
            if isReal {
                Self.diagonalizeRealTwoByTwo(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            } else {
                Self.diagonalizeHermitianTwoByTwo(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            }
            return
        case .batchedHouseholder:
            try batched!.diagonalize(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
            if isReal { eigenvectors.im.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
            return
        case .jacobiWarmStart, .lapack:
            break
        }
        if hasPreviousSolution && !jacobiMatrix.isEmpty,
           warmStartJacobi(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors) {
            return
        }
        try diagonalizeWithLAPACK(hamiltonian, eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
        if !lastEigenvectors.isEmpty {
            lastEigenvectors.withUnsafeMutableBufferPointer { last in
                eigenvectors.re.withUnsafeBufferPointer { v in _ = last.update(fromContentsOf: v) }
            }
            hasPreviousSolution = true
        }
    }

    /// Jacobi sweeps started from the previous solution, which a time step changes little;
    /// false, with `eigenvectors` spoiled, when they do not converge in a few sweeps.
    private mutating func warmStartJacobi(_ hamiltonian: ComplexBatch, eigenvalues: inout [Double],
                                          eigenvectors: inout ComplexBatch) -> Bool {
        let n = n, batch = batchSize
        eigenvectors.re.withUnsafeMutableBufferPointer { v in
            lastEigenvectors.withUnsafeBufferPointer { last in _ = v.update(fromContentsOf: last) }
        }
        eigenvectors.im.withUnsafeMutableBufferPointer { v in v.update(repeating: 0) }
        let sweeps = hamiltonian.re.withUnsafeBufferPointer { h in
            eigenvectors.re.withUnsafeMutableBufferPointer { v in
                eigenvalues.withUnsafeMutableBufferPointer { w in
                    jacobiMatrix.withUnsafeMutableBufferPointer { a in
                        jacobiScratch.withUnsafeMutableBufferPointer { scratch in
                            qclab_jacobi_warm_start(Int64(batch), Int64(n), h.baseAddress, v.baseAddress, w.baseAddress,
                                                    a.baseAddress, scratch.baseAddress, 6, 1e-14)
                        }
                    }
                }
            }
        }
        guard sweeps >= 0 else { return false }
        lastEigenvectors.withUnsafeMutableBufferPointer { last in
            eigenvectors.re.withUnsafeBufferPointer { v in _ = last.update(fromContentsOf: v) }
        }
        return true
    }

    /// One `dsyevd` or `zheevd` call per trajectory.
    private mutating func diagonalizeWithLAPACK(_ hamiltonian: ComplexBatch, eigenvalues: inout [Double],
                                                eigenvectors: inout ComplexBatch) throws {
        let n = n, batch = batchSize
        try hamiltonian.re.withUnsafeBufferPointer { hr in
        try hamiltonian.im.withUnsafeBufferPointer { hi in
        try eigenvectors.re.withUnsafeMutableBufferPointer { vr in
        try eigenvectors.im.withUnsafeMutableBufferPointer { vi in
        try eigenvalues.withUnsafeMutableBufferPointer { ev in
        try matrix.withUnsafeMutableBufferPointer { m in
        try values.withUnsafeMutableBufferPointer { w in
        try work.withUnsafeMutableBufferPointer { work in
        try rwork.withUnsafeMutableBufferPointer { rwork in
        try iwork.withUnsafeMutableBufferPointer { iwork in
            for t in 0..<batch {
                if isReal {
                    // Column-major gather of trajectory t; only the lower triangle is read.
                    for b in 0..<n { for a in b..<n { m[a + b * n] = hr[(a * n + b) * batch + t] } }
                    try LAPACK.dsyevd(n: n, a: m.baseAddress!, w: w.baseAddress!, work: work, iwork: iwork)
                    for a in 0..<n {
                        for k in 0..<n {
                            vr[(a * n + k) * batch + t] = m[a + k * n]
                            vi[(a * n + k) * batch + t] = 0
                        }
                    }
                } else {
                    for b in 0..<n {
                        for a in b..<n {
                            m[2 * (a + b * n)] = hr[(a * n + b) * batch + t]
                            m[2 * (a + b * n) + 1] = hi[(a * n + b) * batch + t]
                        }
                    }
                    try LAPACK.zheevd(n: n, a: m.baseAddress!, w: w.baseAddress!, work: work, rwork: rwork, iwork: iwork)
                    for a in 0..<n {
                        for k in 0..<n {
                            vr[(a * n + k) * batch + t] = m[2 * (a + k * n)]
                            vi[(a * n + k) * batch + t] = m[2 * (a + k * n) + 1]
                        }
                    }
                }
                for k in 0..<n { ev[k * batch + t] = w[k] }
            }
        }}}}}}}}}}
    }

    /// The closed form of a complex Hermitian 2 x 2 eigenproblem, vectorized over the batch
    /// (the C kernel `qclab_eigen_hermitian_2x2`), with `zheevd`'s arithmetic: the same
    /// eigenvalues and eigenvector phases as NumPy's `eigh`, without a LAPACK call per trajectory.
    static func diagonalizeHermitianTwoByTwo(_ h: ComplexBatch, eigenvalues: inout [Double],
                                             eigenvectors: inout ComplexBatch) {
        h.re.withUnsafeBufferPointer { hr in
        h.im.withUnsafeBufferPointer { hi in
        eigenvalues.withUnsafeMutableBufferPointer { e in
        eigenvectors.re.withUnsafeMutableBufferPointer { vr in
        eigenvectors.im.withUnsafeMutableBufferPointer { vi in
            qclab_eigen_hermitian_2x2(Int64(h.batchSize), hr.baseAddress, hi.baseAddress, e.baseAddress,
                                      vr.baseAddress, vi.baseAddress)
        }}}}}
    }

    /// The closed form of a real symmetric 2 x 2 eigenproblem, vectorized over the batch
    /// (the C kernel `qclab_eigen_real_symmetric_2x2`): `λ = m ∓ r` with `m = (a + d)/2`,
    /// `r = sqrt(((a - d)/2)² + b²)`; each eigenvector normalized, its sign left free
    /// (gauge fixing settles it).
    static func diagonalizeRealTwoByTwo(_ h: ComplexBatch, eigenvalues: inout [Double], eigenvectors: inout ComplexBatch) {
        h.re.withUnsafeBufferPointer { hr in
        eigenvalues.withUnsafeMutableBufferPointer { e in
        eigenvectors.re.withUnsafeMutableBufferPointer { vr in
        eigenvectors.im.withUnsafeMutableBufferPointer { vi in
            qclab_eigen_real_symmetric_2x2(Int64(h.batchSize), hr.baseAddress, e.baseAddress, vr.baseAddress, vi.baseAddress)
        }}}}
    }
}
