#include "CQCLabKernels.h"

#if defined(__x86_64__) && defined(__linux__)
#define QCLAB_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QCLAB_CLONES
#endif

QCLAB_CLONES
void qclab_harmonic_rk4_step(int64_t batch, int64_t coordinates, double *restrict x, double *restrict y,
                             const double *restrict coefficients, const int64_t *restrict term_start,
                             const int64_t *restrict term_state, const double *restrict term_gamma,
                             const double *restrict populations, double *restrict diagonal) {
    for (int64_t c = 0; c < coordinates; c++) {
        const double *k = coefficients + 5 * c;
        const double tau0 = k[0], xy = k[1], yx = k[2], xf = k[3], tau1 = k[4];
        double *restrict xc = x + c * batch;
        double *restrict yc = y + c * batch;
        const int64_t first = term_start[c], count = term_start[c + 1] - first;
        if (count == 1) {
            const double g = term_gamma[first], g2 = 2.0 * g;
            const double *restrict p = populations + term_state[first] * batch;
            double *restrict d = diagonal + term_state[first] * batch;
            for (int64_t t = 0; t < batch; t++) {
                const double xo = xc[t], yo = yc[t], f = g * p[t];
                const double xn = tau0 * xo + xy * yo - xf * f;
                xc[t] = xn;
                yc[t] = tau0 * yo - yx * xo - tau1 * f;
                d[t] += g2 * xn;
            }
        } else if (count == 2) {
            const double g0 = term_gamma[first], g1 = term_gamma[first + 1];
            const double *restrict p0 = populations + term_state[first] * batch;
            const double *restrict p1 = populations + term_state[first + 1] * batch;
            double *restrict d0 = diagonal + term_state[first] * batch;
            double *restrict d1 = diagonal + term_state[first + 1] * batch;
            for (int64_t t = 0; t < batch; t++) {
                const double xo = xc[t], yo = yc[t], f = g0 * p0[t] + g1 * p1[t];
                const double xn = tau0 * xo + xy * yo - xf * f;
                xc[t] = xn;
                yc[t] = tau0 * yo - yx * xo - tau1 * f;
                d0[t] += 2.0 * g0 * xn;
                d1[t] += 2.0 * g1 * xn;
            }
        } else {
            for (int64_t t = 0; t < batch; t++) {
                double f = 0.0;
                for (int64_t j = first; j < first + count; j++) f += term_gamma[j] * populations[term_state[j] * batch + t];
                const double xo = xc[t], yo = yc[t];
                const double xn = tau0 * xo + xy * yo - xf * f;
                xc[t] = xn;
                yc[t] = tau0 * yo - yx * xo - tau1 * f;
                for (int64_t j = first; j < first + count; j++) diagonal[term_state[j] * batch + t] += 2.0 * term_gamma[j] * xn;
            }
        }
    }
}
