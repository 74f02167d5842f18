// Eigenpairs of real symmetric tridiagonal matrices with corner elements (a periodic chain:
// H[n-1][0] = H[0][n-1] = c, zero for an open chain), started from approximate eigenvectors
// (the previous time step's), in O(n²) per matrix instead of the dense solver's O(n³).
//
// Each eigenvector k is refined from its start by Rayleigh quotient iteration (Parlett, The
// Symmetric Eigenvalue Problem, §4.6): the shift μ = xᵀHx, then x ← (H - μ)⁻¹ x normalized,
// which converges cubically from a start whose error is small against the gaps, as a time
// step's change leaves it. H - μ is solved in O(n) as the tridiagonal T = H - μ - ρ w wᵀ,
// w = e₀ + s e_{n-1}, ρ = c s, s = ±1 (the corners moved onto the diagonal), corrected by
// Sherman and Morrison's formula (Golub & Van Loan §2.1.4): (H - μ)⁻¹x = T⁻¹x - β T⁻¹w with
// β = ρ wᵀT⁻¹x / (1 + ρ wᵀT⁻¹w), taken times its denominator (the iterate is normalized
// anyway), which vanishes as μ converges. The sign s is that of x₀ x_{n-1}, so that the
// eigenvector's own wᵀx is large: were it near zero, the eigenvalue of H would nearly be one
// of T, and the two solves would cancel each other in the formula. T is factored as a
// twisted factorization (Parlett & Dhillon, Linear Algebra Appl. 309, 121 (2000)): L D Lᵀ
// from the top and U D Uᵀ from the bottom, meeting in the middle, so that the two halves'
// recurrences (each bound by the latency of a division) run side by side. It has no
// pivoting, which makes it fast but not always accurate: element growth can leave a vector
// at a residual of 1e-13 or worse, or send it astray. A lane that stalls above rounding
// level starts again from its start vector through an LU factorization with partial
// pivoting (LAPACK's dlagtf; multipliers of at most 1 keep L bounded), pivots below
// ε ||H|| raised to it as dlagts does; few lanes need it.
//
// No iteration is trusted: a lane's result stands only with a certificate. Each eigenpair
// (μ_k, x_k) has a computed residual r_k = ||H x_k - μ_k x_k||, plus a bound on its rounding;
// an interval of that radius around μ_k holds an eigenvalue of H (H is symmetric, x_k of
// unit length). The eigenpairs are sorted by μ_k (two close eigenvalues may have traded
// places since the start was computed). Neighbours whose intervals are far apart,
// r_k + r_{k+1} <= τ (μ_{k+1} - μ_k) with τ = 1e-10, are distinct eigenpairs, and their
// vectors, each within an angle r / gap of the true one (Davis and Kahan), are orthogonal
// to about τ or better. A closer pair (a near-degeneracy, which iteration on one vector at
// a time cannot resolve: a start that mixes the two stays mixed) is refined together:
// Rayleigh-Ritz on the pair's span, then one inverse iteration of each Ritz vector at its
// Ritz value, until a Rayleigh-Ritz leaves both at rounding level, which also leaves them
// orthonormal; such a pair's two residuals bound two eigenvalues (Kahan's theorem for an
// orthonormal block).
// The certificate then asks every residual to be below 16 n ε ||H|| (as the dense solver
// does), pairs not refined to be far apart, and no two refined pairs to share a vector;
// disjoint intervals and clusters then account for all n eigenvalues, none twice. A
// trajectory without it has its runs of eigenpairs not apart from their neighbours (three
// or more nearly equal eigenvalues: the periodic chain's k and -k states, split by the
// disorder, meeting a third; or a vector gone astray) refined as blocks: Rayleigh-Ritz on
// the span of the run's start vectors (which follows the cluster's invariant subspace
// even where its vectors mix), then inverse iteration of each Ritz vector, until all
// residuals are at rounding level; each member then carries the block's residual
// ||H X - X Θ||_F, which bounds the distance of the run's Ritz values to as many
// eigenvalues (Kahan's theorem for an orthonormal block), and the certificate is asked
// again. A lane still without it (a run longer than MAX_CLUSTER, a start too far off,
// input not finite) is flagged for the caller, which solves that trajectory by LAPACK.
//
// The lanes are trajectories, as in eigensolver.c; a lane keeps the iterate at which it
// stopped, so its result does not depend on which trajectories share its block. A block
// takes BLOCK_STEPS steps together (the rule from a time step's start); its lanes that
// need more move to a parking of LANES such eigenpairs, each with its own trajectory's H,
// which steps once it is full, so that one slow eigenpair does not hold LANES lanes.
#include "CQCLabKernels.h"
#include "lanes.h"
#include "eigen_lanes.h"
#include "tridiagonal_lu.h"
#include <float.h>
#include <math.h>

/// Rayleigh quotient iterations per eigenvector at most; two are the rule.
enum { MAX_ITERATIONS = 8 };
/// Rounds of a close pair's refinement at most (Rayleigh-Ritz, then an inverse iteration of
/// each Ritz vector); one or two are the rule.
enum { PAIR_ROUNDS = 5 };
/// Iterations before one that fails to halve the residual stops a lane: the first ones
/// may not, from a start that mixes two close eigenvectors.
enum { PATIENT_ITERATIONS = 3 };
/// The certificate's bound on the eigenvectors' error (see the top of the file).
static const double certificate_tolerance = 1e-10;

/// The workspace of one lane block.
typedef struct {
    lanes *d, *e, *shifted_d;  // diagonal, off-diagonal (e[i] = H[i+1][i]), d less ρ at 0 and n-1
    lanes *x, *y, *a, *b;      // iterate; a pair's second vector; T⁻¹x, T⁻¹w
    lanes *hx, *hy;            // H x, H y
    lanes *l, *rp;             // T's factors: multipliers (pivoted LU only), reciprocal pivots
    lanes *u1, *u2, *u3;       // and for the pivoted ones, U's pivots and superdiagonals over the pivot
    lane_mask *swap;           // and the interchanges
    int pivoted;               // which of the two factorizations the next inverse step uses
    lanes *values, *residuals;  // μ_k and r_k of every eigenpair
    lanes *lane_d, *lane_e, *lane_shifted_d;  // d, e and shifted_d of each parked lane's trajectory
    lane_mask *refined;         // refined[k]: lanes whose pair k, k + 1 was refined together
    lane_mask *retry;           // retry[k]: lanes whose eigenpair k the parking left to `refine_pivoted`
    lane_mask unit;             // lanes whose every eigenvector came out of unit length
    double *column;             // one trajectory's n components, and 2 n indices (sorting)
    int64_t *order;
} warm_block;

int64_t qclab_tridiagonal_warm_eigen_workspace(int64_t n) { return (24 * (n + 1) + 1) * LANES; }

static warm_block carve_warm(int64_t n, double *workspace) {
    uintptr_t address = ((uintptr_t)workspace + 63) & ~(uintptr_t)63;
    lanes *next = (lanes *)address;
    warm_block w;
    lanes **fields[] = {&w.d, &w.e, &w.shifted_d, &w.x, &w.y, &w.a, &w.b, &w.hx, &w.hy,
                        &w.l, &w.rp, &w.u1, &w.u2, &w.u3, &w.values, &w.residuals,
                        &w.lane_d, &w.lane_e, &w.lane_shifted_d};
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) { *fields[f] = next; next += n + 1; }
    w.swap = (lane_mask *)next;
    next += n + 1;
    w.refined = (lane_mask *)next;
    next += n + 1;
    w.retry = (lane_mask *)next;
    next += n + 1;
    w.column = (double *)next;
    w.order = (int64_t *)(w.column + n);
    return w;
}

/// Lanes of the batch array `p` from trajectory `first` (the last one repeated past `count`).
#define GATHER(p, first, count)                                                                             \
    ({                                                                                                       \
        lanes gathered_;                                                                                     \
        if ((count) == LANES) {                                                                              \
            gathered_ = load_lanes((p) + (first));                                                           \
        } else {                                                                                             \
            for (int t_ = 0; t_ < LANES; t_++) gathered_[t_] = (p)[(first) + (t_ < (count) ? t_ : (count) - 1)]; \
        }                                                                                                    \
        gathered_;                                                                                           \
    })

/// Lanes `0..<count` of `x` into the batch array `p` from trajectory `first` (one vector store
/// for a full block: a memcpy of 128 bytes per component cost a libc call each).
INLINE void scatter_lanes(double *p, int64_t first, int64_t count, lanes x) {
    if (count == LANES) {
        *(unaligned_lanes *)(p + first) = x;
    } else {
        for (int64_t t = 0; t < count; t++) p[first + t] = x[t];
    }
}

/// hx = H x (n >= 2), and xᵀHx.
INLINE void apply(int64_t n, const warm_block *w, const lanes *corner, const lanes *restrict x, lanes *restrict hx,
                  lanes *quotient_out) {
    const lanes *restrict d = w->d, *restrict e = w->e;
    const lanes c = *corner;
    hx[0] = d[0] * x[0] + e[0] * x[1] + c * x[n - 1];
    lanes quotient = x[0] * hx[0];
    for (int64_t i = 1; i + 1 < n; i++) {
        hx[i] = d[i] * x[i] + e[i - 1] * x[i - 1] + e[i] * x[i + 1];
        quotient += x[i] * hx[i];
    }
    hx[n - 1] = d[n - 1] * x[n - 1] + e[n - 2] * x[n - 2] + c * x[0];
    *quotient_out = quotient + x[n - 1] * hx[n - 1];
}

/// hx = H x, `*mu` = xᵀHx (the Rayleigh quotient of a unit x), `*residual` = ||H x - μ x||₂.
INLINE void measure(int64_t n, const warm_block *w, const lanes *corner, const lanes *restrict x,
                    lanes *restrict hx, lanes *mu, lanes *residual) {
    lanes quotient;
    apply(n, w, corner, x, hx, &quotient);
    lanes squares = splat(0.0);
    for (int64_t i = 0; i < n; i++) {
        const lanes r = hx[i] - quotient * x[i];
        squares += r * r;
    }
    *mu = quotient;
    *residual = sqrt_lanes(squares);
}

/// The twist: rows above it are factored from the top, rows below from the bottom.
INLINE int64_t twist(int64_t n) { return n / 2; }

/// a = T⁻¹ x and, when `corners`, b = T⁻¹ (e₀ + s e_{n-1}), through the twisted
/// factorization T - μ I = N Δ Nᵀ at r = twist(n) (n >= 3), factored as it eliminates: D⁺
/// from the top down to r, D⁻ from the bottom up to r, both recurrences in one loop, each
/// multiplier applied to both right-hand sides at once (so that the factors are never
/// stored but for the reciprocal pivots the back substitution needs). Row k < r keeps
/// rp[k] = 1 / D⁺_k (multiplier e_k / D⁺_k), row k > r rp[k] = 1 / D⁻_k (multiplier
/// e_{k-1} / D⁻_k), and the twist rp[r] = 1 / γ_r, γ_r = D⁺_r + D⁻_r - (T - μ)_rr. Then
/// N z = x from both ends, the twist row, and back out to both ends.
INLINE void twisted_solve(int64_t n, const warm_block *w, const lanes *mu, const lanes *restrict x,
                          lanes *restrict a, lanes *restrict b, const lanes *s_in, int corners) {
    const lanes *restrict d = w->shifted_d, *restrict e = w->e;
    lanes *restrict rp = w->rp;
    const lanes shift = *mu, s = *s_in;
    const int64_t r = twist(n), upper = r, lower = n - 1 - r;
    const lanes a_twist = x[r];
    lanes top = d[0] - shift, bottom = d[n - 1] - shift;
    // b's right-hand side: 1 at the top, s at the bottom, zero between.
    lanes top_a = x[0], bottom_a = x[n - 1], top_b = splat(1.0), bottom_b = s;
    a[0] = top_a;
    a[n - 1] = bottom_a;
    for (int64_t j = 0; j < upper || j < lower; j++) {
        if (j < upper) {  // row j from the top
            const lanes reciprocal = 1.0 / top, multiplier = e[j] * reciprocal;
            rp[j] = reciprocal;
            top = (d[j + 1] - shift) - multiplier * e[j];
            top_a = (j + 1 == r ? a_twist : x[j + 1]) - multiplier * top_a;
            if (j + 1 < r) a[j + 1] = top_a;
            if (corners) {
                b[j] = top_b;
                top_b = -multiplier * top_b;
            }
        }
        if (j < lower) {  // row n - 1 - j from the bottom
            const int64_t k = n - 1 - j;
            const lanes reciprocal = 1.0 / bottom, multiplier = e[k - 1] * reciprocal;
            rp[k] = reciprocal;
            bottom = (d[k - 1] - shift) - multiplier * e[k - 1];
            bottom_a = (k - 1 == r ? a_twist : x[k - 1]) - multiplier * bottom_a;
            if (k - 1 > r) a[k - 1] = bottom_a;
            if (corners) {
                b[k] = bottom_b;
                bottom_b = -multiplier * bottom_b;
            }
        }
    }
    rp[r] = 1.0 / (top + bottom - (d[r] - shift));
    // Both eliminations reach row r, each counting the right-hand side's x[r] once.
    lanes middle_a = (top_a + bottom_a - a_twist) * rp[r];
    lanes middle_b = (top_b + bottom_b) * rp[r];
    a[r] = middle_a;
    if (corners) b[r] = middle_b;
    lanes up_a = middle_a, down_a = middle_a, up_b = middle_b, down_b = middle_b;
    for (int64_t j = 1; j <= upper || j <= lower; j++) {
        if (j <= upper) {
            const int64_t k = r - j;
            up_a = (a[k] - e[k] * up_a) * rp[k];
            a[k] = up_a;
            if (corners) {
                up_b = (b[k] - e[k] * up_b) * rp[k];
                b[k] = up_b;
            }
        }
        if (j <= lower) {
            const int64_t k = r + j;
            down_a = (a[k] - e[k - 1] * down_a) * rp[k];
            a[k] = down_a;
            if (corners) {
                down_b = (b[k] - e[k - 1] * down_b) * rp[k];
                b[k] = down_b;
            }
        }
    }
}

/// a ← T⁻¹ a and, when `corners`, b = T⁻¹ (e₀ + s e_{n-1}), through the factors of
/// `factor_shifted_tridiagonal` (tridiagonal_lu.h), in one pass each way.
INLINE void solve_pivoted(int64_t n, const warm_block *w, lanes *restrict a, lanes *restrict b, const lanes *s_in,
                          int corners) {
    const lanes *restrict l = w->l, *restrict rp = w->rp, *restrict u2 = w->u2, *restrict u3 = w->u3;
    const lane_mask *restrict swap = w->swap;
    const lanes s = *s_in;
    lanes carry_a = a[0], carry_b = splat(1.0);
    for (int64_t k = 0; k + 1 < n; k++) {
        const lanes next_a = a[k + 1], next_b = k + 2 == n ? s : splat(0.0);
        const lanes low_a = select_lanes(swap[k], next_a, carry_a);
        carry_a = select_lanes(swap[k], carry_a, next_a) - l[k] * low_a;
        a[k] = low_a;
        if (corners) {
            const lanes low_b = select_lanes(swap[k], next_b, carry_b);
            carry_b = select_lanes(swap[k], carry_b, next_b) - l[k] * low_b;
            b[k] = low_b;
        }
    }
    lanes below_a = carry_a * rp[n - 1], below2_a = splat(0.0);
    lanes below_b = carry_b * rp[n - 1], below2_b = splat(0.0);
    a[n - 1] = below_a;
    if (corners) b[n - 1] = below_b;
    for (int64_t k = n - 2; k >= 0; k--) {
        const lanes current_a = a[k] * rp[k] - u3[k] * below2_a - u2[k] * below_a;
        below2_a = below_a;
        below_a = current_a;
        a[k] = current_a;
        if (corners) {
            const lanes current_b = b[k] * rp[k] - u3[k] * below2_b - u2[k] * below_b;
            below2_b = below_b;
            below_b = current_b;
            b[k] = current_b;
        }
    }
}

/// Clears in `unit` the lanes where the normalized x does not have unit length (a vanishing
/// vector normalized stays near zero).
INLINE void require_unit_length(int64_t n, const lanes *restrict x, lane_mask *unit) {
    lanes squares = splat(0.0);
    for (int64_t i = 0; i < n; i++) squares += x[i] * x[i];
    *unit &= abs_lanes(squares - 1.0) <= 1e-12;
}

/// 1 / ||x||₂.
INLINE void inverse_length(int64_t n, const lanes *restrict x, lanes *inverse) {
    lanes squares = splat(0.0);
    for (int64_t i = 0; i < n; i++) squares += x[i] * x[i];
    *inverse = 1.0 / sqrt_lanes(max_lanes(squares, splat(DBL_MIN)));
}

/// x ← x / ||x||₂.
INLINE void normalize(int64_t n, lanes *restrict x) {
    lanes inverse;
    inverse_length(n, x, &inverse);
    for (int64_t i = 0; i < n; i++) x[i] *= inverse;
}

/// x ← (H - μ)⁻¹ x, normalized (see the top of the file), in the lanes not `frozen`.
INLINE void inverse_step(int64_t n, warm_block *w, const lanes *corner, const lanes *mu, const lanes *pivot_floor,
                         lanes *restrict x, const lane_mask *frozen_in) {
    lanes *restrict a = w->a, *restrict b = w->b;
    const lanes c = *corner;
    const lane_mask frozen = *frozen_in;
    const lanes s = select_lanes(x[0] * x[n - 1] < 0.0, splat(-1.0), splat(1.0)), rho = c * s;
    const int corners = any_lane(c != 0.0);
    w->shifted_d[0] = w->d[0] - rho;
    w->shifted_d[n - 1] = w->d[n - 1] - rho;
    if (w->pivoted) {
        for (int64_t i = 0; i < n; i++) a[i] = x[i];
        factor_shifted_tridiagonal(n, w->shifted_d, w->e, mu, pivot_floor, w->u1, w->u2, w->u3, w->l, w->rp,
                                   w->swap);
        solve_pivoted(n, w, a, b, &s, corners);
    } else {
        twisted_solve(n, w, mu, x, a, b, &s, corners);
    }
    // y = (1 + ρ wᵀb) a - ρ (wᵀa) b = (1 + ρ wᵀb) (H - μ)⁻¹ x.
    const lanes scale = corners ? 1.0 + rho * (b[0] + s * b[n - 1]) : splat(1.0);
    const lanes correction = corners ? rho * (a[0] + s * a[n - 1]) : splat(0.0);
    lanes squares = splat(0.0);
    for (int64_t i = 0; i < n; i++) {
        const lanes y = corners ? scale * a[i] - correction * b[i] : a[i];
        a[i] = y;
        squares += y * y;
    }
    const lanes inverse = 1.0 / sqrt_lanes(max_lanes(squares, splat(DBL_MIN)));
    if (any_lane(frozen)) {
        for (int64_t i = 0; i < n; i++) x[i] = select_lanes(frozen, x[i], a[i] * inverse);
    } else {
        for (int64_t i = 0; i < n; i++) x[i] = a[i] * inverse;
    }
}

/// The eigenpair started from column k of `start`, refined in `w->x` by Rayleigh quotient
/// iteration through the pivoted LU (for the lanes of `selected`, the others stopped at
/// their start), its Rayleigh quotient and residual stored as eigenpair k.
INLINE void refine_pivoted(int64_t n, int64_t k, int64_t batch, int64_t first, int64_t count,
                           const double *restrict start, warm_block *w, const lanes *corner, const lanes *pivot_floor,
                           const lanes *tight, const lane_mask *selected) {
    lanes *restrict x = w->x;
    for (int64_t i = 0; i < n; i++) x[i] = GATHER(start + (i * n + k) * batch, first, count);
    lanes start_inverse, mu, residual;
    inverse_length(n, x, &start_inverse);
    for (int64_t i = 0; i < n; i++) x[i] *= start_inverse;
    measure(n, w, corner, x, w->hx, &mu, &residual);
    lane_mask done = ~*selected | (residual <= *tight);
    w->pivoted = 1;
    for (int iteration = 0; iteration < MAX_ITERATIONS && !all_lanes(done); iteration++) {
        inverse_step(n, w, corner, &mu, pivot_floor, x, &done);
        // A stopped lane's x is as it was, and so are its μ and residual.
        const lanes previous = residual;
        measure(n, w, corner, x, w->hx, &mu, &residual);
        // Stop at rounding level, or once an iteration no longer halves the residual (the
        // rounding floor, or a start the certificate will refuse); NaN stops at once.
        const lane_mask stalled = ~(residual < 0.5 * previous);
        done |= (residual <= *tight) | (iteration + 1 >= PATIENT_ITERATIONS ? stalled : (lane_mask){0});
    }
    w->values[k] = mu;
    w->residuals[k] = residual;
}

/// Rayleigh-Ritz on the span of x and y: both orthonormalized, then rotated into the
/// eigenvectors of the 2 x 2 projection of H, their Ritz values ascending in θ1, θ2; hx and
/// hy are H times them.
INLINE void rayleigh_ritz(int64_t n, const warm_block *w, const lanes *corner, lanes *restrict x, lanes *restrict y,
                          lanes *restrict hx, lanes *restrict hy, lanes *theta1, lanes *theta2) {
    normalize(n, x);
    lanes overlap = splat(0.0), squares = splat(0.0);
    for (int64_t i = 0; i < n; i++) overlap += x[i] * y[i];
    for (int64_t i = 0; i < n; i++) {
        y[i] -= overlap * x[i];
        squares += y[i] * y[i];
    }
    // Two vectors that converged to the same eigenvector leave next to nothing: such lanes
    // start their second vector afresh, from a fixed pseudo-random one.
    const lane_mask parallel = ~(squares >= 0.25);
    if (any_lane(parallel)) {
        uint64_t state = 0x9E3779B97F4A7C15ULL;
        overlap = splat(0.0);
        for (int64_t i = 0; i < n; i++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            y[i] = select_lanes(parallel, splat((double)(state >> 11) * 0x1p-52 - 0.5), y[i]);
            overlap += x[i] * y[i];
        }
        for (int64_t i = 0; i < n; i++) y[i] -= select_lanes(parallel, overlap, splat(0.0)) * x[i];
    }
    normalize(n, y);
    lanes a11, a22, a12 = splat(0.0), a21 = splat(0.0);
    apply(n, w, corner, x, hx, &a11);
    apply(n, w, corner, y, hy, &a22);
    for (int64_t i = 0; i < n; i++) {
        a12 += x[i] * hy[i];
        a21 += y[i] * hx[i];
    }
    const lanes offdiagonal = 0.5 * (a12 + a21);
    // The Jacobi rotation (Golub & Van Loan §8.5.2) that zeroes the off-diagonal element.
    const lanes tau = (a22 - a11) / (2.0 * offdiagonal);
    const lanes t = copysign_lanes(splat(1.0), tau) / (abs_lanes(tau) + sqrt_lanes(1.0 + tau * tau));
    const lane_mask rotate = (offdiagonal != 0.0) & (t == t);
    const lanes tangent = select_lanes(rotate, t, splat(0.0));
    const lanes cosine = 1.0 / sqrt_lanes(1.0 + tangent * tangent), sine = tangent * cosine;
    const lanes low = a11 - tangent * offdiagonal, high = a22 + tangent * offdiagonal;
    // Ascending: the rotated first vector takes the second place when its value is higher.
    const lane_mask exchange = low > high;
    for (int64_t i = 0; i < n; i++) {
        const lanes first = cosine * x[i] - sine * y[i], second = sine * x[i] + cosine * y[i];
        const lanes h_first = cosine * hx[i] - sine * hy[i], h_second = sine * hx[i] + cosine * hy[i];
        x[i] = select_lanes(exchange, second, first);
        y[i] = select_lanes(exchange, first, second);
        hx[i] = select_lanes(exchange, h_second, h_first);
        hy[i] = select_lanes(exchange, h_first, h_second);
    }
    *theta1 = select_lanes(exchange, high, low);
    *theta2 = select_lanes(exchange, low, high);
}

/// ||hx - θ x||₂ into `*residual`.
INLINE void residual_norm(int64_t n, const lanes *restrict x, const lanes *restrict hx, const lanes *theta,
                          lanes *residual) {
    lanes squares = splat(0.0);
    for (int64_t i = 0; i < n; i++) {
        const lanes r = hx[i] - *theta * x[i];
        squares += r * r;
    }
    *residual = sqrt_lanes(squares);
}

/// Refines eigenpairs k and k + 1 together in the lanes of `selected` (see the top of the
/// file), their vectors read from and written back to `v`.
INLINE void refine_pair(int64_t n, int64_t k, int64_t batch, int64_t first, int64_t count, double *v,
                        warm_block *w, const lanes *corner, const lanes *pivot_floor, const lanes *tight,
                        const lane_mask *selected) {
    const lane_mask mask = *selected, none = (lane_mask){0};
    lanes *restrict x = w->x, *restrict y = w->y, *restrict hx = w->hx, *restrict hy = w->hy;
    for (int64_t i = 0; i < n; i++) {
        x[i] = GATHER(v + (i * n + k) * batch, first, count);
        y[i] = GATHER(v + (i * n + k + 1) * batch, first, count);
    }
    w->pivoted = 1;  // rare, and what it refines is close: the accurate factorization
    lane_mask written = ~mask;  // lanes whose pair is settled, or not refined here
    for (int round = 0; round < PAIR_ROUNDS; round++) {
        lanes theta1, theta2, r1, r2;
        rayleigh_ritz(n, w, corner, x, y, hx, hy, &theta1, &theta2);
        residual_norm(n, x, hx, &theta1, &r1);
        residual_norm(n, y, hy, &theta2, &r2);
        // A lane settles with the first Ritz pair at rounding level, or the last one.
        const lane_mask settle =
            ~written & (((r1 <= *tight) & (r2 <= *tight)) | (round + 1 == PAIR_ROUNDS ? ~none : none));
        if (any_lane(settle)) {
            w->values[k] = select_lanes(settle, theta1, w->values[k]);
            w->values[k + 1] = select_lanes(settle, theta2, w->values[k + 1]);
            w->residuals[k] = select_lanes(settle, r1, w->residuals[k]);
            w->residuals[k + 1] = select_lanes(settle, r2, w->residuals[k + 1]);
            lane_mask unit = ~(lane_mask){0};
            require_unit_length(n, x, &unit);
            require_unit_length(n, y, &unit);
            w->unit &= ~settle | unit;
            for (int64_t i = 0; i < n; i++) {
                double *out_x = v + (i * n + k) * batch + first, *out_y = v + (i * n + k + 1) * batch + first;
                for (int64_t t = 0; t < count; t++) {
                    if (!settle[t]) continue;
                    out_x[t] = x[i][t];
                    out_y[t] = y[i][t];
                }
            }
            written |= settle;
        }
        if (all_lanes(written)) break;
        inverse_step(n, w, corner, &theta1, pivot_floor, x, &none);
        inverse_step(n, w, corner, &theta2, pivot_floor, y, &none);
    }
}

/// Sorts lane t's eigenpairs (trajectory `trajectory`, its eigenvectors already in `v`) by
/// ascending μ, when they are not: rare, so done one lane at a time.
INLINE void sort_lane(int64_t n, int64_t batch, int64_t trajectory, int t, warm_block *w, double *v) {
    int64_t k = 1;
    while (k < n && w->values[k - 1][t] <= w->values[k][t]) k++;
    if (k == n) return;
    int64_t *order = w->order;
    for (int64_t j = 0; j < n; j++) order[j] = j;
    for (int64_t j = 1; j < n; j++) {  // insertion sort: a few neighbours out of place
        const int64_t moving = order[j];
        int64_t i = j;
        for (; i > 0 && w->values[order[i - 1]][t] > w->values[moving][t]; i--) order[i] = order[i - 1];
        order[i] = moving;
    }
    // Only the eigenpairs out of place move: their places first, then their values.
    int64_t *moved = order + n, count = 0;
    for (int64_t j = 0; j < n; j++) {
        if (order[j] != j) moved[count++] = j;
    }
    double *column = w->column;
    for (int64_t m = 0; m < count; m++) column[m] = w->values[order[moved[m]]][t];
    for (int64_t m = 0; m < count; m++) w->values[moved[m]][t] = column[m];
    for (int64_t m = 0; m < count; m++) column[m] = w->residuals[order[moved[m]]][t];
    for (int64_t m = 0; m < count; m++) w->residuals[moved[m]][t] = column[m];
    for (int64_t i = 0; i < n; i++) {  // row i of the trajectory's eigenvector matrix
        double *row = v + i * n * batch + trajectory;
        for (int64_t m = 0; m < count; m++) column[m] = row[order[moved[m]] * batch];
        for (int64_t m = 0; m < count; m++) row[moved[m] * batch] = column[m];
    }
}

/// Steps every eigenvector of a block takes together; most need exactly these (RQI from a
/// time step's start), the few that need more finish in the parking (`park_straggler`).
enum { BLOCK_STEPS = 2 };

/// Per-trajectory settings, one lane per trajectory.
typedef struct {
    lanes corner, pivot_floor, tight;
} lane_settings;

/// Eigenpairs whose iteration outlasted their block's steps, one per lane, each with its
/// trajectory's H (`w->lane_d`, `lane_e`, `lane_shifted_d`) and iterate (`w->y`), iterated
/// on together once all lanes are taken, so that one slow eigenpair does not hold LANES.
typedef struct {
    lane_settings settings;
    lanes mu, residual;
    int64_t slot[LANES], k[LANES];
    int steps[LANES];
    lane_mask free;
} parking;

/// Eigenpair k of trajectory `slot` (lane t of `p`, converged at μ with residual r): its
/// vector into v, μ and r into the window's eigenpair k; a vector not of unit length clears
/// the trajectory's `unit`.
INLINE void finish_parked(int64_t n, int64_t batch, int64_t first, int t, warm_block *w, const parking *p,
                          double *v) {
    const lanes *restrict x = w->y;
    const int64_t k = p->k[t], slot = p->slot[t];
    double squares = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double component = x[i][t];
        v[(i * n + k) * batch + first + slot] = component;
        squares += component * component;
    }
    w->values[k][slot] = p->mu[t];
    w->residuals[k][slot] = p->residual[t];
    if (!(fabs(squares - 1.0) <= 1e-12)) w->unit[slot] = 0;
}

/// Parks lane `slot` of the block's eigenpair k (iterate `w->x`, after `BLOCK_STEPS` steps,
/// μ, r) in a free lane of `p`.
INLINE void park_straggler(int64_t n, int64_t k, int64_t slot, warm_block *w, parking *p,
                           const lane_settings *block, double mu, double residual) {
    int t = 0;
    while (!p->free[t]) t++;
    for (int64_t i = 0; i < n; i++) {
        w->y[i][t] = w->x[i][slot];
        w->lane_d[i][t] = w->d[i][slot];
        w->lane_e[i][t] = w->e[i][slot];
        w->lane_shifted_d[i][t] = w->d[i][slot];
    }
    p->settings.corner[t] = block->corner[slot];
    p->settings.pivot_floor[t] = block->pivot_floor[slot];
    p->settings.tight[t] = block->tight[slot];
    p->mu[t] = mu;
    p->residual[t] = residual;
    p->slot[t] = slot;
    p->k[t] = k;
    p->steps[t] = BLOCK_STEPS;
    p->free[t] = 0;
}

/// `w` with each lane's own trajectory's H (`lane_d`, `lane_e`, `lane_shifted_d`), for
/// lanes that hold eigenpairs of different trajectories, or of one trajectory's cluster.
INLINE warm_block with_lane_h(const warm_block *w, int pivoted) {
    warm_block view = *w;
    view.d = w->lane_d;
    view.e = w->lane_e;
    view.shifted_d = w->lane_shifted_d;
    view.pivoted = pivoted;
    return view;
}

/// One Rayleigh quotient step of every parked eigenpair (twisted factorization): a lane at
/// rounding level is written out and freed; one that no longer halves its residual after
/// PATIENT_ITERATIONS steps, or has taken MAX_ITERATIONS, is flagged in `w->retry` for
/// `refine_pivoted` and freed.
INLINE void step_parked(int64_t n, int64_t batch, int64_t first, warm_block *w, parking *p, double *v) {
    warm_block view = with_lane_h(w, 0);
    inverse_step(n, &view, &p->settings.corner, &p->mu, &p->settings.pivot_floor, w->y, &p->free);
    const lanes previous = p->residual;
    lanes mu, residual;
    measure(n, &view, &p->settings.corner, w->y, w->hy, &mu, &residual);
    p->mu = select_lanes(p->free, p->mu, mu);
    p->residual = select_lanes(p->free, p->residual, residual);
    for (int t = 0; t < LANES; t++) {
        if (p->free[t]) continue;
        p->steps[t]++;
        if (residual[t] <= p->settings.tight[t]) {
            finish_parked(n, batch, first, t, w, p, v);
            p->free[t] = ~(int64_t)0;
        } else if (p->steps[t] >= MAX_ITERATIONS ||
                   (p->steps[t] >= PATIENT_ITERATIONS && !(residual[t] < 0.5 * previous[t]))) {
            w->retry[p->k[t]][p->slot[t]] = ~(int64_t)0;
            p->free[t] = ~(int64_t)0;
        }
    }
}

/// Eigenpair k of the block's trajectories refined from their start vectors by
/// `BLOCK_STEPS` Rayleigh quotient steps (twisted factorization); every lane's vector is
/// written out, and the lanes not yet at rounding level are parked in `p` (after a parked
/// step when it is full) to be overwritten when they converge.
INLINE void refine_block(int64_t n, int64_t k, int64_t batch, int64_t first, int64_t count, const double *restrict start,
                         double *v, warm_block *w, const lane_settings *block, parking *p) {
    lanes *restrict x = w->x;
    for (int64_t i = 0; i < n; i++) x[i] = GATHER(start + (i * n + k) * batch, first, count);
    lanes start_inverse, mu, residual;
    inverse_length(n, x, &start_inverse);
    for (int64_t i = 0; i < n; i++) x[i] *= start_inverse;
    measure(n, w, &block->corner, x, w->hx, &mu, &residual);
    lane_mask done = residual <= block->tight;
    w->pivoted = 0;
    for (int step = 0; step < BLOCK_STEPS && !all_lanes(done); step++) {
        inverse_step(n, w, &block->corner, &mu, &block->pivot_floor, x, &done);
        measure(n, w, &block->corner, x, w->hx, &mu, &residual);
        done |= residual <= block->tight;
    }
    w->values[k] = mu;
    w->residuals[k] = residual;
    lane_mask unit = ~(lane_mask){0};
    require_unit_length(n, x, &unit);
    w->unit &= ~done | unit;
    // Every lane's vector out: a straggler's is overwritten once it converges.
    for (int64_t i = 0; i < n; i++) scatter_lanes(v + (i * n + k) * batch, first, count, x[i]);
    if (all_lanes(done)) return;
    for (int64_t t = 0; t < count; t++) {
        if (done[t]) continue;
        // The parking full: step it until a lane leaves (mostly after one step).
        while (!any_lane(p->free)) step_parked(n, batch, first, w, p, v);
        park_straggler(n, k, t, w, p, block, mu[t], residual[t]);
    }
}

/// Clusters of more than two eigenpairs `refine_cluster` takes at most.
enum { MAX_CLUSTER = 8 };

/// Eigenvectors Q (column j at q[p * MAX_CLUSTER + j]) and ascending eigenvalues θ of the
/// symmetric m x m matrix g (overwritten), by cyclic Jacobi rotations (Golub & Van Loan
/// §8.5.3).
static void jacobi_eigen(int m, double g[MAX_CLUSTER][MAX_CLUSTER], double q[MAX_CLUSTER][MAX_CLUSTER],
                         double *theta) {
    for (int p = 0; p < m; p++) {
        for (int j = 0; j < m; j++) q[p][j] = p == j;
    }
    for (int sweep = 0; sweep < 30; sweep++) {
        double off = 0.0;
        for (int p = 0; p < m; p++) {
            for (int j = p + 1; j < m; j++) off += g[p][j] * g[p][j];
        }
        if (off == 0.0) break;
        for (int p = 0; p < m; p++) {
            for (int j = p + 1; j < m; j++) {
                if (g[p][j] == 0.0) continue;
                const double tau = (g[j][j] - g[p][p]) / (2.0 * g[p][j]);
                const double t = copysign(1.0, tau) / (fabs(tau) + sqrt(1.0 + tau * tau));
                const double c = 1.0 / sqrt(1.0 + t * t), sn = t * c;
                for (int i = 0; i < m; i++) {  // g ← g J from the right, then Jᵀ g
                    const double gp = g[i][p], gj = g[i][j];
                    g[i][p] = c * gp - sn * gj;
                    g[i][j] = sn * gp + c * gj;
                }
                for (int i = 0; i < m; i++) {
                    const double gp = g[p][i], gj = g[j][i];
                    g[p][i] = c * gp - sn * gj;
                    g[j][i] = sn * gp + c * gj;
                }
                for (int i = 0; i < m; i++) {
                    const double qp = q[i][p], qj = q[i][j];
                    q[i][p] = c * qp - sn * qj;
                    q[i][j] = sn * qp + c * qj;
                }
            }
        }
    }
    // Ascending, by selection (m is small).
    for (int j = 0; j < m; j++) theta[j] = g[j][j];
    for (int j = 0; j < m; j++) {
        int low = j;
        for (int i = j + 1; i < m; i++) {
            if (theta[i] < theta[low]) low = i;
        }
        if (low == j) continue;
        const double swap_theta = theta[j];
        theta[j] = theta[low];
        theta[low] = swap_theta;
        for (int i = 0; i < m; i++) {
            const double swap_q = q[i][j];
            q[i][j] = q[i][low];
            q[i][low] = swap_q;
        }
    }
}

/// Orthonormalizes lanes 0..<m of `y` (Gram-Schmidt, twice); a lane that was (nearly) in
/// the span of the ones before it starts afresh from a fixed pseudo-random vector.
static inline void orthonormalize_lanes(int64_t n, int m, lanes *restrict y) {
    uint64_t state = 0x9E3779B97F4A7C15ULL;
    for (int j = 0; j < m; j++) {
        for (int attempt = 0; attempt < 2; attempt++) {
            double before = 0.0, after = 0.0;
            for (int64_t i = 0; i < n; i++) before += y[i][j] * y[i][j];
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < j; p++) {
                    double overlap = 0.0;
                    for (int64_t i = 0; i < n; i++) overlap += y[i][p] * y[i][j];
                    for (int64_t i = 0; i < n; i++) y[i][j] -= overlap * y[i][p];
                }
            }
            for (int64_t i = 0; i < n; i++) after += y[i][j] * y[i][j];
            if (after >= 0.25 * before && after > 0.0) {
                const double inverse = 1.0 / sqrt(after);
                for (int64_t i = 0; i < n; i++) y[i][j] *= inverse;
                break;
            }
            for (int64_t i = 0; i < n; i++) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                y[i][j] = (double)(state >> 11) * 0x1p-52 - 0.5;
            }
        }
    }
}

/// Refines eigenpairs k0..<k0 + m (m <= MAX_CLUSTER) of the window's trajectory `slot`
/// together, one cluster member per lane, from their start vectors (whose span follows the
/// cluster's invariant subspace even where the vectors themselves mix): Rayleigh-Ritz on
/// their span (orthonormalized,
/// then rotated into the eigenvectors of the m x m projection of H), then one inverse
/// iteration of each Ritz vector at its Ritz value (pivoted LU), until a Rayleigh-Ritz
/// leaves every residual at rounding level; at most PAIR_ROUNDS rounds. The generalization
/// of `refine_pair` to nearly equal eigenvalues of any multiplicity (the periodic chain's
/// k and -k states, split by the lattice's disorder, can meet a third). On success the
/// members' vectors are written to v and each member's residual is that of the whole
/// block, ||H X - X Θ||_F, which bounds the distance of the m Ritz values, in order, to m
/// eigenvalues of H (Kahan's theorem for an orthonormal block X; Parlett §11.5); returns
/// whether it succeeded (else nothing changes).
static int refine_cluster(int64_t n, int64_t batch, int64_t first, int64_t slot, int64_t k0, int m,
                          const double *start, double *v, warm_block *w, const lane_settings *window) {
    warm_block view = with_lane_h(w, 1);
    lanes *restrict y = w->y, *restrict hy = w->hy;
    for (int64_t i = 0; i < n; i++) {
        w->lane_d[i] = splat(w->d[i][slot]);
        w->lane_e[i] = splat(w->e[i][slot]);
        w->lane_shifted_d[i] = w->lane_d[i];
        for (int j = 0; j < LANES; j++) y[i][j] = start[(i * n + k0 + (j < m ? j : 0)) * batch + first + slot];
    }
    const lanes corner = splat(window->corner[slot]), pivot_floor = splat(window->pivot_floor[slot]);
    const double tight = window->tight[slot];
    lane_mask idle;
    for (int j = 0; j < LANES; j++) idle[j] = j < m ? 0 : ~(int64_t)0;
    for (int round = 0; round < PAIR_ROUNDS; round++) {
        orthonormalize_lanes(n, m, y);
        lanes quotient;
        apply(n, &view, &corner, y, hy, &quotient);
        double g[MAX_CLUSTER][MAX_CLUSTER], q[MAX_CLUSTER][MAX_CLUSTER], theta[MAX_CLUSTER];
        for (int p = 0; p < m; p++) {
            for (int j = 0; j < m; j++) {
                double sum = 0.0;
                for (int64_t i = 0; i < n; i++) sum += y[i][p] * hy[i][j];
                g[p][j] = sum;
            }
        }
        for (int p = 0; p < m; p++) {
            for (int j = p + 1; j < m; j++) g[p][j] = g[j][p] = 0.5 * (g[p][j] + g[j][p]);
        }
        jacobi_eigen(m, g, q, theta);
        double squares[MAX_CLUSTER] = {0}, worst = 0.0, total = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double rotated[MAX_CLUSTER], h_rotated[MAX_CLUSTER];
            for (int j = 0; j < m; j++) {
                double sum = 0.0, h_sum = 0.0;
                for (int p = 0; p < m; p++) {
                    sum += y[i][p] * q[p][j];
                    h_sum += hy[i][p] * q[p][j];
                }
                rotated[j] = sum;
                h_rotated[j] = h_sum;
            }
            for (int j = 0; j < m; j++) {
                y[i][j] = rotated[j];
                hy[i][j] = h_rotated[j];
                const double r = h_rotated[j] - theta[j] * rotated[j];
                squares[j] += r * r;
            }
        }
        for (int j = 0; j < m; j++) {
            worst = fmax(worst, sqrt(squares[j]));
            total += squares[j];
        }
        if (worst <= tight) {
            double length_error = 0.0;
            for (int j = 0; j < m; j++) {
                double length = 0.0;
                for (int64_t i = 0; i < n; i++) length += y[i][j] * y[i][j];
                length_error = fmax(length_error, fabs(length - 1.0));
            }
            if (!(length_error <= 1e-12)) return 0;
            for (int j = 0; j < m; j++) {
                for (int64_t i = 0; i < n; i++) v[(i * n + k0 + j) * batch + first + slot] = y[i][j];
                w->values[k0 + j][slot] = theta[j];
                w->residuals[k0 + j][slot] = sqrt(total);
            }
            return 1;
        }
        lanes shifts = splat(theta[0]);
        for (int j = 0; j < m; j++) shifts[j] = theta[j];
        inverse_step(n, &view, &corner, &shifts, &pivot_floor, y, &idle);
    }
    return 0;
}

/// Lanes whose eigenpairs k and k + 1 are far enough apart for their residuals (their
/// intervals disjoint, with the certificate's margin). An out-parameter, as vectors of
/// lanes cannot be returned under every clone's ABI.
INLINE void pair_apart(const warm_block *w, int64_t k, const lanes *slack, lane_mask *apart) {
    const lanes spread = (w->residuals[k] + *slack) + (w->residuals[k + 1] + *slack);
    *apart = spread <= certificate_tolerance * (w->values[k + 1] - w->values[k]);
}

/// Lanes whose eigenpairs are certified (see the top of the file), with refined[k] marking
/// the neighbours k, k + 1 refined together.
INLINE void certify(int64_t n, const warm_block *w, const lane_mask *finite, const lanes *loose, const lanes *slack,
                    lane_mask *certified_out) {
    lane_mask certified = *finite & w->unit;
    for (int64_t k = 0; k < n; k++) certified &= w->residuals[k] <= *loose;
    for (int64_t k = 0; k + 1 < n; k++) {
        lane_mask apart;
        pair_apart(w, k, slack, &apart);
        certified &= w->refined[k] | apart;
    }
    *certified_out = certified;
}

QCLAB_CLONES
int64_t qclab_tridiagonal_warm_eigen(int64_t batch, int64_t n, const double *restrict h, const double *start,
                                     double *restrict w_out, double *v, double *restrict workspace,
                                     uint8_t *restrict failed) {
    if (batch <= 0 || n <= 0) return 0;
    warm_block w = carve_warm(n, workspace);
    const double eps = DBL_EPSILON;
    int64_t failures = 0;
    // Windows of LANES trajectories (the last one possibly fewer), one lane per trajectory.
    for (int64_t first = 0; first < batch; first += LANES) {
        const int64_t count = batch - first < LANES ? batch - first : LANES;
        for (int64_t i = 0; i < n; i++) {
            w.d[i] = GATHER(h + (i * n + i) * batch, first, count);
            w.e[i] = i + 1 < n ? GATHER(h + ((i + 1) * n + i) * batch, first, count) : splat(0.0);
            w.shifted_d[i] = w.d[i];
        }
        const lanes corner = n >= 3 ? GATHER(h + ((n - 1) * n) * batch, first, count) : splat(0.0);
        // ||H||_∞.
        lanes norm = splat(0.0);
        for (int64_t i = 0; i < n; i++) {
            lanes row = abs_lanes(w.d[i]) + abs_lanes(w.e[i]);
            if (i > 0) row += abs_lanes(w.e[i - 1]);
            if (i == 0 || i == n - 1) row += abs_lanes(corner);
            norm = max_lanes(norm, row);
        }
        const lane_mask finite = (norm == norm) & (norm <= DBL_MAX);
        const lanes safe_norm = select_lanes(finite & (norm > 0.0), norm, splat(1.0));
        const lanes pivot_floor = max_lanes(eps * safe_norm, splat(DBL_MIN));
        const lanes tight = 4.0 * sqrt((double)n) * eps * safe_norm;
        // The computed residuals' own rounding: each component of H x - μ x is off by at most
        // about 4 ε (|H| |x| + |μ| |x|), a 2-norm of at most 8 ε ||H||.
        const lanes slack = 8.0 * eps * safe_norm;
        w.unit = ~(lane_mask){0};
        const lane_settings settings = {corner, pivot_floor, tight};
        parking stragglers = {.free = ~(lane_mask){0}};
        for (int64_t k = 0; k < n; k++) w.retry[k] = (lane_mask){0};
        for (int64_t k = 0; k < n; k++) refine_block(n, k, batch, first, count, start, v, &w, &settings, &stragglers);
        while (!all_lanes(stragglers.free)) step_parked(n, batch, first, &w, &stragglers, v);
        // The eigenpairs the parking gave up on, again from their starts through the pivoted
        // LU; the other lanes keep theirs.
        for (int64_t k = 0; k < n; k++) {
            const lane_mask retry = w.retry[k];
            if (!any_lane(retry)) continue;
            const lanes values = w.values[k], residuals = w.residuals[k];
            refine_pivoted(n, k, batch, first, count, start, &w, &corner, &pivot_floor, &tight, &retry);
            lane_mask unit = ~(lane_mask){0};
            require_unit_length(n, w.x, &unit);
            w.unit &= ~retry | unit;
            w.values[k] = select_lanes(retry, w.values[k], values);
            w.residuals[k] = select_lanes(retry, w.residuals[k], residuals);
            for (int64_t i = 0; i < n; i++) {
                double *out = v + (i * n + k) * batch + first;
                for (int64_t t = 0; t < count; t++) {
                    if (retry[t]) out[t] = w.x[i][t];
                }
            }
        }
        // Lanes past `count` repeat the last trajectory, as GATHER does.
        for (int64_t t = count; t < LANES; t++) {
            w.unit[t] = w.unit[count - 1];
            for (int64_t k = 0; k < n; k++) {
                w.values[k][t] = w.values[k][count - 1];
                w.residuals[k][t] = w.residuals[k][count - 1];
            }
        }
        for (int64_t t = 0; t < count; t++) sort_lane(n, batch, first + t, (int)t, &w, v);
        // Close neighbours, refined together; a lane whose pair k - 1, k was refined is past
        // saving when k, k + 1 is close too (three nearly equal eigenvalues).
        for (int64_t k = 0; k + 1 < n; k++) {
            lane_mask apart;
            pair_apart(&w, k, &slack, &apart);
            const lane_mask close = finite & ~apart;
            w.refined[k] = close & (k > 0 ? ~w.refined[k - 1] : ~(lane_mask){0});
            if (any_lane(w.refined[k])) {
                refine_pair(n, k, batch, first, count, v, &w, &corner, &pivot_floor, &tight, &w.refined[k]);
            }
        }
        const lanes loose = 16.0 * (double)n * eps * safe_norm;
        lane_mask certified;
        certify(n, &w, &finite, &loose, &slack, &certified);
        // A trajectory refused: its runs of eigenpairs not apart from their neighbours (three
        // or more nearly equal eigenvalues, or an iterate that went astray), refined together.
        for (int64_t t = 0; t < count; t++) {
            if (certified[t] || !finite[t] || !w.unit[t]) continue;
            for (int64_t k = 0; k < n;) {
                // The run k...end: neighbours not apart, or refined together as a pair (a
                // cluster takes the whole run, so that no eigenpair is in two blocks).
                int64_t end = k;
                while (end + 1 < n) {
                    lane_mask apart;
                    pair_apart(&w, end, &slack, &apart);
                    if (!w.refined[end][t] && apart[t]) break;
                    end++;
                }
                const int size = (int)(end - k + 1);
                const int apart = size == 1 && w.residuals[k][t] <= loose[t];
                if (!apart && size <= MAX_CLUSTER && refine_cluster(n, batch, first, t, k, size, start, v, &w, &settings)) {
                    for (int64_t j = k; j < end; j++) w.refined[j][t] = ~(int64_t)0;
                }
                k = end + 1;
            }
        }
        certify(n, &w, &finite, &loose, &slack, &certified);
        for (int64_t t = 0; t < count; t++) failed[first + t] = certified[t] == 0;
        for (int64_t k = 0; k < n; k++) {
            for (int64_t t = 0; t < count; t++) w_out[k * batch + first + t] = w.values[k][t];
        }
    }
    for (int64_t t = 0; t < batch; t++) failures += failed[t];
    return failures;
}
