// The closed-form eigenproblem of complex Hermitian 2 x 2 matrices over a whole batch, with
// the arithmetic of LAPACK's zheevd (the routine behind NumPy's eigh), so that eigenvalues
// and eigenvector phases match NumPy's to the last bit in the common case: zhetd2's
// Householder reduction to a real tridiagonal (zlarfg: a real off-diagonal β and a phase τ
// on the second row), zsteqr's 2 x 2 rotation (dlaev2) with its splitting test, the
// ascending sort, and zunmtr's back-transformation. Anderson et al., LAPACK Users' Guide.
#include <math.h>
#include "CQCLabKernels.h"
#include "lanes.h"

// Compiled for AVX-512 and AVX2 too (QCLAB_CLONES), where the loop over the batch
// vectorizes with its branches turned into selects; products and sums stay rounded apart,
// as LAPACK's reference arithmetic and the baseline build round them: no contraction into
// fused multiply-adds, so every clone gives the same bits.
#pragma clang fp contract(off)

/// dlapy3(x, y, 0): sqrt(x² + y²) with LAPACK's scaling.
static inline double lapy2_scaled(double x, double y) {
    const double xa = fabs(x), ya = fabs(y);
    const double w = xa > ya ? xa : ya;
    if (w == 0.0 || w > 1.79769313486231571e308) return xa + ya;
    const double xs = xa / w, ys = ya / w;
    return w * sqrt(xs * xs + ys * ys + 0.0);
}

/// dlaev2(a, b, c): rt1 (the larger in magnitude), rt2 and (cs1, sn1), the unit
/// eigenvector of rt1.
static inline void laev2(double a, double b, double c, double *rt1, double *rt2, double *cs1, double *sn1) {
    const double sm = a + c, df = a - c, adf = fabs(df), tb = b + b, ab = fabs(tb);
    double acmx, acmn, rt, sgn1, sgn2, cs;
    if (fabs(a) > fabs(c)) { acmx = a; acmn = c; } else { acmx = c; acmn = a; }
    if (adf > ab) { const double r = ab / adf; rt = adf * sqrt(1.0 + r * r); }
    else if (adf < ab) { const double r = adf / ab; rt = ab * sqrt(1.0 + r * r); }
    else rt = ab * sqrt(2.0);
    if (sm < 0.0) { *rt1 = 0.5 * (sm - rt); sgn1 = -1.0; *rt2 = (acmx / *rt1) * acmn - (b / *rt1) * b; }
    else if (sm > 0.0) { *rt1 = 0.5 * (sm + rt); sgn1 = 1.0; *rt2 = (acmx / *rt1) * acmn - (b / *rt1) * b; }
    else { *rt1 = 0.5 * rt; *rt2 = -0.5 * rt; sgn1 = 1.0; }
    if (df >= 0.0) { cs = df + rt; sgn2 = 1.0; } else { cs = df - rt; sgn2 = -1.0; }
    if (fabs(cs) > ab) {
        const double ct = -tb / cs;
        *sn1 = 1.0 / sqrt(1.0 + ct * ct);
        *cs1 = ct * *sn1;
    } else if (ab == 0.0) {
        *cs1 = 1.0; *sn1 = 0.0;
    } else {
        const double tn = -cs / tb;
        *cs1 = 1.0 / sqrt(1.0 + tn * tn);
        *sn1 = tn * *cs1;
    }
    if (sgn1 == sgn2) { const double tn = *cs1; *cs1 = -*sn1; *sn1 = tn; }
}

QCLAB_CLONES
void qclab_eigen_hermitian_2x2(int64_t batch, const double *restrict h_re, const double *restrict h_im,
                               double *restrict w, double *restrict v_re, double *restrict v_im) {
    const double eps = 0x1p-53;  // dlamch('E')
    for (int64_t t = 0; t < batch; t++) {
        // LAPACK reads the lower triangle: a11, a22 (real parts) and a21 = H[1][0].
        const double a11 = h_re[t], a22 = h_re[3 * batch + t];
        const double alphr = h_re[2 * batch + t], alphi = h_im[2 * batch + t];
        // zlarfg on a21 alone: τ = 0 if it is real, else β = -sign(|a21|, Re a21).
        double e = alphr, d2 = a22, tau_re = 0.0, tau_im = 0.0;
        if (alphi != 0.0) {
            const double beta = -copysign(lapy2_scaled(alphr, alphi), alphr);
            tau_re = (beta - alphr) / beta;
            tau_im = -alphi / beta;
            e = beta;
            // zhetd2 applies H = I - τ v vᴴ from both sides to the trailing 1 x 1 block.
            double y_re = tau_re * a22, y_im = tau_im * a22;                 // zhemv
            const double hr = -0.5 * tau_re, hi = -0.5 * tau_im;             // -½ τ
            const double alpha_re = hr * y_re - hi * (-y_im);                // ·zdotc(y, v)
            y_re = y_re + alpha_re;                                          // zaxpy
            d2 = a22 + (-y_re - y_re);                                       // zher2
        }
        // zsteqr on the 2 x 2 tridiagonal (a11, e, d2), starting from Z = I.
        double l1, l2, c = 1.0, s = 0.0;
        const double tst = fabs(e);
        if (tst == 0.0 || tst <= sqrt(fabs(a11)) * sqrt(fabs(d2)) * eps) {
            l1 = a11; l2 = d2;
        } else {
            laev2(a11, e, d2, &l1, &l2, &c, &s);
        }
        // Columns before sorting: (c, s) for l1 and (-s, c) for l2; ascending order.
        double x0 = c, x1 = s, y0 = -s, y1 = c;
        if (l2 < l1) {
            const double tl = l1; l1 = l2; l2 = tl;
            x0 = -s; x1 = c; y0 = c; y1 = s;
        }
        w[t] = l1;
        w[batch + t] = l2;
        // zunmtr: the second row times (1 - τ), as zlarf forms it: z - τ z.
        v_re[t] = x0; v_im[t] = 0.0;
        v_re[batch + t] = y0; v_im[batch + t] = 0.0;
        v_re[2 * batch + t] = x1 - tau_re * x1; v_im[2 * batch + t] = -(tau_im * x1);
        v_re[3 * batch + t] = y1 - tau_re * y1; v_im[3 * batch + t] = -(tau_im * y1);
    }
}
