// The per-step kernels of fewest-switches surface hopping (FewestSwitchesSurfaceHopping.swift
// says what each one is in QC Lab's recipe), over struct-of-arrays batches: element (a, k)
// of an N x N batch is component a N + k, each component `batch` contiguous trajectories.
#include "CQCLabKernels.h"
#include "lanes.h"
#include "surface_hopping.h"
#include <math.h>

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

QCLAB_CLONES
void qclab_eigen_real_symmetric_2x2(int64_t batch, const double *restrict h, double *restrict w,
                                    double *restrict v_re, double *restrict v_im) {
    for (int64_t t = 0; t < batch; t++) {
        double c, s;
        eigen_2x2(h[t], h[batch + t], h[3 * batch + t], &w[t], &w[batch + t], &c, &s);
        // Columns: lower (c, s), upper (-s, c).
        v_re[t] = c;
        v_re[batch + t] = -s;
        v_re[2 * batch + t] = s;
        v_re[3 * batch + t] = c;
        v_im[t] = 0.0; v_im[batch + t] = 0.0; v_im[2 * batch + t] = 0.0; v_im[3 * batch + t] = 0.0;
    }
}

QCLAB_CLONES
void qclab_align_signs(int64_t batch, int64_t n, double *restrict v_re, double *restrict v_im,
                       const double *restrict previous_re, const double *restrict previous_im,
                       double *restrict sign) {
    for (int64_t k = 0; k < n; k++) {
        for (int64_t t = 0; t < batch; t++) sign[t] = 0.0;
        for (int64_t a = 0; a < n; a++) {
            const int64_t e = (a * n + k) * batch;
            if (!v_im) {
                for (int64_t t = 0; t < batch; t++) sign[t] += previous_re[e + t] * v_re[e + t];
                continue;
            }
            for (int64_t t = 0; t < batch; t++) sign[t] += previous_re[e + t] * v_re[e + t] + previous_im[e + t] * v_im[e + t];
        }
        for (int64_t t = 0; t < batch; t++) sign[t] = sign_of(sign[t]);
        for (int64_t a = 0; a < n; a++) {
            const int64_t e = (a * n + k) * batch;
            for (int64_t t = 0; t < batch; t++) v_re[e + t] *= sign[t];
            if (!v_im) continue;
            for (int64_t t = 0; t < batch; t++) v_im[e + t] *= sign[t];
        }
    }
}

QCLAB_CLONES
void qclab_gather_active(int64_t batch, int64_t n, const double *restrict v_re, const double *restrict v_im,
                         const int64_t *restrict active, double *restrict out_re, double *restrict out_im) {
    for (int64_t a = 0; a < n; a++) {
        for (int64_t t = 0; t < batch; t++) {
            const int64_t e = (a * n + active[t]) * batch + t;
            out_re[a * batch + t] = v_re[e];
            out_im[a * batch + t] = v_im[e];
        }
    }
}

QCLAB_CLONES
void qclab_hop_probabilities(int64_t batch, int64_t n, const double *restrict previous_re,
                             const double *restrict previous_im, const double *restrict active_re,
                             const double *restrict active_im, const double *restrict wf_re,
                             const double *restrict wf_im, const int64_t *restrict active,
                             double *restrict probability, double *restrict scratch) {
    double *restrict car = scratch, *restrict cai = scratch + batch;
    double *restrict nr = scratch + 2 * batch, *restrict ni = scratch + 3 * batch;
    for (int64_t t = 0; t < batch; t++) {
        car[t] = wf_re[active[t] * batch + t];
        cai[t] = wf_im[active[t] * batch + t];
    }
    for (int64_t k = 0; k < n; k++) {
        // nac = Σ_i V_prev[i][k] conj(V[i][a])
        for (int64_t t = 0; t < batch; t++) { nr[t] = 0.0; ni[t] = 0.0; }
        for (int64_t i = 0; i < n; i++) {
            const double *restrict pr = previous_re + (i * n + k) * batch, *restrict gr = active_re + i * batch;
            if (!previous_im) {
                for (int64_t t = 0; t < batch; t++) nr[t] += pr[t] * gr[t];
                continue;
            }
            const double *restrict pi = previous_im + (i * n + k) * batch, *restrict gi = active_im + i * batch;
            for (int64_t t = 0; t < batch; t++) {
                nr[t] += pr[t] * gr[t] + pi[t] * gi[t];
                ni[t] += pi[t] * gr[t] - pr[t] * gi[t];
            }
        }
        // -2 Re(nac c_k / c_a)
        const double *restrict ckr = wf_re + k * batch, *restrict cki = wf_im + k * batch;
        double *restrict p = probability + k * batch;
        for (int64_t t = 0; t < batch; t++) p[t] = hop_probability(nr[t], ni[t], ckr[t], cki[t], car[t], cai[t], active[t] == k);
    }
}

QCLAB_CLONES
void qclab_hop_targets(int64_t batch, int64_t n, int64_t branches, const double *restrict probability,
                       const double *restrict draws, int64_t *restrict target) {
    for (int64_t t = 0; t < batch; t++) {
        const double draw = branches == 1 ? draws[t] : draws[t / branches];
        double cumulative = 0.0;
        int64_t chosen = -1;
        for (int64_t k = 0; k < n; k++) {
            cumulative += probability[k * batch + t];
            chosen = (chosen < 0 && cumulative > draw) ? k : chosen;
        }
        target[t] = chosen;
    }
}

QCLAB_CLONES
int qclab_fssh_two_state_real_step(int64_t batch, int64_t branches, double dt, const double *restrict h,
                                   const double *restrict previous_v, double *restrict w,
                                   double *restrict v_re, double *restrict v_im,
                                   double *restrict wf_db_re, double *restrict wf_db_im,
                                   double *restrict wf_adb_re, double *restrict wf_adb_im,
                                   const int64_t *restrict active, const double *restrict draws,
                                   double *restrict probability, double *restrict active_re,
                                   double *restrict active_im, int64_t *restrict target) {
    int64_t outside = 0;
    for (int64_t i = 0; i < 2 * batch; i++) outside += !(fabs(w[i] * dt) <= sincos_vector_limit);
    if (outside) return -1;
    for (int64_t t = 0; t < batch; t++) {
        // The step's start: eigenvectors P (element (a, k) at a 2 + k) and energies.
        const double p00 = previous_v[t], p01 = previous_v[batch + t];
        const double p10 = previous_v[2 * batch + t], p11 = previous_v[3 * batch + t];
        // ψ ← P exp(-i E dt) Pᵀ ψ
        const double xr = wf_db_re[t], xi = wf_db_im[t], yr = wf_db_re[batch + t], yi = wf_db_im[batch + t];
        double c0r = p00 * xr + p10 * yr, c0i = p00 * xi + p10 * yi;
        double c1r = p01 * xr + p11 * yr, c1i = p01 * xi + p11 * yi;
        double s0, k0, s1, k1;
        qclab_sincos_lane(-w[t] * dt, &s0, &k0);
        qclab_sincos_lane(-w[batch + t] * dt, &s1, &k1);
        const double r0r = k0 * c0r - s0 * c0i, r0i = k0 * c0i + s0 * c0r;
        const double r1r = k1 * c1r - s1 * c1i, r1i = k1 * c1i + s1 * c1r;
        const double ar = p00 * r0r + p01 * r1r, ai = p00 * r0i + p01 * r1i;
        const double br = p10 * r0r + p11 * r1r, bi = p10 * r0i + p11 * r1i;
        wf_db_re[t] = ar; wf_db_im[t] = ai; wf_db_re[batch + t] = br; wf_db_im[batch + t] = bi;
        // New eigenpairs, each eigenvector signed to overlap its predecessor positively.
        double c, s;
        eigen_2x2(h[t], h[batch + t], h[3 * batch + t], &w[t], &w[batch + t], &c, &s);
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
        const double draw = branches == 1 ? draws[t] : draws[t / branches];
        target[t] = prob0 > draw ? 0 : (prob0 + prob1 > draw ? 1 : -1);
    }
    return 0;
}

/// Lanes per register tile of the density matrix: eight trajectories, one AVX-512 register.
enum { density_lanes = 8 };

/// ρ_ab for the `count` columns b of `b0 ..< b0 + count` (every b <= a; count is 4, or 1
/// for the remainder) and the `width` trajectories from `t0` (density_lanes, or fewer for
/// the last ones), mirrored into ρ_ba = conj(ρ_ab). The sums stay in registers across k
/// (with constant count and width the tile unrolls into vector registers); with
/// x_k = V_ak d_k each term is (V_ak d_k) conj(V_bk), added in ascending k after ψ_a ψ_b*,
/// so every element is rounded as the plain triple loop rounds it.
static inline __attribute__((always_inline)) void
density_matrix_tile(int64_t batch, int64_t n, int64_t a, int64_t b0, const int64_t count, int64_t t0,
                    const int64_t width, const double *restrict v_re, const double *restrict v_im,
                    const double *restrict wf_db_re, const double *restrict wf_db_im,
                    const double *restrict weights, const double *restrict d,
                    double *restrict rho_re, double *restrict rho_im) {
    double sum_re[4][density_lanes], sum_im[4][density_lanes];
    const double *restrict par = wf_db_re + a * batch + t0, *restrict pai = wf_db_im + a * batch + t0;
    // ψ_a ψ_b*
    for (int64_t j = 0; j < count; j++) {
        const double *restrict pbr = wf_db_re + (b0 + j) * batch + t0, *restrict pbi = wf_db_im + (b0 + j) * batch + t0;
        for (int64_t u = 0; u < width; u++) {
            sum_re[j][u] = par[u] * pbr[u] + pai[u] * pbi[u];
            sum_im[j][u] = pai[u] * pbr[u] - par[u] * pbi[u];
        }
    }
    // + Σ_k V_ak d_k conj(V_bk)
    for (int64_t k = 0; k < n; k++) {
        const double *restrict var = v_re + (a * n + k) * batch + t0, *restrict dk = d + k * batch + t0;
        const double *restrict vbr = v_re + (b0 * n + k) * batch + t0;
        if (!v_im) {
            for (int64_t u = 0; u < width; u++) {
                const double x = var[u] * dk[u];
                for (int64_t j = 0; j < count; j++) sum_re[j][u] += x * vbr[j * n * batch + u];
            }
            continue;
        }
        const double *restrict vai = v_im + (a * n + k) * batch + t0, *restrict vbi = v_im + (b0 * n + k) * batch + t0;
        for (int64_t u = 0; u < width; u++) {
            const double xr = var[u] * dk[u], xi = vai[u] * dk[u];
            for (int64_t j = 0; j < count; j++) {
                sum_re[j][u] += xr * vbr[j * n * batch + u] + xi * vbi[j * n * batch + u];
                sum_im[j][u] += xi * vbr[j * n * batch + u] - xr * vbi[j * n * batch + u];
            }
        }
    }
    for (int64_t j = 0; j < count; j++) {
        const int64_t b = b0 + j;
        double *restrict rr = rho_re + (a * n + b) * batch + t0, *restrict ri = rho_im + (a * n + b) * batch + t0;
        for (int64_t u = 0; u < width; u++) {
            const double w = weights ? weights[t0 + u] : 1.0;
            rr[u] = weights ? sum_re[j][u] * w : sum_re[j][u];
            ri[u] = weights ? sum_im[j][u] * w : sum_im[j][u];
        }
        if (b == a) continue;
        double *restrict mr = rho_re + (b * n + a) * batch + t0, *restrict mi = rho_im + (b * n + a) * batch + t0;
        for (int64_t u = 0; u < width; u++) { mr[u] = rr[u]; mi[u] = -ri[u]; }
    }
}

/// The tiles of row a for the trajectories t0 ..< t0 + width.
static inline __attribute__((always_inline)) void
density_matrix_row(int64_t batch, int64_t n, int64_t a, int64_t t0, const int64_t width,
                   const double *restrict v_re, const double *restrict v_im, const double *restrict wf_db_re,
                   const double *restrict wf_db_im, const double *restrict weights, const double *restrict d,
                   double *restrict rho_re, double *restrict rho_im) {
    int64_t b0 = 0;
    for (; b0 + 4 <= a + 1; b0 += 4)
        density_matrix_tile(batch, n, a, b0, 4, t0, width, v_re, v_im, wf_db_re, wf_db_im, weights, d, rho_re, rho_im);
    for (; b0 <= a; b0++)
        density_matrix_tile(batch, n, a, b0, 1, t0, width, v_re, v_im, wf_db_re, wf_db_im, weights, d, rho_re, rho_im);
}

QCLAB_CLONES
void qclab_fssh_density_matrix(int64_t batch, int64_t n, const double *restrict v_re, const double *restrict v_im,
                               const double *restrict wf_adb_re, const double *restrict wf_adb_im,
                               const double *restrict wf_db_re, const double *restrict wf_db_im,
                               const int64_t *restrict active, const double *restrict weights,
                               double *restrict d, double *restrict rho_re, double *restrict rho_im) {
    for (int64_t k = 0; k < n; k++) {
        for (int64_t t = 0; t < batch; t++) {
            const double cr = wf_adb_re[k * batch + t], ci = wf_adb_im[k * batch + t];
            d[k * batch + t] = (active[t] == k ? 1.0 : 0.0) - (cr * cr + ci * ci);
        }
    }
    // ρ is Hermitian: the lower triangle, four columns at a time, mirrored.
    for (int64_t a = 0; a < n; a++) {
        int64_t t0 = 0;
        for (; t0 + density_lanes <= batch; t0 += density_lanes)
            density_matrix_row(batch, n, a, t0, density_lanes, v_re, v_im, wf_db_re, wf_db_im, weights, d, rho_re, rho_im);
        if (t0 < batch)
            density_matrix_row(batch, n, a, t0, batch - t0, v_re, v_im, wf_db_re, wf_db_im, weights, d, rho_re, rho_im);
    }
}
