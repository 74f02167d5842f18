// The two-state scattering models: their diabatic surfaces (TullyProblemOne/Two/Three.swift
// hold the formulas and the reference), the classical RK4 step over whole batches
// (TwoStateScatteringModel+FusedStep.swift), and the whole surface-hopping step fused into
// one pass, with the exponentials inlined.
#include "CQCLabKernels.h"
#include "two_state.h"

/// The potentials and slopes of the surfaces `kind` (a constant where this is inlined,
/// so that each loop holds one model's formulas) at position q.
static inline __attribute__((always_inline)) void
surfaces_lane(const int kind, const qclab_scattering_surfaces m, double q, double *v11, double *v12, double *v22,
              double *d11, double *d12, double *d22) {
    switch (kind) {
    case QCLAB_TULLY_ONE: {
        const double decay = qclab_exp_lane(-m.b * fabs(q)), gaussian = qclab_exp_lane(-m.d * (q * q));
        const double v = q >= 0 ? m.a * (1.0 - decay) : -m.a * (1.0 - decay), slope = m.a * m.b * decay;
        *v11 = v; *v12 = m.c * gaussian; *v22 = -v;
        *d11 = slope; *d12 = -2.0 * m.c * m.d * q * gaussian; *d22 = -slope;
        break;
    }
    case QCLAB_TULLY_TWO: {
        const double coupling = qclab_exp_lane(-m.d * (q * q)), well = qclab_exp_lane(-m.b * (q * q));
        *v11 = 0.0; *v12 = m.c * coupling; *v22 = -m.a * well + m.e0;
        *d11 = 0.0; *d12 = -2.0 * m.c * m.d * q * coupling; *d22 = 2.0 * m.a * m.b * q * well;
        break;
    }
    default: {
        const double decay = qclab_exp_lane(-m.c * fabs(q));
        *v11 = m.a; *v12 = q >= 0 ? m.b * (2.0 - decay) : m.b * decay; *v22 = -m.a;
        *d11 = 0.0; *d12 = m.b * m.c * decay; *d22 = 0.0;
    }
    }
}

static inline __attribute__((always_inline)) void
diabatic_loop(const int kind, const qclab_scattering_surfaces m, int64_t batch, const double *restrict q,
              double *restrict v11, double *restrict v12, double *restrict v22, double *restrict d11,
              double *restrict d12, double *restrict d22) {
    for (int64_t t = 0; t < batch; t++) surfaces_lane(kind, m, q[t], &v11[t], &v12[t], &v22[t], &d11[t], &d12[t], &d22[t]);
}

QCLAB_CLONES
void qclab_scattering_diabatic(const qclab_scattering_surfaces *surfaces, int64_t batch, const double *q,
                               double *v11, double *v12, double *v22, double *d11, double *d12, double *d22) {
    const qclab_scattering_surfaces m = *surfaces;
    switch (m.kind) {
    case QCLAB_TULLY_ONE: diabatic_loop(QCLAB_TULLY_ONE, m, batch, q, v11, v12, v22, d11, d12, d22); break;
    case QCLAB_TULLY_TWO: diabatic_loop(QCLAB_TULLY_TWO, m, batch, q, v11, v12, v22, d11, d12, d22); break;
    default: diabatic_loop(QCLAB_TULLY_THREE, m, batch, q, v11, v12, v22, d11, d12, d22);
    }
}

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

/// The fused step's loop over trajectories (see qclab_fssh_scattering_step), its arrays as
/// `restrict` parameters so that it vectorizes; `kind` is a constant in each instance, and
/// `branches` a constant 1 in the stochastic one with small phases (`small_phases`).
static inline __attribute__((always_inline)) void
scattering_step_loop(const int kind, const int small_phases, const qclab_scattering_surfaces m, int64_t batch, int64_t branches, double dt,
                     double position_scale, double force_scale, double *restrict x, double *restrict y,
                     double *restrict slopes, double *restrict evaluated_at, double *restrict h,
                     const double *restrict draws, const double *restrict previous_v, double *restrict w,
                     double *restrict v_re, double *restrict v_im, double *restrict wf_db_re,
                     double *restrict wf_db_im, double *restrict wf_adb_re, double *restrict wf_adb_im,
                     const int64_t *restrict active, double *restrict probability, double *restrict active_re,
                     double *restrict active_im, int64_t *restrict target) {
    const double half = 0.5 * dt, sixth = dt / 6.0;
    // The arrays are distinct (the `restrict` above), but an inlined function's `restrict`
    // does not reach the vectorizer's view of the loop: say so to it.
#pragma clang loop vectorize(assume_safety)
    for (int64_t t = 0; t < batch; t++) {
        // The force is taken in the active eigenvector of the step's start, g = P[·][a]
        // (real: the imaginary parts are zero), as in scattering_force.
        const int64_t a = active[t];
        const double p00 = previous_v[t], p01 = previous_v[batch + t];
        const double p10 = previous_v[2 * batch + t], p11 = previous_v[3 * batch + t];
        const double g0 = a == 0 ? p00 : p01, g1 = a == 0 ? p10 : p11;
        const double p0 = g0 * g0, p1 = g1 * g1, coherence = 2.0 * (g0 * g1);
#define FORCE(s11, s12, s22) (force_scale * ((s11) * p0 + (s22) * p1 + (s12) * coherence))
        // QC Lab's four RK4 stages, as qclab_scattering_rk4_stage computes them.
        double v11, v12, v22, s11, s12, s22;
        const double x0 = x[t], y0 = y[t];
        const double f0 = FORCE(slopes[t], slopes[batch + t], slopes[2 * batch + t]);
        surfaces_lane(kind, m, position_scale * (x0 + half * y0), &v11, &v12, &v22, &s11, &s12, &s22);
        const double f1 = FORCE(s11, s12, s22);
        surfaces_lane(kind, m, position_scale * (x0 + half * (y0 - half * f0)), &v11, &v12, &v22, &s11, &s12, &s22);
        const double f2 = FORCE(s11, s12, s22);
        const double stage_y = y0 - half * f1;
        surfaces_lane(kind, m, position_scale * (x0 + dt * stage_y), &v11, &v12, &v22, &s11, &s12, &s22);
        const double f3 = FORCE(s11, s12, s22);
#undef FORCE
        const double y1 = y0 - half * f0, y3 = y0 - dt * f2;
        const double xn = x0 + sixth * (y0 + 2.0 * y1 + 2.0 * stage_y + y3);
        x[t] = xn;
        y[t] = y0 + sixth * (-f0 + 2.0 * -f1 + 2.0 * -f2 + -f3);
        // The surfaces at the new coordinate: H, and the next step's first force.
        surfaces_lane(kind, m, position_scale * xn, &v11, &v12, &v22, &s11, &s12, &s22);
        slopes[t] = s11; slopes[batch + t] = s12; slopes[2 * batch + t] = s22;
        evaluated_at[t] = xn;
        h[t] = v11; h[batch + t] = v12; h[2 * batch + t] = v12; h[3 * batch + t] = v22;
        two_state_quantum_lane(small_phases, batch, t, dt, v11, v12, v22, draws[t / branches], previous_v, w, v_re, v_im, wf_db_re,
                               wf_db_im, wf_adb_re, wf_adb_im, active, probability, active_re, active_im, target);
    }
}

/// The arrays of one component each that a trajectory's step reads, `active` aside (its
/// thirteenth word), and its slopes aside (those are the surfaces' at x, the same where x is).
enum { STEP_INPUTS = 12 };
static inline void step_inputs(const qclab_scattering_classical c, const qclab_two_state_step s,
                               const double *inputs[STEP_INPUTS]) {
    const int64_t n = s.batch;
    const double *const p = s.previous_v, *const w = s.w, *const re = s.wf_db_re, *const im = s.wf_db_im;
    const double *const all[STEP_INPUTS] = {c.x, c.y, p, p + n, p + 2 * n, p + 3 * n, w, w + n, re, re + n, im, im + n};
    for (int k = 0; k < STEP_INPUTS; k++) inputs[k] = all[k];
}

/// Whether trajectories t and r enter the step with the same inputs, bit for bit: 0 if so.
static inline __attribute__((always_inline)) int64_t
step_inputs_differ(const double *const inputs[STEP_INPUTS], const int64_t *restrict active, int64_t t, int64_t r) {
    int64_t differs = active[t] ^ active[r];
    for (int k = 0; k < STEP_INPUTS; k++) differs |= bits_of(inputs[k][t]) ^ bits_of(inputs[k][r]);
    return differs;
}

/// Each trajectory's representative for this step (`c.representatives`, updated), the
/// representatives in order (`unique`) and each trajectory's position among them (`index`);
/// returns their number.
///
/// A trajectory keeps the last step's representative where their inputs are still the same
/// (checked for all in vectorized passes). Where they are not (a hop moved one of them), it
/// tries the first trajectory of its set that left it this step (those hopping together stay
/// together), else it represents itself. Sets never merge, so only identical starts (a
/// definite initial position and momentum) share work; the guesses are checked, so any
/// `representatives` gives the right results.
static inline __attribute__((always_inline)) int64_t
find_representatives(const qclab_scattering_classical c, const qclab_two_state_step s, int64_t *restrict unique,
                     int64_t *restrict index, int64_t *restrict split) {
    const int64_t n = s.batch;
    const int64_t *restrict active = s.active;
    int64_t *restrict representative = c.representatives, *restrict differs = split, count = 0;
    // Sets never merge: once every trajectory represents itself, so it stays.
    int64_t shared = 0;
    for (int64_t t = 0; t < n; t++) shared += representative[t] != t;
    if (shared == 0) return n;
    const double *inputs[STEP_INPUTS];
    step_inputs(c, s, inputs);
    // Three passes of four input arrays, each a gather from the representatives and a compare
    // that vectorizes (one pass over all thirteen words runs out of registers).
    int64_t *restrict against = index;  // `index` is written only after this
#pragma clang loop vectorize(assume_safety)
    for (int64_t t = 0; t < n; t++) {
        const int64_t previous = representative[t];
        against[t] = previous >= 0 && previous < t ? previous : t;
    }
    _Static_assert(STEP_INPUTS == 3 * 4, "three passes of four arrays");
    for (int pass = 0; pass < 3; pass++) {
        const double *restrict a = inputs[4 * pass], *restrict b = inputs[4 * pass + 1];
        const double *restrict c = inputs[4 * pass + 2], *restrict d = inputs[4 * pass + 3];
#define DIFFER(array) (bits_of((array)[t]) ^ bits_of((array)[r]))
#pragma clang loop vectorize(assume_safety)
        for (int64_t t = 0; t < n; t++) {
            const int64_t r = against[t];
            const int64_t before = pass == 0 ? active[t] ^ active[r] : differs[t];
            differs[t] = before | DIFFER(a) | DIFFER(b) | DIFFER(c) | DIFFER(d);
        }
#undef DIFFER
    }
    // `split` takes over from `differs` entry by entry: split[t] is read only after t.
    for (int64_t t = 0; t < n; t++) {
        const int64_t previous = representative[t];
        int64_t r = t;
        if (previous >= 0 && previous < t) {
            if (!differs[t]) {
                r = previous;
            } else if (split[previous] >= 0 &&
                       !step_inputs_differ(inputs, active, t, split[previous])) {
                r = split[previous];
            } else if (split[previous] < 0) {
                split[previous] = t;
            }
        }
        split[t] = -1;
        representative[t] = r;
        if (r == t) {
            index[t] = count;
            unique[count++] = t;
        } else {
            index[t] = index[r];
        }
    }
    return count;
}

/// `to[k n + t] = from[k u + index[t]]` for the `components` components of every trajectory.
static inline void spread(int64_t n, int64_t u, int64_t components, const int64_t *restrict index,
                          const double *restrict from, double *restrict to) {
    for (int64_t k = 0; k < components; k++)
        for (int64_t t = 0; t < n; t++) to[k * n + t] = from[k * u + index[t]];
}

/// The distinct trajectories' arrays in `c.scratch`, `u` to a component, after the three
/// index arrays: `gc` and `gs` are `c` and `s` with their arrays there (one branch each).
static inline void distinct_arrays(const qclab_scattering_classical c, const qclab_two_state_step s, int64_t u,
                                   qclab_scattering_classical *gc, qclab_two_state_step *gs) {
    double *next = c.scratch + 3 * s.batch;
#define TAKE(components) (next += (components) * u, next - (components) * u)
    *gc = c;
    *gs = s;
    gs->batch = u;
    gs->branches = 1;
    gc->x = TAKE(1); gc->y = TAKE(1); gc->slopes = TAKE(3); gc->evaluated_at = TAKE(1);
    gs->h = TAKE(4); gs->w = TAKE(2); gs->v_re = TAKE(4); gs->v_im = TAKE(4);
    gs->wf_db_re = TAKE(2); gs->wf_db_im = TAKE(2); gs->wf_adb_re = TAKE(2); gs->wf_adb_im = TAKE(2);
    gs->probability = TAKE(2); gs->active_re = TAKE(2); gs->active_im = TAKE(2);
    gs->previous_v = TAKE(4); gs->draws = TAKE(1);
    gs->active = (const int64_t *)TAKE(1); gs->target = (int64_t *)TAKE(1);
#undef TAKE
}

/// Every trajectory's outputs that collect points read (H, c, probabilities, the active
/// eigenvector) from its representative's in `gs`.
static inline void spread_outputs(int64_t n, int64_t u, const int64_t *restrict index, const qclab_two_state_step *gs,
                                  const qclab_two_state_step *s) {
    spread(n, u, 4, index, gs->h, s->h);
    spread(n, u, 2, index, gs->wf_adb_re, s->wf_adb_re); spread(n, u, 2, index, gs->wf_adb_im, s->wf_adb_im);
    spread(n, u, 2, index, gs->probability, s->probability); spread(n, u, 2, index, gs->active_re, s->active_re);
    for (int64_t t = 0; t < 2 * n; t++) s->active_im[t] = 0.0;
}

/// The fused step's loop over trajectories for the arrays `c` and `s`.
static inline __attribute__((always_inline)) void
scattering_step_arrays(const int kind, const qclab_scattering_surfaces m, const qclab_scattering_classical c,
                       const qclab_two_state_step s, int small_phases) {
    if (s.branches == 1 && small_phases) {
        scattering_step_loop(kind, 1, m, s.batch, 1, s.dt, c.position_scale, c.force_scale, c.x, c.y, c.slopes,
                             c.evaluated_at, s.h, s.draws, TWO_STATE_LANE_ARRAYS(s));
    } else {
        scattering_step_loop(kind, 0, m, s.batch, s.branches, s.dt, c.position_scale, c.force_scale, c.x, c.y, c.slopes,
                             c.evaluated_at, s.h, s.draws, TWO_STATE_LANE_ARRAYS(s));
    }
}

/// Below this share of distinct trajectories, the step gathers them into the workspace and
/// runs on those alone (above it, the gathering would cost more than it saves).
static const double gathering_limit = 2.0 / 3.0;

/// The fused step for the surfaces `kind` (a constant in each call).
static inline __attribute__((always_inline)) void
scattering_step(const int kind, const qclab_scattering_surfaces m, const qclab_scattering_classical c,
                const qclab_two_state_step s, int small_phases) {
    const int64_t n = s.batch;
    int64_t *const lanes = (int64_t *)c.scratch, *const index = lanes + n, *const split = index + n;
    if (c.deferred) *c.deferred = 0;  // the last step's deferred outputs, if any, are dropped
    // The sets found last step, where they still hold; else found (and checked) anew.
    const int64_t u = !c.representatives ? n
                      : c.sets_hold     ? *c.distinct
                                        : find_representatives(c, s, lanes, index, split);
    if (c.representatives) *c.distinct = u;
    const int gathers = (double)u <= gathering_limit * (double)n;
    // Slopes at coordinates that moved since their evaluation (a hop that rescaled a
    // position, a trajectory that was another's copy, say): rare, so counted in a vectorized
    // pass, then evaluated one trajectory at a time rather than every lane's exponentials.
    int64_t moved = 0;
    if (gathers) {
        for (int64_t i = 0; i < u; i++) moved += !(c.evaluated_at[lanes[i]] == c.x[lanes[i]]);
    } else {
        for (int64_t t = 0; t < n; t++) moved += !(c.evaluated_at[t] == c.x[t]);
    }
#pragma clang loop vectorize(disable)
    for (int64_t i = 0; moved > 0 && i < (gathers ? u : n); i++) {
        const int64_t t = gathers ? lanes[i] : i;
        if (c.evaluated_at[t] == c.x[t]) continue;
        double v11, v12, v22;
        surfaces_lane(kind, m, c.position_scale * c.x[t], &v11, &v12, &v22, &c.slopes[t], &c.slopes[n + t],
                      &c.slopes[2 * n + t]);
        c.evaluated_at[t] = c.x[t];
    }
    if (!gathers) {
        scattering_step_arrays(kind, m, c, s, small_phases);
        return;
    }
    qclab_scattering_classical gc = c;
    qclab_two_state_step gs = s;
    distinct_arrays(c, s, u, &gc, &gs);
    double *const previous_v = (double *)gs.previous_v, *const draws = (double *)gs.draws;
    int64_t *const active = (int64_t *)gs.active;
    // Gather the inputs (draws included: each takes its own), step, then give every
    // trajectory its representative's results and its own hop target.
#define GATHER(to, from, components) \
    for (int64_t k = 0; k < (components); k++) for (int64_t i = 0; i < u; i++) (to)[k * u + i] = (from)[k * n + lanes[i]]
    GATHER(gc.x, c.x, 1); GATHER(gc.y, c.y, 1); GATHER(gc.slopes, c.slopes, 3); GATHER(gc.evaluated_at, c.evaluated_at, 1);
    GATHER(previous_v, s.previous_v, 4); GATHER(gs.w, s.w, 2); GATHER(gs.wf_db_re, s.wf_db_re, 2);
    GATHER(gs.wf_db_im, s.wf_db_im, 2); GATHER(active, s.active, 1);
    for (int64_t i = 0; i < u; i++) draws[i] = s.branches == 1 ? s.draws[lanes[i]] : s.draws[lanes[i] / s.branches];
#undef GATHER
    // The arithmetic of each lane is that of the whole batch's (the same sincos: small phases
    // take the shortcut only with one branch, as there).
    scattering_step_arrays(kind, m, gc, gs, s.branches == 1 && small_phases);
    // The slopes only to the representatives (a copy's are evaluated when it is one).
    for (int64_t k = 0; k < 3; k++) for (int64_t i = 0; i < u; i++) c.slopes[k * n + lanes[i]] = gc.slopes[k * u + i];
    for (int64_t i = 0; i < u; i++) c.evaluated_at[lanes[i]] = gc.evaluated_at[i];
    // Every trajectory's results from its representative's.
    spread(n, u, 1, index, gc.x, c.x); spread(n, u, 1, index, gc.y, c.y);
    spread(n, u, 2, index, gs.w, s.w); spread(n, u, 4, index, gs.v_re, s.v_re);
    spread(n, u, 2, index, gs.wf_db_re, s.wf_db_re); spread(n, u, 2, index, gs.wf_db_im, s.wf_db_im);
    for (int64_t t = 0; t < 4 * n; t++) s.v_im[t] = 0.0;
    if (c.defer_outputs && c.deferred) {
        *c.deferred = u;
    } else {
        spread_outputs(n, u, index, &gs, &s);
    }
    for (int64_t t = 0; t < n; t++) {
        const double prob0 = gs.probability[index[t]], prob1 = gs.probability[u + index[t]];
        const double draw = s.branches == 1 ? s.draws[t] : s.draws[t / s.branches];
        s.target[t] = prob0 > draw ? 0 : (prob0 + prob1 > draw ? 1 : -1);
    }
}

QCLAB_CLONES
int qclab_fssh_scattering_step(const qclab_scattering_surfaces *surfaces, const qclab_scattering_classical *classical,
                               const qclab_two_state_step *step) {
    const qclab_scattering_surfaces m = *surfaces;
    const qclab_scattering_classical c = *classical;
    const qclab_two_state_step s = *step;
    const int phases = two_state_phase_class(s.batch, s.dt, s.w);
    if (phases < 0) return -1;
    switch (m.kind) {
    case QCLAB_TULLY_ONE: scattering_step(QCLAB_TULLY_ONE, m, c, s, phases); break;
    case QCLAB_TULLY_TWO: scattering_step(QCLAB_TULLY_TWO, m, c, s, phases); break;
    case QCLAB_TULLY_THREE: scattering_step(QCLAB_TULLY_THREE, m, c, s, phases); break;
    default: return -1;
    }
    return 0;
}

void qclab_fssh_scattering_complete(const qclab_scattering_classical *classical, const qclab_two_state_step *step) {
    const qclab_scattering_classical c = *classical;
    if (!c.deferred || *c.deferred == 0) return;
    const int64_t u = *c.deferred, n = step->batch;
    qclab_scattering_classical gc;
    qclab_two_state_step gs;
    distinct_arrays(c, *step, u, &gc, &gs);
    spread_outputs(n, u, (const int64_t *)c.scratch + n, &gs, step);
    *c.deferred = 0;
}
