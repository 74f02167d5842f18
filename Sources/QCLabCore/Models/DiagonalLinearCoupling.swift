import Numerics

/// A coupling diagonal in the quantum states and linear in the coordinates: QC Lab's
/// `h_qc_diagonal_linear` and `dh_qc_dzc_diagonal_linear`.
///
/// `[H_qc]_nm = δ_nm Σ_ξ γ_nξ (z_ξ + z_ξ*)`, so `[∂H_qc/∂z*_ξ]_nm = δ_nm γ_nξ` and the
/// force on coordinate `ξ` is `Σ_n γ_nξ |ψ_n|²`. Only nonzero `γ` are stored.
package struct DiagonalLinearCoupling: Sendable, Equatable {
    /// One nonzero coupling constant `γ_nξ`.
    package struct Term: Sendable, Equatable {
        package let state: Int
        package let coordinate: Int
        package let gamma: Double
    }
    /// The nonzero terms, ordered by state and then coordinate.
    package let terms: [Term]
    package let numStates: Int
    package let numCoordinates: Int

    /// Builds the coupling from a dense `γ[state][coordinate]`, keeping its nonzeros.
    package init(gamma: [[Double]]) {
        numStates = gamma.count
        numCoordinates = gamma.first?.count ?? 0
        var terms: [Term] = []
        for (n, row) in gamma.enumerated() {
            for (c, value) in row.enumerated() where value != 0 {
                terms.append(Term(state: n, coordinate: c, gamma: value))
            }
        }
        self.terms = terms
    }

    /// Adds `H_qc(z)` to the diagonal of every trajectory's Hamiltonian.
    package func addDiagonal(z: ComplexBatch, to hamiltonian: inout ComplexBatch) {
        let batch = z.batchSize, n = numStates
        hamiltonian.withUnsafeMutableHandle(reading: z) { hamiltonian, z in
            let (re, h) = (z.re!, hamiltonian.re!)
            for term in terms {
                let g = 2.0 * term.gamma
                let row = (term.state * n + term.state) * batch, col = term.coordinate * batch
                for t in 0..<batch { h[row + t] += g * re[col + t] }
            }
        }
    }

    /// Writes the force `Σ_n γ_nξ |ψ_n|²` on every coordinate.
    package func force(wavefunction psi: ComplexBatch, into force: inout ComplexBatch) {
        let batch = psi.batchSize
        force.withUnsafeMutableHandle(reading: psi) { force, psi in
            let (f, re, im) = (force.re!, psi.re!, psi.im!)
            f.update(repeating: 0, count: force.count)
            for term in terms {
                let row = term.state * batch, col = term.coordinate * batch, g = term.gamma
                for t in 0..<batch {
                    f[col + t] += g * (re[row + t] * re[row + t] + im[row + t] * im[row + t])
                }
            }
            force.im!.update(repeating: 0, count: force.count)
        }
    }

    /// `Σ_n conj(u_n) γ_nξ v_n` for every coordinate.
    package func gradient(left u: [Complex<Double>], right v: [Complex<Double>]) -> [Complex<Double>] {
        var out = [Complex<Double>](repeating: .zero, count: numCoordinates)
        // Through pointers, without the arrays' checks (the same sums, in the same order);
        // a term's coordinate and state are checked once here.
        out.withUnsafeMutableBufferPointer { out in
            terms.withUnsafeBufferPointer { terms in
                u.withUnsafeBufferPointer { u in
                    v.withUnsafeBufferPointer { v in
                        for term in terms {
                            precondition(
                                term.coordinate >= 0 && term.coordinate < out.count && term.state >= 0
                                    && term.state < u.count && term.state < v.count, "a coupling term out of range")
                            out[term.coordinate] += (u[term.state].conjugate * v[term.state]).multiplied(
                                by: term.gamma)
                        }
                    }
                }
            }
        }
        return out
    }
}

/// A model whose classical coordinates are a harmonic bath.
package protocol HarmonicBathModel: Model {
    /// The bath: frequencies, masses, weights and initial distribution.
    var bath: HarmonicBath { get }
}

extension HarmonicBathModel {
    package var numClassicalCoordinates: Int { bath.count }
    package var classicalCoordinateMass: [Double] { bath.mass }
    package var classicalCoordinateWeight: [Double] { bath.weight }
    package func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch { bath.sample(seeds: seeds) }
    package func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) { bath.energy(z: z, into: &energy) }
    package func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) { bath.force(z: z, into: &force) }
    /// QC Lab's `hop_harmonic` (``HarmonicHop``).
    package func hopShift(z: [Complex<Double>], direction: [Complex<Double>], energyGap: Double) -> [Complex<Double>]?
    {
        bath.hopRule.shift(z: z, direction: direction, energyGap: energyGap)
    }
}

/// A harmonic bath coupled diagonally and linearly to a constant quantum Hamiltonian:
/// the spin-boson, FMO and Holstein lattice models.
package protocol DiagonalLinearHarmonicModel: HarmonicBathModel, FusedClassicalDynamics {
    /// The constant `H_q`, row-major `N x N`.
    var constantHamiltonian: [Complex<Double>] { get }
    /// The coupling `γ`.
    var coupling: DiagonalLinearCoupling { get }
}

extension DiagonalLinearHarmonicModel {
    package var couplingGradientDependsOnZ: Bool { false }
    package var hamiltonianIsReal: Bool { constantHamiltonian.allSatisfy { $0.imaginary == 0 } }

    package func quantumHamiltonian(z: ComplexBatch, into hamiltonian: inout ComplexBatch) {
        hamiltonian.fill(repeating: constantHamiltonian)
        coupling.addDiagonal(z: z, to: &hamiltonian)
    }

    package func quantumClassicalForce(z: ComplexBatch, wavefunction: ComplexBatch, into force: inout ComplexBatch) {
        coupling.force(wavefunction: wavefunction, into: &force)
    }

    package func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>])
        -> [Complex<Double>]
    {
        coupling.gradient(left: u, right: v)
    }
}
