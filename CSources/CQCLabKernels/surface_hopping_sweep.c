// The per-step work of fewest-switches surface hopping after the eigensolver, for real
// eigenvectors under sign_overlap gauge fixing, in one sweep over the eigenvectors: the
// sign alignment with the previous step's eigenvectors, the adiabatic wavefunction
// c = Vᵀ ψ and the hop probabilities. The separate kernels (qclab_align_signs,
// qclab_complex_matvec, qclab_gather_active, qclab_hop_probabilities) read V and V_prev
// five times from beyond the first-level cache; here each is read once and every column
// of V once more while it is still cached, with every sum formed in the same order as
// there, so the results are the same bits.
#include "CQCLabKernels.h"
#include "lanes.h"
#include "surface_hopping.h"

QCLAB_CLONES
void qclab_fssh_real_sign_sweep(int64_t batch, int64_t n, const double *restrict previous, double *restrict v,
                                const double *restrict wf_db_re, const double *restrict wf_db_im,
                                const int64_t *restrict active, double *restrict wf_adb_re,
                                double *restrict wf_adb_im, double *restrict probability,
                                double *restrict active_re, double *restrict active_im, double *restrict scratch) {
    double *restrict overlap = scratch, *restrict sign = scratch + batch;
    // Each lane's active eigenvector g = s V[·][a], with s the sign of its overlap with
    // V_prev[·][a]: the nonadiabatic couplings below need all of it before any column is done.
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
    for (int64_t k = 0; k < n; k++) {
        // <V_prev,k | V_k> and nac_k = Σ_a V_prev[a][k] g_a (kept in `probability` until
        // every c_k is known).
        double *restrict nac = probability + k * batch;
        for (int64_t t = 0; t < batch; t++) { overlap[t] = 0.0; nac[t] = 0.0; }
        for (int64_t a = 0; a < n; a++) {
            const double *restrict p = previous + (a * n + k) * batch, *restrict x = v + (a * n + k) * batch;
            const double *restrict g = active_re + a * batch;
            for (int64_t t = 0; t < batch; t++) {
                overlap[t] += p[t] * x[t];
                nac[t] += p[t] * g[t];
            }
        }
        for (int64_t t = 0; t < batch; t++) sign[t] = sign_of(overlap[t]);
        // V_k ← s V_k and c_k = Σ_a V[a][k] ψ_a, over the column just read.
        double *restrict cr = wf_adb_re + k * batch, *restrict ci = wf_adb_im + k * batch;
        for (int64_t t = 0; t < batch; t++) { cr[t] = 0.0; ci[t] = 0.0; }
        for (int64_t a = 0; a < n; a++) {
            double *restrict x = v + (a * n + k) * batch;
            const double *restrict yr = wf_db_re + a * batch, *restrict yi = wf_db_im + a * batch;
            for (int64_t t = 0; t < batch; t++) {
                const double signed_x = x[t] * sign[t];
                x[t] = signed_x;
                cr[t] += signed_x * yr[t];
                ci[t] += signed_x * yi[t];
            }
        }
    }
    // P_k = -2 Re(nac_k c_k / c_a), the imaginary part of nac being zero.
    double *restrict car = overlap, *restrict cai = sign;
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
