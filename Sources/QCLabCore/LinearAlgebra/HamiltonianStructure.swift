import Numerics

/// The sparsity of a model's `H(z)`, the same for every `z`, which an eigensolver may exploit.
@_spi(Benchmarks) public enum HamiltonianStructure: String, Sendable, Hashable, CaseIterable {
    /// Any Hermitian matrix.
    case dense
    /// Nonzero only on the diagonal, the first off-diagonals and the corners `(0, N-1)` and
    /// `(N-1, 0)`: a chain or a ring of sites with nearest-neighbour couplings.
    case tridiagonalWithCorners

    /// The structure of `model`'s `H(z)`: a model whose `z` moves only the diagonal
    /// (``DiagonalLinearHarmonicModel``) has the structure of its constant `H_q`; any other
    /// is taken as dense.
    @_spi(Benchmarks) public static func of(_ model: any Model) -> HamiltonianStructure {
        guard let lattice = model as? any DiagonalLinearHarmonicModel else { return .dense }
        return of(constant: lattice.constantHamiltonian, states: model.numQuantumStates)
    }

    /// The structure of the row-major `states x states` matrix `h`.
    package static func of(constant h: [Complex<Double>], states n: Int) -> HamiltonianStructure {
        precondition(h.count == n * n)
        for i in 0..<n {
            for j in 0..<n where h[i * n + j] != .zero {
                let band = abs(i - j) <= 1 || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)
                if !band { return .dense }
            }
        }
        return .tridiagonalWithCorners
    }

    /// How messages name it.
    package var description: String {
        switch self {
        case .dense: return "dense"
        case .tridiagonalWithCorners: return "tridiagonal (periodic)"
        }
    }
}
