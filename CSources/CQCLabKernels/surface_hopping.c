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
        for (int64_t t = 0; t < batch; t++) {
            const double xr = nr[t] * ckr[t] - ni[t] * cki[t], xi = nr[t] * cki[t] + ni[t] * ckr[t];
            p[t] = active[t] == k ? 0.0 : clipped(-2.0 * real_part_of_quotient(xr, xi, car[t], cai[t]));
        }
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

/// ρ_ab for the `count` columns b of `b0 ..< b0 + count` (every b <= a; count is 4, or 1
/// for the remainder), mirrored into ρ_ba = conj(ρ_ab). With x_k = V_ak d_k formed once
/// for the tile, each term is (V_ak d_k) conj(V_bk), rounded as the untiled sum was.
static inline __attribute__((always_inline)) void
density_matrix_tile(int64_t batch, int64_t n, int64_t a, int64_t b0, const int64_t count,
                    const double *restrict v_re, const double *restrict v_im,
                    const double *restrict wf_db_re, const double *restrict wf_db_im,
                    const double *restrict weights, const double *restrict d,
                    double *restrict rho_re, double *restrict rho_im) {
    const double *restrict par = wf_db_re + a * batch, *restrict pai = wf_db_im + a * batch;
    for (int64_t j = 0; j < count; j++) {
        const int64_t b = b0 + j;
        double *restrict rr = rho_re + (a * n + b) * batch, *restrict ri = rho_im + (a * n + b) * batch;
        const double *restrict pbr = wf_db_re + b * batch, *restrict pbi = wf_db_im + b * batch;
        // ψ_a ψ_b*
        for (int64_t t = 0; t < batch; t++) {
            rr[t] = par[t] * pbr[t] + pai[t] * pbi[t];
            ri[t] = pai[t] * pbr[t] - par[t] * pbi[t];
        }
    }
    double *restrict rr = rho_re + (a * n + b0) * batch, *restrict ri = rho_im + (a * n + b0) * batch;
    // + Σ_k V_ak d_k conj(V_bk)
    for (int64_t k = 0; k < n; k++) {
        const double *restrict var = v_re + (a * n + k) * batch, *restrict dk = d + k * batch;
        const double *restrict vbr = v_re + (b0 * n + k) * batch;
        if (!v_im) {
            for (int64_t t = 0; t < batch; t++) {
                const double x = var[t] * dk[t];
                for (int64_t j = 0; j < count; j++) rr[j * batch + t] += x * vbr[j * n * batch + t];
            }
            continue;
        }
        const double *restrict vai = v_im + (a * n + k) * batch, *restrict vbi = v_im + (b0 * n + k) * batch;
        for (int64_t t = 0; t < batch; t++) {
            const double xr = var[t] * dk[t], xi = vai[t] * dk[t];
            for (int64_t j = 0; j < count; j++) {
                rr[j * batch + t] += xr * vbr[j * n * batch + t] + xi * vbi[j * n * batch + t];
                ri[j * batch + t] += xi * vbr[j * n * batch + t] - xr * vbi[j * n * batch + t];
            }
        }
    }
    for (int64_t j = 0; j < count; j++) {
        const int64_t b = b0 + j;
        if (weights) {
            for (int64_t t = 0; t < batch; t++) { rr[j * batch + t] *= weights[t]; ri[j * batch + t] *= weights[t]; }
        }
        if (b == a) continue;
        double *restrict mr = rho_re + (b * n + a) * batch, *restrict mi = rho_im + (b * n + a) * batch;
        for (int64_t t = 0; t < batch; t++) { mr[t] = rr[j * batch + t]; mi[t] = -ri[j * batch + t]; }
    }
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
        int64_t b0 = 0;
        for (; b0 + 4 <= a + 1; b0 += 4) density_matrix_tile(batch, n, a, b0, 4, v_re, v_im, wf_db_re, wf_db_im, weights, d, rho_re, rho_im);
        for (; b0 <= a; b0++) density_matrix_tile(batch, n, a, b0, 1, v_re, v_im, wf_db_re, wf_db_im, weights, d, rho_re, rho_im);
    }
}
