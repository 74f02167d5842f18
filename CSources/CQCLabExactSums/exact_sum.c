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
#include "CQCLabExactSums.h"
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

// MARK: The record's fast path
//
// The same limbs as `deposit_all`, computed in floating point, lanes across a chunk's
// values. With the window fixed, let t_j be x truncated (toward zero) to whole units of
// limb j, counted in those units: t_j = trunc(x 2^-u_j). Scaling by a power of two is
// exact (a product too small to be normal is below 1 and truncates to 0 either way), so
// is truncating, and t_j - 2^32 t_(j-1), the bits of x in limb j's 32-bit bin, signed like
// x, is exact too: it is the slice the integer path adds. The limbs need no chain from
// one to the next. The slices (below 2^32 in magnitude) add up exactly in double lanes,
// one sum per lane so that the compiler vectorizes without reordering additions, and
// become int64 once per chunk. This needs the window's scales to be normal doubles, i.e.
// a window top of at least FAST_MIN_TOP (values from about 2^-864 up); lower windows,
// which only sums of tiny values reach, take the scalar path.

#define FAST_MIN_TOP 6

static inline double double_of(uint64_t b) { double x; memcpy(&x, &b, sizeof x); return x; }
static inline uint64_t bits_of(double x) { uint64_t b; memcpy(&b, &x, sizeof b); return b; }
/// 2^e for e in the normal range [-1022, 1023].
static inline double pow2(int e) { return double_of((uint64_t)(e + 1023) << 52); }

/// trunc(y) without SSE4.1's rounding instruction (baseline x86-64 would call libm):
/// round |y| to nearest by adding and subtracting 2^52, step back toward zero if that
/// went past it; from 2^52 up every double is an integer already.
static inline __attribute__((always_inline)) double trunc_portable(double y) {
    double a = fabs(y), t = (a + 0x1p52) - 0x1p52;
    t -= t > a ? 1.0 : 0.0;
    return copysign(a < 0x1p52 ? t : a, y);
}

/// y * y - hi exactly, where hi = y * y rounded, as `fma(y, y, -hi)` gives it, by
/// Dekker's product (Veltkamp's split): exact while neither the split overflows nor
/// the partial products underflow, i.e. for 2^-450 <= |y| <= 2^500; *outside is set
/// otherwise (then the caller uses fma).
static inline __attribute__((always_inline)) double square_error_portable(double y, double hi, int *outside) {
    double a = fabs(y);
    *outside |= ((a != 0) & (a < 0x1p-450)) | !(a <= 0x1p500);
    double c = y * 134217729.0;  // 2^27 + 1
    double yh = c - (c - y), yl = y - yh;
    return ((yh * yh - hi) + 2 * yh * yl) + yl * yl;
}

/// Values per block of the loops below: one AVX-512 vector, two AVX2 ones, four SSE2
/// ones. The loops run over whole blocks (the callers pad with zeros, which deposit
/// nothing), so that short records (a few trajectories per batch) stay in vector code.
enum { LANES = 8 };

/// The largest |x| of `count` values (a multiple of LANES) as bits (non-negative
/// doubles are ordered as their bits), which is an infinity's or NaN's if any is one.
static inline __attribute__((always_inline)) uint64_t largest_bits(const double *values, ptrdiff_t count) {
    uint64_t largest = 0;  // an integer maximum, which the compiler vectorizes as it likes
    for (ptrdiff_t i = 0; i < count; i++) {
        uint64_t b = bits_of(values[i]) & ~(1ull << 63);
        largest = b > largest ? b : largest;
    }
    return largest;
}

/// `deposit_all` (the same state, to the bit) with the slicing vectorized, over `count`
/// values, a multiple of LANES, whose largest magnitude has the bits `largest` (as
/// `largest_bits` gives them); `native` says whether the target rounds to integers and
/// fuses multiply-adds in hardware.
static inline __attribute__((always_inline)) void deposit_lanes(int64_t *s, const double *values, ptrdiff_t count,
                                                                 uint64_t largest, int native) {
    if (s[0] == QCLAB_EXACT_NONFINITE || count == 0) return;
    if (largest >= 0x7ff0000000000000ull) {  // an infinity or a NaN
        s[0] = QCLAB_EXACT_NONFINITE;
        for (int j = 1; j <= LIMBS; j++) s[j] = 0;
        return;
    }
    if (largest == 0) return;  // only zeros
    int64_t top = bin_of(double_of(largest));
    int64_t window = s[0] == QCLAB_EXACT_EMPTY || top > s[0] ? top : s[0];
    if (window < FAST_MIN_TOP) { deposit_all(s, values, count); return; }
    if (s[0] == QCLAB_EXACT_EMPTY) s[0] = top; else if (top > s[0]) shift_window(s, top);
    // Limb j + 1 counts units of 2^(32 (window - j) - BIAS).
    double inverse[LIMBS];
    for (int j = 0; j < LIMBS; j++) inverse[j] = pow2((int)(BIAS - 32 * (window - j)));
    // Each lane's sums of slices stay exact doubles: at most 2 CHUNK / LANES slices below
    // 2^32 each, far below 2^53.
    double acc[LIMBS][LANES] = {{0}};
    for (ptrdiff_t i = 0; i < count; i += LANES) {
        for (int k = 0; k < LANES; k++) {
            // t[j]: x truncated to whole units of limb j, as a multiple of that unit;
            // limb j's slice is t[j] - 2^32 t[j - 1]. No chain from limb to limb.
            double x = values[i + k], above = 0;
            for (int j = 0; j < LIMBS; j++) {
                double y = x * inverse[j];
                double t = native ? __builtin_trunc(y) : trunc_portable(y);
                double slice = native ? __builtin_fma(-above, 0x1p32, t) : t - above * 0x1p32;
                acc[j][k] += slice;
                above = t;
            }
        }
    }
    for (int j = 0; j < LIMBS; j++) {
        double total = 0;  // still exact
        for (int k = 0; k < LANES; k++) total += acc[j][k];
        s[j + 1] += (int64_t)total;
    }
}

enum { CHUNK = 256 };  // a multiple of LANES

/// `qclab_exact_record` over one chunk of at most CHUNK samples, as a template for each
/// instruction set (`native`: hardware rounding to integers and fma).
static inline __attribute__((always_inline)) void record_lanes(int64_t *element, const double *rows, ptrdiff_t n,
                                                                ptrdiff_t branches, int native) {
    ptrdiff_t padded = (n + LANES - 1) / LANES * LANES;
    double y[CHUNK], squares[2 * CHUNK];
    if (branches == 1) {
        for (ptrdiff_t i = 0; i < n; i++) y[i] = rows[i];
    } else {
        for (ptrdiff_t i = 0; i < n; i++) {
            const double *group = rows + i * branches;
            double v = group[0];
            for (ptrdiff_t b = 1; b < branches; b++) v += group[b];
            y[i] = v;
        }
    }
    for (ptrdiff_t i = n; i < padded; i++) y[i] = 0;
    // The squares as exact double-doubles: hi in squares[0..<padded], lo after it.
    int outside = 0;
    for (ptrdiff_t i = 0; i < padded; i++) {
        double hi = y[i] * y[i];
        squares[i] = hi;
        squares[padded + i] = native ? __builtin_fma(y[i], y[i], -hi) : square_error_portable(y[i], hi, &outside);
    }
    if (outside) for (ptrdiff_t i = 0; i < padded; i++) squares[padded + i] = fma(y[i], y[i], -squares[i]);
    // The largest square part is the rounded square of the largest |y| (rounding is
    // monotonic, |lo| <= |hi|, and an infinite or NaN part comes with an infinite or NaN
    // hi), so one pass finds both.
    uint64_t largest = largest_bits(y, padded);
    double largest_y = double_of(largest);
    deposit_lanes(element, y, padded, largest, native);
    deposit_lanes(element + QCLAB_EXACT_STATE, squares, 2 * padded, bits_of(largest_y * largest_y), native);
}

typedef void record_chunk_fn(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches);

/// The scalar path: the chunked `deposit_all`, which the vector versions reproduce.
static void record_chunk_scalar(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    double y[CHUNK], squares[2 * CHUNK];
    for (ptrdiff_t i = 0; i < n; i++) {
        const double *group = rows + i * branches;
        double v = group[0];
        for (ptrdiff_t b = 1; b < branches; b++) v += group[b];
        double hi = v * v;
        y[i] = v;
        squares[2 * i] = hi;
        squares[2 * i + 1] = fma(v, v, -hi);
    }
    deposit_all(element, y, n);
    deposit_all(element + QCLAB_EXACT_STATE, squares, 2 * n);
}

#if defined(__x86_64__)
// Without SSE4.1 and FMA (baseline x86-64) the template rounds and multiplies portably.
static void record_chunk_baseline(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 0);
}
__attribute__((target("avx2,fma")))
static void record_chunk_avx2(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 1);
}
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
static void record_chunk_avx512(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 1);
}
#else
// Other targets (arm64) round to integers and fuse multiply-adds in their baseline.
static void record_chunk_baseline(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 1);
}
#endif

/// The version's chunk function, or NULL if this machine cannot run it.
static record_chunk_fn *record_version(int version) {
    switch (version) {
    case QCLAB_EXACT_SCALAR: return record_chunk_scalar;
    case QCLAB_EXACT_BASELINE: return record_chunk_baseline;
#if defined(__x86_64__)
    case QCLAB_EXACT_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? record_chunk_avx2 : NULL;
    case QCLAB_EXACT_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") ? record_chunk_avx512 : NULL;
#endif
    default: return NULL;
    }
}

// Chosen on first use; threads racing to choose choose the same (and every version gives
// the same bits anyway).
static record_chunk_fn *chosen_record;
static int chosen_version;

int qclab_exact_record_version(void) {
    if (!__atomic_load_n(&chosen_record, __ATOMIC_ACQUIRE)) {
        int version = QCLAB_EXACT_AVX512;
        while (!record_version(version)) version--;
        __atomic_store_n(&chosen_version, version, __ATOMIC_RELAXED);
        __atomic_store_n(&chosen_record, record_version(version), __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&chosen_version, __ATOMIC_RELAXED);
}

static void record_with(record_chunk_fn *chunk, int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    ptrdiff_t groups = branches > 0 ? count / branches : 0;
    for (ptrdiff_t start = 0; start < groups; start += CHUNK) {
        ptrdiff_t n = groups - start < CHUNK ? groups - start : CHUNK;
        chunk(element, rows + start * branches, n, branches);
    }
}

static record_chunk_fn *chosen_chunk(void) {
    record_chunk_fn *chunk = __atomic_load_n(&chosen_record, __ATOMIC_ACQUIRE);
    if (!chunk) { qclab_exact_record_version(); chunk = __atomic_load_n(&chosen_record, __ATOMIC_ACQUIRE); }
    return chunk;
}

void qclab_exact_record(int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    record_with(chosen_chunk(), element, rows, count, branches);
}

void qclab_exact_record_elements(int64_t *elements, ptrdiff_t stride, ptrdiff_t element_count, const double *rows,
                                 ptrdiff_t count, ptrdiff_t branches) {
    record_chunk_fn *chunk = chosen_chunk();
    for (ptrdiff_t e = 0; e < element_count; e++)
        record_with(chunk, elements + e * stride * QCLAB_EXACT_ELEMENT, rows + e * count, count, branches);
}

int qclab_exact_record_using(int version, int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    record_chunk_fn *chunk = record_version(version);
    if (!chunk) return 0;
    record_with(chunk, element, rows, count, branches);
    return 1;
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

/// ldexp(x, e): one multiplication by 2^e, rounded once as ldexp rounds, when 2^e is a
/// normal double (libm's ldexp, called through the PLT, otherwise).
static inline double scaled(double x, int e) { return e >= -1022 && e <= 1023 ? x * pow2(e) : ldexp(x, e); }

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
        total = dd_add(total, (dd){scaled(hi, exponent), scaled(lo, exponent)});
    }
    *unit = scaled(1.0, (int)(32 * (s[0] - (LIMBS - 1)) - BIAS));
    return total;
}

void qclab_exact_moments(const int64_t *elements, ptrdiff_t count, int64_t norm_factor, int64_t samples,
                         double *mean, double *sem) {
    double nf = (double)norm_factor, n = (double)samples;
    for (ptrdiff_t i = 0; i < count; i++) {
        const int64_t *e = elements + i * QCLAB_EXACT_ELEMENT;
        double unit1, unit2;
        dd s1 = state_value(e, &unit1);
        double q = s1.hi / nf;
        mean[i] = q + ((fma(-q, nf, s1.hi) + s1.lo) / nf);
        if (norm_factor <= 0) mean[i] = NAN;
        if (!sem) continue;
        dd s2 = state_value(e + QCLAB_EXACT_STATE, &unit2);
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
