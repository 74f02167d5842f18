// The per-step kernels of fewest-switches surface hopping (FewestSwitchesSurfaceHopping.swift
// says what each one is in QC Lab's recipe), over struct-of-arrays batches: element (a, k)
// of an N x N batch is component a N + k, each component `batch` contiguous trajectories.
// (The two-state fused step is in two_state_step.c, its lanes in two_state.h.)
#include "CQCLabKernels.h"
#include "two_state.h"
#include <math.h>

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
