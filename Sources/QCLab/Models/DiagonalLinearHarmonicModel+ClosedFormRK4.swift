import CQCLabKernels

/// One RK4 step of a harmonic bath under the force of a diagonal linear coupling, in
/// closed form, together with the rebuild of `H_q + H_qc(z)` at the new coordinates.
///
/// With `x = Re z`, `y = Im z`, `a = ω²/h` and the force `f = Σ_n γ_nξ |ψ_n|²`, the
/// motion is `u' = M u + b` with `M = [[0, h], [-a, 0]]`, `b = (0, -f)`, and
/// `M² = -ω²`. RK4 on a linear system is `u ← T(dt M) u + dt S(dt M) b` with
/// `T(X) = Σ_{k≤4} X^k/k!` and `S(X) = Σ_{k≤3} X^k/(k+1)!`, which gives, per coordinate,
/// `x ← τ₀ x + τ₁ h y - σ h f`, `y ← τ₀ y - τ₁ a x - τ₁ f`, with
/// `τ₀ = 1 - ω²dt²/2 + ω⁴dt⁴/24`, `τ₁ = dt - ω²dt³/6`, `σ = dt²/2 - ω²dt⁴/24`:
/// the same step as the four-stage form, up to rounding, at a fifth of the cost.
public struct ClosedFormRK4Step: FusedClassicalStep {
    /// The step size the coefficients are for.
    public let dt: Double
    let states: Int
    /// Per coordinate: `τ₀, τ₁ h, τ₁ a, σ h, τ₁`.
    let coefficients: [Double]
    /// Coupling terms of each coordinate, compressed: coordinate `c` has the terms
    /// `termStart[c] ..< termStart[c + 1]`.
    let termStart: [Int64]
    let termState: [Int64]
    let termGamma: [Double]
    let constantHamiltonian: [Complex]
    /// `|ψ_n|²` of the batch.
    private var populations: [Double]
    /// The planes of the Hamiltonian this step wrote last, held so that a write to them by
    /// anyone else goes to a copy (copy-on-write): while a `hamiltonian` passed in still
    /// shares them, its elements off the diagonal are `H_q`'s already and only the diagonal
    /// is reset, instead of refilling all `N²` elements of every trajectory.
    private var written: (re: [Double], im: [Double]) = ([], [])

    init(dt: Double, bath: HarmonicBath, coupling: DiagonalLinearCoupling, constantHamiltonian: [Complex], states: Int,
         batchSize: Int) {
        self.dt = dt
        populations = [Double](repeating: 0, count: states * batchSize)
        self.states = states
        self.constantHamiltonian = constantHamiltonian
        let dt2 = dt * dt
        coefficients = (0..<bath.count).flatMap { c -> [Double] in
            let w2 = bath.frequency[c] * bath.frequency[c]
            let tau0 = 1 - w2 * dt2 / 2 + w2 * w2 * dt2 * dt2 / 24
            let tau1 = dt - w2 * dt2 * dt / 6
            let sigma = dt2 / 2 - w2 * dt2 * dt2 / 24
            return [tau0, tau1 * bath.weight[c], tau1 * bath.frequencySquaredOverWeight[c], sigma * bath.weight[c], tau1]
        }
        let grouped = coupling.termsByCoordinate()
        var start: [Int64] = [0]
        for terms in grouped { start.append(start.last! + Int64(terms.count)) }
        termStart = start
        termState = grouped.flatMap { $0.map { Int64($0.state) } }
        termGamma = grouped.flatMap { $0.map(\.gamma) }
    }

    public mutating func advance(z: inout ComplexBatch, psi: ComplexBatch, hamiltonian: inout ComplexBatch) {
        let batch = z.batchSize, n = states
        precondition(populations.count == n * batch, "a step prepared for another batch size")
        for i in 0..<n * batch {
            populations[i] = psi.re[i] * psi.re[i] + psi.im[i] * psi.im[i]
        }
        // H ← H_q; the kernel adds 2 γ x to the diagonal as each coordinate moves.
        let unchanged = Self.sharesStorage(written.re, hamiltonian.re) && Self.sharesStorage(written.im, hamiltonian.im)
        written = ([], [])  // the planes are unique again, so the writes below go in place
        if unchanged {
            for a in 0..<n {
                let c = a * (n + 1), value = constantHamiltonian[c]
                hamiltonian.re.withUnsafeMutableBufferPointer { $0[c * batch..<(c + 1) * batch].update(repeating: value.re) }
                hamiltonian.im.withUnsafeMutableBufferPointer { $0[c * batch..<(c + 1) * batch].update(repeating: value.im) }
            }
        } else {
            hamiltonian.fill(repeating: constantHamiltonian)
        }
        z.re.withUnsafeMutableBufferPointer { x in
        z.im.withUnsafeMutableBufferPointer { y in
        populations.withUnsafeBufferPointer { pop in
        hamiltonian.re.withUnsafeMutableBufferPointer { h in
        coefficients.withUnsafeBufferPointer { k in
        termStart.withUnsafeBufferPointer { start in
        termState.withUnsafeBufferPointer { state in
        termGamma.withUnsafeBufferPointer { gamma in
            qclab_harmonic_rk4_step(Int64(batch), Int64(start.count - 1), x.baseAddress, y.baseAddress, k.baseAddress,
                                    start.baseAddress, state.baseAddress, gamma.baseAddress,
                                    pop.baseAddress, h.baseAddress, Int64((n + 1) * batch))
        }}}}}}}}
        written = (hamiltonian.re, hamiltonian.im)
    }

    /// Whether two arrays share one buffer (a copy of the other not written since).
    private static func sharesStorage(_ a: [Double], _ b: [Double]) -> Bool {
        !a.isEmpty && a.count == b.count
            && a.withUnsafeBufferPointer { $0.baseAddress } == b.withUnsafeBufferPointer { $0.baseAddress }
    }
}

extension DiagonalLinearCoupling {
    /// The coupling terms of each coordinate, for passes over the coordinates.
    func termsByCoordinate() -> [[Term]] {
        var grouped = [[Term]](repeating: [], count: numCoordinates)
        for term in terms { grouped[term.coordinate].append(term) }
        return grouped
    }
}

extension DiagonalLinearHarmonicModel {
    public func fusedClassicalStep(dt: Double, batchSize: Int) -> any FusedClassicalStep {
        ClosedFormRK4Step(dt: dt, bath: bath, coupling: coupling, constantHamiltonian: constantHamiltonian,
                          states: numQuantumStates, batchSize: batchSize)
    }
}
