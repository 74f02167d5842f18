// The per-step work of fewest-switches surface hopping around the eigensolver, for real
// eigenvectors under sign_overlap gauge fixing, in one sweep over the eigenvectors: the
// propagation's product with the previous step's eigenvectors, the sign alignment with
// them, the adiabatic wavefunction c = Vᵀ ψ and the hop probabilities. The separate kernels (qclab_align_signs,
// qclab_complex_matvec, qclab_gather_active, qclab_hop_probabilities) read V and V_prev
// five times, mostly column by column (a page apart per element at n = 50, which no
// prefetcher follows); here V_prev is read once and V twice, row by row, with the n sums
// of every kind kept in the first-level cache and each formed in the same order as there,
// so the results are the same bits.
#include "CQCLabKernels.h"
#include "lanes.h"
#include "surface_hopping.h"

/// g = s V[·][a] for each lane's active state a, s the sign of <V_prev[·][a] | V[·][a]>
/// (imaginary parts zero); `scratch` holds 2 * batch doubles.
static inline void active_eigenvector(int64_t batch, int64_t n, const double *restrict previous,
                                      const double *restrict v, const int64_t *restrict active,
                                      double *restrict active_re, double *restrict active_im,
                                      double *restrict scratch) {
    double *restrict overlap = scratch, *restrict sign = scratch + batch;
    for (int64_t t = 0; t < batch; t++) overlap[t] = 0.0;
    for (int64_t a = 0; a < n; a++) {
        double *restrict g = active_re + a * batch;
        for (int64_t t = 0; t < batch; t++) {
            const int64_t e = (a * n + active[t]) * batch + t;
            g[t] = v[e];
            overlap[t] += previous[e] * v[e];
        }
    }
    for (int64_t t = 0; t < batch; t++) sign[t] = sign_of(overlap[t]);
    for (int64_t a = 0; a < n; a++) {
        double *restrict gr = active_re + a * batch, *restrict gi = active_im + a * batch;
        for (int64_t t = 0; t < batch; t++) { gr[t] *= sign[t]; gi[t] = 0.0; }
    }
}

/// P_k = -2 Re(nac_k c_k / c_a) over `probability`, which holds nac_k (real) on entry;
/// `scratch` holds 2 * batch doubles.
static inline void probabilities_from_couplings(int64_t batch, int64_t n, const double *restrict wf_adb_re,
                                                const double *restrict wf_adb_im, const int64_t *restrict active,
                                                double *restrict probability, double *restrict scratch) {
    double *restrict car = scratch, *restrict cai = scratch + batch;
    for (int64_t t = 0; t < batch; t++) {
        car[t] = wf_adb_re[active[t] * batch + t];
        cai[t] = wf_adb_im[active[t] * batch + t];
    }
    for (int64_t k = 0; k < n; k++) {
        double *restrict p = probability + k * batch;
        const double *restrict ckr = wf_adb_re + k * batch, *restrict cki = wf_adb_im + k * batch;
        for (int64_t t = 0; t < batch; t++) p[t] = hop_probability(p[t], 0.0, ckr[t], cki[t], car[t], cai[t], active[t] == k);
    }
}

QCLAB_CLONES
void qclab_fssh_real_sign_sweep(int64_t batch, int64_t n, const double *restrict previous, double *restrict v,
                                const double *restrict rotated_re, const double *restrict rotated_im,
                                double *restrict wf_db_re, double *restrict wf_db_im, const int64_t *restrict active, double *restrict wf_adb_re,
                                double *restrict wf_adb_im, double *restrict probability,
                                double *restrict active_re, double *restrict active_im, double *restrict scratch) {
    // Each lane's active eigenvector g = s V[·][a], with s the sign of its overlap with
    // V_prev[·][a]: the nonadiabatic couplings below need all of it before any column is done.
    active_eigenvector(batch, n, previous, v, active, active_re, active_im, scratch);
    {
        // Row by row (contiguous memory, which the prefetchers follow), every column's
        // <V_prev,k | V_k> (then its sign, in `column_sign`) and nac_k = Σ_a V_prev[a][k] g_a (kept in
        // `probability` until every c_k is known), each summed over ascending a.
        // With `rotated` (r = exp(-i E dt) V_prev† ψ), the same pass propagates ψ_a = Σ_k V_prev[a][k] r_k.
        double *restrict column_sign = scratch;
        for (int64_t i = 0; i < n * batch; i++) { column_sign[i] = 0.0; probability[i] = 0.0; }
        for (int64_t a = 0; a < n; a++) {
            const double *restrict g = active_re + a * batch;
            double *restrict yr = wf_db_re + a * batch, *restrict yi = wf_db_im + a * batch;
            if (rotated_re) {
                for (int64_t t = 0; t < batch; t++) { yr[t] = 0.0; yi[t] = 0.0; }
            }
            for (int64_t k = 0; k < n; k++) {
                const double *restrict p = previous + (a * n + k) * batch, *restrict x = v + (a * n + k) * batch;
                double *restrict o = column_sign + k * batch, *restrict nac = probability + k * batch;
                for (int64_t t = 0; t < batch; t++) {
                    o[t] += p[t] * x[t];
                    nac[t] += p[t] * g[t];
                }
                if (!rotated_re) continue;
                const double *restrict rr = rotated_re + k * batch, *restrict ri = rotated_im + k * batch;
                for (int64_t t = 0; t < batch; t++) {
                    yr[t] += p[t] * rr[t];
                    yi[t] += p[t] * ri[t];
                }
            }
        }
        for (int64_t i = 0; i < n * batch; i++) column_sign[i] = sign_of(column_sign[i]);
        // V[a][k] ← s_k V[a][k] and c_k = Σ_a V[a][k] ψ_a, row by row again.
        for (int64_t i = 0; i < n * batch; i++) { wf_adb_re[i] = 0.0; wf_adb_im[i] = 0.0; }
        for (int64_t a = 0; a < n; a++) {
            const double *restrict yr = wf_db_re + a * batch, *restrict yi = wf_db_im + a * batch;
            for (int64_t k = 0; k < n; k++) {
                double *restrict x = v + (a * n + k) * batch;
                const double *restrict s = column_sign + k * batch;
                double *restrict cr = wf_adb_re + k * batch, *restrict ci = wf_adb_im + k * batch;
                for (int64_t t = 0; t < batch; t++) {
                    const double signed_x = x[t] * s[t];
                    x[t] = signed_x;
                    cr[t] += signed_x * yr[t];
                    ci[t] += signed_x * yi[t];
                }
            }
        }
    }
    // P_k = -2 Re(nac_k c_k / c_a), the imaginary part of nac being zero.
    probabilities_from_couplings(batch, n, wf_adb_re, wf_adb_im, active, probability, scratch);
}
