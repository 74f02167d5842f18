// The classical step of two-state scattering models (TwoStateScatteringModel+FusedStep.swift)
// and the diabatic surfaces of Tully's three problems (TullyProblemOne/Two/Three.swift hold
// the formulas and the reference), over whole batches, with the exponentials inlined.
#include "CQCLabKernels.h"
#include "lanes.h"

/// F = force_scale <ψ|∂V/∂q|ψ> at trajectory t, from the slopes at its current point.
static inline double scattering_force(int64_t batch, int64_t t, double force_scale, const double *restrict psi_re,
                                      const double *restrict psi_im, const double *restrict d11,
                                      const double *restrict d12, const double *restrict d22) {
    const double a0r = psi_re[t], a0i = psi_im[t], a1r = psi_re[batch + t], a1i = psi_im[batch + t];
    const double p0 = a0r * a0r + a0i * a0i, p1 = a1r * a1r + a1i * a1i;
    const double coherence = 2.0 * (a0r * a1r + a0i * a1i);
    return force_scale * (d11[t] * p0 + d22[t] * p1 + d12[t] * coherence);
}

QCLAB_CLONES
void qclab_scattering_rk4_stage(int stage, int64_t batch, double dt, double position_scale, double force_scale,
                                const double *restrict psi_re, const double *restrict psi_im,
                                const double *restrict d11, const double *restrict d12,
                                const double *restrict d22, double *restrict x, double *restrict y,
                                double *restrict f0, double *restrict f1, double *restrict f2,
                                double *restrict stage_y, double *restrict q) {
    const double half = 0.5 * dt, sixth = dt / 6.0;
    // One loop per stage (a stage test inside the loop would make the vectorizer compute
    // every stage's arithmetic for every element).
#define FORCE(t) scattering_force(batch, t, force_scale, psi_re, psi_im, d11, d12, d22)
    switch (stage) {
    case 0:
        for (int64_t t = 0; t < batch; t++) {
            f0[t] = FORCE(t);
            q[t] = position_scale * (x[t] + half * y[t]);
        }
        break;
    case 1:
        for (int64_t t = 0; t < batch; t++) {
            f1[t] = FORCE(t);
            q[t] = position_scale * (x[t] + half * (y[t] - half * f0[t]));
        }
        break;
    case 2:
        for (int64_t t = 0; t < batch; t++) {
            f2[t] = FORCE(t);
            stage_y[t] = y[t] - half * f1[t];
            q[t] = position_scale * (x[t] + dt * stage_y[t]);
        }
        break;
    default:
        for (int64_t t = 0; t < batch; t++) {
            const double y0 = y[t], y1 = y0 - half * f0[t], y2 = stage_y[t], y3 = y0 - dt * f2[t];
            const double xn = x[t] + sixth * (y0 + 2.0 * y1 + 2.0 * y2 + y3);
            x[t] = xn;
            y[t] = y0 + sixth * (-f0[t] + 2.0 * -f1[t] + 2.0 * -f2[t] + -FORCE(t));
            q[t] = position_scale * xn;
        }
    }
#undef FORCE
}

QCLAB_CLONES
void qclab_scattering_hamiltonian(int64_t batch, const double *restrict v11, const double *restrict v12,
                                  const double *restrict v22, double *restrict h_re, double *restrict h_im) {
    for (int64_t t = 0; t < batch; t++) {
        h_re[t] = v11[t];
        h_re[batch + t] = v12[t];
        h_re[2 * batch + t] = v12[t];
        h_re[3 * batch + t] = v22[t];
    }
    for (int64_t i = 0; i < 4 * batch; i++) h_im[i] = 0.0;
}

QCLAB_CLONES
void qclab_tully_one(int64_t batch, const double *restrict q, double A, double B, double C, double D,
                     double *restrict v11, double *restrict v12, double *restrict v22,
                     double *restrict d11, double *restrict d12, double *restrict d22) {
    for (int64_t t = 0; t < batch; t++) {
        const double x = q[t];
        const double decay = qclab_exp_lane(-B * fabs(x)), gaussian = qclab_exp_lane(-D * (x * x));
        const double v = x >= 0 ? A * (1.0 - decay) : -A * (1.0 - decay), slope = A * B * decay;
        v11[t] = v; v12[t] = C * gaussian; v22[t] = -v;
        d11[t] = slope; d12[t] = -2.0 * C * D * x * gaussian; d22[t] = -slope;
    }
}

QCLAB_CLONES
void qclab_tully_two(int64_t batch, const double *restrict q, double A, double B, double C, double D, double E0,
                     double *restrict v11, double *restrict v12, double *restrict v22,
                     double *restrict d11, double *restrict d12, double *restrict d22) {
    for (int64_t t = 0; t < batch; t++) {
        const double x = q[t];
        const double coupling = qclab_exp_lane(-D * (x * x)), well = qclab_exp_lane(-B * (x * x));
        v11[t] = 0.0; v12[t] = C * coupling; v22[t] = -A * well + E0;
        d11[t] = 0.0; d12[t] = -2.0 * C * D * x * coupling; d22[t] = 2.0 * A * B * x * well;
    }
}

QCLAB_CLONES
void qclab_tully_three(int64_t batch, const double *restrict q, double A, double B, double C,
                       double *restrict v11, double *restrict v12, double *restrict v22,
                       double *restrict d11, double *restrict d12, double *restrict d22) {
    for (int64_t t = 0; t < batch; t++) {
        const double x = q[t];
        const double decay = qclab_exp_lane(-C * fabs(x));
        v11[t] = A; v12[t] = x >= 0 ? B * (2.0 - decay) : B * decay; v22[t] = -A;
        d11[t] = 0.0; d12[t] = B * C * decay; d22[t] = 0.0;
    }
}
