// Whole mean-field steps for a harmonic bath under a diagonal linear coupling, 8 trajectories
// (a tile) at a time. The batch-wide passes (the closed-form classical step, then the
// wavefunction's RK4 stages) stream every trajectory's coordinates through the cache at every
// step, and write each state's sum of 2 γ x back at every coordinate; here a tile's
// coordinates are copied next to each other for all the steps between two collect points,
// and the sums and populations of a run of coordinates coupled to the same states stay in
// registers. The closed-form step's products and sums are fused multiply-adds (the same bits
// on every machine, libm's fma standing in where the CPU has none); the wavefunction's step
// is the separate passes' arithmetic (the products are the same inlined source, mean_field.h).
// A trajectory's bits depend on neither its tile nor its lane.
#include "CQCLabKernels.h"
#include "lanes.h"
#include "mean_field.h"

enum { tile_width = 8 };
/// A tile's trajectories of one coordinate or state, in registers.
typedef double tile_lanes __attribute__((vector_size(tile_width * sizeof(double))));
/// The same, at any address a double may have.
typedef double unaligned_tile_lanes __attribute__((vector_size(tile_width * sizeof(double)), aligned(8)));

static inline __attribute__((always_inline)) tile_lanes load_tile(const double *p) {
    return *(const unaligned_tile_lanes *)p;
}

static inline __attribute__((always_inline)) void store_tile(double *p, tile_lanes v) {
    *(unaligned_tile_lanes *)p = v;
}

/// a b + c in every lane, rounded once: the CPU's fused multiply-add, or libm's fma in the
/// clone for CPUs without one (slow, but the same bits).
static inline __attribute__((always_inline)) tile_lanes fma_lanes(double a, tile_lanes b, tile_lanes c) {
    return __builtin_elementwise_fma((tile_lanes){a, a, a, a, a, a, a, a}, b, c);
}

/// Coordinates coupled to one state s: with per coordinate `c0..c5` = `τ₀, τ₁ h, -τ₁ a,
/// -σ h γ, -τ₁ γ, 2γ` in `packed` and the population p of s,
/// x ← c0 x + (c1 y + c3 p), y ← c0 y + (c2 x + c4 p), Σ ← Σ + c5 x_new, each sum a fused
/// multiply-add; the sum Σ of s and p stay in registers.
static inline __attribute__((always_inline)) void one_state_run(int64_t coordinates, const double *restrict packed,
                                                                double *restrict x, double *restrict y,
                                                                tile_lanes *sum, tile_lanes population) {
    tile_lanes s = *sum;
    for (int64_t c = 0; c < coordinates; c++) {
        const double *k = packed + 6 * c;
        double *xc = x + c * tile_width, *yc = y + c * tile_width;
        const tile_lanes xo = load_tile(xc), yo = load_tile(yc);
        const tile_lanes xn = fma_lanes(k[0], xo, fma_lanes(k[1], yo, k[3] * population));
        store_tile(xc, xn);
        store_tile(yc, fma_lanes(k[0], yo, fma_lanes(k[2], xo, k[4] * population)));
        s = fma_lanes(k[5], xn, s);
    }
    *sum = s;
}

/// Coordinates coupled to two states, with per coordinate `τ₀, τ₁ h, -τ₁ a, -σ h γ₀,
/// -σ h γ₁, -τ₁ γ₀, -τ₁ γ₁, 2γ₀, 2γ₁` in `packed`: one_state_run with c3 p = -σ h (γ₀ p₀ +
/// γ₁ p₁) formed as c3 p₀ + c4 p₁, and likewise for y.
static inline __attribute__((always_inline)) void two_state_run(int64_t coordinates, const double *restrict packed,
                                                                double *restrict x, double *restrict y,
                                                                tile_lanes *sum0, tile_lanes *sum1,
                                                                tile_lanes population0, tile_lanes population1) {
    tile_lanes s0 = *sum0, s1 = *sum1;
    for (int64_t c = 0; c < coordinates; c++) {
        const double *k = packed + 9 * c;
        double *xc = x + c * tile_width, *yc = y + c * tile_width;
        const tile_lanes xo = load_tile(xc), yo = load_tile(yc);
        const tile_lanes fx = fma_lanes(k[3], population0, k[4] * population1);
        const tile_lanes fy = fma_lanes(k[5], population0, k[6] * population1);
        const tile_lanes xn = fma_lanes(k[0], xo, fma_lanes(k[1], yo, fx));
        store_tile(xc, xn);
        store_tile(yc, fma_lanes(k[0], yo, fma_lanes(k[2], xo, fy)));
        s0 = fma_lanes(k[7], xn, s0);
        s1 = fma_lanes(k[8], xn, s1);
    }
    *sum0 = s0;
    *sum1 = s1;
}

/// The closed-form classical step of a full tile, run by run (see qclab_mean_field_harmonic_steps):
/// harmonic_rk4_coordinates with a run's sums of 2 γ x_new and populations in registers
/// instead of read and written at every coordinate; the same products and sums, in the same
/// order.
static inline __attribute__((always_inline)) void harmonic_rk4_tile(
    int64_t run_count, const int64_t *restrict runs, const double *restrict packed, double *restrict x,
    double *restrict y, const double *restrict coefficients, const int64_t *restrict term_start,
    const int64_t *restrict term_state, const double *restrict term_gamma, const double *restrict populations,
    double *restrict diagonal) {
    for (int64_t r = 0; r < run_count; r++) {
        const int64_t *run = runs + 6 * r;
        const int64_t first = run[0], count = run[1], kind = run[2];
        double *xr = x + first * tile_width, *yr = y + first * tile_width;
        double *d0 = diagonal + run[3] * tile_width, *d1 = diagonal + run[4] * tile_width;
        if (kind == 1) {
            tile_lanes sum = load_tile(d0);
            one_state_run(count, packed + run[5], xr, yr, &sum, load_tile(populations + run[3] * tile_width));
            store_tile(d0, sum);
        } else if (kind == 2) {
            tile_lanes sum0 = load_tile(d0), sum1 = load_tile(d1);
            two_state_run(count, packed + run[5], xr, yr, &sum0, &sum1,
                          load_tile(populations + run[3] * tile_width), load_tile(populations + run[4] * tile_width));
            store_tile(d0, sum0);
            store_tile(d1, sum1);
        } else {
            harmonic_rk4_coordinates(tile_width, count, xr, yr, tile_width, coefficients + 5 * first,
                                     term_start + first, term_state, term_gamma, populations, tile_width, diagonal,
                                     tile_width);
        }
    }
}

/// ψ ← ψ + dt/6 k1 + dt/3 k2 + dt/3 k3 + dt/6 k4 with k = -i H ψ at ψ, ψ + dt/2 k1,
/// ψ + dt/2 k2, ψ + dt k3 (QC Lab's update_wf_db_rk4), summed in that order, for `count`
/// trajectories; every workspace array holds `n * width` doubles.
static inline __attribute__((always_inline)) void wavefunction_rk4(
    int64_t count, int64_t width, int64_t n, const double *restrict h_re,
                                    const double *restrict h_im, int64_t h_stride, double *restrict psi_re,
                                    double *restrict psi_im, int64_t psi_stride, double dt,
                                    double *restrict workspace) {
    // No fused multiply-adds: MeanFieldBatch's Swift passes round every product and sum.
#pragma clang fp contract(off)
    double *restrict hv_re = workspace, *restrict hv_im = hv_re + n * width;
    double *restrict probe_re = hv_im + n * width, *restrict probe_im = probe_re + n * width;
    double *restrict sum_re = probe_im + n * width, *restrict sum_im = sum_re + n * width;
    const double half = 0.5 * dt, sixth = dt * 0.16666666666666666, third = dt * 0.3333333333333333;
    for (int64_t a = 0; a < n; a++) {
        for (int64_t t = 0; t < count; t++) {
            sum_re[a * width + t] = psi_re[a * psi_stride + t];
            sum_im[a * width + t] = psi_im[a * psi_stride + t];
        }
    }
    // Stages 1 to 3: k = -i H v, sum += weight k, probe = ψ + step k.
    const double *stage_re = psi_re, *stage_im = psi_im;
    int64_t stage_stride = psi_stride;
    const double weights[3] = {sixth, third, third}, steps[3] = {half, half, dt};
    for (int stage = 0; stage < 3; stage++) {
        complex_matvec_run(count, n, 0, h_re, h_im, h_stride, stage_re, stage_im, stage_stride, hv_re, hv_im,
                           width);
        const double weight = weights[stage], step = steps[stage];
        for (int64_t a = 0; a < n; a++) {
            double *restrict sr = sum_re + a * width, *restrict si = sum_im + a * width;
            double *restrict pr = probe_re + a * width, *restrict pi = probe_im + a * width;
            const double *restrict vr = hv_re + a * width, *restrict vi = hv_im + a * width;
            const double *restrict xr = psi_re + a * psi_stride, *restrict xi = psi_im + a * psi_stride;
            for (int64_t t = 0; t < count; t++) {
                const double kr = vi[t], ki = -vr[t];
                sr[t] = sr[t] + weight * kr;
                si[t] = si[t] + weight * ki;
                pr[t] = xr[t] + step * kr;
                pi[t] = xi[t] + step * ki;
            }
        }
        stage_re = probe_re;
        stage_im = probe_im;
        stage_stride = width;
    }
    // Stage 4: ψ = sum + dt/6 k4.
    complex_matvec_run(count, n, 0, h_re, h_im, h_stride, probe_re, probe_im, width, hv_re, hv_im, width);
    for (int64_t a = 0; a < n; a++) {
        const double *restrict sr = sum_re + a * width, *restrict si = sum_im + a * width;
        const double *restrict vr = hv_re + a * width, *restrict vi = hv_im + a * width;
        double *restrict xr = psi_re + a * psi_stride, *restrict xi = psi_im + a * psi_stride;
        for (int64_t t = 0; t < count; t++) {
            xr[t] = sr[t] + sixth * vi[t];
            xi[t] = si[t] + sixth * -vr[t];
        }
    }
}

/// |ψ_a|² of `count` trajectories into `populations`, and H_q's diagonal into `diagonal`
/// (both `n * width`), where the classical step adds 2 γ x.
static inline __attribute__((always_inline)) void start_step(int64_t count, int64_t width, int64_t n,
                                                             const double *restrict psi_re,
                                                             const double *restrict psi_im, int64_t psi_stride,
                                                             const double *restrict diagonal_re,
                                                             double *restrict populations, double *restrict diagonal) {
    // Rounded apart, as ClosedFormRK4Step's Swift pass rounds them.
#pragma clang fp contract(off)
    for (int64_t a = 0; a < n; a++) {
        const double *restrict pr = psi_re + a * psi_stride, *restrict pi = psi_im + a * psi_stride;
        double *restrict p = populations + a * width, *restrict d = diagonal + a * width;
        for (int64_t t = 0; t < count; t++) {
            p[t] = pr[t] * pr[t] + pi[t] * pi[t];
            d[t] = diagonal_re[a];
        }
    }
}

/// `steps` whole steps of one tile's `count` trajectories (x, y, ψ and H at the tile's first).
/// The tile's coordinates are copied into the workspace, `tile_width` apart, for the steps
/// (lanes past `count` hold zeros, which stay zeros).
static inline __attribute__((always_inline)) void tile_steps(
    int64_t count, int64_t run_count, const int64_t *restrict runs, const double *restrict packed, int64_t batch,
    int64_t steps, double dt, int64_t n, int64_t coordinates, double *restrict x, double *restrict y,
    const double *restrict coefficients, const int64_t *restrict term_start, const int64_t *restrict term_state,
    const double *restrict term_gamma, const double *restrict diagonal_re, double *restrict psi_re,
    double *restrict psi_im, double *restrict h_re, const double *restrict h_im, double *restrict workspace) {
    double *restrict populations = workspace, *restrict diagonal = populations + n * tile_width;
    double *restrict rk4_workspace = diagonal + n * tile_width;
    double *restrict tile_x = rk4_workspace + 6 * n * tile_width, *restrict tile_y = tile_x + coordinates * tile_width;
    for (int64_t c = 0; c < coordinates; c++) {
        for (int64_t t = 0; t < tile_width; t++) {
            tile_x[c * tile_width + t] = t < count ? x[c * batch + t] : 0.0;
            tile_y[c * tile_width + t] = t < count ? y[c * batch + t] : 0.0;
        }
    }
    for (int64_t i = 0; i < 2 * n * tile_width; i++) populations[i] = 0.0;
    for (int64_t s = 0; s < steps; s++) {
        start_step(count, tile_width, n, psi_re, psi_im, batch, diagonal_re, populations, diagonal);
        harmonic_rk4_tile(run_count, runs, packed, tile_x, tile_y, coefficients, term_start, term_state,
                          term_gamma, populations, diagonal);
        wavefunction_rk4(count, tile_width, n, h_re, h_im, batch, psi_re, psi_im, batch, dt, rk4_workspace);
        for (int64_t a = 0; a < n; a++) {
            double *restrict h = h_re + a * (n + 1) * batch;
            const double *restrict d = diagonal + a * tile_width;
            for (int64_t t = 0; t < count; t++) h[t] = d[t];
        }
    }
    for (int64_t c = 0; c < coordinates; c++) {
        for (int64_t t = 0; t < count; t++) {
            x[c * batch + t] = tile_x[c * tile_width + t];
            y[c * batch + t] = tile_y[c * tile_width + t];
        }
    }
}

// The clones: one with fused multiply-adds (AVX-512, or AVX with FMA) and the baseline,
// whose fma calls libm (StepPlan chooses the tiled step only where the CPU has FMA).
#if defined(__x86_64__) && defined(__linux__)
#define QCLAB_FMA_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define QCLAB_FMA_CLONES
#endif

int qclab_cpu_has_fma(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("fma");
#else
    return 1;
#endif
}

QCLAB_FMA_CLONES
void qclab_mean_field_harmonic_steps(int64_t batch, int64_t steps, double dt, int64_t states, int64_t coordinates,
                                     double *restrict x, double *restrict y, const double *restrict coefficients,
                                     const int64_t *restrict term_start, const int64_t *restrict term_state,
                                     const double *restrict term_gamma, int64_t run_count,
                                     const int64_t *restrict runs, const double *restrict packed,
                                     const double *restrict diagonal_re,
                                     double *restrict psi_re, double *restrict psi_im, double *restrict h_re,
                                     const double *restrict h_im, double *restrict workspace) {
    for (int64_t first = 0; first < batch; first += tile_width) {
        const double *tile_h_im = h_im ? h_im + first : NULL;
        if (batch - first >= tile_width)  // the common case, with the width known to the compiler
            tile_steps(tile_width, run_count, runs, packed, batch, steps, dt, states, coordinates, x + first,
                       y + first, coefficients,
                       term_start, term_state, term_gamma, diagonal_re, psi_re + first, psi_im + first,
                       h_re + first, tile_h_im, workspace);
        else
            tile_steps(batch - first, run_count, runs, packed, batch, steps, dt, states, coordinates, x + first,
                       y + first, coefficients,
                       term_start, term_state, term_gamma, diagonal_re, psi_re + first, psi_im + first,
                       h_re + first, tile_h_im, workspace);
    }
}
