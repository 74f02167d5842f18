import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// The per-step surface-hopping kernels against their definitions: the density matrix
/// (computed on its lower triangle in tiles of four columns and mirrored, or for many states
/// and real eigenvectors by a BLAS rank-N update) and the real
/// sign alignment (which skips the imaginary parts).
final class SurfaceHoppingKernelTests: XCTestCase {
    func randomBatch(components: Int, batch: Int, complex: Bool, rng: inout LegacyRandomState) -> ComplexBatch {
        var x = ComplexBatch(components: components, batchSize: batch)
        for i in x.re.indices {
            x.re[i] = rng.nextGaussian()
            x.im[i] = complex ? rng.nextGaussian() : 0
        }
        return x
    }

    func testDensityMatrixIsPsiPsiDaggerPlusVDVDagger() {
        var rng = LegacyRandomState(seed: 31)
        // 32 and 70 states with real eigenvectors go through BLAS (blasDensityStates).
        XCTAssertEqual(SurfaceHoppingKernels.blasDensityStates, 32)
        for (n, batch) in [(1, 3), (2, 5), (5, 4), (7, 9), (9, 2), (31, 2), (32, 3), (70, 2)] {
            for complex in [false, true] {
                for weighted in [false, true] {
                    let v = randomBatch(components: n * n, batch: batch, complex: complex, rng: &rng)
                    let wfAdb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
                    let wfDb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
                    let active = (0..<batch).map { $0 % n }
                    let weights = weighted ? (0..<batch).map { 0.5 + Double($0) } : nil
                    var rho = ComplexBatch(components: n * n, batchSize: batch)
                    SurfaceHoppingKernels.diabaticDensityMatrix(
                        eigenvectors: v, realEigenvectors: !complex, wfAdb: wfAdb,
                        wfDb: wfDb, activeSurface: active, weights: weights,
                        into: &rho)
                    for t in 0..<batch {
                        for a in 0..<n {
                            for b in 0..<n {
                                var expected = wfDb[a, t] * wfDb[b, t].conjugate
                                for k in 0..<n {
                                    let dk = (active[t] == k ? 1 : 0) - wfAdb[k, t].lengthSquared
                                    expected += v[a * n + k, t] * v[b * n + k, t].conjugate * Complex(dk)
                                }
                                expected = expected * Complex(weights?[t] ?? 1)
                                let got = rho[a * n + b, t]
                                let label = "n=\(n) complex=\(complex) weighted=\(weighted) (\(a), \(b)) of \(t)"
                                XCTAssertEqual(got.real, expected.real, accuracy: 1e-12 * Double(n * n + 1), label)
                                XCTAssertEqual(
                                    got.imaginary, expected.imaginary, accuracy: 1e-12 * Double(n * n + 1), label)
                                // Off the diagonal, exactly Hermitian (one element mirrors the other).
                                if a != b {
                                    XCTAssertEqual(got.real, rho[b * n + a, t].real, label)
                                    XCTAssertEqual(got.imaginary, -rho[b * n + a, t].imaginary, label)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The BLAS route of the density matrix, batch-wide through `Xᵀ X` with `X = Wᵀ`, gives the
    /// bits of `W Wᵀ` one row at a time (`perRowDensityMatrixByBLAS`, the route it replaced).
    func testBlockedBLASDensityMatrixMatchesTheRowByRowRoute() {
        var rng = LegacyRandomState(seed: 5)
        for (n, batch) in [(64, 3), (65, 8), (66, 19)] {
            for weighted in [false, true] {
                let v = randomBatch(components: n * n, batch: batch, complex: false, rng: &rng)
                let wfAdb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
                let wfDb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
                let active = (0..<batch).map { ($0 * 7) % n }
                let weights = weighted ? (0..<batch).map { 0.5 + Double($0) } : nil
                var blocked = ComplexBatch(components: n * n, batchSize: batch)
                SurfaceHoppingKernels.diabaticDensityMatrix(
                    eigenvectors: v, realEigenvectors: true, wfAdb: wfAdb, wfDb: wfDb, activeSurface: active,
                    weights: weights, into: &blocked)
                let perRow = perRowDensityMatrixByBLAS(
                    eigenvectors: v, wfAdb: wfAdb, wfDb: wfDb, activeSurface: active, weights: weights)
                XCTAssertEqual(blocked.re.map(\.bitPattern), perRow.re.map(\.bitPattern), "n=\(n) batch=\(batch)")
                XCTAssertEqual(blocked.im.map(\.bitPattern), perRow.im.map(\.bitPattern), "n=\(n) batch=\(batch)")
            }
        }
    }

    /// The BLAS route one row at a time, gathering and scattering with the batch's stride:
    /// `ψ ψ† + (1 - |c_a|²) v_a v_aᵀ - W Wᵀ`, column `k` of `W` being `|c_k| v_k` (zero for `a`).
    func perRowDensityMatrixByBLAS(
        eigenvectors v: ComplexBatch, wfAdb c: ComplexBatch, wfDb psi: ComplexBatch, activeSurface: [Int],
        weights: [Double]?
    ) -> ComplexBatch {
        let n = c.components, batch = c.batchSize
        var rho = ComplexBatch(components: n * n, batchSize: batch)
        var w = [Double](repeating: 0, count: n * n), product = w
        for t in 0..<batch {
            let active = activeSurface[t]
            for k in 0..<n {
                let (x, y) = (c.re[k * batch + t], c.im[k * batch + t])
                let scale = k == active ? 0 : (x * x + y * y).squareRoot()
                for i in 0..<n { w[k * n + i] = scale * v.re[(i * n + k) * batch + t] }
            }
            w.withUnsafeBufferPointer { w in
                product.withUnsafeMutableBufferPointer { p in
                    LAPACK.dsyrkLower(n: n, k: n, alpha: -1, a: w.baseAddress!, beta: 0, c: p.baseAddress!)
                }
            }
            let (x, y) = (c.re[active * batch + t], c.im[active * batch + t])
            let population = 1 - (x * x + y * y)
            for j in 0..<n {
                let vj = v.re[(j * n + active) * batch + t],
                    (pjr, pji) = (psi.re[j * batch + t], psi.im[j * batch + t])
                for i in j..<n {
                    let vi = v.re[(i * n + active) * batch + t],
                        (pir, pii) = (psi.re[i * batch + t], psi.im[i * batch + t])
                    var re = pir * pjr + pii * pji + (product[j * n + i] + population * vi * vj)
                    var im = pii * pjr - pir * pji
                    if let weights {
                        re *= weights[t]
                        im *= weights[t]
                    }
                    rho.re[(i * n + j) * batch + t] = re
                    rho.im[(i * n + j) * batch + t] = im
                    rho.re[(j * n + i) * batch + t] = re
                    rho.im[(j * n + i) * batch + t] = i == j ? im : -im
                }
            }
        }
        return rho
    }

    func testRealSignAlignmentMatchesTheComplexKernel() {
        var rng = LegacyRandomState(seed: 12)
        let n = 6, batch = 11
        let previous = randomBatch(components: n * n, batch: batch, complex: false, rng: &rng)
        var v = randomBatch(components: n * n, batch: batch, complex: false, rng: &rng)
        v.re[3 * batch + 2] = 0  // a zero component changes nothing
        var overlap = ComplexBatch(components: n, batchSize: batch)
        var viaComplex = v, viaReal = v
        SurfaceHoppingKernels.alignWithPrevious(&viaComplex, previous: previous, byPhase: false, overlap: &overlap)
        SurfaceHoppingKernels.alignWithPrevious(
            &viaReal, previous: previous, byPhase: false, overlap: &overlap, real: true)
        XCTAssertEqual(viaReal.re, viaComplex.re)
        XCTAssertTrue(viaReal.im.allSatisfy { $0 == 0 })
        // And the signs really changed something: every column now overlaps positively.
        XCTAssertNotEqual(viaReal.re, v.re)
        for t in 0..<batch {
            for k in 0..<n {
                var dot = 0.0
                for a in 0..<n { dot += previous[a * n + k, t].real * viaReal[a * n + k, t].real }
                XCTAssertGreaterThan(dot, 0)
            }
        }
    }

    func testRealHopProbabilitiesMatchTheComplexKernel() {
        var rng = LegacyRandomState(seed: 14)
        let n = 7, batch = 13
        let previous = randomBatch(components: n * n, batch: batch, complex: false, rng: &rng)
        let current = randomBatch(components: n * n, batch: batch, complex: false, rng: &rng)
        let wfAdb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
        let active = (0..<batch).map { ($0 * 3) % n }
        var gathered = ComplexBatch(components: n, batchSize: batch)
        var complexP = [Double](repeating: 0, count: n * batch), realP = complexP
        let workspace = UnsafeScratch<Double>(repeating: 0, count: 4 * batch)
        SurfaceHoppingKernels.hopProbabilities(
            previous: previous, current: current, wfAdb: wfAdb, activeSurface: active,
            gathered: &gathered, probabilities: &complexP, workspace: workspace)
        SurfaceHoppingKernels.hopProbabilities(
            previous: previous, current: current, wfAdb: wfAdb, activeSurface: active,
            gathered: &gathered, probabilities: &realP, workspace: workspace,
            realEigenvectors: true)
        // The same sums without the zero imaginary terms (rounded differently where the
        // compiler fuses a multiply into an add).
        for i in realP.indices { XCTAssertEqual(realP[i], complexP[i], accuracy: 1e-13 * max(1, abs(complexP[i]))) }
        XCTAssertTrue(realP.contains { $0 > 0 }, "some hop is possible")
        for t in 0..<batch { XCTAssertEqual(realP[active[t] * batch + t], 0, "no hop to the active surface") }
    }

    /// The bit patterns of a batch's planes (to tell -0 from +0 and compare NaNs).
    func bits(_ x: ComplexBatch) -> [UInt64] { x.re.map(\.bitPattern) + x.im.map(\.bitPattern) }

    /// The one-sweep kernel of real eigenvectors under sign_overlap against the separate
    /// kernels it replaces, bit for bit, with and without the propagation `ψ = V_prev r`:
    /// random eigenvectors and wavefunctions, every active surface, odd batch sizes, a column
    /// whose overlap is exactly zero (sign 0), a row whose wavefunction is zero (c_a = 0, so
    /// the probabilities go through the clipping of inf and NaN).
    func testRealSignSweepIsTheSeparateKernelsBitForBit() {
        var rng = LegacyRandomState(seed: 77)
        var someHopPossible = false
        for (n, batch) in [(1, 3), (2, 5), (3, 17), (7, 9), (50, 25)] {
            for propagates in [false, true] {
                var previous = randomBatch(components: n * n, batch: batch, complex: false, rng: &rng)
                let v = randomBatch(components: n * n, batch: batch, complex: false, rng: &rng)
                var wfDb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
                var rotated = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
                let active = (0..<batch).map { ($0 * 5 + 1) % n }
                // Row 1: column `active` of V_prev is zero, so its overlap is +0 and its sign 0.
                for a in 0..<n { previous[a * n + active[1], 1] = Complex(0) }
                // Row 2: a zero wavefunction.
                for a in 0..<n { wfDb[a, 2] = Complex(0); rotated[a, 2] = Complex(0) }
                var separateV = v, separateDb = wfDb, separateAdb = ComplexBatch(components: n, batchSize: batch)
                var overlap = ComplexBatch(components: n, batchSize: batch), separateGathered = overlap
                var separateP = [Double](repeating: 0, count: n * batch)
                let workspace = UnsafeScratch<Double>(repeating: 0, count: 4 * batch)
                if propagates { ComplexBatchAlgebra.multiply(previous, rotated, into: &separateDb, real: true) }
                SurfaceHoppingKernels.alignWithPrevious(
                    &separateV, previous: previous, byPhase: false, overlap: &overlap,
                    real: true)
                ComplexBatchAlgebra.multiplyAdjoint(separateV, separateDb, into: &separateAdb, real: true)
                SurfaceHoppingKernels.hopProbabilities(
                    previous: previous, current: separateV, wfAdb: separateAdb,
                    activeSurface: active, gathered: &separateGathered,
                    probabilities: &separateP, workspace: workspace,
                    realEigenvectors: true)

                var sweptV = v, sweptDb = wfDb, sweptAdb = ComplexBatch(components: n, batchSize: batch)
                var sweptGathered = ComplexBatch(components: n, batchSize: batch)
                var sweptP = [Double](repeating: -1, count: n * batch)
                let sweepWorkspace = UnsafeScratch<Double>(repeating: .nan, count: max(n, 2) * batch)
                SurfaceHoppingKernels.realSignSweep(
                    &sweptV, previous: previous, rotated: propagates ? rotated : nil,
                    wfDb: &sweptDb, wfAdb: &sweptAdb, activeSurface: active,
                    gathered: &sweptGathered, probabilities: &sweptP,
                    workspace: sweepWorkspace)
                let label = "n=\(n) batch=\(batch) propagates=\(propagates)"
                XCTAssertTrue(bits(sweptV) == bits(separateV), label)
                XCTAssertTrue(bits(sweptDb) == bits(separateDb), label)
                XCTAssertTrue(bits(sweptAdb) == bits(separateAdb), label)
                XCTAssertTrue(bits(sweptGathered) == bits(separateGathered), label)
                XCTAssertTrue(sweptP.map(\.bitPattern) == separateP.map(\.bitPattern), label)
                // Not vacuous: signs flipped, ψ moved, a zero column, and row 2's probabilities clipped to 0.
                XCTAssertNotEqual(sweptV.re, v.re, label)
                XCTAssertEqual(sweptDb != wfDb, propagates, label)
                if n > 1 {
                    XCTAssertTrue((0..<n).allSatisfy { sweptV[$0 * n + active[1], 1].real == 0 }, label)
                    XCTAssertTrue((0..<n).allSatisfy { sweptP[$0 * batch + 2] == 0 }, label)
                }
                someHopPossible = someHopPossible || sweptP.contains { $0 > 0 }
            }
        }
        XCTAssertTrue(someHopPossible)
    }

    /// The frame's quantum step takes the one sweep for real eigenvectors under
    /// sign_overlap, with the bits of propagate, diagonalize, fixGauge, toAdiabatic and
    /// hopProbabilities in turn, over several steps of a Holstein lattice (the first without
    /// a current `wfAdb`, the others reusing it); and the separate steps for phase_overlap.
    func testFrameQuantumStepMatchesTheSeparateSteps() throws {
        let n = 6, batch = 9, dt = 0.05
        let model = HolsteinLattice(g: 1.1, N: n)
        for mode in [FewestSwitchesSurfaceHopping.GaugeFixing.signOverlap, .phaseOverlap] {
            var z = model.initialClassicalCoordinates(seeds: Array(0..<batch))
            var h = ComplexBatch(components: n * n, batchSize: batch)
            model.quantumHamiltonian(z: z, into: &h)
            var separate = try AdiabaticFrame(
                states: n, rows: batch, isReal: true, strategy: .batchedHouseholder,
                realEigenvectors: mode == .signOverlap)
            try separate.diagonalize(h)
            separate.rememberCurrent()
            var fused = separate
            var psi = ComplexBatch(components: n, batchSize: batch)
            for t in 0..<batch { psi[t % n, t] = Complex(1) }
            var separateDb = psi, fusedDb = psi
            var separateAdb = ComplexBatch(components: n, batchSize: batch), fusedAdb = separateAdb
            var separateP = [Double](repeating: 0, count: n * batch), fusedP = separateP
            let active = (0..<batch).map { ($0 * 2) % n }
            for index in 0..<4 {
                for c in z.re.indices { z.re[c] += 0.05 * sin(Double(c + index)) }
                model.quantumHamiltonian(z: z, into: &h)
                separate.beginStep()
                separate.propagate(&separateDb, dt: dt, adiabatic: index > 0 ? separateAdb : nil)
                try separate.diagonalize(h)
                separate.fixGauge(mode, z: z, model: model)
                separate.toAdiabatic(separateDb, into: &separateAdb)
                separate.hopProbabilities(wfAdb: separateAdb, activeSurface: active, into: &separateP)
                fused.beginStep()
                try fused.quantumStep(
                    wfDb: &fusedDb, wfAdb: &fusedAdb, wfAdbIsCurrent: index > 0, dt: dt,
                    hamiltonian: h, gaugeFixing: mode, z: z, model: model, activeSurface: active,
                    into: &fusedP)
                let label = "\(mode) step \(index)"
                XCTAssertTrue(bits(fused.eigenvectors) == bits(separate.eigenvectors), label)
                XCTAssertTrue(bits(fusedDb) == bits(separateDb), label)
                XCTAssertTrue(bits(fusedAdb) == bits(separateAdb), label)
                XCTAssertTrue(bits(fused.scratch) == bits(separate.scratch), label)
                XCTAssertTrue(fusedP.map(\.bitPattern) == separateP.map(\.bitPattern), label)
                XCTAssertTrue(fused.eigenvalues == separate.eigenvalues, label)
            }
            XCTAssertNotEqual(fusedDb, psi, "\(mode): ψ moved")
        }
    }

    /// The closed-form harmonic step resets only the diagonal of a Hamiltonian whose planes
    /// it wrote itself and no one has written since, and refills one that someone else wrote
    /// (off the diagonal, or the diagonal's imaginary part) or replaced: every step gives
    /// the bits of a fresh step object on a fresh zero Hamiltonian.
    func testClosedFormStepRefillsAHamiltonianWrittenByOthers() {
        var rng = LegacyRandomState(seed: 79)
        let model = HolsteinLattice(g: 1.2, N: 5, periodic: true), n = 5, batch = 7, dt = 0.05
        let psi = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
        var step = model.fusedClassicalStep(dt: dt, batchSize: batch)
        var z = model.initialClassicalCoordinates(seeds: Array(0..<batch))
        var h = ComplexBatch(components: n * n, batchSize: batch)
        for index in 0..<6 {
            var fresh = model.fusedClassicalStep(dt: dt, batchSize: batch)
            var zFresh = z, hFresh = ComplexBatch(components: n * n, batchSize: batch)
            fresh.advance(z: &zFresh, psi: psi, hamiltonian: &hFresh)
            if index == 2 {
                h.re[(1 * n + 3) * batch + 4] = 42
                h.im[(2 * n + 2) * batch] = -1
            }
            if index == 4 { h = ComplexBatch(components: n * n, batchSize: batch) }
            step.advance(z: &z, psi: psi, hamiltonian: &h)
            XCTAssertTrue(bits(h) == bits(hFresh), "step \(index): H differs from a fresh step's")
            XCTAssertTrue(bits(z) == bits(zFresh), "step \(index): z differs from a fresh step's")
        }
        XCTAssertEqual(h[1 * n + 0, 3], Complex(-1), "H_q's hopping is in place")
    }

    /// The density matrix is formed in register tiles of eight trajectories: a trajectory's
    /// ρ has the same bits whichever tile and lane it lands in (a batch of 25 against each
    /// trajectory alone), real and complex eigenvectors, weighted or not.
    func testDensityMatrixBitsDoNotDependOnTheBatch() {
        var rng = LegacyRandomState(seed: 80)
        let n = 9, batch = 25
        for complex in [false, true] {
            let v = randomBatch(components: n * n, batch: batch, complex: complex, rng: &rng)
            let wfAdb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
            let wfDb = randomBatch(components: n, batch: batch, complex: true, rng: &rng)
            let active = (0..<batch).map { ($0 * 4) % n }, weights = (0..<batch).map { 0.25 + Double($0) }
            for weighted in [false, true] {
                var rho = ComplexBatch(components: n * n, batchSize: batch)
                SurfaceHoppingKernels.diabaticDensityMatrix(
                    eigenvectors: v, realEigenvectors: !complex, wfAdb: wfAdb,
                    wfDb: wfDb, activeSurface: active,
                    weights: weighted ? weights : nil, into: &rho)
                for t in [0, 7, 8, 15, 23, 24] {
                    var alone = ComplexBatch(components: n * n, batchSize: 1)
                    SurfaceHoppingKernels.diabaticDensityMatrix(
                        eigenvectors: v.gathering(rows: [t]), realEigenvectors: !complex,
                        wfAdb: wfAdb.gathering(rows: [t]),
                        wfDb: wfDb.gathering(rows: [t]), activeSurface: [active[t]],
                        weights: weighted ? [weights[t]] : nil,
                        into: &alone)
                    XCTAssertTrue(
                        bits(rho.gathering(rows: [t])) == bits(alone),
                        "trajectory \(t), complex \(complex), weighted \(weighted)")
                }
            }
        }
    }
}
