#ifndef QCLAB_KERNELS_H
#define QCLAB_KERNELS_H
#include <stdint.h>

// Hot loops in C, where `restrict` tells the compiler that the batch arrays do not alias
// (Swift cannot say so for unsafe buffer pointers), so the loops over trajectories
// vectorize; each kernel is compiled for AVX-512, AVX2 and baseline x86-64 and the best
// one is chosen at load time (`target_clones`), with no compiler flags needed.

/// One closed-form RK4 step of a harmonic bath under the force of a diagonal linear
/// coupling, for a batch in struct-of-arrays layout (see
/// DiagonalLinearHarmonicModel+ClosedFormRK4.swift for the formulas).
///
/// - x, y: Re z and Im z, `coordinates * batch`, updated in place.
/// - coefficients: per coordinate `tau0, tau1 * h, tau1 * a, sigma * h, tau1`.
/// - term_start: `coordinates + 1` offsets into term_state / term_gamma (coupling terms of
///   each coordinate).
/// - populations: |psi_n|^2, `states * batch`.
/// - diagonal: `states * batch`, accumulates 2 gamma x_new (the diagonal of H_qc).
void qclab_harmonic_rk4_step(int64_t batch, int64_t coordinates, double *x, double *y,
                             const double *coefficients, const int64_t *term_start,
                             const int64_t *term_state, const double *term_gamma,
                             const double *populations, double *diagonal);

#endif
