// The fused quantum part of a two-state real surface-hopping step (sign_overlap gauge):
// everything after the classical step in one pass over the batch (two_state.h holds the
// per-trajectory arithmetic, shared with the fused scattering step in scattering.c).
#include "CQCLabKernels.h"
#include "two_state.h"

/// The loop, its arrays as `restrict` parameters so that it vectorizes; `branches` is 1
/// or the number of branches of deterministic surface hopping (a constant 1 in the
/// stochastic instance with small phases, so that its draws are plain loads).
static inline __attribute__((always_inline)) void
two_state_real_loop(const int small_phases, int64_t batch, int64_t branches, double dt, const double *restrict h,
                    const double *restrict draws, const double *restrict previous_v, double *restrict w,
                    double *restrict v_re, double *restrict v_im, double *restrict wf_db_re,
                    double *restrict wf_db_im, double *restrict wf_adb_re, double *restrict wf_adb_im,
                    const int64_t *restrict active, double *restrict probability, double *restrict active_re,
                    double *restrict active_im, int64_t *restrict target) {
    // The arrays are distinct (the `restrict` above), but an inlined function's `restrict`
    // does not reach the vectorizer's view of the loop: say so to it.
#pragma clang loop vectorize(assume_safety)
    for (int64_t t = 0; t < batch; t++) {
        two_state_quantum_lane(small_phases, batch, t, dt, h[t], h[batch + t], h[3 * batch + t], draws[t / branches], previous_v,
                               w, v_re, v_im, wf_db_re, wf_db_im, wf_adb_re, wf_adb_im, active, probability,
                               active_re, active_im, target);
    }
}

QCLAB_CLONES
int qclab_fssh_two_state_real_step(const qclab_two_state_step *step) {
    const qclab_two_state_step s = *step;
    const int phases = two_state_phase_class(s.batch, s.dt, s.w);
    if (phases < 0) return -1;
    if (s.branches == 1 && phases == 1) {
        two_state_real_loop(1, s.batch, 1, s.dt, s.h, s.draws, TWO_STATE_LANE_ARRAYS(s));
    } else {
        two_state_real_loop(0, s.batch, s.branches, s.dt, s.h, s.draws, TWO_STATE_LANE_ARRAYS(s));
    }
    return 0;
}
