// Exact, reproducible sums for the reduction of a run's outputs.
//
// The method is binned ("indexed") summation in the spirit of Demmel & Nguyen, "Parallel
// Reproducible Summation", IEEE Trans. Computers 64(7), 2015 (ReproBLAS), done with
// integers: the bit positions of doubles are cut into fixed bins of 32 bits; a sum keeps
// the four bins below and including the bin of the largest magnitude it has seen (its
// window), each as an int64 "limb" that adds up the 32-bit slices of every value in that
// bin. Slicing is exact and fixed by the value alone; bits below the window are dropped
// (each value loses less than one unit of the window's lowest bin, at most 2^-96 of the
// largest value). When a larger value raises the window, the lowest limbs are dropped
// whole, exactly as if the window had been that high from the start. So a sum is a pure
// function of the multiset of values: the same bits in any order and any grouping, and
// two sums add exactly (align windows, add limbs). Limbs are never carried, which keeps
// that property; an int64 limb holds 2^30 deposits of up to 2^32 with ample headroom.
#include "CQCLabDrivers.h"
#include <math.h>
#include <string.h>

#define BIAS 1088      // bin b holds bit exponents [32 b - BIAS, 32 b - BIAS + 32)
#define MASK32 0xffffffffull

#define LIMBS 4

static inline void shift_window(int64_t *s, int64_t top) {
    int64_t d = top - s[0];
    for (int j = LIMBS; j >= 1; j--) s[j] = j - d >= 1 ? s[j - d] : 0;  // limb j holds bin top - (j - 1)
    s[0] = top;
}

void qclab_exact_clear(int64_t *elements, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count * (QCLAB_EXACT_ELEMENT / QCLAB_EXACT_STATE); i++) {
        int64_t *s = elements + i * QCLAB_EXACT_STATE;
        s[0] = QCLAB_EXACT_EMPTY;
        for (int j = 1; j <= LIMBS; j++) s[j] = 0;
    }
}

static inline void deposit(int64_t *s, double x, int64_t k) {
    if (s[0] == QCLAB_EXACT_NONFINITE || k == 0) return;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t field = (bits >> 52) & 0x7ff;
    if (field == 0x7ff) {
        s[0] = QCLAB_EXACT_NONFINITE;
        for (int j = 1; j <= LIMBS; j++) s[j] = 0;
        return;
    }
    uint64_t m = bits & ((1ull << 52) - 1);
    int e;  // exponent of m's lowest bit
    if (field) { m |= 1ull << 52; e = (int)field - 1075; } else { if (!m) return; e = -1074; }
    int leading = e + 63 - __builtin_clzll(m);
    int64_t bin = (leading + BIAS) >> 5;
    if (s[0] == QCLAB_EXACT_EMPTY) s[0] = bin; else if (bin > s[0]) shift_window(s, bin);
    int shift = e - (int)(32 * (s[0] - (LIMBS - 1)) - BIAS);
    unsigned __int128 v;
    if (shift >= 0) v = (unsigned __int128)m << shift;           // below 2^128 by the choice of window
    else if (shift > -64) v = m >> -shift;
    else return;
    int64_t sign = (bits >> 63) ? -k : k;
    for (int j = LIMBS; j >= 1; j--, v >>= 32) s[j] += sign * (int64_t)((uint64_t)v & MASK32);
}

void qclab_exact_deposit(int64_t *s, double x, int64_t k) { deposit(s, x, k); }

/// The bin of the leading bit of finite, nonzero `x` (as `deposit` computes it); -1 for a
/// zero, and `INT64_MAX` for an infinity or a NaN.
static inline int64_t bin_of(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t field = (bits >> 52) & 0x7ff, m = bits & ((1ull << 52) - 1);
    if (field == 0x7ff) return INT64_MAX;
    int e;
    if (field) { m |= 1ull << 52; e = (int)field - 1075; } else { if (!m) return -1; e = -1074; }
    return (e + 63 - __builtin_clzll(m) + BIAS) >> 5;
}

/// `deposit` of finite `x` whose bin is at most the window top `top`, into local limbs
/// `acc[1...LIMBS]` (no window checks: the caller has raised the window first).
static inline void add_in_window(int64_t *acc, int64_t top, double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t field = (bits >> 52) & 0x7ff, m = bits & ((1ull << 52) - 1);
    int e;
    if (field) { m |= 1ull << 52; e = (int)field - 1075; } else { if (!m) return; e = -1074; }
    int shift = e - (int)(32 * (top - (LIMBS - 1)) - BIAS);
    unsigned __int128 v;
    if (shift >= 0) v = (unsigned __int128)m << shift;
    else if (shift > -64) v = m >> -shift;
    else return;
    int64_t sign = (bits >> 63) ? -1 : 1;
    for (int j = LIMBS; j >= 1; j--, v >>= 32) acc[j] += sign * (int64_t)((uint64_t)v & MASK32);
}

/// Deposits `values[0..<count]` into state `s` as `count` calls of `deposit(s, x, 1)` would,
/// with the window raised once to the largest bin among them and the limbs added up in
/// registers: the state is a function of the multiset of values, so the order of
/// deposits (and so this way of making them) does not change a bit of it.
static void deposit_all(int64_t *s, const double *values, ptrdiff_t count) {
    if (s[0] == QCLAB_EXACT_NONFINITE) return;
    int64_t top = -1;
    for (ptrdiff_t i = 0; i < count; i++) {
        int64_t bin = bin_of(values[i]);
        if (bin > top) top = bin;
    }
    if (top < 0) return;  // only zeros
    if (top == INT64_MAX) {
        s[0] = QCLAB_EXACT_NONFINITE;
        for (int j = 1; j <= LIMBS; j++) s[j] = 0;
        return;
    }
    if (s[0] == QCLAB_EXACT_EMPTY) s[0] = top; else if (top > s[0]) shift_window(s, top);
    int64_t acc[LIMBS + 1] = {0};
    for (ptrdiff_t i = 0; i < count; i++) add_in_window(acc, s[0], values[i]);
    for (int j = 1; j <= LIMBS; j++) s[j] += acc[j];
}

void qclab_exact_record(int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    int64_t *sums = element, *squares = element + QCLAB_EXACT_STATE;
    // Samples in chunks: each sample's value, and its square as an exact double-double.
    enum { CHUNK = 256 };
    double y[CHUNK], sq[2 * CHUNK];
    ptrdiff_t groups = branches > 0 ? count / branches : 0;
    for (ptrdiff_t start = 0; start < groups; start += CHUNK) {
        ptrdiff_t n = groups - start < CHUNK ? groups - start : CHUNK;
        for (ptrdiff_t i = 0; i < n; i++) {
            const double *group = rows + (start + i) * branches;
            double v = group[0];
            for (ptrdiff_t b = 1; b < branches; b++) v += group[b];
            double hi = v * v;
            y[i] = v;
            sq[2 * i] = hi;
            sq[2 * i + 1] = fma(v, v, -hi);
        }
        deposit_all(sums, y, n);
        deposit_all(squares, sq, 2 * n);
    }
}

static void add_state(int64_t *a, const int64_t *b) {
    if (b[0] == QCLAB_EXACT_EMPTY || a[0] == QCLAB_EXACT_NONFINITE) return;
    if (b[0] == QCLAB_EXACT_NONFINITE || a[0] == QCLAB_EXACT_EMPTY) { memcpy(a, b, QCLAB_EXACT_STATE * sizeof *a); return; }
    int64_t c[QCLAB_EXACT_STATE];
    memcpy(c, b, sizeof c);
    if (c[0] > a[0]) shift_window(a, c[0]); else if (a[0] > c[0]) shift_window(c, a[0]);
    for (int j = 1; j <= LIMBS; j++) a[j] += c[j];
}

void qclab_exact_add(int64_t *a, const int64_t *b, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count * (QCLAB_EXACT_ELEMENT / QCLAB_EXACT_STATE); i++)
        add_state(a + i * QCLAB_EXACT_STATE, b + i * QCLAB_EXACT_STATE);
}

int qclab_exact_valid(const int64_t *elements, ptrdiff_t count) {
    const int64_t limit = (int64_t)1 << 62;
    for (ptrdiff_t i = 0; i < count * (QCLAB_EXACT_ELEMENT / QCLAB_EXACT_STATE); i++) {
        const int64_t *s = elements + i * QCLAB_EXACT_STATE;
        int special = s[0] == QCLAB_EXACT_EMPTY || s[0] == QCLAB_EXACT_NONFINITE;
        if (!special && (s[0] < 0 || s[0] > 66)) return 0;
        for (int j = 1; j < QCLAB_EXACT_STATE; j++) {
            if (special ? s[j] != 0 : (s[j] >= limit || s[j] <= -limit)) return 0;
        }
    }
    return 1;
}

// MARK: double-double arithmetic (Dekker; Knuth's two-sum)

typedef struct { double hi, lo; } dd;

static inline dd two_sum(double a, double b) {
    double s = a + b, bb = s - a;
    return (dd){s, (a - (s - bb)) + (b - bb)};
}
static inline dd dd_add(dd a, dd b) {
    dd s = two_sum(a.hi, b.hi);
    double lo = s.lo + a.lo + b.lo;
    return two_sum(s.hi, lo);
}
static inline dd dd_mul(dd a, dd b) {
    double p = a.hi * b.hi, e = fma(a.hi, b.hi, -p);
    e += a.hi * b.lo + a.lo * b.hi;
    return two_sum(p, e);
}

/// The value of one exact sum as a double-double; *unit is its window's lowest unit.
static dd state_value(const int64_t *s, double *unit) {
    *unit = 0;
    if (s[0] == QCLAB_EXACT_EMPTY) return (dd){0, 0};
    if (s[0] == QCLAB_EXACT_NONFINITE) return (dd){NAN, NAN};
    dd total = {0, 0};
    for (int j = LIMBS; j >= 1; j--) {  // lowest limb first
        int exponent = (int)(32 * (s[0] - (j - 1)) - BIAS);
        double hi = (double)s[j];
        double lo = (double)(s[j] - (int64_t)hi);  // exact: |limb| < 2^62
        total = dd_add(total, (dd){ldexp(hi, exponent), ldexp(lo, exponent)});
    }
    *unit = ldexp(1.0, (int)(32 * (s[0] - (LIMBS - 1)) - BIAS));
    return total;
}

void qclab_exact_moments(const int64_t *elements, ptrdiff_t count, int64_t norm_factor, int64_t samples,
                         double *mean, double *sem) {
    double nf = (double)norm_factor, n = (double)samples;
    for (ptrdiff_t i = 0; i < count; i++) {
        const int64_t *e = elements + i * QCLAB_EXACT_ELEMENT;
        double unit1, unit2;
        dd s1 = state_value(e, &unit1), s2 = state_value(e + QCLAB_EXACT_STATE, &unit2);
        double q = s1.hi / nf;
        mean[i] = q + ((fma(-q, nf, s1.hi) + s1.lo) / nf);
        if (norm_factor <= 0) mean[i] = NAN;
        if (!sem) continue;
        if (e[0] == QCLAB_EXACT_NONFINITE || e[QCLAB_EXACT_STATE] == QCLAB_EXACT_NONFINITE) { sem[i] = NAN; continue; }
        if (samples < 2 || e[QCLAB_EXACT_STATE] == QCLAB_EXACT_EMPTY) { sem[i] = 0; continue; }
        // D = n S2 - S1², which is n (n - 1) B² s² for samples of B rows.
        dd ns2 = dd_mul((dd){n, 0}, s2), sq = dd_mul(s1, s1);
        dd d = dd_add(ns2, (dd){-sq.hi, -sq.lo});
        // What the sums cannot resolve: bits dropped below the windows (n deposits into
        // S1, 2n into S2) and double-double rounding.
        double t1 = n * unit1;
        double bound = 2 * (n * 2 * n * unit2 + 2 * fabs(s1.hi) * t1 + t1 * t1
                            + 0x1p-98 * (fabs(ns2.hi) + fabs(sq.hi)));
        double dv = d.hi + d.lo;
        if (!(dv > bound)) { sem[i] = 0; continue; }
        double branches = nf / n;
        sem[i] = sqrt(dv / (n * n * (n - 1))) / branches;
    }
}
