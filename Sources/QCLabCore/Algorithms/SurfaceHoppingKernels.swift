import CQCLabKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The batched kernels of surface hopping, vectorized over the trajectories of a batch
/// (struct-of-arrays: every inner loop runs over contiguous trajectories).
///
/// Eigenvector batches have `N*N` components, element `(a, k)` (component `a` of
/// eigenvector `k`) at component `a N + k`.
package enum SurfaceHoppingKernels {
    /// Fixes each new eigenvector's gauge against the previous one.
    ///
    /// It multiplies it by the sign of the real part of their overlap (`sign_overlap`), or by the
    /// inverse phase of the overlap (`phase_overlap`). `overlap` is scratch with `N` components.
    /// `real` (sign_overlap only) promises that `v`'s imaginary parts are zero: the kernel then
    /// reads and writes the real parts alone, which gives the same signs.
    package static func alignWithPrevious(
        _ v: inout ComplexBatch, previous: ComplexBatch, byPhase: Bool,
        overlap: inout ComplexBatch, real: Bool = false
    ) {
        let n = overlap.components, batch = v.batchSize
        ComplexBatch.withUnsafeMutableHandles(&v, &overlap) { v, o in
            previous.withUnsafeHandle { p in
                guard byPhase else {
                    qclab_align_signs(Int64(batch), Int64(n), v.re, real ? nil : v.im, p.re, real ? nil : p.im, o.re)
                    return
                }
                let (vr, vi, pr, pi, or, oi) = (v.re!, v.im!, p.re!, p.im!, o.re!, o.im!)
                for k in 0..<n {
                    let o = k * batch
                    for t in 0..<batch { or[o + t] = 0; oi[o + t] = 0 }
                    // <v_prev,k | v_k> = Σ_a conj(prev_ak) v_ak
                    for a in 0..<n {
                        let e = (a * n + k) * batch
                        for t in 0..<batch {
                            or[o + t] += pr[e + t] * vr[e + t] + pi[e + t] * vi[e + t]
                            oi[o + t] += pr[e + t] * vi[e + t] - pi[e + t] * vr[e + t]
                        }
                    }
                    // exp(-i angle(overlap)) = conj(overlap) / |overlap| (1 for a zero overlap).
                    for t in 0..<batch {
                        let re = or[o + t], im = oi[o + t], length = (re * re + im * im).squareRoot()
                        let angle = atan2(im, re)
                        or[o + t] = length > 0 ? cos(angle) : 1
                        oi[o + t] = length > 0 ? -sin(angle) : 0
                    }
                    for a in 0..<n {
                        let e = (a * n + k) * batch
                        for t in 0..<batch {
                            let xr = vr[e + t], xi = vi[e + t], fr = or[o + t], fi = oi[o + t]
                            vr[e + t] = xr * fr - xi * fi
                            vi[e + t] = xr * fi + xi * fr
                        }
                    }
                }
            }
        }
    }

    /// `out[a] = V[a][active]`: each row's active eigenvector.
    package static func gatherActive(_ v: ComplexBatch, activeSurface: [Int], into out: inout ComplexBatch) {
        out.withUnsafeMutableHandle(reading: v) { o, v in
            activeSurface.withUnsafeInt64Pointer { active in
                qclab_gather_active(Int64(o.batchSize), Int64(o.components), v.re, v.im, active, o.re, o.im)
            }
        }
    }

    /// The fewest-switches hopping probabilities of every row and state, as QC Lab computes them.
    ///
    /// `P_k = -2 Re(nac_k c_k / c_a)` with `nac_k = Σ_i V_prev[i][k] conj(V[i][a])` and `a` the
    /// active surface; then clipped as QC Lab clips them: negative → 0, NaN → 0, +inf → 1e102, and
    /// `P_a = 0`. `gathered` is `N`-component scratch that receives each row's active eigenvector;
    /// `workspace` holds `4 × batch` doubles. `realEigenvectors` leaves the eigenvectors' imaginary
    /// parts out of the overlaps.
    package static func hopProbabilities(
        previous: ComplexBatch, current: ComplexBatch, wfAdb: ComplexBatch,
        activeSurface: [Int], gathered: inout ComplexBatch,
        probabilities: inout [Double], workspace: UnsafeScratch<Double>,
        realEigenvectors: Bool = false
    ) {
        gatherActive(current, activeSurface: activeSurface, into: &gathered)
        precondition(workspace.count >= 4 * wfAdb.batchSize)
        ComplexBatch.withUnsafeHandles(previous, gathered, wfAdb) { p, g, c in
            withUnsafeRowArrays(activeSurface, &probabilities, states: c.components) { active, probabilities in
                qclab_hop_probabilities(
                    Int64(c.batchSize), Int64(c.components), p.re, realEigenvectors ? nil : p.im,
                    g.re, g.im, c.re, c.im, active, probabilities, workspace.pointer)
            }
        }
    }

    /// Propagation, gauge, basis change and hop probabilities for real eigenvectors in one sweep.
    ///
    /// With `rotated` (`r = exp(-i E dt) V_prev† ψ_db`), it does the propagation `wfDb = V_prev r`
    /// (``ComplexBatchAlgebra/multiply(_:_:into:real:)``, real); then
    /// ``alignWithPrevious(_:previous:byPhase:overlap:real:)`` by sign with real eigenvectors,
    /// `wfAdb = Vᵀ wfDb`, and
    /// ``hopProbabilities(previous:current:wfAdb:activeSurface:gathered:probabilities:workspace:realEigenvectors:)``
    /// with real eigenvectors; all in one sweep over `v` and `previous` (the C kernel
    /// `qclab_fssh_real_sign_sweep`): the same bits, with `gathered` receiving each row's signed
    /// active eigenvector. `workspace` holds at least `max(N, 2) × batch` doubles.
    package static func realSignSweep(
        _ v: inout ComplexBatch, previous: ComplexBatch, rotated: ComplexBatch?,
        wfDb: inout ComplexBatch, wfAdb: inout ComplexBatch, activeSurface: [Int],
        gathered: inout ComplexBatch, probabilities: inout [Double], workspace: UnsafeScratch<Double>
    ) {
        let n = wfDb.components, batch = wfDb.batchSize
        precondition(
            v.components == n * n && previous.components == n * n && wfAdb.components == n
                && gathered.components == n && workspace.count >= max(n, 2) * batch
                && (rotated.map { $0.components == n } ?? true))
        let rotated = rotated ?? ComplexBatch(components: 0, batchSize: 0)  // empty: no propagation
        ComplexBatch.withUnsafeHandles(previous, rotated) { p, r in
            ComplexBatch.withUnsafeMutableHandles(&v, &wfDb, &wfAdb, &gathered) { v, psi, c, g in
                withUnsafeRowArrays(activeSurface, &probabilities, states: n) { active, probabilities in
                    qclab_fssh_real_sign_sweep(
                        Int64(batch), Int64(n), p.re, v.re, r.components > 0 ? r.re : nil,
                        r.components > 0 ? r.im : nil, psi.re, psi.im, active, c.re, c.im,
                        probabilities, g.re, g.im, workspace.pointer)
                }
            }
        }
    }

    /// Each row's hop destination: the first state whose cumulative probability exceeds
    /// the draw of the row's initial condition (`draws[row / branches]`), or -1.
    package static func hopTargets(
        probabilities: [Double], draws: [Double], branches: Int, states: Int,
        into targets: inout [Int]
    ) {
        precondition(probabilities.count == states * targets.count && draws.count * branches == targets.count)
        let rows = targets.count
        [Double].withUnsafeBaseAddresses(probabilities, draws) { p, d in
            targets.withUnsafeMutableInt64Pointer { out in
                qclab_hop_targets(Int64(rows), Int64(states), Int64(branches), p, d, out)
            }
        }
    }

    /// QC Lab's surface-hopping density matrix in the diabatic basis.
    ///
    /// `ρ_db = V ρ_adb V†` where `ρ_adb` has the wavefunction's coherences and the active surface
    /// as populations, times each row's weight when given. Since `ρ_adb = c c† + D` with
    /// `D = diag(δ_{k,active} - |c_k|²)` and `V c = ψ_db`, it is computed as `ψ_db ψ_db† + V D V†`
    /// (a real product when `realEigenvectors`). `workspace`, when given, keeps the BLAS route's
    /// buffers from one call to the next.
    package static func diabaticDensityMatrix(
        eigenvectors v: ComplexBatch, realEigenvectors: Bool, wfAdb: ComplexBatch,
        wfDb: ComplexBatch, activeSurface: [Int], weights: [Double]?,
        into rho: inout ComplexBatch, workspace: ReusableScratch? = nil
    ) {
        let n = wfAdb.components, batch = wfAdb.batchSize
        precondition(
            v.components == n * n && rho.components == n * n && activeSurface.count == batch
                && (weights?.count ?? batch) == batch)
        if realEigenvectors && n >= blasDensityStates {
            diabaticDensityMatrixByBLAS(
                eigenvectors: v, wfAdb: wfAdb, wfDb: wfDb, activeSurface: activeSurface, weights: weights,
                into: &rho, workspace: workspace ?? ReusableScratch())
            return
        }
        // D's diagonal and the weights at fixed addresses, made per collect point.
        let d = UnsafeScratch<Double>(repeating: 0, count: n * batch), w = weights.map(UnsafeScratch.init(copying:))
        ComplexBatch.withUnsafeHandles(v, wfAdb, wfDb) { v, a, psi in
            rho.withUnsafeMutableHandle { rho in
                activeSurface.withUnsafeInt64Pointer { active in
                    qclab_fssh_density_matrix(
                        Int64(batch), Int64(n), v.re, realEigenvectors ? nil : v.im, a.re, a.im,
                        psi.re, psi.im, active, w?.pointer, d.pointer, rho.re, rho.im)
                }
            }
        }
    }

    /// From this many states on, real eigenvectors' density matrices go through BLAS
    /// (``diabaticDensityMatrixByBLAS(eigenvectors:wfAdb:wfDb:activeSurface:weights:into:)``):
    /// its `O(N³)` rank-`N` update outruns the batch kernel's (Benchmarks/README.md).
    package static let blasDensityStates = 32

    /// ``diabaticDensityMatrix(eigenvectors:realEigenvectors:wfAdb:wfDb:activeSurface:weights:into:)``
    /// for real eigenvectors, one `dsyrk` per row.
    ///
    /// With `a` the active surface, `V D Vᵀ = (1 - |c_a|²) v_a v_aᵀ - W Wᵀ` where column `k` of
    /// `W` is `|c_k| v_k` for `k ≠ a` and zero for `a`: one symmetric rank-`N` update, taken as
    /// `Xᵀ X` with `X = Wᵀ`, which has each row's eigenvectors' layout. So one pass over the
    /// batch's eigenvectors gathers every row's `X` and one pass over `ρ` writes it, each going
    /// through a component's contiguous rows at once (a row at a time would read a whole cache
    /// line for each element). Its buffers are `workspace`'s.
    package static func diabaticDensityMatrixByBLAS(
        eigenvectors v: ComplexBatch, wfAdb: ComplexBatch, wfDb: ComplexBatch, activeSurface: [Int],
        weights: [Double]?, into rho: inout ComplexBatch, workspace: ReusableScratch
    ) {
        let n = wfAdb.components, batch = wfAdb.batchSize, nn = n * n
        // Per row: X (element (a, k) at a N + k, as V's), then the lower triangle of -Xᵀ X
        // (column-major), in `workspace`; |c_k| (0 for the active surface) and each row's active
        // eigenvector, `N` components of the rows. Every element read is written first.
        let x = workspace.pointer(count: 2 * batch * nn), product = x + batch * nn
        let scale = UnsafeMutablePointer<Double>.allocate(capacity: n * batch),
            activeVector = UnsafeMutablePointer<Double>.allocate(capacity: n * batch)
        defer {
            scale.deallocate()
            activeVector.deallocate()
        }
        ComplexBatch.withUnsafeHandles(v, wfAdb, wfDb) { v, c0, psi in
            rho.withUnsafeMutableHandle { rho in
                let (vr, cr, ci, pr, pi) = (v.re!, c0.re!, c0.im!, psi.re!, psi.im!)
                let (rr, ri) = (rho.re!, rho.im!)
                for k in 0..<n {
                    for t in 0..<batch {
                        let (x, y) = (cr[k * batch + t], ci[k * batch + t])
                        scale[k * batch + t] = k == activeSurface[t] ? 0 : (x * x + y * y).squareRoot()
                    }
                }
                for i in 0..<n {
                    for t in 0..<batch { activeVector[i * batch + t] = vr[(i * n + activeSurface[t]) * batch + t] }
                }
                // X[a N + k] of row t = |c_k| V[a][k].
                for a in 0..<n {
                    for k in 0..<n {
                        let e = a * n + k
                        for t in 0..<batch { x[t * nn + e] = scale[k * batch + t] * vr[e * batch + t] }
                    }
                }
                for t in 0..<batch {
                    LAPACK.dsyrkLowerTransposed(n: n, k: n, alpha: -1, a: x + t * nn, beta: 0, c: product + t * nn)
                }
                for t in 0..<batch {
                    let active = activeSurface[t], (x, y) = (cr[active * batch + t], ci[active * batch + t])
                    // The active population, kept in `scale`'s slot of the active surface (read no more).
                    scale[active * batch + t] = 1 - (x * x + y * y)
                }
                for j in 0..<n {
                    for i in j..<n {
                        let lower = (i * n + j) * batch, upper = (j * n + i) * batch
                        for t in 0..<batch {
                            let population = scale[activeSurface[t] * batch + t]
                            let (vi, vj) = (activeVector[i * batch + t], activeVector[j * batch + t])
                            let (pir, pii) = (pr[i * batch + t], pi[i * batch + t])
                            let (pjr, pji) = (pr[j * batch + t], pi[j * batch + t])
                            // ψ_i ψ_j* + (V D Vᵀ)_ij
                            var re = pir * pjr + pii * pji + (product[t * nn + j * n + i] + population * vi * vj)
                            var im = pii * pjr - pir * pji
                            if let weights {
                                re *= weights[t]
                                im *= weights[t]
                            }
                            rr[lower + t] = re
                            ri[lower + t] = im
                            if i != j {
                                rr[upper + t] = re
                                ri[upper + t] = -im
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with the per-row arrays of the hop kernels: the active surfaces (read, as
    /// C's `int64_t`) and the `states × rows` probabilities (written).
    @inline(__always)
    private static func withUnsafeRowArrays<R>(
        _ activeSurface: [Int], _ probabilities: inout [Double], states: Int,
        _ body: (UnsafePointer<Int64>?, UnsafeMutablePointer<Double>?) -> R
    ) -> R {
        precondition(probabilities.count == states * activeSurface.count)
        return activeSurface.withUnsafeInt64Pointer { active in
            probabilities.withUnsafeMutableBufferPointer { body(active, $0.baseAddress) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
