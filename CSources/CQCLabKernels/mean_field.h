// Loops over a run of trajectories shared by the batch-wide kernels (qclab_harmonic_rk4_step
// and qclab_complex_matvec in kernels.c) and the tiled mean-field step (mean_field_tiles.c):
// the same source expressions, inlined into each.
#ifndef QCLAB_MEAN_FIELD_H
#define QCLAB_MEAN_FIELD_H
#include <stdint.h>

/// The closed-form RK4 step of `count` trajectories of every coordinate (the formulas are in
/// DiagonalLinearHarmonicModel+ClosedFormRK4.swift): coordinate c's trajectories start at
/// `x + c * xy_stride`, state n's populations at `populations + n * population_stride`, and
/// state n's diagonal, to which 2 γ x_new is added, at `diagonal + n * diagonal_stride`.
static inline __attribute__((always_inline)) void harmonic_rk4_coordinates(
    int64_t count, int64_t coordinates, double *restrict x,
                                            double *restrict y, int64_t xy_stride,
                                            const double *restrict coefficients,
                                            const int64_t *restrict term_start,
                                            const int64_t *restrict term_state,
                                            const double *restrict term_gamma,
                                            const double *restrict populations, int64_t population_stride,
                                            double *restrict diagonal, int64_t diagonal_stride) {
    for (int64_t c = 0; c < coordinates; c++) {
        const double *k = coefficients + 5 * c;
        const double tau0 = k[0], xy = k[1], yx = k[2], xf = k[3], tau1 = k[4];
        double *restrict xc = x + c * xy_stride;
        double *restrict yc = y + c * xy_stride;
        const int64_t first = term_start[c], terms = term_start[c + 1] - first;
        if (terms == 1) {
            const double g = term_gamma[first], g2 = 2.0 * g;
            const double *restrict p = populations + term_state[first] * population_stride;
            double *restrict d = diagonal + term_state[first] * diagonal_stride;
            for (int64_t t = 0; t < count; t++) {
                const double xo = xc[t], yo = yc[t], f = g * p[t];
                const double xn = tau0 * xo + xy * yo - xf * f;
                xc[t] = xn;
                yc[t] = tau0 * yo - yx * xo - tau1 * f;
                d[t] += g2 * xn;
            }
        } else if (terms == 2) {
            const double g0 = term_gamma[first], g1 = term_gamma[first + 1];
            const double *restrict p0 = populations + term_state[first] * population_stride;
            const double *restrict p1 = populations + term_state[first + 1] * population_stride;
            double *restrict d0 = diagonal + term_state[first] * diagonal_stride;
            double *restrict d1 = diagonal + term_state[first + 1] * diagonal_stride;
            for (int64_t t = 0; t < count; t++) {
                const double xo = xc[t], yo = yc[t], f = g0 * p0[t] + g1 * p1[t];
                const double xn = tau0 * xo + xy * yo - xf * f;
                xc[t] = xn;
                yc[t] = tau0 * yo - yx * xo - tau1 * f;
                d0[t] += 2.0 * g0 * xn;
                d1[t] += 2.0 * g1 * xn;
            }
        } else {
            for (int64_t t = 0; t < count; t++) {
                double f = 0.0;
                for (int64_t j = first; j < first + terms; j++)
                    f += term_gamma[j] * populations[term_state[j] * population_stride + t];
                const double xo = xc[t], yo = yc[t];
                const double xn = tau0 * xo + xy * yo - xf * f;
                xc[t] = xn;
                yc[t] = tau0 * yo - yx * xo - tau1 * f;
                for (int64_t j = first; j < first + terms; j++)
                    diagonal[term_state[j] * diagonal_stride + t] += 2.0 * term_gamma[j] * xn;
            }
        }
    }
}

/// out = M v (or M^H v with `adjoint`) for `count` trajectories: element (a, b) of M starts at
/// `m_re + (a n + b) * m_stride`, component a of v at `v_re + a * v_stride`, of out at
/// `out_re + a * out_stride`; `m_im == NULL` means a real M.
static inline __attribute__((always_inline)) void complex_matvec_run(
    int64_t count, int64_t n, int adjoint, const double *restrict m_re,
                                      const double *restrict m_im, int64_t m_stride,
                                      const double *restrict v_re, const double *restrict v_im,
                                      int64_t v_stride, double *restrict out_re, double *restrict out_im,
                                      int64_t out_stride) {
    const double sign = adjoint ? -1.0 : 1.0;
    for (int64_t a = 0; a < n; a++) {
        double *restrict or_ = out_re + a * out_stride;
        double *restrict oi = out_im + a * out_stride;
        for (int64_t t = 0; t < count; t++) { or_[t] = 0.0; oi[t] = 0.0; }
        for (int64_t b = 0; b < n; b++) {
            const int64_t element = adjoint ? (b * n + a) : (a * n + b);
            const double *restrict xr = m_re + element * m_stride;
            const double *restrict yr = v_re + b * v_stride;
            const double *restrict yi = v_im + b * v_stride;
            if (!m_im) {
                for (int64_t t = 0; t < count; t++) {
                    or_[t] += xr[t] * yr[t];
                    oi[t] += xr[t] * yi[t];
                }
                continue;
            }
            const double *restrict xi = m_im + element * m_stride;
            for (int64_t t = 0; t < count; t++) {
                const double mr = xr[t], mi = sign * xi[t];
                or_[t] += mr * yr[t] - mi * yi[t];
                oi[t] += mr * yi[t] + mi * yr[t];
            }
        }
    }
}
#endif
