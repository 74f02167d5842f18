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
/// - diagonal: accumulates 2 gamma x_new (the diagonal of H_qc); state n's `batch`
///   trajectories start at `diagonal + n * diagonal_stride` (`(N + 1) * batch` for the
///   real parts of a struct-of-arrays `N x N` matrix batch). Must not overlap the inputs.
void qclab_harmonic_rk4_step(int64_t batch, int64_t coordinates, double *x, double *y,
                             const double *coefficients, const int64_t *term_start,
                             const int64_t *term_state, const double *term_gamma,
                             const double *populations, double *diagonal, int64_t diagonal_stride);


#ifndef QCLAB_KERNELS_MATVEC
#define QCLAB_KERNELS_MATVEC
/// out = M v (adjoint == 0) or out = M^H v (adjoint != 0) for every trajectory of a batch:
/// M is `n*n` components (element (a, b) at component a n + b), v and out `n` components,
/// each component `batch` contiguous trajectories; real and imaginary parts apart.
/// `out` must not alias `v` or `M`.
void qclab_complex_matvec(int64_t batch, int64_t n, int adjoint,
                          const double *m_re, const double *m_im,
                          const double *v_re, const double *v_im,
                          double *out_re, double *out_im);
#endif

/// Eigenvalues and eigenvectors of the real symmetric matrices `h` of a batch by cyclic
/// Jacobi sweeps started from approximate eigenvectors `v` (the previous step's): `A = Vᵀ H V`
/// is nearly diagonal, so one or two sweeps reach machine precision (Jacobi converges
/// quadratically; Golub & Van Loan, Matrix Computations, §8.5).
///
/// - h: `n*n` components of `batch` trajectories (element (a, b) at component a n + b).
/// - v: in, approximate eigenvectors (column k = eigenvector k, same layout); out, the
///   eigenvectors, columns ordered by ascending eigenvalue.
/// - w: out, `n` eigenvalues per trajectory, ascending.
/// - a, scratch: workspaces of `n*n*batch` doubles each.
/// - Returns the number of sweeps used, or -1 when `max_sweeps` did not bring the
///   off-diagonal norm below `tolerance` times the norm of A (the caller then uses LAPACK).
int qclab_jacobi_warm_start(int64_t batch, int64_t n, const double *h, double *v, double *w,
                            double *a, double *scratch, int max_sweeps, double tolerance);

/// c_i *= exp(-i e_i dt) for `count` complex numbers (the adiabatic propagator).
void qclab_rotate_phases(int64_t count, const double *energies, double dt, double *re, double *im);

#endif
