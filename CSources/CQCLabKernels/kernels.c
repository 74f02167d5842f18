#include "CQCLabKernels.h"
#include "lanes.h"
#include "mean_field.h"

QCLAB_CLONES
void qclab_harmonic_rk4_step(int64_t batch, int64_t coordinates, double *restrict x, double *restrict y,
                             const double *restrict coefficients, const int64_t *restrict term_start,
                             const int64_t *restrict term_state, const double *restrict term_gamma,
                             const double *restrict populations, double *restrict diagonal,
                             int64_t diagonal_stride) {
    harmonic_rk4_coordinates(batch, coordinates, x, y, batch, coefficients, term_start, term_state, term_gamma,
                             populations, batch, diagonal, diagonal_stride);
}

QCLAB_CLONES
void qclab_complex_matvec(int64_t batch, int64_t n, int adjoint,
                          const double *restrict m_re, const double *restrict m_im,
                          const double *restrict v_re, const double *restrict v_im,
                          double *restrict out_re, double *restrict out_im) {
    complex_matvec_run(batch, n, adjoint, m_re, m_im, batch, v_re, v_im, batch, out_re, out_im, batch);
}

QCLAB_CLONES
void qclab_rotate_phases(int64_t count, const double *restrict energies, double dt,
                         double *restrict re, double *restrict im) {
    enum { chunk = 256 };
    double angle[chunk], s[chunk], c[chunk];
    for (int64_t start = 0; start < count; start += chunk) {
        const int64_t length = count - start < chunk ? count - start : chunk;
        for (int64_t i = 0; i < length; i++) angle[i] = -energies[start + i] * dt;
        qclab_sincos(length, angle, s, c);
        double *restrict x = re + start, *restrict y = im + start;
        for (int64_t i = 0; i < length; i++) {
            const double xr = x[i], yi = y[i];
            x[i] = c[i] * xr - s[i] * yi;
            y[i] = c[i] * yi + s[i] * xr;
        }
    }
}

/// out = L R (or Lᵀ R with `left_transposed`) for the n x n matrices of every trajectory;
/// `out` must not overlap `left` or `right`.
static inline void batched_product(int64_t batch, int64_t n, const double *restrict left, int left_transposed,
                                   const double *restrict right, double *restrict out) {
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < n; k++) {
            double *restrict o = out + (i * n + k) * batch;
            for (int64_t t = 0; t < batch; t++) o[t] = 0.0;
            for (int64_t j = 0; j < n; j++) {
                const double *restrict l = left + (left_transposed ? j * n + i : i * n + j) * batch;
                const double *restrict r = right + (j * n + k) * batch;
                for (int64_t t = 0; t < batch; t++) o[t] += l[t] * r[t];
            }
        }
    }
}

QCLAB_CLONES
int qclab_jacobi_warm_start(int64_t batch, int64_t n, const double *restrict h, double *restrict v,
                            double *restrict w, double *restrict a, double *restrict scratch,
                            int max_sweeps, double tolerance) {
    // Re-orthonormalize the starting vectors (modified Gram-Schmidt), so that rounding does
    // not accumulate from step to step.
    for (int64_t k = 0; k < n; k++) {
        double *restrict dot = scratch;
        for (int64_t j = 0; j < k; j++) {
            for (int64_t t = 0; t < batch; t++) dot[t] = 0.0;
            for (int64_t i = 0; i < n; i++) {
                const double *restrict vij = v + (i * n + j) * batch;
                const double *restrict vik = v + (i * n + k) * batch;
                for (int64_t t = 0; t < batch; t++) dot[t] += vij[t] * vik[t];
            }
            for (int64_t i = 0; i < n; i++) {
                const double *restrict vij = v + (i * n + j) * batch;
                double *restrict vik = v + (i * n + k) * batch;
                for (int64_t t = 0; t < batch; t++) vik[t] -= dot[t] * vij[t];
            }
        }
        for (int64_t t = 0; t < batch; t++) dot[t] = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const double *restrict vik = v + (i * n + k) * batch;
            for (int64_t t = 0; t < batch; t++) dot[t] += vik[t] * vik[t];
        }
        for (int64_t t = 0; t < batch; t++) dot[t] = 1.0 / sqrt(dot[t]);
        for (int64_t i = 0; i < n; i++) {
            double *restrict vik = v + (i * n + k) * batch;
            for (int64_t t = 0; t < batch; t++) vik[t] *= dot[t];
        }
    }
    // scratch = H V, then A = Vᵀ (H V), symmetrized.
    batched_product(batch, n, h, 0, v, scratch);
    batched_product(batch, n, v, 1, scratch, a);
    for (int64_t j = 0; j < n; j++) {
        for (int64_t k = j + 1; k < n; k++) {
            double *restrict ajk = a + (j * n + k) * batch;
            double *restrict akj = a + (k * n + j) * batch;
            for (int64_t t = 0; t < batch; t++) {
                const double mean = 0.5 * (ajk[t] + akj[t]);
                ajk[t] = mean;
                akj[t] = mean;
            }
        }
    }
    // Rotation parameters of one pair for every trajectory, and the norms, live in scratch.
    double *restrict tangent = scratch, *restrict cosine = scratch + batch, *restrict sine = scratch + 2 * batch;
    double *restrict off = scratch + 3 * batch, *restrict total = scratch + 4 * batch;
    const double tolerance2 = tolerance * tolerance;
    int sweeps = 0;
    for (;;) {
        // Converged when, for every trajectory, off(A)² <= tolerance² ‖A‖².
        for (int64_t t = 0; t < batch; t++) { off[t] = 0.0; total[t] = 0.0; }
        for (int64_t j = 0; j < n; j++) {
            const double *restrict d = a + (j * n + j) * batch;
            for (int64_t t = 0; t < batch; t++) total[t] += d[t] * d[t];
            for (int64_t k = j + 1; k < n; k++) {
                const double *restrict x = a + (j * n + k) * batch;
                for (int64_t t = 0; t < batch; t++) off[t] += x[t] * x[t];
            }
        }
        int converged = 1;
        for (int64_t t = 0; t < batch; t++) {
            total[t] += 2.0 * off[t];
            converged &= off[t] <= tolerance2 * total[t];
        }
        if (converged) break;
        if (sweeps == max_sweeps) return -1;
        sweeps++;
        for (int64_t p = 0; p < n; p++) {
            for (int64_t q = p + 1; q < n; q++) {
                double *restrict app = a + (p * n + p) * batch;
                double *restrict aqq = a + (q * n + q) * batch;
                double *restrict apq = a + (p * n + q) * batch;
                double *restrict aqp = a + (q * n + p) * batch;
                // A pair already negligible in every trajectory needs no rotation.
                int negligible = 1;
                for (int64_t t = 0; t < batch; t++) negligible &= apq[t] * apq[t] <= 0.01 * tolerance2 * total[t];
                if (negligible) continue;
                for (int64_t t = 0; t < batch; t++) {
                    // The smaller of the two angles that zero a_pq (|angle| <= π/4), so that
                    // nearly diagonal matrices stay nearly in place.
                    const double x = apq[t];
                    const double theta = (aqq[t] - app[t]) / (2.0 * x);
                    const double tt = x == 0.0 ? 0.0 : (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                    const double c = 1.0 / sqrt(tt * tt + 1.0);
                    tangent[t] = tt;
                    cosine[t] = c;
                    sine[t] = tt * c;
                    app[t] -= tt * x;
                    aqq[t] += tt * x;
                    apq[t] = 0.0;
                    aqp[t] = 0.0;
                }
                for (int64_t r = 0; r < n; r++) {
                    if (r == p || r == q) continue;
                    double *restrict arp = a + (r * n + p) * batch;
                    double *restrict arq = a + (r * n + q) * batch;
                    double *restrict apr = a + (p * n + r) * batch;
                    double *restrict aqr = a + (q * n + r) * batch;
                    for (int64_t t = 0; t < batch; t++) {
                        const double xp = arp[t], xq = arq[t], c = cosine[t], s = sine[t];
                        const double np = c * xp - s * xq, nq = s * xp + c * xq;
                        arp[t] = np; apr[t] = np;
                        arq[t] = nq; aqr[t] = nq;
                    }
                }
                for (int64_t r = 0; r < n; r++) {
                    double *restrict vrp = v + (r * n + p) * batch;
                    double *restrict vrq = v + (r * n + q) * batch;
                    for (int64_t t = 0; t < batch; t++) {
                        const double xp = vrp[t], xq = vrq[t], c = cosine[t], s = sine[t];
                        vrp[t] = c * xp - s * xq;
                        vrq[t] = s * xp + c * xq;
                    }
                }
            }
        }
    }
    // Eigenvalues, then ascending order per trajectory (usually already so).
    for (int64_t k = 0; k < n; k++) {
        for (int64_t t = 0; t < batch; t++) w[k * batch + t] = a[(k * n + k) * batch + t];
    }
    for (int64_t t = 0; t < batch; t++) {
        for (int64_t k = 1; k < n; k++) {
            for (int64_t j = k; j > 0 && w[(j - 1) * batch + t] > w[j * batch + t]; j--) {
                const double e = w[(j - 1) * batch + t];
                w[(j - 1) * batch + t] = w[j * batch + t];
                w[j * batch + t] = e;
                for (int64_t r = 0; r < n; r++) {
                    const double x = v[(r * n + j - 1) * batch + t];
                    v[(r * n + j - 1) * batch + t] = v[(r * n + j) * batch + t];
                    v[(r * n + j) * batch + t] = x;
                }
            }
        }
    }
    return sweeps;
}
