// The lanes of two-state real surface hopping with sign_overlap gauge fixing (with the
// probability helpers of surface_hopping.h), shared by the separate kernels
// (surface_hopping.c), the fused quantum step (two_state_step.c) and the fused scattering
// step (scattering.c): inlined so that their loops over trajectories vectorize.
#ifndef QCLAB_TWO_STATE_H
#define QCLAB_TWO_STATE_H
#include "lanes.h"
#include "surface_hopping.h"

/// The closed-form eigenpairs of [[a, b], [b, d]]: w0 <= w1, lower eigenvector (c, s),
/// upper (-s, c).
static inline void eigen_2x2(double a, double b, double d, double *w0, double *w1, double *c, double *s) {
    const double mean = 0.5 * (a + d), half = 0.5 * (a - d);
    const double radius = sqrt(half * half + b * b);
    *w0 = mean - radius;
    *w1 = mean + radius;
    // Lower eigenvector (radius - half, -b) or, parallel to it, (b, -(radius + half)):
    // the one whose leading entry cannot cancel.
    const double x = half <= 0 ? radius - half : b;
    const double y = half <= 0 ? -b : -(radius + half);
    const double inverse_norm = 1.0 / sqrt(x * x + y * y);
    *c = radius > 0 ? x * inverse_norm : 1.0;
    *s = radius > 0 ? y * inverse_norm : 0.0;
}

/// How the phases E dt of a step's starting energies `w` are to be computed: -1 when some
/// is beyond the vectorized sincos (the caller declines the step), 1 when all are within
/// sincos_small_limit (no range reduction: qclab_sincos_small_lane, the same bits), else 0.
static inline int two_state_phase_class(int64_t batch, double dt, const double *restrict w) {
    int64_t outside = 0, large = 0;
    for (int64_t i = 0; i < 2 * batch; i++) {
        const double phase = fabs(w[i] * dt);
        outside += !(phase <= sincos_vector_limit);
        large += !(phase <= sincos_small_limit);
    }
    return outside ? -1 : (large ? 0 : 1);
}

/// Everything of trajectory t's surface-hopping step after the classical step, given its new
/// Hamiltonian [[h00, h01], [h01, h11]] and its hop draw: the propagation
/// ψ ← P exp(-i E dt) Pᵀ ψ with the step's starting eigenpairs (P from `previous_v`, E from
/// `w`), the new eigenpairs signed against P, c = Vᵀ ψ, the active eigenvector, the hopping
/// probabilities and the hop target, each array as qclab_two_state_step documents it. The
/// arithmetic of the separate kernels, operation for operation (`small_phases`, a constant
/// where this is inlined, when two_state_phase_class found every phase small). The callers'
/// loops take the arrays as `restrict` parameters and pass them on.
static inline __attribute__((always_inline)) void
two_state_quantum_lane(const int small_phases, int64_t batch, int64_t t, double dt, double h00, double h01,
                       double h11, double draw, const double *previous_v, double *w, double *v_re, double *v_im, double *wf_db_re,
                       double *wf_db_im, double *wf_adb_re, double *wf_adb_im, const int64_t *active,
                       double *probability, double *active_re, double *active_im, int64_t *target) {
    // The step's start: eigenvectors P (element (a, k) at a 2 + k) and energies.
    const double p00 = previous_v[t], p01 = previous_v[batch + t];
    const double p10 = previous_v[2 * batch + t], p11 = previous_v[3 * batch + t];
    // ψ ← P exp(-i E dt) Pᵀ ψ
    const double xr = wf_db_re[t], xi = wf_db_im[t], yr = wf_db_re[batch + t], yi = wf_db_im[batch + t];
    double c0r = p00 * xr + p10 * yr, c0i = p00 * xi + p10 * yi;
    double c1r = p01 * xr + p11 * yr, c1i = p01 * xi + p11 * yi;
    double s0, k0, s1, k1;
    if (small_phases) {
        qclab_sincos_small_lane(-w[t] * dt, &s0, &k0);
        qclab_sincos_small_lane(-w[batch + t] * dt, &s1, &k1);
    } else {
        qclab_sincos_lane(-w[t] * dt, &s0, &k0);
        qclab_sincos_lane(-w[batch + t] * dt, &s1, &k1);
    }
    const double r0r = k0 * c0r - s0 * c0i, r0i = k0 * c0i + s0 * c0r;
    const double r1r = k1 * c1r - s1 * c1i, r1i = k1 * c1i + s1 * c1r;
    const double ar = p00 * r0r + p01 * r1r, ai = p00 * r0i + p01 * r1i;
    const double br = p10 * r0r + p11 * r1r, bi = p10 * r0i + p11 * r1i;
    wf_db_re[t] = ar; wf_db_im[t] = ai; wf_db_re[batch + t] = br; wf_db_im[batch + t] = bi;
    // New eigenpairs, each eigenvector signed to overlap its predecessor positively.
    double c, s;
    eigen_2x2(h00, h01, h11, &w[t], &w[batch + t], &c, &s);
    const double sign0 = sign_of(p00 * c + p10 * s), sign1 = sign_of(p01 * -s + p11 * c);
    const double v00 = c * sign0, v10 = s * sign0, v01 = -s * sign1, v11 = c * sign1;
    v_re[t] = v00; v_re[batch + t] = v01; v_re[2 * batch + t] = v10; v_re[3 * batch + t] = v11;
    v_im[t] = 0.0; v_im[batch + t] = 0.0; v_im[2 * batch + t] = 0.0; v_im[3 * batch + t] = 0.0;
    // c = Vᵀ ψ
    const double d0r = v00 * ar + v10 * br, d0i = v00 * ai + v10 * bi;
    const double d1r = v01 * ar + v11 * br, d1i = v01 * ai + v11 * bi;
    wf_adb_re[t] = d0r; wf_adb_im[t] = d0i; wf_adb_re[batch + t] = d1r; wf_adb_im[batch + t] = d1i;
    // The active eigenvector g = V[·][a], and P_k = -2 Re(nac_k c_k / c_a) with
    // nac_k = Σ_i P[i][k] g_i for the other state k.
    const int64_t a = active[t];
    const double g0 = a == 0 ? v00 : v01, g1 = a == 0 ? v10 : v11;
    active_re[t] = g0; active_im[t] = 0.0; active_re[batch + t] = g1; active_im[batch + t] = 0.0;
    // Only the other state k = 1 - a can be hopped to (P_a = 0).
    const double nac = a == 0 ? p01 * g0 + p11 * g1 : p00 * g0 + p10 * g1;
    const double ckr = a == 0 ? d1r : d0r, cki = a == 0 ? d1i : d0i;
    const double car = a == 0 ? d0r : d1r, cai = a == 0 ? d0i : d1i;
    const double other = clipped(-2.0 * real_part_of_quotient(nac * ckr, nac * cki, car, cai));
    const double prob0 = a == 0 ? 0.0 : other, prob1 = a == 0 ? other : 0.0;
    probability[t] = prob0;
    probability[batch + t] = prob1;
    target[t] = prob0 > draw ? 0 : (prob0 + prob1 > draw ? 1 : -1);
}

/// The arguments of two_state_quantum_lane after `draw`, from a step.
#define TWO_STATE_LANE_ARRAYS(s) (s).previous_v, (s).w, (s).v_re, (s).v_im, (s).wf_db_re, (s).wf_db_im, \
    (s).wf_adb_re, (s).wf_adb_im, (s).active, (s).probability, (s).active_re, (s).active_im, (s).target

#endif
