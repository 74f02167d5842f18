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
package struct ClosedFormRK4Step: FusedClassicalStep {
    /// The step size the coefficients are for.
    package let dt: Double
    package let states: Int
    package let coordinates: Int
    /// Per coordinate: `τ₀, τ₁ h, τ₁ a, σ h, τ₁`.
    ///
    /// This and the coupling tables are constant, at fixed addresses for the kernel.
    package let coefficients: UnsafeScratch<Double>
    /// Coupling terms of each coordinate, compressed: coordinate `c` has the terms
    /// `termStart[c] ..< termStart[c + 1]`.
    package let termStart: UnsafeScratch<Int64>
    package let termState: UnsafeScratch<Int64>
    package let termGamma: UnsafeScratch<Double>
    package let constantHamiltonian: [Complex<Double>]
    /// `|ψ_n|²` of the batch.
    private var populations: [Double]
    /// The planes of the Hamiltonian this step wrote last, held so that a write to them by
    /// anyone else goes to a copy (copy-on-write): while a `hamiltonian` passed in still
    /// shares them, its elements off the diagonal are `H_q`'s already and only the diagonal
    /// is reset, instead of refilling all `N²` elements of every trajectory.
    private var written: (re: [Double], im: [Double]) = ([], [])
    /// The real parts of `H_q`'s diagonal, and the tiled step's workspace.
    private let constantDiagonal: UnsafeScratch<Double>
    /// The tiled step's runs of consecutive coordinates coupled to the same states, and their
    /// packed coefficients (``TiledCoordinateRuns``).
    private let runs: TiledCoordinateRuns
    private let meanFieldWorkspace: UnsafeScratch<Double>

    package init(
        dt: Double, bath: HarmonicBath, coupling: DiagonalLinearCoupling, constantHamiltonian: [Complex<Double>],
        states: Int,
        batchSize: Int
    ) {
        self.dt = dt
        populations = [Double](repeating: 0, count: states * batchSize)
        self.states = states
        self.constantHamiltonian = constantHamiltonian
        constantDiagonal = UnsafeScratch(copying: (0..<states).map { constantHamiltonian[$0 * (states + 1)].real })
        meanFieldWorkspace = UnsafeScratch(repeating: 0, count: 64 * states + 16 * bath.count)
        let dt2 = dt * dt
        coordinates = bath.count
        let perCoordinate = (0..<bath.count).map { c -> [Double] in
            let w2 = bath.frequency[c] * bath.frequency[c]
            let tau0 = 1 - w2 * dt2 / 2 + w2 * w2 * dt2 * dt2 / 24
            let tau1 = dt - w2 * dt2 * dt / 6
            let sigma = dt2 / 2 - w2 * dt2 * dt2 / 24
            return [
                tau0, tau1 * bath.weight[c], tau1 * bath.frequencySquaredOverWeight[c], sigma * bath.weight[c], tau1,
            ]
        }
        coefficients = UnsafeScratch(copying: perCoordinate.flatMap { $0 })
        let grouped = coupling.termsByCoordinate()
        var start: [Int64] = [0]
        for terms in grouped { start.append(start.last! + Int64(terms.count)) }
        termStart = UnsafeScratch(copying: start)
        termState = UnsafeScratch(copying: grouped.flatMap { $0.map { Int64($0.state) } })
        termGamma = UnsafeScratch(copying: grouped.flatMap { $0.map(\.gamma) })
        runs = TiledCoordinateRuns(terms: grouped, coefficients: perCoordinate)
    }

    package mutating func advance(z: inout ComplexBatch, psi: ComplexBatch, hamiltonian: inout ComplexBatch) {
        let batch = z.batchSize, n = states
        precondition(populations.count == n * batch, "a step prepared for another batch size")
        for i in 0..<n * batch {
            populations[i] = psi.re[i] * psi.re[i] + psi.im[i] * psi.im[i]
        }
        // H ← H_q; the kernel adds 2 γ x to the diagonal as each coordinate moves.
        let unchanged =
            Self.sharesStorage(written.re, hamiltonian.re) && Self.sharesStorage(written.im, hamiltonian.im)
        written = ([], [])  // the planes are unique again, so the writes below go in place
        if unchanged {
            hamiltonian.withUnsafeMutableHandle { h in
                for a in 0..<n {
                    let c = a * (n + 1), value = constantHamiltonian[c]
                    (h.re! + c * batch).update(repeating: value.real, count: batch)
                    (h.im! + c * batch).update(repeating: value.imaginary, count: batch)
                }
            }
        } else {
            hamiltonian.fill(repeating: constantHamiltonian)
        }
        ComplexBatch.withUnsafeMutableHandles(&z, &hamiltonian) { z, h in
            populations.withUnsafeBufferPointer { pop in
                qclab_harmonic_rk4_step(
                    Int64(batch), Int64(coordinates), z.re, z.im, coefficients.pointer,
                    termStart.pointer, termState.pointer, termGamma.pointer,
                    pop.baseAddress, h.re, Int64((n + 1) * batch))
            }
        }
        written = (hamiltonian.re, hamiltonian.im)
    }

    /// Advances `steps` whole mean-field steps, 8 trajectories at a time.
    ///
    /// Each is ``MeanFieldBatch``'s step (this classical step in `psi`, then `psi`'s RK4 step
    /// under `hamiltonian`, then `hamiltonian` at the new `z`); a tile's coordinates stay in
    /// the cache from step to step (qclab_mean_field_harmonic_steps). The classical step is
    /// this one with its products and sums fused (``TiledCoordinateRuns``): the same up to
    /// rounding, and the same bits on every machine. `hamiltonian`'s elements other than the
    /// real parts of its diagonal must be `H_q`'s, as ``DiagonalLinearHarmonicModel`` builds it.
    package mutating func advanceMeanField(
        steps: Int, z: inout ComplexBatch, psi: inout ComplexBatch, hamiltonian: inout ComplexBatch,
        realProducts: Bool
    ) {
        let batch = z.batchSize, n = states
        written = ([], [])
        let workspace = meanFieldWorkspace.pointer
        ComplexBatch.withUnsafeMutableHandles(&z, &psi, &hamiltonian) { z, psi, h in
            qclab_mean_field_harmonic_steps(
                Int64(batch), Int64(steps), dt, Int64(n), Int64(coordinates), z.re, z.im,
                coefficients.pointer, termStart.pointer, termState.pointer, termGamma.pointer,
                Int64(runs.count), runs.table.pointer, runs.packed.pointer, constantDiagonal.pointer, psi.re, psi.im,
                h.re, realProducts ? nil : h.im, workspace)
        }
    }

    /// Whether two arrays share one buffer (a copy of the other not written since).
    private static func sharesStorage(_ a: [Double], _ b: [Double]) -> Bool {
        !a.isEmpty && a.count == b.count
            && a.withUnsafeBufferPointer { $0.baseAddress } == b.withUnsafeBufferPointer { $0.baseAddress }
    }
}

/// The coordinates of a harmonic bath in runs for the tiled mean-field step
/// (qclab_mean_field_harmonic_steps): consecutive coordinates that all couple to the same
/// one state, or the same two states in the same order, share a run, whose sums of
/// `2 γ x` and populations the kernel keeps in registers.
struct TiledCoordinateRuns {
    /// Runs.
    let count: Int
    /// Per run: first coordinate, coordinates, kind (1 or 2 states; 0 for any other
    /// coupling, which the kernel steps as qclab_harmonic_rk4_step does), the states
    /// (-1 when none), and the offset of its coefficients in ``packed``.
    let table: UnsafeScratch<Int64>
    /// The coefficients of the fused multiply-adds, per coordinate of a run of one state
    /// `τ₀, τ₁ h, -τ₁ a, -σ h γ, -τ₁ γ, 2γ`; of two states
    /// `τ₀, τ₁ h, -τ₁ a, -σ h γ₀, -σ h γ₁, -τ₁ γ₀, -τ₁ γ₁, 2γ₀, 2γ₁`.
    let packed: UnsafeScratch<Double>

    /// Runs of the coordinates with `terms` and the closed-form `coefficients`
    /// (`τ₀, τ₁ h, τ₁ a, σ h, τ₁` per coordinate).
    init(terms: [[DiagonalLinearCoupling.Term]], coefficients: [[Double]]) {
        var table: [Int64] = [], packed: [Double] = []
        var key: [Int]? = nil
        for (c, coordinateTerms) in terms.enumerated() {
            let states = coordinateTerms.map(\.state)
            let kind = states.count == 1 || (states.count == 2 && states[0] != states[1]) ? states.count : 0
            let coordinateKey = [kind] + (kind == 0 ? [] : states)
            if coordinateKey == key {
                table[table.count - 5] += 1
            } else {
                key = coordinateKey
                let state = { (i: Int) in Int64(kind > i ? states[i] : -1) }
                table += [Int64(c), 1, Int64(kind), state(0), state(1), Int64(packed.count)]
            }
            guard kind != 0 else { continue }
            let (tau0, xy, yx, xf, tau1) = (
                coefficients[c][0], coefficients[c][1], coefficients[c][2], coefficients[c][3], coefficients[c][4]
            )
            let gammas = coordinateTerms.map(\.gamma)
            packed +=
                [tau0, xy, -yx] + gammas.map { -(xf * $0) } + gammas.map { -(tau1 * $0) } + gammas.map { 2 * $0 }
        }
        count = table.count / 6
        self.table = UnsafeScratch(copying: table)
        self.packed = UnsafeScratch(copying: packed)
    }
}

extension DiagonalLinearCoupling {
    /// The coupling terms of each coordinate, for passes over the coordinates.
    package func termsByCoordinate() -> [[Term]] {
        var grouped = [[Term]](repeating: [], count: numCoordinates)
        for term in terms { grouped[term.coordinate].append(term) }
        return grouped
    }
}

extension DiagonalLinearHarmonicModel {
    package func fusedClassicalStep(dt: Double, batchSize: Int) -> any FusedClassicalStep {
        closedFormRK4Step(dt: dt, batchSize: batchSize)
    }

    /// The closed-form step of size `dt` for batches of `batchSize` trajectories.
    package func closedFormRK4Step(dt: Double, batchSize: Int) -> ClosedFormRK4Step {
        ClosedFormRK4Step(
            dt: dt, bath: bath, coupling: coupling, constantHamiltonian: constantHamiltonian,
            states: numQuantumStates, batchSize: batchSize)
    }
}
