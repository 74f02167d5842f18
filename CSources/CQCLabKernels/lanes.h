// One-lane exp and sincos, inlined into the loops of the kernel files that need them so
// that those loops vectorize (see vector_math.c), and the clone attribute the kernels share.
#ifndef QCLAB_LANES_H
#define QCLAB_LANES_H
#include <stdint.h>
#include <math.h>
#include <string.h>
#include "exp_table.h"

#if defined(__x86_64__) && defined(__linux__)
#define QCLAB_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QCLAB_CLONES
#endif

static inline int64_t bits_of(double x) { int64_t b; memcpy(&b, &x, sizeof b); return b; }
static inline double double_of(int64_t b) { double x; memcpy(&x, &b, sizeof x); return x; }

/// Adding then subtracting 1.5 * 2^52 rounds a double of magnitude below 2^51 to the
/// nearest integer, which then sits in the low bits of the sum's mantissa.
static const double round_shifter = 0x1.8p52;

/// c[0] + x (c[1] + x (c[2] + ...)) by Horner's rule; with constant coefficients and
/// count the loop unrolls, and the lanes calling it still vectorize.
static inline double polynomial(double x, const double *c, int count) {
    double p = c[count - 1];
    for (int i = count - 2; i >= 0; i--) p = p * x + c[i];
    return p;
}

/// (sin r - r) = -r z P(z): P's coefficients (-1)^k / (2k + 3)!, to r^17.
static const double sin_taylor[8] = {
    1.0 / 6.0, -1.0 / 120.0, 1.0 / 5040.0, -1.0 / 362880.0, 1.0 / 39916800.0, -1.0 / 6227020800.0,
    1.0 / 1307674368000.0, -1.0 / 355687428096000.0,
};

/// (cos r - 1 + z/2) = -z² Q(z): Q's coefficients (-1)^(k+1) / (2k + 4)!, to r^18.
static const double cos_taylor[8] = {
    -1.0 / 24.0, 1.0 / 720.0, -1.0 / 40320.0, 1.0 / 3628800.0, -1.0 / 479001600.0,
    1.0 / 87178291200.0, -1.0 / 20922789888000.0, 1.0 / 6402373705728000.0,
};

/// exp(x) for one lane, table-driven (Tang, ACM TOMS 15, 144 (1989)): x = (128 k + j) ln2/128
/// + r with |r| <= ln2/256 (ln2/128 in a head whose products with k are exact, and a
/// tail), then exp(x) = 2^k 2^(j/128) exp(r) with 2^(j/128) from a table of 128 correctly
/// rounded doubles (exp_table.h) and exp(r) - 1 by its Taylor series to r^5 (truncation
/// below 6e-19). Error at most about one ulp (0.5 from the table, 0.5 from the final
/// rounding; the tests measure it against the C library). 2^k is applied in two halves so
/// that results near the overflow and underflow limits need no special case: below -746
/// the result is 0, above 710 infinity; NaN stays NaN.
static inline double qclab_exp_lane(double x) {
    const double clamped = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
    const double shifted = clamped * exp_table_scale + round_shifter;
    const double kd = shifted - round_shifter;
    const int64_t ki = bits_of(shifted) - bits_of(round_shifter);
    const double r = (clamped - kd * exp_ln2_head) - kd * exp_ln2_tail;
    const double r2 = r * r;
    const double expm1_r = r + r2 * (0.5 + r * (1.0 / 6.0)) + (r2 * r2) * (1.0 / 24.0 + r * (1.0 / 120.0));
    const int64_t k = ki >> 7, k1 = k >> 1, k2 = k - k1;
    // 2^(j/128) lies in [1, 2): adding k1 to its exponent field scales it by 2^k1.
    const double scale = double_of(bits_of(exp_table[ki & (QCLAB_EXP_TABLE_SIZE - 1)]) + (int64_t)((uint64_t)k1 << 52));
    return (scale + scale * expm1_r) * double_of((k2 + 1023) << 52);
}

/// Above this magnitude the three-part reduction below loses accuracy; such arguments
/// (never met in practice: they are phases of a single time step) go to libm.
static const double sincos_vector_limit = 1.0e5;

/// Below this magnitude x (2/π) rounds to 0: sincos needs no range reduction (r = x), and
/// qclab_sincos_small_lane gives qclab_sincos_lane's bits.
static const double sincos_small_limit = 0.78;

/// sin r and cos r for |r| <= π/4 by their Taylor series, sin r to r^17 and cos r to r^18
/// (truncation below 1e-17): sin r = r - r z P(z), cos r = 1 - z/2 - z² Q(z) with z = r².
static inline void qclab_sincos_small_lane(double r, double *s, double *c) {
    const double z = r * r;
    *s = r - (r * z) * polynomial(z, sin_taylor, 8);
    *c = 1.0 - 0.5 * z + (z * z) * -polynomial(z, cos_taylor, 8);
}

/// sin(x) and cos(x) for one lane, |x| <= sincos_vector_limit: x = k π/2 + r with
/// |r| <= π/4 (π/2 in three parts whose products with k are exact, as in fdlibm's
/// medium-size reduction), qclab_sincos_small_lane of r, then the quadrant k mod 4 picks
/// and signs them.
static inline void qclab_sincos_lane(double x, double *s, double *c) {
    const double pio2_1 = 1.57079632673412561417e+00, pio2_2 = 6.07710050630396597660e-11;
    const double pio2_3 = 2.02226624871116645580e-21, pio2_3t = 8.47842766036889956997e-32;
    const double shifted = x * 6.36619772367581382433e-01 + round_shifter;
    const double k = shifted - round_shifter;
    const int64_t quadrant = (bits_of(shifted) - bits_of(round_shifter)) & 3;
    const double r = (((x - k * pio2_1) - k * pio2_2) - k * pio2_3) - k * pio2_3t;
    double sin_r, cos_r;
    qclab_sincos_small_lane(r, &sin_r, &cos_r);
    // Quadrant 0: (sin r, cos r); 1: (cos r, -sin r); 2: (-sin r, -cos r); 3: (-cos r, sin r).
    const double a = (quadrant & 1) ? cos_r : sin_r;
    const double b = (quadrant & 1) ? sin_r : cos_r;
    *s = (quadrant & 2) ? -a : a;
    *c = ((quadrant + 1) & 2) ? -b : b;
}

#endif
