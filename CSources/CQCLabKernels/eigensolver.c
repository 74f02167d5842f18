// Batched real symmetric and complex Hermitian eigensolvers, SIMD lanes across trajectories.
//
// One lane block holds the same n x n problem of LANES trajectories: every element is a
// vector `lanes` of LANES doubles, so one vector instruction advances the same step of
// LANES independent eigenproblems and data-dependent decisions (pivots, convergence,
// cluster boundaries) become per-lane selects. The method is LAPACK's dsyevx route,
// which, unlike divide and conquer, keeps every lane on the same instruction stream:
//
//   1. Householder reduction to a real tridiagonal T = Qᴴ A Q (dsytd2, or zhetd2 for
//      Hermitian A; lower triangle), with dlarfg's rescaling of columns whose norm
//      would underflow;
//   2. the eigenvalues of T by the implicit QL method (tql1), all lanes on the same
//      eigenvalue at a time, then sorted; on AVX-512 CPUs the rotations' 1/sqrt comes from
//      vrsqrt14pd and two Newton steps (ql_eigenvalues.h), keeping the divider off this
//      latency-bound loop;
//   3. the eigenvectors of T by inverse iteration (dstein: LU of T - λI with partial
//      pivoting, solves as dlagts with tiny pivots raised, modified Gram-Schmidt within
//      clusters of close eigenvalues), each checked by its residual;
//   4. the back-transformation V = Q Z, four reflectors at a time in compact WY form.
//
// A lane's arithmetic never depends on the other lanes of its block (lanes that finish
// early idle under masks), so a trajectory's eigenpairs are the same whichever
// trajectories share its block. Each lane's matrix is first scaled by a power of two
// (exact) so that its largest element lies in [1, 2), as dsyev scales a matrix whose norm
// is outside a safe range; after that no sum of squares can overflow, and only the
// underflow guards noted where they are remain. Lanes whose input is not finite or whose
// QL or inverse iteration does not converge are flagged for the caller, which redoes
// them with LAPACK (BatchEigensolver.swift, strategy batchedHouseholder).
//
// References: Golub & Van Loan, Matrix Computations (4th ed.), §8.3 (tridiagonalization
// and the symmetric QR/QL algorithm), §8.2.2 (inverse iteration); LAPACK's dsytd2,
// zhetd2, dlarfg, zlarfg, dlartg, dstein, dlagtf and dlagts; EISPACK's tql1.
#include "CQCLabKernels.h"
#include "lanes.h"
#include <float.h>
#include <stddef.h>

#include "eigen_lanes.h"
#include "tridiagonal_lu.h"

/// Element (i, j), j <= i, of a packed lower triangle.
INLINE int64_t packed(int64_t i, int64_t j) { return i * (i + 1) / 2 + j; }

/// The workspace of one lane block, carved out of the caller's buffer (64-byte aligned).
typedef struct {
    lanes *a;           // packed lower triangle of A, reduced in place (n(n+1)/2)
    lanes *reflectors;  // reflector k's tail (components k+2...n-1) at k * n (n * n)
    lanes *z;           // eigenvector k of T, then of A, at k * n (n * n)
    lanes *d, *e, *tau, *e2, *scale;  // n each (scale: 1 used)
    lanes *p, *y;                     // n each
    lanes *u1, *u2, *u3, *l, *rp;     // LU of T - λI: n each
    lane_mask *swap;                  // n
    lanes *wy;                        // compact WY factors of the reflectors, 4 at a time (10 per block)
    // Imaginary parts, for Hermitian problems only (NULL otherwise).
    lanes *a_im, *reflectors_im, *z_im, *tau_im, *p_im, *y_im;
} block;

int64_t qclab_symmetric_eigen_workspace(int64_t n) {
    const int64_t vectors = n * (n + 1) / 2 + 2 * n * n + 16 * n + 8 + 10 * (n / 4 + 1);
    return vectors * LANES + LANES;  // + LANES doubles to align to 64 bytes
}

int64_t qclab_hermitian_eigen_workspace(int64_t n) {
    const int64_t vectors = n * (n + 1) / 2 + 2 * n * n + 4 * n + 4;
    return qclab_symmetric_eigen_workspace(n) + vectors * LANES;
}

static block carve(int64_t n, double *workspace, int hermitian) {
    uintptr_t address = (uintptr_t)workspace;
    address = (address + 63) & ~(uintptr_t)63;
    lanes *next = (lanes *)address;
    block b;
    b.a = next; next += n * (n + 1) / 2;
    b.reflectors = next; next += n * n;
    b.z = next; next += n * n;
    b.d = next; next += n + 1;
    b.e = next; next += n + 1;
    b.tau = next; next += n + 1;
    b.e2 = next; next += n + 1;
    b.scale = next; next += 1;
    b.p = next; next += n + 1;
    b.y = next; next += n + 1;
    b.u1 = next; next += n + 1;
    b.u2 = next; next += n + 1;
    b.u3 = next; next += n + 1;
    b.l = next; next += n + 1;
    b.rp = next; next += n + 1;
    b.swap = (lane_mask *)next; next += n + 1;
    b.wy = next; next += 10 * (n / 4 + 1);
    b.a_im = b.reflectors_im = b.z_im = b.tau_im = b.p_im = b.y_im = NULL;
    if (hermitian) {
        b.a_im = next; next += n * (n + 1) / 2;
        b.reflectors_im = next; next += n * n;
        b.z_im = next; next += n * n;
        b.tau_im = next; next += n + 1;
        b.p_im = next; next += n + 1;
        b.y_im = next;
    }
    return b;
}

// MARK: 0. Gather and scale

/// Copies the lower triangles of trajectories first ..< first + LANES (the last one
/// repeated past `count`) into the block, scales each lane by a power of two so that its
/// largest element lies in [1, 2), and sets `bad` to the mask of lanes that are not finite.
INLINE void gather(int64_t batch, int64_t n, int64_t first, const double *restrict h, block *b, lane_mask *bad) {
    const int64_t count = batch - first < LANES ? batch - first : LANES;
    lanes largest = splat(0.0);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j <= i; j++) {
            const double *source = h + (i * n + j) * batch + first;
            lanes x;
            if (count == LANES) {
                x = load_lanes(source);
            } else {
                for (int t = 0; t < LANES; t++) x[t] = source[t < count ? t : count - 1];
            }
            b->a[packed(i, j)] = x;
            largest = max_lanes(largest, abs_lanes(x));
        }
    }
    // NaN fails every comparison, infinity the second.
    const lane_mask finite = (largest == largest) & (largest <= DBL_MAX);
    // 2^-e with e the exponent of the largest element; zero and subnormal matrices are
    // scaled in two factors so that 2^-e stays representable.
    lanes first_factor, second_factor;
    for (int t = 0; t < LANES; t++) {
        int exponent = 0;
        if (finite[t] && largest[t] > 0.0) (void)frexp(largest[t], &exponent);
        exponent -= 1;  // largest = f 2^(exponent + 1), f in [0.5, 1)
        const int half = -exponent / 2;
        first_factor[t] = ldexp(1.0, half);
        second_factor[t] = ldexp(1.0, -exponent - half);
        b->scale[0][t] = ldexp(1.0, exponent);
    }
    const int64_t elements = n * (n + 1) / 2;
    for (int64_t c = 0; c < elements; c++) b->a[c] = b->a[c] * first_factor * second_factor;
    *bad = ~finite;
}

// MARK: 1. Householder tridiagonalization

// Real symmetric A (dsytd2): the template's real instance.
#define HH_FUNCTION tridiagonalize
#define HH_IM(...)
#define HH_UNREFLECTED 2
#define HH_LARGEST_PART(x, y) abs_lanes(x)
#define HH_MULTIPLIER(reflect, factor, dr, di, mr, mi) \
    const lanes mr = select_lanes(reflect, (factor) / (dr), splat(0.0))
#define HH_HALF(t_r, t_i, x_r, x_i, h_r, h_i) const lanes h_r = -0.5 * (t_r) * (x_r)
#include "householder.h"

// Complex Hermitian A (zhetd2): the template's complex instance.
#define HH_FUNCTION tridiagonalize_hermitian
#define HH_IM(...) __VA_ARGS__
#define HH_UNREFLECTED 1
#define HH_LARGEST_PART(x, y) max_lanes(abs_lanes(x), abs_lanes(y))
#define HH_MULTIPLIER(reflect, factor, dr, di, mr, mi)                                                 \
    const lanes hh_dr = (dr), hh_di = (di);                                                            \
    const lanes hh_inverse = select_lanes(reflect, (factor) / (hh_dr * hh_dr + hh_di * hh_di), splat(0.0)); \
    const lanes mr = hh_dr * hh_inverse, mi = -hh_di * hh_inverse
#define HH_HALF(t_r, t_i, x_r, x_i, h_r, h_i)                 \
    const lanes h_r = -0.5 * ((t_r) * (x_r) - (t_i) * (x_i)), \
                h_i = -0.5 * ((t_r) * (x_i) + (t_i) * (x_r))
#include "householder.h"

// MARK: 2. Eigenvalues by implicit QL

#define QL_FUNCTION ql_eigenvalues
#define QL_LINKAGE INLINE
#define ROTATION_NORM(r2, r, inverse) do { r = sqrt_lanes(r2); inverse = 1.0 / r; } while (0)
#include "ql_eigenvalues.h"
#undef QL_FUNCTION
#undef QL_LINKAGE
#undef ROTATION_NORM

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
// The same loop compiled for AVX-512 (chosen at run time by `has_avx512`): 1/sqrt(x) from
// the 14-bit estimate vrsqrt14pd and two Newton steps y ← y (3/2 - x y²/2), each of which
// squares the relative error (2^-14 → 2^-28 → 2^-56, about one ulp), with no sqrt or
// division. Elementwise, so every lane still gets its own result.
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
INLINE void inverse_sqrt_avx512(const lanes *x, lanes *out) {
    for (int half = 0; half < LANES; half += 8) {
        __m512d v, y;
        memcpy(&v, (const double *)x + half, sizeof v);
        y = _mm512_rsqrt14_pd(v);
        const __m512d hv = _mm512_mul_pd(v, _mm512_set1_pd(0.5)), three_halves = _mm512_set1_pd(1.5);
        y = _mm512_mul_pd(y, _mm512_fnmadd_pd(hv, _mm512_mul_pd(y, y), three_halves));
        y = _mm512_mul_pd(y, _mm512_fnmadd_pd(hv, _mm512_mul_pd(y, y), three_halves));
        memcpy((double *)out + half, &y, sizeof y);
    }
}
#define QL_FUNCTION ql_eigenvalues_avx512
#define QL_LINKAGE static __attribute__((noinline))
#define ROTATION_NORM(r2, r, inverse) \
    do { inverse_sqrt_avx512(&(r2), &(inverse)); r = (r2) * (inverse); \
         r = select_lanes((r2) == 0.0, splat(0.0), r); } while (0)
#include "ql_eigenvalues.h"
#undef QL_FUNCTION
#undef QL_LINKAGE
#undef ROTATION_NORM
#pragma clang attribute pop
#define HAS_AVX512_QL 1
#endif

/// The eigenvalues of T by the fastest QL loop this CPU runs, or by the portable one.
INLINE void eigenvalues(int64_t n, block *b, lanes *restrict w, lanes *norm_out, lane_mask *failed, int portable) {
#ifdef HAS_AVX512_QL
    if (!portable && __builtin_cpu_supports("avx512f")) { ql_eigenvalues_avx512(n, b, w, norm_out, failed); return; }
#endif
    (void)portable;
    ql_eigenvalues(n, b, w, norm_out, failed);
}

// MARK: 3. Eigenvectors of T by inverse iteration

/// A pseudo-random start vector in (-1, 1), the same in every lane (dstein draws one with
/// dlarnv; any vector with components along every eigenvector will do).
INLINE void start_vector(int64_t n, int64_t j, lanes *restrict y) {
    uint64_t state = 0x9E3779B97F4A7C15ULL * (uint64_t)(j + 1) + 0x2545F4914F6CDD1DULL;
    for (int64_t i = 0; i < n; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        y[i] = splat((double)(state >> 11) * 0x1p-52 - 1.0);
    }
}

/// Eigenvectors of T (columns of z, at k n) for the eigenvalues w, as dstein: returns the
/// mask of lanes where some vector did not pass the growth test within five iterations
/// into `failed_out`. `norm_in` is ||T||₁.
INLINE void inverse_iteration(int64_t n, block *b, const lanes *restrict w, const lanes *norm_in,
                              lane_mask *failed_out) {
    const lanes norm = select_lanes(*norm_in > 0.0, *norm_in, splat(1.0));  // the zero matrix: any unit vectors
    const lanes *restrict d = b->d, *restrict e = b->e;
    lanes *restrict u1 = b->u1, *restrict u2 = b->u2, *restrict u3 = b->u3, *restrict l = b->l;
    lanes *restrict rp = b->rp, *restrict y = b->y, *restrict z = b->z;
    lane_mask *restrict swap = b->swap;
    const double eps = DBL_EPSILON;
    const lanes ortol = 1e-3 * norm, pivot_floor = max_lanes(eps * norm, splat(DBL_MIN));
    const double growth = sqrt(0.1 / (double)n);
    lane_mask failed = (lane_mask){0};
    lanes previous = splat(0.0), cluster_start = splat(0.0);
    for (int64_t j = 0; j < n; j++) {
        lanes x = w[j];
        if (j > 0) {
            // Separate shifts of (nearly) equal eigenvalues; a gap above ortol starts a cluster.
            const lanes pertol = 10.0 * eps * max_lanes(abs_lanes(x), norm);
            x = select_lanes(x - previous < pertol, previous + pertol, x);
            cluster_start = select_lanes(x - previous > ortol, splat((double)j), cluster_start);
        }
        previous = x;
        int64_t first_in_cluster = j;
        for (int t = 0; t < LANES; t++) {
            if ((int64_t)cluster_start[t] < first_in_cluster) first_in_cluster = (int64_t)cluster_start[t];
        }
        factor_shifted_tridiagonal(n, d, e, &x, &pivot_floor, u1, u2, u3, l, rp, swap);
        const lanes target = (double)n * norm * max_lanes(splat(eps), abs_lanes(u1[n - 1]));
        start_vector(n, j, y);
        lanes passes = splat(0.0);
        lanes *restrict zj = z + j * n;
        lanes sum = splat(0.0);
        for (int64_t i = 0; i < n; i++) sum += abs_lanes(y[i]);
        for (int iteration = 0; iteration < 5; iteration++) {
            const lanes s = target / max_lanes(sum, splat(DBL_MIN));
            // Scaled by s, then L⁻¹ Pᵀ and U⁻¹, the recurrences carried in registers; the
            // back substitution also takes the result's largest component and 1-norm.
            lanes carry = y[0] * s;
            for (int64_t k = 0; k + 1 < n; k++) {
                const lanes next = y[k + 1] * s;
                const lanes low = select_lanes(swap[k], next, carry);
                carry = select_lanes(swap[k], carry, next) - l[k] * low;
                y[k] = low;
            }
            lanes below = carry * rp[n - 1], below2 = splat(0.0);
            lanes largest = abs_lanes(below);
            sum = abs_lanes(below);
            y[n - 1] = below;
            for (int64_t k = n - 2; k >= 0; k--) {
                const lanes current = y[k] * rp[k] - u3[k] * below2 - u2[k] * below;
                below2 = below;
                below = current;
                y[k] = current;
                largest = max_lanes(largest, abs_lanes(current));
                sum += abs_lanes(current);
            }
            if (first_in_cluster < j) {
                // Modified Gram-Schmidt against the earlier vectors of the lane's cluster.
                for (int64_t i = first_in_cluster; i < j; i++) {
                    const lanes *restrict zi = z + i * n;
                    lanes dot = splat(0.0);
                    for (int64_t c = 0; c < n; c++) dot += y[c] * zi[c];
                    dot = select_lanes(cluster_start <= (double)i, dot, splat(0.0));
                    for (int64_t c = 0; c < n; c++) y[c] -= dot * zi[c];
                }
                largest = splat(0.0);
                sum = splat(0.0);
                for (int64_t i = n - 1; i >= 0; i--) {
                    largest = max_lanes(largest, abs_lanes(y[i]));
                    sum += abs_lanes(y[i]);
                }
            }
            // A lane's vector is the iterate of its third passing solve (dstein's extra two
            // after the first), kept aside, so that it does not depend on how many more
            // iterations the other lanes of the block need.
            const lane_mask was_done = passes >= 3.0;
            passes += select_lanes(largest >= growth, splat(1.0), splat(0.0));
            const lane_mask keep = (passes >= 3.0) & ~was_done;
            if (any_lane(keep)) {
                for (int64_t i = 0; i < n; i++) zj[i] = select_lanes(keep, y[i], zj[i]);
            }
            if (all_lanes(passes >= 3.0)) break;
        }
        failed |= passes < 3.0;
        for (int64_t i = 0; i < n; i++) zj[i] = select_lanes(passes >= 3.0, zj[i], y[i]);
        lanes norm2 = splat(0.0);
        for (int64_t i = 0; i < n; i++) norm2 += zj[i] * zj[i];
        const lanes inverse = 1.0 / sqrt_lanes(max_lanes(norm2, splat(DBL_MIN)));
        for (int64_t i = 0; i < n; i++) zj[i] *= inverse;
        // A safety net, O(n): a residual |T z - w z| above 16 n ε ||T|| sends the lane to LAPACK.
        lanes residual = splat(0.0);
        for (int64_t i = 0; i < n; i++) {
            lanes r = (d[i] - w[j]) * zj[i];
            if (i > 0) r += e[i - 1] * zj[i - 1];
            if (i + 1 < n) r += e[i] * zj[i + 1];
            residual = max_lanes(residual, abs_lanes(r));
        }
        failed |= residual > 16.0 * (double)n * eps * norm;
    }
    *failed_out = failed;
}

// MARK: 4. Back-transformation

/// Component `row` of reflector k's vector v (1 at k + 1, the stored tail below, 0 above).
#define REFLECTOR(k, row) (b->reflectors[(k) * n + (row) - (k) - 2])

/// z ← Q z for every column (eigenvector) of z, Q = H_0 H_1 ... H_{n-3}. Reflectors are
/// taken four at a time in compact WY form, H_k H_{k+1} H_{k+2} H_{k+3} = I - V T Vᵀ with
/// T upper triangular (LAPACK's dlarft, forward columnwise; Schreiber & Van Loan 1989,
/// Golub & Van Loan §5.1.7), and applied to two columns at a time as z -= V (T (Vᵀ z)):
/// every component of z and of V is loaded once per four reflectors and two columns. The
/// (n - 2) mod 4 reflectors of lowest index are applied one by one, last.
INLINE void back_transform(int64_t n, block *b) {
    lanes *restrict z = b->z;
    const lanes *restrict tau = b->tau;
    const int64_t reflectors = n - 2 > 0 ? n - 2 : 0, singles = reflectors % 4, blocks = reflectors / 4;
    // T of block q (reflectors k0 = singles + 4q ... k0 + 3) at wy[10 q]: T00 T01 T11 T02 T12 T22 T03 T13 T23 T33.
    for (int64_t q = 0; q < blocks; q++) {
        const int64_t k0 = singles + 4 * q;
        lanes g[4][4];  // g[i][j] = v_i · v_j, i < j
        for (int i = 0; i < 4; i++) {
            for (int j = i + 1; j < 4; j++) {
                // v_j is 1 at k0 + j + 1 and zero above; v_i has its tail there.
                lanes dot = REFLECTOR(k0 + i, k0 + j + 1);
                for (int64_t row = k0 + j + 2; row < n; row++) dot += REFLECTOR(k0 + i, row) * REFLECTOR(k0 + j, row);
                g[i][j] = dot;
            }
        }
        lanes *restrict t = b->wy + 10 * q;
        const lanes t0 = tau[k0], t1 = tau[k0 + 1], t2 = tau[k0 + 2], t3 = tau[k0 + 3];
        const lanes t01 = -t1 * t0 * g[0][1];
        const lanes x02 = t0 * g[0][2] + t01 * g[1][2], x12 = t1 * g[1][2];
        const lanes t02 = -t2 * x02, t12 = -t2 * x12;
        const lanes x03 = t0 * g[0][3] + t01 * g[1][3] + t02 * g[2][3];
        const lanes x13 = t1 * g[1][3] + t12 * g[2][3], x23 = t2 * g[2][3];
        t[0] = t0; t[1] = t01; t[2] = t1; t[3] = t02; t[4] = t12; t[5] = t2;
        t[6] = -t3 * x03; t[7] = -t3 * x13; t[8] = -t3 * x23; t[9] = t3;
    }
    int64_t column = 0;
    for (; column + 2 <= n; column += 2) {
        lanes *restrict za = z + column * n, *restrict zb = za + n;
        for (int64_t q = blocks - 1; q >= 0; q--) {
            const int64_t k0 = singles + 4 * q, o = k0 + 1;
            const lanes *restrict v0 = b->reflectors + k0 * n - k0 - 2, *restrict v1 = v0 + n - 1,
                        *restrict v2 = v1 + n - 1, *restrict v3 = v2 + n - 1;  // v_r[row], row >= o + r + 1
            // W = Vᵀ z; rows o ... o + 3 hold V's unit upper triangle.
            lanes w0a = za[o], w0b = zb[o], w1a = za[o + 1], w1b = zb[o + 1];
            lanes w2a = za[o + 2], w2b = zb[o + 2], w3a = za[o + 3], w3b = zb[o + 3];
            w0a += v0[o + 1] * w1a + v0[o + 2] * w2a + v0[o + 3] * w3a;
            w0b += v0[o + 1] * w1b + v0[o + 2] * w2b + v0[o + 3] * w3b;
            w1a += v1[o + 2] * w2a + v1[o + 3] * w3a;
            w1b += v1[o + 2] * w2b + v1[o + 3] * w3b;
            w2a += v2[o + 3] * w3a;
            w2b += v2[o + 3] * w3b;
            for (int64_t row = o + 4; row < n; row++) {
                const lanes xa = za[row], xb = zb[row];
                const lanes a0 = v0[row], a1 = v1[row], a2 = v2[row], a3 = v3[row];
                w0a += a0 * xa; w0b += a0 * xb;
                w1a += a1 * xa; w1b += a1 * xb;
                w2a += a2 * xa; w2b += a2 * xb;
                w3a += a3 * xa; w3b += a3 * xb;
            }
            // S = T W.
            const lanes *restrict t = b->wy + 10 * q;
            const lanes s0a = t[0] * w0a + t[1] * w1a + t[3] * w2a + t[6] * w3a;
            const lanes s0b = t[0] * w0b + t[1] * w1b + t[3] * w2b + t[6] * w3b;
            const lanes s1a = t[2] * w1a + t[4] * w2a + t[7] * w3a, s1b = t[2] * w1b + t[4] * w2b + t[7] * w3b;
            const lanes s2a = t[5] * w2a + t[8] * w3a, s2b = t[5] * w2b + t[8] * w3b;
            const lanes s3a = t[9] * w3a, s3b = t[9] * w3b;
            // z -= V S.
            za[o] -= s0a; zb[o] -= s0b;
            za[o + 1] -= v0[o + 1] * s0a + s1a; zb[o + 1] -= v0[o + 1] * s0b + s1b;
            za[o + 2] -= v0[o + 2] * s0a + v1[o + 2] * s1a + s2a;
            zb[o + 2] -= v0[o + 2] * s0b + v1[o + 2] * s1b + s2b;
            za[o + 3] -= v0[o + 3] * s0a + v1[o + 3] * s1a + v2[o + 3] * s2a + s3a;
            zb[o + 3] -= v0[o + 3] * s0b + v1[o + 3] * s1b + v2[o + 3] * s2b + s3b;
            for (int64_t row = o + 4; row < n; row++) {
                const lanes a0 = v0[row], a1 = v1[row], a2 = v2[row], a3 = v3[row];
                za[row] -= a0 * s0a + a1 * s1a + a2 * s2a + a3 * s3a;
                zb[row] -= a0 * s0b + a1 * s1b + a2 * s2b + a3 * s3b;
            }
        }
        for (int64_t k = singles - 1; k >= 0; k--) {
            const int64_t o = k + 1;
            const lanes *restrict v = b->reflectors + k * n - k - 2;
            lanes sa = za[o], sb = zb[o];
            for (int64_t row = o + 1; row < n; row++) { sa += v[row] * za[row]; sb += v[row] * zb[row]; }
            sa *= tau[k]; sb *= tau[k];
            za[o] -= sa; zb[o] -= sb;
            for (int64_t row = o + 1; row < n; row++) { za[row] -= sa * v[row]; zb[row] -= sb * v[row]; }
        }
    }
    for (; column < n; column++) {
        lanes *restrict zc = z + column * n;
        for (int64_t k = n - 3; k >= 0; k--) {
            const int64_t o = k + 1;
            const lanes *restrict v = b->reflectors + k * n - k - 2;
            lanes s = zc[o];
            for (int64_t row = o + 1; row < n; row++) s += v[row] * zc[row];
            s *= tau[k];
            zc[o] -= s;
            for (int64_t row = o + 1; row < n; row++) zc[row] -= s * v[row];
        }
    }
}
#undef REFLECTOR

// MARK: Driver

QCLAB_CLONES
int qclab_all_positive_zeros(int64_t count, const double *restrict x) {
    // OR of the bit patterns, a chunk at a time so that the loop vectorizes and a nonzero
    // element ends the scan early.
    enum { chunk = 256 };
    for (int64_t start = 0; start < count; start += chunk) {
        const int64_t end = count - start < chunk ? count : start + chunk;
        uint64_t bits = 0;
        for (int64_t i = start; i < end; i++) {
            uint64_t b;
            memcpy(&b, x + i, sizeof b);
            bits |= b;
        }
        if (bits) return 0;
    }
    return 1;
}


/// The eigenpairs of the real tridiagonal form in `b` (QL for the values, inverse
/// iteration for the vectors, both lanes at once), shared by the real and Hermitian
/// solvers: the values go to `w` unscaled, each lane that failed (every lane when the
/// fallback is forced) is marked in `failed`; returns how many lanes failed.
INLINE int64_t solve_tridiagonal(int64_t n, block *b, lanes *values, lane_mask *bad, int options,
                             int64_t batch, int64_t first, int64_t count, double *restrict w,
                             uint8_t *restrict failed) {
    lane_mask unconverged;
    lanes norm;
    eigenvalues(n, b, values, &norm, bad, options & QCLAB_EIGEN_PORTABLE_QL);
    inverse_iteration(n, b, values, &norm, &unconverged);
    *bad |= unconverged;
    if (options & QCLAB_EIGEN_FORCE_FALLBACK) *bad = (lane_mask){0} - 1;
    const lanes unscale = b->scale[0];
    int64_t failures = 0;
    for (int64_t t = 0; t < count; t++) {
        failed[first + t] = (*bad)[t] != 0;
        failures += (*bad)[t] != 0;
    }
    for (int64_t k = 0; k < n; k++) {
        const lanes value = values[k] * unscale;
        for (int64_t t = 0; t < count; t++) w[k * batch + first + t] = value[t];
    }
    return failures;
}

QCLAB_CLONES
int64_t qclab_symmetric_eigen(int64_t batch, int64_t n, const double *restrict h, double *restrict w,
                              double *restrict v, double *restrict workspace, uint8_t *restrict failed,
                              int options) {
    if (batch <= 0 || n <= 0) return 0;
    block b = carve(n, workspace, 0);
    lanes *values = b.p;  // eigenvalues of the scaled problem (p is free after step 1)
    int64_t failures = 0;
    for (int64_t first = 0; first < batch; first += LANES) {
        const int64_t count = batch - first < LANES ? batch - first : LANES;
        lane_mask bad;
        gather(batch, n, first, h, &b, &bad);
        tridiagonalize(n, &b);
        failures += solve_tridiagonal(n, &b, values, &bad, options, batch, first, count, w, failed);
        back_transform(n, &b);
        for (int64_t i = 0; i < n; i++) {
            for (int64_t k = 0; k < n; k++) {
                const lanes component = b.z[k * n + i];
                double *out = v + (i * n + k) * batch + first;
                if (count == LANES) {
                    memcpy(out, &component, sizeof component);
                } else {
                    for (int64_t t = 0; t < count; t++) out[t] = component[t];
                }
            }
        }
    }
    return failures;
}

// MARK: Hermitian problems

/// As `gather` for a Hermitian batch: the lower triangle's real and imaginary parts, each
/// lane scaled by the power of two that brings its largest |Re| or |Im| into [1, 2).
INLINE void gather_hermitian(int64_t batch, int64_t n, int64_t first, const double *restrict h_re,
                             const double *restrict h_im, block *b, lane_mask *bad) {
    const int64_t count = batch - first < LANES ? batch - first : LANES;
    lanes largest = splat(0.0);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j <= i; j++) {
            const double *source_re = h_re + (i * n + j) * batch + first, *source_im = h_im + (i * n + j) * batch + first;
            lanes x, y;
            if (count == LANES) {
                x = load_lanes(source_re);
                y = load_lanes(source_im);
            } else {
                for (int t = 0; t < LANES; t++) {
                    x[t] = source_re[t < count ? t : count - 1];
                    y[t] = source_im[t < count ? t : count - 1];
                }
            }
            if (i == j) y = splat(0.0);  // a Hermitian diagonal is real
            b->a[packed(i, j)] = x;
            b->a_im[packed(i, j)] = y;
            largest = max_lanes(largest, max_lanes(abs_lanes(x), abs_lanes(y)));
        }
    }
    const lane_mask finite = (largest == largest) & (largest <= DBL_MAX);
    lanes first_factor, second_factor;
    for (int t = 0; t < LANES; t++) {
        int exponent = 0;
        if (finite[t] && largest[t] > 0.0) (void)frexp(largest[t], &exponent);
        exponent -= 1;
        const int half = -exponent / 2;
        first_factor[t] = ldexp(1.0, half);
        second_factor[t] = ldexp(1.0, -exponent - half);
        b->scale[0][t] = ldexp(1.0, exponent);
    }
    const int64_t elements = n * (n + 1) / 2;
    for (int64_t c = 0; c < elements; c++) {
        b->a[c] = b->a[c] * first_factor * second_factor;
        b->a_im[c] = b->a_im[c] * first_factor * second_factor;
    }
    *bad = ~finite;
}

/// V = Q Z for the real eigenvectors Z of T: each column gets H_{n-2}, ..., H_0, and with
/// them its imaginary part.
INLINE void back_transform_hermitian(int64_t n, block *b) {
    lanes *restrict zr = b->z, *restrict zi = b->z_im;
    const lanes *restrict tau_r = b->tau, *restrict tau_i = b->tau_im;
    for (int64_t c = 0; c < n * n; c++) zi[c] = splat(0.0);
    for (int64_t column = 0; column < n; column++) {
        lanes *restrict xr = zr + column * n, *restrict xi = zi + column * n;
        for (int64_t k = n - 2; k >= 0; k--) {
            const int64_t o = k + 1, m = n - o;
            const lanes *restrict vr = b->reflectors + k * n - 1, *restrict vi = b->reflectors_im + k * n - 1;
            // s = τ vᴴ x
            lanes sr = xr[o], si = xi[o];
            for (int64_t i = 1; i < m; i++) {
                sr += vr[i] * xr[o + i] + vi[i] * xi[o + i];
                si += vr[i] * xi[o + i] - vi[i] * xr[o + i];
            }
            const lanes s_r = tau_r[k] * sr - tau_i[k] * si, s_i = tau_r[k] * si + tau_i[k] * sr;
            xr[o] -= s_r;
            xi[o] -= s_i;
            for (int64_t i = 1; i < m; i++) {
                xr[o + i] -= s_r * vr[i] - s_i * vi[i];
                xi[o + i] -= s_r * vi[i] + s_i * vr[i];
            }
        }
    }
}

QCLAB_CLONES
int64_t qclab_hermitian_eigen(int64_t batch, int64_t n, const double *restrict h_re, const double *restrict h_im,
                              double *restrict w, double *restrict v_re, double *restrict v_im,
                              double *restrict workspace, uint8_t *restrict failed, int options) {
    if (batch <= 0 || n <= 0) return 0;
    block b = carve(n, workspace, 1);
    lanes *values = b.p;  // eigenvalues of the scaled problem (p is free after the reduction)
    int64_t failures = 0;
    for (int64_t first = 0; first < batch; first += LANES) {
        const int64_t count = batch - first < LANES ? batch - first : LANES;
        lane_mask bad;
        gather_hermitian(batch, n, first, h_re, h_im, &b, &bad);
        tridiagonalize_hermitian(n, &b);
        failures += solve_tridiagonal(n, &b, values, &bad, options, batch, first, count, w, failed);
        back_transform_hermitian(n, &b);
        for (int64_t i = 0; i < n; i++) {
            for (int64_t k = 0; k < n; k++) {
                const lanes re = b.z[k * n + i], im = b.z_im[k * n + i];
                double *out_re = v_re + (i * n + k) * batch + first, *out_im = v_im + (i * n + k) * batch + first;
                for (int64_t t = 0; t < count; t++) { out_re[t] = re[t]; out_im[t] = im[t]; }
            }
        }
    }
    return failures;
}
