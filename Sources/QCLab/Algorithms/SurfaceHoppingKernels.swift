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
enum SurfaceHoppingKernels {
    /// Fixes each new eigenvector's gauge against the previous one: multiplies it by the
    /// sign of the real part of their overlap (`sign_overlap`), or by the inverse phase of
    /// the overlap (`phase_overlap`). `overlap` is scratch with `N` components. `real`
    /// (sign_overlap only) promises that `v`'s imaginary parts are zero: the kernel then
    /// reads and writes the real parts alone, which gives the same signs.
    static func alignWithPrevious(_ v: inout ComplexBatch, previous: ComplexBatch, byPhase: Bool,
                                  overlap: inout ComplexBatch, real: Bool = false) {
        let n = overlap.components, batch = v.batchSize
        v.re.withUnsafeMutableBufferPointer { vr in v.im.withUnsafeMutableBufferPointer { vi in
        previous.re.withUnsafeBufferPointer { pr in previous.im.withUnsafeBufferPointer { pi in
        overlap.re.withUnsafeMutableBufferPointer { or in overlap.im.withUnsafeMutableBufferPointer { oi in
            guard byPhase else {
                qclab_align_signs(Int64(batch), Int64(n), vr.baseAddress, real ? nil : vi.baseAddress, pr.baseAddress,
                                  real ? nil : pi.baseAddress, or.baseAddress)
                return
            }
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
        }}}}}}
    }

    /// `out[a] = V[a][active]`: each row's active eigenvector.
    static func gatherActive(_ v: ComplexBatch, activeSurface: [Int], into out: inout ComplexBatch) {
        v.re.withUnsafeBufferPointer { vr in v.im.withUnsafeBufferPointer { vi in
        out.re.withUnsafeMutableBufferPointer { or in out.im.withUnsafeMutableBufferPointer { oi in
        activeSurface.withUnsafeBufferPointer { active in active.withMemoryRebound(to: Int64.self) { active in
            qclab_gather_active(Int64(out.batchSize), Int64(out.components), vr.baseAddress, vi.baseAddress,
                                active.baseAddress, or.baseAddress, oi.baseAddress)
        }}}}}}
    }

    /// The fewest-switches hopping probabilities of every row and state,
    /// `P_k = -2 Re(nac_k c_k / c_a)` with `nac_k = Σ_i V_prev[i][k] conj(V[i][a])` and `a`
    /// the active surface, as QC Lab computes them; then clipped as QC Lab clips them:
    /// negative → 0, NaN → 0, +inf → 1e102, and `P_a = 0`. `gathered` is `N`-component
    /// scratch that receives each row's active eigenvector; `workspace` holds `4 × batch` doubles.
    /// `realEigenvectors` leaves the eigenvectors' imaginary parts out of the overlaps.
    static func hopProbabilities(previous: ComplexBatch, current: ComplexBatch, wfAdb: ComplexBatch,
                                 activeSurface: [Int], gathered: inout ComplexBatch,
                                 probabilities: inout [Double], workspace: inout [Double],
                                 realEigenvectors: Bool = false) {
        gatherActive(current, activeSurface: activeSurface, into: &gathered)
        previous.re.withUnsafeBufferPointer { pr in previous.im.withUnsafeBufferPointer { pi in
        gathered.re.withUnsafeBufferPointer { gr in gathered.im.withUnsafeBufferPointer { gi in
        wfAdb.re.withUnsafeBufferPointer { wr in wfAdb.im.withUnsafeBufferPointer { wi in
        activeSurface.withUnsafeBufferPointer { active in active.withMemoryRebound(to: Int64.self) { active in
        probabilities.withUnsafeMutableBufferPointer { p in workspace.withUnsafeMutableBufferPointer { w in
            precondition(w.count == 4 * wfAdb.batchSize)
            qclab_hop_probabilities(Int64(wfAdb.batchSize), Int64(wfAdb.components), pr.baseAddress,
                                    realEigenvectors ? nil : pi.baseAddress,
                                    gr.baseAddress, gi.baseAddress, wr.baseAddress, wi.baseAddress, active.baseAddress,
                                    p.baseAddress, w.baseAddress)
        }}}}}}}}}}
    }

    /// Each row's hop destination: the first state whose cumulative probability exceeds
    /// the draw of the row's initial condition (`draws[row / branches]`), or -1.
    static func hopTargets(probabilities: [Double], draws: [Double], branches: Int, states: Int,
                           into targets: inout [Int]) {
        probabilities.withUnsafeBufferPointer { p in draws.withUnsafeBufferPointer { d in
        targets.withUnsafeMutableBufferPointer { targets in targets.withMemoryRebound(to: Int64.self) { out in
            precondition(p.count == states * out.count && d.count * branches == out.count)
            qclab_hop_targets(Int64(out.count), Int64(states), Int64(branches), p.baseAddress, d.baseAddress,
                              out.baseAddress)
        }}}}
    }

    /// QC Lab's surface-hopping density matrix in the diabatic basis,
    /// `ρ_db = V ρ_adb V†` where `ρ_adb` has the wavefunction's coherences and the active
    /// surface as populations, times each row's weight when given. Since
    /// `ρ_adb = c c† + D` with `D = diag(δ_{k,active} - |c_k|²)` and `V c = ψ_db`, it is
    /// computed as `ψ_db ψ_db† + V D V†` (a real product when `realEigenvectors`).
    /// `d` is real scratch with `N` components of the batch.
    static func diabaticDensityMatrix(eigenvectors v: ComplexBatch, realEigenvectors: Bool, wfAdb: ComplexBatch,
                                      wfDb: ComplexBatch, activeSurface: [Int], weights: [Double]?, d: inout [Double],
                                      into rho: inout ComplexBatch) {
        let n = wfAdb.components, batch = wfAdb.batchSize
        precondition(v.components == n * n && rho.components == n * n && d.count == n * batch)
        v.re.withUnsafeBufferPointer { vr in v.im.withUnsafeBufferPointer { vi in
        wfAdb.re.withUnsafeBufferPointer { ar in wfAdb.im.withUnsafeBufferPointer { ai in
        wfDb.re.withUnsafeBufferPointer { dr in wfDb.im.withUnsafeBufferPointer { di in
        activeSurface.withUnsafeBufferPointer { active in active.withMemoryRebound(to: Int64.self) { active in
        d.withUnsafeMutableBufferPointer { d in
        rho.re.withUnsafeMutableBufferPointer { rr in rho.im.withUnsafeMutableBufferPointer { ri in
            func run(_ w: UnsafePointer<Double>?) {
                qclab_fssh_density_matrix(Int64(batch), Int64(n), vr.baseAddress, realEigenvectors ? nil : vi.baseAddress,
                                          ar.baseAddress, ai.baseAddress, dr.baseAddress, di.baseAddress, active.baseAddress,
                                          w, d.baseAddress, rr.baseAddress, ri.baseAddress)
            }
            if let weights { weights.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        }}}}}}}}}}}
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
