// Scalar helpers shared by the surface-hopping kernel files (surface_hopping.c and
// surface_hopping_sweep.c), so that both round every probability the same way.
#ifndef QCLAB_SURFACE_HOPPING_H
#define QCLAB_SURFACE_HOPPING_H
#include <math.h>

/// NumPy's sign: -1, 0 or 1.
static inline double sign_of(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

/// QC Lab's clipping of a hopping probability: negative → 0, NaN → 0, +inf → 1e102.
static inline double clipped(double value) {
    if (value < 0) value *= 0.0;
    if (value != value) value = 0.0;
    if (value == INFINITY) value = 1e102;
    return value;
}

/// Re(x / c) by Smith's algorithm, as NumPy divides, so that edge cases (c = 0 gives ±inf
/// or NaN, which the clipping turns into a certain hop or none) come out as in QC Lab.
static inline double real_part_of_quotient(double xr, double xi, double cr, double ci) {
    const int real_larger = fabs(cr) >= fabs(ci);
    const double big = real_larger ? cr : ci, small = real_larger ? ci : cr;
    const double ratio = small / big, scale = 1.0 / (big + small * ratio);
    const double smith = real_larger ? (xr + xi * ratio) * scale : (xr * ratio + xi) * scale;
    // x / +0 is what x * +inf is, without the division.
    return (cr == 0 && ci == 0) ? xr * INFINITY : smith;
}

/// The fewest-switches probability -2 Re(nac c_k / c_a) of one lane, clipped (0 for the
/// active state itself): with nac = nr + i ni, c_k = ckr + i cki, c_a = car + i cai.
static inline double hop_probability(double nr, double ni, double ckr, double cki, double car, double cai,
                                     int is_active) {
    const double xr = nr * ckr - ni * cki, xi = nr * cki + ni * ckr;
    return is_active ? 0.0 : clipped(-2.0 * real_part_of_quotient(xr, xi, car, cai));
}

#endif
