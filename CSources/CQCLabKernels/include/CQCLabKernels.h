#ifndef QCLAB_KERNELS_H
#define QCLAB_KERNELS_H
#include <stddef.h>
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


/// `steps` whole mean-field steps of a harmonic bath under a diagonal linear coupling
/// (mean_field_tiles.c), 8 trajectories at a time: per step, the closed-form classical step
/// of qclab_harmonic_rk4_step in the populations |ψ|², its products and sums fused (the same
/// bits on every machine), then ψ's RK4 step under the Hamiltonian of the step's start, then
/// the diagonal of H ← diagonal_re + 2 γ x_new.
/// - x, y, coefficients, term_*: as for qclab_harmonic_rk4_step.
/// - runs, packed: runs of consecutive coordinates coupled to the same one or two states,
///   `run_count` of 6 values each (first coordinate, coordinates, kind 1 or 2, or 0 for any
///   other coupling, the states or -1, the offset of their coefficients in `packed`), and
///   their coefficients (TiledCoordinateRuns in DiagonalLinearHarmonicModel+ClosedFormRK4.swift).
/// - diagonal_re: the real parts of H_q's diagonal, `states` values.
/// - psi_re/im: ψ, `states * batch`; h_re/im: H, `states² * batch`, whose elements other
///   than the real parts of the diagonal must be H_q's. `h_im == NULL` means a real H.
/// - workspace: `64 * states + 16 * coordinates` doubles.
/// Chosen only where the CPU has fused multiply-adds (qclab_cpu_has_fma): elsewhere libm's
/// fma stands in for them, slowly.
void qclab_mean_field_harmonic_steps(int64_t batch, int64_t steps, double dt, int64_t states,
                                     int64_t coordinates, double *x, double *y, const double *coefficients,
                                     const int64_t *term_start, const int64_t *term_state, const double *term_gamma,
                                     int64_t run_count, const int64_t *runs, const double *packed,
                                     const double *diagonal_re, double *psi_re, double *psi_im, double *h_re,
                                     const double *h_im, double *workspace);

/// Whether the CPU has fused multiply-add instructions.
int qclab_cpu_has_fma(void);

#ifndef QCLAB_KERNELS_MATVEC
#define QCLAB_KERNELS_MATVEC
/// out = M v (adjoint == 0) or out = M^H v (adjoint != 0) for every trajectory of a batch:
/// M is `n*n` components (element (a, b) at component a n + b), v and out `n` components,
/// each component `batch` contiguous trajectories; real and imaginary parts apart.
/// `m_im == NULL` means a real M. `out` must not alias `v` or `M`.
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

/// The forces <ψ|∂H/∂z*|ψ> of a complex avoided crossing (ComplexAvoidedCrossing.swift) for
/// every row of a batch, with the Swift model's arithmetic, to the bit (crossing.c).
///
/// - a: the model's A; gradient_scale: sqrt(1 / (2 m h)).
/// - angles: ten columns of `batch` values: θ, ∂xθ, ∂yθ, φ, ∂xφ, ∂yφ, sin θ, cos θ, sin φ, cos φ.
/// - psi_re, psi_im: the two-state wavefunctions (state n's rows at n * batch).
/// - force_re, force_im: out, the force on z*_x (rows 0..<batch) and z*_y (batch..<2 batch).
void qclab_crossing_force(int64_t batch, double a, double gradient_scale, const double *angles,
                          const double *psi_re, const double *psi_im, double *force_re, double *force_im);

/// Adds the Berry-curvature force on each row's active surface (`active`: 0 or 1) to
/// `force_re` (layout as in `qclab_crossing_force`); z_im: Im z of both coordinates;
/// momentum_scale: sqrt(2 m h).
void qclab_crossing_add_gauge_force(int64_t batch, double gradient_scale, double momentum_scale, double mass,
                                    const double *angles, const double *z_im, const int64_t *active,
                                    double *force_re);

/// x_i = exp(x_i) for `count` doubles, vectorized, within about one ulp of libm's exp
/// (0 below -746, infinity above 710, NaN for NaN).
void qclab_exp_in_place(int64_t count, double *x);

/// s_i = sin(x_i), c_i = cos(x_i) for `count` doubles, vectorized for |x| <= 1e5 (within
/// about one ulp of libm), through libm beyond. `s` and `c` may not overlap `x` or each other.
void qclab_sincos(int64_t count, const double *x, double *s, double *c);

/// c_i *= exp(-i e_i dt) for `count` complex numbers (the adiabatic propagator).
void qclab_rotate_phases(int64_t count, const double *energies, double dt, double *re, double *im);

// MARK: Surface hopping (surface_hopping.c)

/// Eigenvalues (ascending) and eigenvectors of the real symmetric 2 x 2 matrices `h` of a
/// batch in closed form: λ = m ∓ r with m = (a + d)/2, r = sqrt(((a - d)/2)² + b²);
/// columns normalized, signs left to the gauge fixing. `v_im` is zeroed.
void qclab_eigen_real_symmetric_2x2(int64_t batch, const double *h, double *w, double *v_re, double *v_im);

/// Eigenvalues (ascending) and eigenvectors of the complex Hermitian 2 x 2 matrices of a
/// batch (split real and imaginary parts, element (a, b) at (2a + b) * batch), in closed form
/// with zheevd's arithmetic and phase convention (hermitian_2x2.c).
void qclab_eigen_hermitian_2x2(int64_t batch, const double *h_re, const double *h_im, double *w,
                               double *v_re, double *v_im);

/// Multiplies each eigenvector k by the sign (-1, 0 or 1, as NumPy's sign) of the real part
/// of its overlap with the previous eigenvector k (QC Lab's `sign_overlap` gauge).
/// `sign` is scratch of `batch` doubles. `v_im == NULL` (then `previous_im` is not read
/// either) means v is real: its imaginary parts are zero and stay untouched.
void qclab_align_signs(int64_t batch, int64_t n, double *v_re, double *v_im,
                       const double *previous_re, const double *previous_im, double *sign);

/// out[a] = V[a][active] for every trajectory: the active surface's eigenvector.
void qclab_gather_active(int64_t batch, int64_t n, const double *v_re, const double *v_im,
                         const int64_t *active, double *out_re, double *out_im);

/// The fewest-switches probabilities P_k = -2 Re(nac_k c_k / c_a), nac_k = Σ_i V_prev[i][k]
/// conj(V[i][a]), `active_re/im` = V[·][a] (from qclab_gather_active), `wf` = c, clipped as
/// QC Lab clips them: negative → 0, NaN → 0, +inf → 1e102, and P_a = 0. `scratch` holds
/// `4 * batch` doubles. `previous_im == NULL` means real eigenvectors: the imaginary
/// parts of V_prev and of the active eigenvector are then not read (taken as zero).
void qclab_hop_probabilities(int64_t batch, int64_t n, const double *previous_re, const double *previous_im,
                             const double *active_re, const double *active_im, const double *wf_re,
                             const double *wf_im, const int64_t *active, double *probability, double *scratch);

/// The work of a surface-hopping step around the eigensolver, for real eigenvectors under
/// sign_overlap gauge fixing, in one sweep (surface_hopping_sweep.c), the same bits as
/// wf_db = V_prev rotated (qclab_complex_matvec, real; only when `rotated_re` is not NULL,
/// else wf_db is read as it is), qclab_align_signs (real), then wf_adb = Vᵀ wf_db
/// (qclab_complex_matvec), then qclab_gather_active and qclab_hop_probabilities (real):
/// each eigenvector column k of `v`
/// (n x n, element (a, k) at a n + k) is multiplied by the sign of its overlap with the same
/// column of `previous`; `wf_adb` receives Vᵀ wf_db; `active_re/im` each lane's signed
/// active eigenvector (imaginary parts zero); `probability` the clipped P_k. `scratch`
/// holds `2 * batch` doubles.
void qclab_fssh_real_sign_sweep(int64_t batch, int64_t n, const double *previous, double *v, const double *rotated_re,
                                const double *rotated_im, double *wf_db_re, double *wf_db_im, const int64_t *active,
                                double *wf_adb_re, double *wf_adb_im, double *probability, double *active_re,
                                double *active_im, double *scratch);

/// The state each trajectory tries to hop to: the first k whose cumulative probability
/// exceeds the draw of its initial condition (`draws[t / branches]`), or -1 for none.
void qclab_hop_targets(int64_t batch, int64_t n, int64_t branches, const double *probability,
                       const double *draws, int64_t *target);

/// The arrays of one surface-hopping step of two-state trajectories with a real Hamiltonian
/// and sign_overlap gauge fixing, struct-of-arrays (component c of trajectory t at
/// `c * batch + t`; element (a, k) of a 2 x 2 matrix is component 2 a + k).
typedef struct qclab_two_state_step {
    int64_t batch;
    /// 1, or the branches per initial condition of deterministic surface hopping.
    int64_t branches;
    double dt;
    /// H, real parts (4 components): read by qclab_fssh_two_state_real_step, written by
    /// qclab_fssh_scattering_step (whose H has zero imaginary parts, left untouched).
    double *h;
    /// The eigenvectors P of the step's start, real parts (4 components).
    const double *previous_v;
    /// In, the step's starting energies; out, the new ones (2 components, ascending).
    double *w;
    /// Out, the new eigenvectors V (column k = eigenvector k), signed against P; v_im zeroed.
    double *v_re, *v_im;
    /// The diabatic wavefunction, propagated in place, and out, the adiabatic one c = Vᵀ ψ.
    double *wf_db_re, *wf_db_im, *wf_adb_re, *wf_adb_im;
    /// Each trajectory's active surface, and its hop draw (`draws[t / branches]`).
    const int64_t *active;
    const double *draws;
    /// Out, the hopping probabilities (2 components), the active eigenvector V[·][active]
    /// (imaginary parts zeroed), and the state each trajectory tries to hop to (-1: none).
    double *probability;
    double *active_re, *active_im;
    int64_t *target;
} qclab_two_state_step;

/// Everything of a surface-hopping step after the classical step, in one pass: the
/// propagation ψ ← P exp(-i E dt) Pᵀ ψ with the step's starting eigenpairs, the new
/// eigenpairs of `h` in closed form signed against P, c = Vᵀ ψ, the active eigenvector,
/// the hopping probabilities and each trajectory's hop target (as qclab_hop_targets).
/// Exactly the separate kernels' arithmetic. Returns -1, having changed nothing, when some
/// |E dt| is beyond the vectorized sincos (> 1e5).
int qclab_fssh_two_state_real_step(const qclab_two_state_step *step);

/// QC Lab's surface-hopping density matrix in the diabatic basis, ρ = ψ_db ψ_db† + V D V†
/// with D = diag(δ_{k,active} - |c_k|²) (which is V ρ_adb V† for ρ_adb with the
/// wavefunction's coherences and the active surface as populations), times `weights[t]`
/// when given. `v_im == NULL` means real eigenvectors; `d` is scratch of `n * batch`.
void qclab_fssh_density_matrix(int64_t batch, int64_t n, const double *v_re, const double *v_im,
                               const double *wf_adb_re, const double *wf_adb_im, const double *wf_db_re,
                               const double *wf_db_im, const int64_t *active, const double *weights, double *d,
                               double *rho_re, double *rho_im);

// MARK: Batched symmetric eigensolver (eigensolver.c)

/// 1 if each of the `count` doubles at `x` is +0.0 (every bit clear), else 0: the batched
/// solver's real path zeroes the imaginary parts of its eigenvectors only when they are not.
int qclab_all_positive_zeros(int64_t count, const double *x);

/// Doubles of workspace `qclab_symmetric_eigen` needs for `n x n` problems (any batch).
int64_t qclab_symmetric_eigen_workspace(int64_t n);

/// Options of the batched eigensolvers (bits of `options`), for tests: flag every
/// trajectory for the caller's fallback; take the portable QL loop even where the AVX-512
/// one runs (the two agree to rounding, not bit for bit).
enum {
    QCLAB_EIGEN_FORCE_FALLBACK = 1,
    QCLAB_EIGEN_PORTABLE_QL = 2,
};

/// Eigenvalues (ascending) and eigenvectors of the real symmetric matrices `h` of a batch,
/// sixteen trajectories per SIMD lane block: Householder tridiagonalization, implicit QL,
/// inverse iteration and back-transformation in lockstep (LAPACK's dsyevx route), each
/// matrix scaled by a power of two against overflow and underflow.
///
/// - h: `n*n` components of `batch` trajectories (element (a, b) at component a n + b);
///   only the lower triangle (a >= b) is read.
/// - w: out, `n` eigenvalues per trajectory (component k). v: out, eigenvector k in
///   column k (component a n + k), unit length, its sign left to the gauge fixing.
/// - workspace: `qclab_symmetric_eigen_workspace(n)` doubles.
/// - failed: out, one flag per trajectory: 1 where the input is not finite or inverse
///   iteration did not converge (w and v are then unusable there and the caller must
///   redo that trajectory, e.g. with LAPACK). Returns the number of flags set.
/// - options: 0, or bits of QCLAB_EIGEN_FORCE_FALLBACK and QCLAB_EIGEN_PORTABLE_QL.
int64_t qclab_symmetric_eigen(int64_t batch, int64_t n, const double *h, double *w, double *v,
                              double *workspace, uint8_t *failed, int options);

/// Doubles of workspace `qclab_hermitian_eigen` needs for `n x n` problems (any batch).
int64_t qclab_hermitian_eigen_workspace(int64_t n);

/// As qclab_symmetric_eigen for complex Hermitian matrices (real parts `h_re`, imaginary
/// parts `h_im`; only the lower triangle is read, the diagonal's imaginary part taken as
/// zero): Householder reduction to a real tridiagonal matrix as LAPACK's zhetd2 does it,
/// the same QL and inverse iteration, complex back-transformation. Eigenvector k (column
/// k of v_re + i v_im) is unit length with an arbitrary phase (the gauge fixing sets it).
int64_t qclab_hermitian_eigen(int64_t batch, int64_t n, const double *h_re, const double *h_im, double *w,
                              double *v_re, double *v_im, double *workspace, uint8_t *failed, int options);

// MARK: Warm-started tridiagonal eigensolver (warm_tridiagonal.c)

/// Doubles of workspace `qclab_tridiagonal_warm_eigen` needs for `n x n` problems (any batch).
int64_t qclab_tridiagonal_warm_eigen_workspace(int64_t n);

/// Eigenvalues (ascending) and eigenvectors of real symmetric matrices that are tridiagonal
/// but for the corners h[n-1][0] = h[0][n-1] (a periodic chain; zero corners for an open one),
/// each refined from an approximate eigenvector by Rayleigh quotient iteration, O(n²) per
/// matrix, sixteen trajectories per SIMD lane block.
///
/// - h: `n*n` components of `batch` trajectories (element (a, b) at component a n + b); only
///   the diagonal, the subdiagonal and h[n-1][0] are read (the rest must be zero).
/// - start: approximate eigenvectors, column k = eigenvector k in the layout of `v` (the
///   previous step's; any sign, ordered by ascending eigenvalue). It may be `v` itself.
/// - w: out, `n` eigenvalues per trajectory. v: out, unit eigenvectors, each with the sign
///   its start gave it.
/// - workspace: `qclab_tridiagonal_warm_eigen_workspace(n)` doubles.
/// - failed: out, one flag per trajectory: 1 where the result is not certified (the input is
///   not finite, eigenvalues nearly coincide, or a start was too far off); w and v are then
///   unusable there and the caller must solve that trajectory otherwise. Returns how many.
int64_t qclab_tridiagonal_warm_eigen(int64_t batch, int64_t n, const double *h, const double *start, double *w,
                                     double *v, double *workspace, uint8_t *failed);

// MARK: Scattering models (scattering.c)

/// The diabatic surfaces of a two-state scattering model built into the kernels: Tully's
/// three problems (TullyProblemOne/Two/Three.swift give the formulas), with their constants.
typedef struct qclab_scattering_surfaces {
    /// QCLAB_TULLY_ONE (constants A, B, C, D), QCLAB_TULLY_TWO (A, B, C, D, E0) or
    /// QCLAB_TULLY_THREE (A, B, C).
    int32_t kind;
    double a, b, c, d, e0;
} qclab_scattering_surfaces;

enum { QCLAB_TULLY_ONE = 1, QCLAB_TULLY_TWO = 2, QCLAB_TULLY_THREE = 3 };

/// The diabatic potentials V11, V12, V22 and their slopes in q at positions q.
void qclab_scattering_diabatic(const qclab_scattering_surfaces *surfaces, int64_t batch, const double *q,
                               double *v11, double *v12, double *v22, double *d11, double *d12, double *d22);

/// One stage of the RK4 step of a free particle on two diabatic surfaces (x' = y,
/// y' = -F), F = force_scale <ψ|∂V/∂q|ψ> from the slopes `d11, d12, d22` at the stage's
/// point. Stages 0-2 store F in f0, f1, f2 and write the next stage's positions
/// q = position_scale x_stage; stage 3 completes the step in `x`, `y` and writes the new q.
/// `stage_y` is workspace.
void qclab_scattering_rk4_stage(int stage, int64_t batch, double dt, double position_scale, double force_scale,
                                const double *psi_re, const double *psi_im, const double *d11,
                                const double *d12, const double *d22, double *x, double *y, double *f0,
                                double *f1, double *f2, double *stage_y, double *q);

/// H = [[V11, V12], [V12, V22]] (real) for every trajectory.
void qclab_scattering_hamiltonian(int64_t batch, const double *v11, const double *v12, const double *v22,
                                  double *h_re, double *h_im);

/// The classical state of a batch of scattering trajectories (one coordinate each).
typedef struct qclab_scattering_classical {
    /// sqrt(2/m), turning x = Re z into q, and sqrt(1/(2m)), turning ∂/∂q into ∂/∂z*.
    double position_scale, force_scale;
    /// Re z and Im z, moved in place.
    double *x, *y;
    /// The slopes ∂V11, ∂V12, ∂V22 (3 components) at the coordinates `evaluated_at`: the
    /// last step's closing evaluation, which serves as the next step's first where x has
    /// not moved since (any other entry, e.g. NaN, is recomputed).
    double *slopes, *evaluated_at;
    /// In-out, each trajectory's representative: itself or an earlier trajectory whose
    /// inputs to the last step were bitwise its own (a guess, checked before it is used;
    /// all zeros at first); NULL computes every trajectory. The step computes one trajectory
    /// of each set of identical ones and copies its results to the others.
    int64_t *representatives;
    /// Workspace of QCLAB_SCATTERING_SCRATCH_PER_TRAJECTORY doubles per trajectory (with
    /// `representatives`).
    double *scratch;
    /// With `representatives`, nonzero to leave the outputs that only collect points and the
    /// separate kernels read (`h`, `wf_adb_re/im`, `probability`, `active_re/im`) in `scratch`
    /// when the step computes the distinct trajectories alone, rather than copying them to
    /// every trajectory: qclab_fssh_scattering_complete copies them, and the next step drops
    /// them. The state (x, y, w, v, wf_db) and the hop targets are written in full either way.
    int32_t defer_outputs;
    /// Out (with `representatives`): how many distinct trajectories' deferred outputs wait
    /// in `scratch` (0: none, every output written).
    int64_t *deferred;
    /// With `representatives`, nonzero when nothing but the last step has written the
    /// trajectories' inputs since it ran (no hop, no other kernel): its sets of identical
    /// trajectories then still hold, bit for bit, and the step takes them as they are
    /// instead of checking every trajectory against its representative.
    int32_t sets_hold;
    /// In-out (with `representatives`): how many distinct trajectories the last step found,
    /// their list and positions staying in `scratch`.
    int64_t *distinct;
} qclab_scattering_classical;

enum { QCLAB_SCATTERING_SCRATCH_PER_TRAJECTORY = 44 };

/// One whole surface-hopping step of two-state scattering trajectories in one pass over the
/// batch, each trajectory's numbers kept in registers: QC Lab's RK4 step of the classical
/// coordinate with the force taken in the active eigenvector of the step's start (the
/// arithmetic of qclab_scattering_rk4_stage, the surfaces evaluated inline), H at the new
/// coordinate into `step->h`, then what qclab_fssh_two_state_real_step does. Returns -1,
/// having changed nothing, when some |E dt| is beyond the vectorized sincos (> 1e5).
int qclab_fssh_scattering_step(const qclab_scattering_surfaces *surfaces, const qclab_scattering_classical *classical,
                               const qclab_two_state_step *step);

/// Copies the outputs the last qclab_fssh_scattering_step deferred (`classical->deferred`
/// of them, then 0) to every trajectory of `step` (the same arrays as that step's): after it,
/// every output is what the step would have written without deferring. Nothing if none wait.
void qclab_fssh_scattering_complete(const qclab_scattering_classical *classical, const qclab_two_state_step *step);

// MARK: Random numbers (random.c)

/// MT19937 generators in lockstep, word w of stream s at keys[w * streams + s] (624 words
/// per stream), all at the same `position` (the index of the next unused word).

/// Seeds every stream as `init_genrand(seed)` (what `np.random.seed(int)` does).
void qclab_mt19937_seed(int64_t streams, uint32_t *keys, const uint32_t *seeds);

/// The next tempered 32-bit output of every stream.
void qclab_mt19937_next(int64_t streams, uint32_t *keys, int64_t *position, uint32_t *out);

/// The next 53-bit uniform double of every stream (NumPy's `random_sample`).
void qclab_mt19937_uniform(int64_t streams, uint32_t *keys, int64_t *position, double *out);

// MARK: Checksums (crc32c.c)

// The checksum of outputs and checkpoints lives with the kernels: like them it is a hot
// loop over memory with a path per processor chosen at load time, and it needs no library.

/// CRC-32C of `count` bytes, continuing `crc` (pre- and post-inverted by the caller): with
/// SSE 4.2 where the processor has it, unless `portable` forces the byte-wise table.
uint32_t qclab_crc32c_update(uint32_t crc, const void *bytes, size_t count, int portable);

#endif
