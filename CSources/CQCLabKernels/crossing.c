// The forces of the complex avoided crossings (ComplexAvoidedCrossing.swift) over a whole
// batch: <ψ|∂H/∂z*|ψ> and the Berry-curvature (gauge-field) force, from the rows' mixing
// angles and their sines and cosines, in vector lanes across the rows. Each product and
// sum is rounded apart, in the order the Swift code of the model writes them (swift-numerics'
// complex products included), so that the kernel gives that code's bits: hence no
// contraction into fused multiply-adds here.
#include "CQCLabKernels.h"
#include "lanes.h"

#pragma clang fp contract(off)

typedef struct { double re, im; } complex_value;

/// swift-numerics' Complex product: (a.x b.x - a.y b.y, a.x b.y + a.y b.x).
static inline complex_value product(complex_value a, complex_value b) {
    return (complex_value){a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
static inline complex_value sum(complex_value a, complex_value b) { return (complex_value){a.re + b.re, a.im + b.im}; }
static inline complex_value conjugate(complex_value a) { return (complex_value){a.re, -a.im}; }

/// Σ_ab conj(u_a) [∂H/∂z*]_ab u_b for one coordinate, whose gradients of θ and φ are
/// `d_theta` and `d_phi`: the diagonal ∂H00 = -∂H11 and the coupling ∂H01 = conj(∂H10),
/// then the four terms in the element order 00, 01, 10, 11, added to zero one by one.
static inline complex_value sandwich(double a, double scale, double sin_theta, double cos_theta, complex_value phase,
                                     double d_theta, double d_phi, complex_value u0, complex_value u1) {
    const double g0 = scale * ((a * sin_theta) * d_theta);
    const complex_value off = product((complex_value){a * (cos_theta * d_theta), a * (sin_theta * d_phi)}, phase);
    const complex_value g1 = {off.re * scale, off.im * scale};
    complex_value total = {0, 0};
    total = sum(total, product(product(conjugate(u0), (complex_value){g0, 0}), u0));
    total = sum(total, product(product(conjugate(u0), g1), u1));
    total = sum(total, product(product(conjugate(u1), conjugate(g1)), u0));
    total = sum(total, product(product(conjugate(u1), (complex_value){-g0, 0}), u1));
    return total;
}

QCLAB_CLONES
void qclab_crossing_force(int64_t batch, double a, double gradient_scale, const double *restrict angles,
                          const double *restrict psi_re, const double *restrict psi_im, double *restrict force_re,
                          double *restrict force_im) {
    const double *d_theta_x = angles + batch, *d_theta_y = angles + 2 * batch;
    const double *d_phi_x = angles + 4 * batch, *d_phi_y = angles + 5 * batch;
    const double *sin_theta = angles + 6 * batch, *cos_theta = angles + 7 * batch;
    const double *sin_phi = angles + 8 * batch, *cos_phi = angles + 9 * batch;
    for (int64_t t = 0; t < batch; t++) {
        const complex_value u0 = {psi_re[t], psi_im[t]}, u1 = {psi_re[batch + t], psi_im[batch + t]};
        const complex_value phase = {cos_phi[t], sin_phi[t]};
        const complex_value f0 =
            sandwich(a, gradient_scale, sin_theta[t], cos_theta[t], phase, d_theta_x[t], d_phi_x[t], u0, u1);
        const complex_value f1 =
            sandwich(a, gradient_scale, sin_theta[t], cos_theta[t], phase, d_theta_y[t], d_phi_y[t], u0, u1);
        force_re[t] = f0.re;
        force_im[t] = f0.im;
        force_re[batch + t] = f1.re;
        force_im[batch + t] = f1.im;
    }
}

QCLAB_CLONES
void qclab_crossing_add_gauge_force(int64_t batch, double gradient_scale, double momentum_scale, double mass,
                                    const double *restrict angles, const double *restrict z_im,
                                    const int64_t *restrict active, double *restrict force_re) {
    const double *d_theta_x = angles + batch, *d_theta_y = angles + 2 * batch;
    const double *d_phi_x = angles + 4 * batch, *d_phi_y = angles + 5 * batch;
    const double *sin_theta = angles + 6 * batch;
    for (int64_t t = 0; t < batch; t++) {
        // Ω_0 = -Ω_1 = ½ sin θ (∂xθ ∂yφ - ∂yθ ∂xφ); F = Ω (v_y, -v_x), added as -F / sqrt(2 m h).
        const double cross = d_theta_x[t] * d_phi_y[t] - d_theta_y[t] * d_phi_x[t];
        double omega = 0.5 * sin_theta[t] * cross;
        if (active[t] != 0) omega = -omega;
        const double vx = momentum_scale * z_im[t] / mass, vy = momentum_scale * z_im[batch + t] / mass;
        force_re[t] += -(gradient_scale * (omega * vy));
        force_re[batch + t] += -(gradient_scale * (-omega * vx));
    }
}
