// exp, sin and cos for whole batches, written so that the loops over trajectories
// vectorize. libm's scalar functions are a call per element and were a quarter of a
// Tully step; these are branch-free lanes (lanes.h: exp table-driven, sin and cos by
// Cody & Waite's range reduction and a polynomial), accurate to about one ulp, which the
// tests check against libm.
#include "CQCLabKernels.h"
#include "lanes.h"
#include <math.h>

QCLAB_CLONES
void qclab_exp_in_place(int64_t count, double *restrict x) {
    for (int64_t i = 0; i < count; i++) x[i] = qclab_exp_lane(x[i]);
}

QCLAB_CLONES
static int64_t sincos_vectorized(int64_t count, const double *restrict x, double *restrict s, double *restrict c) {
    int64_t outside = 0;
    for (int64_t i = 0; i < count; i++) {
        qclab_sincos_lane(x[i], &s[i], &c[i]);
        outside += !(fabs(x[i]) <= sincos_vector_limit);
    }
    return outside;
}

void qclab_sincos(int64_t count, const double *x, double *s, double *c) {
    if (sincos_vectorized(count, x, s, c) == 0) return;
    for (int64_t i = 0; i < count; i++) {
        if (!(fabs(x[i]) <= sincos_vector_limit)) { s[i] = sin(x[i]); c[i] = cos(x[i]); }
    }
}
