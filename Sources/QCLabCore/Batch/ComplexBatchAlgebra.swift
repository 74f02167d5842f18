import CQCLabKernels

/// Batched complex linear algebra on struct-of-arrays batches: every loop runs over the
/// trajectories of one matrix or vector element, which are contiguous, so it vectorizes.
///
/// Matrices are `N*N`-component batches (element `(a, b)` at component `a N + b`), vectors
/// `N`-component batches. Pointers come from the batches' handles (ComplexBatch+UnsafeHandle.swift).
package enum ComplexBatchAlgebra {
    /// `out = M v` for every trajectory (`out` must not alias `v`); with `real`, the
    /// imaginary part of `M` is taken to be zero and not read.
    package static func multiply(
        _ m: ComplexBatch, _ v: ComplexBatch, into out: inout ComplexBatch, real: Bool = false
    ) {
        matvec(m, v, into: &out, adjoint: false, real: real)
    }

    /// `out = M† v` for every trajectory: with `M` the eigenvectors, the components of `v`
    /// in the eigenbasis (QC Lab's `transform_vec`, diabatic to adiabatic).
    package static func multiplyAdjoint(
        _ m: ComplexBatch, _ v: ComplexBatch, into out: inout ComplexBatch, real: Bool = false
    ) {
        matvec(m, v, into: &out, adjoint: true, real: real)
    }

    /// Both products, through the vectorized C kernel.
    private static func matvec(
        _ m: ComplexBatch, _ v: ComplexBatch, into out: inout ComplexBatch, adjoint: Bool,
        real: Bool
    ) {
        precondition(m.components == v.components * v.components && out.components == v.components)
        ComplexBatch.withUnsafeHandles(m, v) { m, v in
            out.withUnsafeMutableHandle { out in
                qclab_complex_matvec(
                    Int64(v.batchSize), Int64(v.components), adjoint ? 1 : 0, m.re, real ? nil : m.im,
                    v.re, v.im, out.re, out.im)
            }
        }
    }

    /// `Re <ψ|M|ψ>` of every trajectory, scaled by `weights` when given.
    package static func expectation(
        _ psi: ComplexBatch, _ m: ComplexBatch, into energy: inout [Double],
        scratch: inout ComplexBatch
    ) {
        multiply(m, psi, into: &scratch)
        let n = psi.components, batch = psi.batchSize
        for t in 0..<batch { energy[t] = 0 }
        for a in 0..<n {
            for t in 0..<batch {
                let i = a * batch + t
                energy[t] += psi.re[i] * scratch.re[i] + psi.im[i] * scratch.im[i]
            }
        }
    }

    /// `ρ_ab = ψ_a ψ_b*` of every trajectory (QC Lab's `update_dm_db_wf`).
    package static func densityMatrix(_ psi: ComplexBatch, into rho: inout ComplexBatch) {
        let n = psi.components, batch = psi.batchSize
        rho.withUnsafeMutableHandle(reading: psi) { rho, psi in
            let (pr, pi, rr, ri) = (psi.re!, psi.im!, rho.re!, rho.im!)
            for a in 0..<n {
                for b in 0..<n {
                    let element = (a * n + b) * batch
                    for t in 0..<batch {
                        let ar = pr[a * batch + t], ai = pi[a * batch + t]
                        let br = pr[b * batch + t], bi = pi[b * batch + t]
                        rr[element + t] = ar * br + ai * bi
                        ri[element + t] = ai * br - ar * bi
                    }
                }
            }
        }
    }

    /// `out = x + h k` elementwise.
    package static func axpy(_ x: ComplexBatch, _ h: Double, _ k: ComplexBatch, into out: inout ComplexBatch) {
        for i in x.re.indices {
            out.re[i] = x.re[i] + h * k.re[i]
            out.im[i] = x.im[i] + h * k.im[i]
        }
    }

    /// `x += h k` elementwise.
    package static func accumulate(_ x: inout ComplexBatch, _ h: Double, _ k: ComplexBatch) {
        for i in x.re.indices {
            x.re[i] += h * k.re[i]
            x.im[i] += h * k.im[i]
        }
    }

    /// `v *= -i` elementwise.
    package static func timesMinusI(_ v: inout ComplexBatch) {
        for i in v.re.indices {
            let re = v.re[i]
            v.re[i] = v.im[i]
            v.im[i] = -re
        }
    }
}
