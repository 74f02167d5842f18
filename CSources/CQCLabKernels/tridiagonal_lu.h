// The LU factorization of a shifted symmetric tridiagonal matrix in lanes, shared by the
// inverse iterations of eigensolver.c and warm_tridiagonal.c (always inlined into each
// caller's clones, so each clone keeps its own fused multiply-adds).
#ifndef QCLAB_TRIDIAGONAL_LU_H
#define QCLAB_TRIDIAGONAL_LU_H
#include "eigen_lanes.h"

/// T - x I = P L U for the symmetric tridiagonal T with diagonal `d` and off-diagonal `e`
/// (LAPACK's dlagtf with plain partial pivoting), then dlagts's raising of pivots below
/// `pivot_floor`: `u1` the raw pivots, `rp` the reciprocal (raised) pivots, `u2` and `u3` U's
/// superdiagonals divided by the pivot, `l` the multipliers, `swap` the interchanges.
INLINE void factor_shifted_tridiagonal(int64_t n, const lanes *restrict d, const lanes *restrict e,
                                       const lanes *shift, const lanes *pivot_floor_in, lanes *restrict u1,
                                       lanes *restrict u2, lanes *restrict u3, lanes *restrict l,
                                       lanes *restrict rp, lane_mask *restrict swap) {
    const lanes x = *shift, pivot_floor = *pivot_floor_in;
    // dlagtf: T - x I = P L U, U with diagonal u1 and superdiagonals u2, u3; l the multipliers.
    lanes diagonal = d[0] - x, super = e[0];
    for (int64_t k = 0; k + 1 < n; k++) {
        const lanes sub = e[k], next_diagonal = d[k + 1] - x;
        const lanes next_super = k + 2 < n ? e[k + 1] : splat(0.0);
        // Plain partial pivoting: multipliers of at most 1 keep L bounded, so raising a
        // tiny pivot of U below in the solves perturbs T - x I by no more than ε ||T||.
        // (dlagtf compares the pivots relative to their rows, which allows large
        // multipliers on nearly decoupled rows.)
        const lane_mask interchange = abs_lanes(sub) > abs_lanes(diagonal);
        const lanes multiplier = select_lanes(sub == 0.0, splat(0.0),
                                              select_lanes(interchange, diagonal, sub) /
                                                  select_lanes(interchange, sub, diagonal));
        swap[k] = interchange;
        l[k] = multiplier;
        u1[k] = select_lanes(interchange, sub, diagonal);
        u2[k] = select_lanes(interchange, next_diagonal, super);
        u3[k] = select_lanes(interchange, next_super, splat(0.0));
        diagonal = select_lanes(interchange, super - multiplier * next_diagonal, next_diagonal - multiplier * super);
        super = select_lanes(interchange, -multiplier * next_super, next_super);
    }
    u1[n - 1] = diagonal;
    // dlagts (job -1): pivots below ε ||T|| are raised to it, keeping their sign.
    for (int64_t k = 0; k < n; k++) {
        const lanes pivot = u1[k];
        const lanes raised = select_lanes(pivot < 0.0, -pivot_floor, pivot_floor);
        rp[k] = 1.0 / select_lanes(abs_lanes(pivot) < pivot_floor, raised, pivot);
        // U's superdiagonals divided by the pivot: the back substitution's recurrence
        // through y[k + 1] is then one multiply-add.
        u2[k] *= rp[k];
        u3[k] *= rp[k];
    }
}

#endif
