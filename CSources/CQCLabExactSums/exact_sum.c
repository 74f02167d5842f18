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
//
// One pass over a chunk's samples finds the largest |y|, which fixes both windows (the
// largest square part is the rounded square of the largest |y|: rounding is monotonic
// and |lo| <= |hi|); a second pass slices each sample y and its square's two parts into
// both sums at once, from registers, so that the squares are never stored and read back.

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
/// Dekker's product (Veltkamp's split): exact while neither the split overflows nor the
/// partial products underflow, which holds for 2^-450 <= |y| <= 2^500 (the caller takes
/// chunks with other nonzero values to the scalar path, which uses fma).
static inline __attribute__((always_inline)) double square_error_portable(double y, double hi) {
    double c = y * 134217729.0;  // 2^27 + 1
    double yh = c - (c - y), yl = y - yh;
    return ((yh * yh - hi) + 2 * yh * yl) + yl * yl;
}

/// The most values per block of the loops below: one AVX-512 vector. Each version picks its
/// block (`lanes`, see the versions below). The loops run over whole blocks (a chunk's
/// last, partial block is padded with zeros, which deposit nothing), so that short records
/// stay in vector code.
enum { LANES = 8 };

/// Adds the slices of the `lanes` values `x` into limbs `first...` of the lane sums `acc`
/// (`acc[j][k]` adds up limb j + 1's slices of lane k), for windows whose limb j + 1 counts
/// units of 1 / `inverse[j][k]` in lane k. Limbs above `first` are left alone: the caller
/// knows that these values' slices there are zero (their t there truncates to 0).
static inline __attribute__((always_inline)) void slice_into(double acc[LIMBS][LANES], const double *x,
                                                              const double inverse[LIMBS][LANES], int first,
                                                              int lanes, int native) {
    for (int k = 0; k < lanes; k++) {
        // t: x truncated to whole units of limb j, as a multiple of that unit; limb j's
        // slice is t - 2^32 t of the limb above. No chain from limb to limb.
        double above = 0;
        for (int j = first; j < LIMBS; j++) {
            double t = x[k] * inverse[j][k];
            t = native ? __builtin_trunc(t) : trunc_portable(t);
            double slice = j == first ? t : native ? __builtin_fma(-above, 0x1p32, t) : t - above * 0x1p32;
            acc[j][k] += slice;
            above = t;
        }
    }
}

/// One block of `lanes` samples `y`: y into the first sum's lanes `acc1`, y² as an exact
/// double-double into the second's, `acc2`. The low part of a square never reaches the
/// top limb: |lo| <= 2^-53 |hi|, and |hi| is below 2^32 units of that limb.
static inline __attribute__((always_inline)) void slice_samples(double acc1[LIMBS][LANES], double acc2[LIMBS][LANES],
                                                                 const double *y, const double inverse1[LIMBS][LANES],
                                                                 const double inverse2[LIMBS][LANES], int lanes,
                                                                 int native) {
    double hi[LANES], lo[LANES];
    for (int k = 0; k < lanes; k++) {
        hi[k] = y[k] * y[k];
        lo[k] = native ? __builtin_fma(y[k], y[k], -hi[k]) : square_error_portable(y[k], hi[k]);
    }
    slice_into(acc1, y, inverse1, 0, lanes, native);
    slice_into(acc2, hi, inverse2, 0, lanes, native);
    slice_into(acc2, lo, inverse2, 1, lanes, native);
}

/// Lane k's sums of one state's limbs added into the state `s` (each lane's sum is exact: at
/// most 2 CHUNK slices below 2^32 each, far below 2^53).
static inline __attribute__((always_inline)) void add_lane(int64_t *s, double acc[LIMBS][LANES], int k) {
    for (int j = 0; j < LIMBS; j++) s[j + 1] += (int64_t)acc[j][k];
}

/// The window a state gets when values up to bin `top` arrive.
static inline int64_t window_with(const int64_t *s, int64_t top) {
    return s[0] == QCLAB_EXACT_EMPTY || top > s[0] ? top : s[0];
}

/// The largest |y| of `n` values as bits (non-negative doubles are ordered as their bits;
/// an integer maximum, which the compiler vectorizes as it likes), with *tiny set if a
/// nonzero |y| is below 2^-450 (bits 573 << 52), the exact split's range.
static inline __attribute__((always_inline)) uint64_t largest_bits(const double *y, ptrdiff_t n, uint64_t *tiny,
                                                                    int native) {
    uint64_t largest = 0, small = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        uint64_t b = bits_of(y[i]) & ~(1ull << 63);
        largest = b > largest ? b : largest;
        if (!native) small |= b - 1 < (573ull << 52) - 1;  // a zero wraps around: not tiny
    }
    *tiny = small;
    return largest;
}

/// Readies the two sums of `element` for a record whose largest |y| has the bits `largest`
/// (nonzero): raises the windows and sets lane k of the scales of both. Returns 0, changing
/// nothing, when the fast path does not cover the record (a sum that is or becomes infinite
/// or NaN, windows below FAST_MIN_TOP, and without native fma values outside the exact
/// split's range): the scalar path, which gives the same bits, takes it then.
static inline __attribute__((always_inline)) int ready_windows(int64_t *element, uint64_t largest, uint64_t tiny,
                                                                double inverse1[LIMBS][LANES],
                                                                double inverse2[LIMBS][LANES], int k, int native) {
    int64_t *s1 = element, *s2 = element + QCLAB_EXACT_STATE;
    double largest_y = double_of(largest), largest_square = largest_y * largest_y;
    if (s1[0] == QCLAB_EXACT_NONFINITE || s2[0] == QCLAB_EXACT_NONFINITE || !(largest_square < INFINITY)
        || !(native || (!tiny && largest_y <= 0x1p500)))
        return 0;
    int64_t top1 = bin_of(largest_y), top2 = bin_of(largest_square);
    if (window_with(s1, top1) < FAST_MIN_TOP || window_with(s2, top2) < FAST_MIN_TOP) return 0;
    if (s1[0] == QCLAB_EXACT_EMPTY) s1[0] = top1; else if (top1 > s1[0]) shift_window(s1, top1);
    if (s2[0] == QCLAB_EXACT_EMPTY) s2[0] = top2; else if (top2 > s2[0]) shift_window(s2, top2);
    // Limb j + 1 counts units of 2^(32 (top - j) - BIAS).
    for (int j = 0; j < LIMBS; j++) {
        inverse1[j][k] = pow2((int)(BIAS - 32 * (s1[0] - j)));
        inverse2[j][k] = pow2((int)(BIAS - 32 * (s2[0] - j)));
    }
    return 1;
}

enum { CHUNK = 1024 };  // samples per chunk: a multiple of LANES

typedef void record_chunk_fn(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches);
static void record_chunk_scalar(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches);

/// Each sample's value: `rows` in groups of `branches` rows, each group's rows added in
/// order, into `y[0], y[step], ...` (`n` samples).
static inline __attribute__((always_inline)) void sample_values(double *y, ptrdiff_t step, const double *rows,
                                                                 ptrdiff_t n, ptrdiff_t branches) {
    for (ptrdiff_t i = 0; i < n; i++) {
        const double *group = rows + i * branches;
        double v = group[0];
        for (ptrdiff_t b = 1; b < branches; b++) v += group[b];
        y[i * step] = v;
    }
}

/// `qclab_exact_record` over one chunk of at most CHUNK samples, lanes across its samples,
/// as a template for each instruction set (`native`: hardware rounding to integers and
/// fma; `lanes`: the block).
static inline __attribute__((always_inline)) void record_lanes(int64_t *element, const double *rows, ptrdiff_t n,
                                                                ptrdiff_t branches, int lanes, int native) {
    double sums[CHUNK];
    const double *y = rows;
    if (branches != 1) {
        sample_values(sums, 1, rows, n, branches);
        y = sums;
    }
    uint64_t tiny, largest = largest_bits(y, n, &tiny, native);
    if (largest == 0) return;  // only zeros, which deposit nothing
    double inverse1[LIMBS][LANES], inverse2[LIMBS][LANES];
    if (!ready_windows(element, largest, tiny, inverse1, inverse2, 0, native)) {
        record_chunk_scalar(element, rows, n, branches);
        return;
    }
    for (int j = 0; j < LIMBS; j++) {
        for (int k = 1; k < lanes; k++) inverse1[j][k] = inverse1[j][0], inverse2[j][k] = inverse2[j][0];
    }
    double acc1[LIMBS][LANES] = {{0}}, acc2[LIMBS][LANES] = {{0}};
    ptrdiff_t whole = n / lanes * lanes;
    for (ptrdiff_t i = 0; i < whole; i += lanes) slice_samples(acc1, acc2, y + i, inverse1, inverse2, lanes, native);
    if (whole < n) {
        double last[LANES] = {0};
        for (ptrdiff_t k = 0; k < n - whole; k++) last[k] = y[whole + k];
        slice_samples(acc1, acc2, last, inverse1, inverse2, lanes, native);
    }
    // The lanes' totals (exact, as their parts are).
    for (int j = 0; j < LIMBS; j++) {
        for (int k = 1; k < lanes; k++) acc1[j][0] += acc1[j][k], acc2[j][0] += acc2[j][k];
    }
    add_lane(element, acc1, 0);
    add_lane(element + QCLAB_EXACT_STATE, acc2, 0);
}

/// Records of at most ACROSS samples go lanes across elements (`record_across`).
enum { ACROSS = 32 };

/// `qclab_exact_record` of `lanes` elements at once (element k at `elements + k stride
/// QCLAB_EXACT_ELEMENT`, its rows at `rows + k count`) of at most ACROSS samples each,
/// lanes across the elements: lane k slices element k's samples into lane k's sums, under
/// its own windows, so that a short record needs neither padding nor a sum across lanes.
static inline __attribute__((always_inline)) void record_across(int64_t *elements, ptrdiff_t stride, const double *rows,
                                                                 ptrdiff_t count, ptrdiff_t branches, int lanes,
                                                                 int native) {
    static const double zeros[ACROSS];  // what an idle lane slices: zeros deposit nothing
    ptrdiff_t n = count / branches;
    double inverse1[LIMBS][LANES], inverse2[LIMBS][LANES];
    double columns[LANES][ACROSS];  // the samples' values when samples have several rows
    const double *column[LANES];
    int active[LANES];
    for (int k = 0; k < lanes; k++) {
        int64_t *element = elements + k * stride * QCLAB_EXACT_ELEMENT;
        const double *r = rows + k * count;
        column[k] = r;
        if (branches != 1) {
            sample_values(columns[k], 1, r, n, branches);
            column[k] = columns[k];
        }
        uint64_t tiny, largest = largest_bits(column[k], n, &tiny, native);
        active[k] = largest != 0 && ready_windows(element, largest, tiny, inverse1, inverse2, k, native);
        if (largest != 0 && !active[k]) record_chunk_scalar(element, r, n, branches);
        if (!active[k]) {
            column[k] = zeros;
            for (int j = 0; j < LIMBS; j++) inverse1[j][k] = inverse2[j][k] = 1;
        }
    }
    // The samples side by side first (gathers), so that the slicing loads whole vectors.
    double y[ACROSS][LANES];
    for (ptrdiff_t i = 0; i < n; i++) {
        for (int k = 0; k < lanes; k++) y[i][k] = column[k][i];
    }
    double acc1[LIMBS][LANES] = {{0}}, acc2[LIMBS][LANES] = {{0}};
    for (ptrdiff_t i = 0; i < n; i++) slice_samples(acc1, acc2, y[i], inverse1, inverse2, lanes, native);
    for (int k = 0; k < lanes; k++) {
        if (!active[k]) continue;
        int64_t *element = elements + k * stride * QCLAB_EXACT_ELEMENT;
        add_lane(element, acc1, k);
        add_lane(element + QCLAB_EXACT_STATE, acc2, k);
    }
}

typedef void record_across_fn(int64_t *elements, ptrdiff_t stride, const double *rows, ptrdiff_t count,
                              ptrdiff_t branches);

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
// Without SSE4.1 and FMA (baseline x86-64) the templates round and multiply portably.
// Lanes across elements: 4 for SSE2 and AVX2 (one AVX2 register per limb accumulator), 8
// for AVX-512. Lanes across samples: blocks of 8 for AVX2 and AVX-512 too, which the
// compiler vectorizes across lanes (with blocks of 4, four lanes by four limbs, it
// vectorized across the limbs instead, at twice the instructions).
static void record_chunk_baseline(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 4, 0);
}
static void record_across_baseline(int64_t *elements, ptrdiff_t stride, const double *rows, ptrdiff_t count,
                                   ptrdiff_t branches) {
    record_across(elements, stride, rows, count, branches, 4, 0);
}
__attribute__((target("avx2,fma")))
static void record_chunk_avx2(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 8, 1);
}
__attribute__((target("avx2,fma")))
static void record_across_avx2(int64_t *elements, ptrdiff_t stride, const double *rows, ptrdiff_t count,
                               ptrdiff_t branches) {
    record_across(elements, stride, rows, count, branches, 4, 1);
}
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
static void record_chunk_avx512(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 8, 1);
}
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
static void record_across_avx512(int64_t *elements, ptrdiff_t stride, const double *rows, ptrdiff_t count,
                                 ptrdiff_t branches) {
    record_across(elements, stride, rows, count, branches, 8, 1);
}
#else
// Other targets (arm64) round to integers and fuse multiply-adds in their baseline.
static void record_chunk_baseline(int64_t *element, const double *rows, ptrdiff_t n, ptrdiff_t branches) {
    record_lanes(element, rows, n, branches, 4, 1);
}
static void record_across_baseline(int64_t *elements, ptrdiff_t stride, const double *rows, ptrdiff_t count,
                                   ptrdiff_t branches) {
    record_across(elements, stride, rows, count, branches, 4, 1);
}
#endif

/// A version of the record: its chunk function, its function for elements side by side
/// (NULL for the scalar path), and how many elements that takes at once.
typedef struct {
    record_chunk_fn *chunk;
    record_across_fn *across;
    int lanes;
} record_fns;

/// The version's functions, with a NULL chunk function if this machine cannot run it.
static record_fns record_version(int version) {
    switch (version) {
    case QCLAB_EXACT_SCALAR: return (record_fns){record_chunk_scalar, NULL, 1};
    case QCLAB_EXACT_BASELINE: return (record_fns){record_chunk_baseline, record_across_baseline, 4};
#if defined(__x86_64__)
    case QCLAB_EXACT_AVX2:
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            return (record_fns){record_chunk_avx2, record_across_avx2, 4};
        break;
    case QCLAB_EXACT_AVX512:
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
            return (record_fns){record_chunk_avx512, record_across_avx512, 8};
        break;
#endif
    default: break;
    }
    return (record_fns){NULL, NULL, 0};
}

// Chosen on first use; threads racing to choose choose the same (and every version gives
// the same bits anyway).
static int chosen_version = -1;

int qclab_exact_record_version(void) {
    int version = __atomic_load_n(&chosen_version, __ATOMIC_RELAXED);
    if (version < 0) {
        version = QCLAB_EXACT_AVX512;
        while (!record_version(version).chunk) version--;
        __atomic_store_n(&chosen_version, version, __ATOMIC_RELAXED);
    }
    return version;
}

static void record_with(record_chunk_fn *chunk, int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    ptrdiff_t groups = branches > 0 ? count / branches : 0;
    for (ptrdiff_t start = 0; start < groups; start += CHUNK) {
        ptrdiff_t n = groups - start < CHUNK ? groups - start : CHUNK;
        chunk(element, rows + start * branches, n, branches);
    }
}

/// `qclab_exact_record_elements` through the version's functions: short records of whole
/// sets of `lanes` elements side by side, the rest one element at a time.
static void record_elements_with(record_fns fns, int64_t *elements, ptrdiff_t stride, ptrdiff_t element_count,
                                 const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    ptrdiff_t e = 0, groups = branches > 0 ? count / branches : 0;
    if (fns.across && groups > 0 && groups <= ACROSS) {
        for (; e + fns.lanes <= element_count; e += fns.lanes)
            fns.across(elements + e * stride * QCLAB_EXACT_ELEMENT, stride, rows + e * count, count, branches);
    }
    for (; e < element_count; e++)
        record_with(fns.chunk, elements + e * stride * QCLAB_EXACT_ELEMENT, rows + e * count, count, branches);
}

void qclab_exact_record(int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    record_with(record_version(qclab_exact_record_version()).chunk, element, rows, count, branches);
}

void qclab_exact_record_elements(int64_t *elements, ptrdiff_t stride, ptrdiff_t element_count, const double *rows,
                                 ptrdiff_t count, ptrdiff_t branches) {
    record_elements_with(record_version(qclab_exact_record_version()), elements, stride, element_count, rows, count,
                         branches);
}

int qclab_exact_record_elements_using(int version, int64_t *elements, ptrdiff_t stride, ptrdiff_t element_count,
                                      const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    record_fns fns = version >= 0 ? record_version(version) : (record_fns){NULL, NULL, 0};
    if (!fns.chunk) return 0;
    record_elements_with(fns, elements, stride, element_count, rows, count, branches);
    return 1;
}

/// Partial sums per lane of `qclab_plain_record_elements`: enough independent additions
/// for the compiler to vectorize the loop without reordering any one sum.
enum { PLAIN_LANES = 8 };

/// One element's plain sums over `groups` samples of `branches` rows (a constant 1 where
/// samples are single rows, so that the loop vectorizes).
static inline __attribute__((always_inline)) void plain_sums(double *sums, const double *r, ptrdiff_t groups,
                                                              ptrdiff_t branches) {
    double s1[PLAIN_LANES] = {0}, s2[PLAIN_LANES] = {0};
    ptrdiff_t g = 0;
    for (; g + PLAIN_LANES <= groups; g += PLAIN_LANES) {
        for (int k = 0; k < PLAIN_LANES; k++) {
            const double *group = r + (g + k) * branches;
            double y = group[0];
            for (ptrdiff_t b = 1; b < branches; b++) y += group[b];
            s1[k] += y;
            s2[k] += y * y;
        }
    }
    for (int k = 0; g < groups; g++, k++) {
        double y = r[g * branches];
        for (ptrdiff_t b = 1; b < branches; b++) y += r[g * branches + b];
        s1[k] += y;
        s2[k] += y * y;
    }
    double t1 = 0, t2 = 0;
    for (int k = 0; k < PLAIN_LANES; k++) { t1 += s1[k]; t2 += s2[k]; }
    sums[0] += t1;
    sums[1] += t2;
}

void qclab_plain_record_elements(double *sums, ptrdiff_t stride, ptrdiff_t element_count, const double *rows,
                                 ptrdiff_t count, ptrdiff_t branches) {
    ptrdiff_t groups = branches > 0 ? count / branches : 0;
    for (ptrdiff_t e = 0; e < element_count; e++) {
        if (branches == 1) plain_sums(sums + 2 * e * stride, rows + e * count, groups, 1);
        else plain_sums(sums + 2 * e * stride, rows + e * count, groups, branches);
    }
}

int qclab_exact_record_using(int version, int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches) {
    record_chunk_fn *chunk = version >= 0 ? record_version(version).chunk : NULL;
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

#if defined(__x86_64__)
// The moments below run in an FMA build where the processor has FMA (so that fma() is one
// instruction, not a call into libm) and in the baseline build elsewhere: a product and a
// sum written out stay two roundings in both (no contraction), so both give the same bits.
#pragma STDC FP_CONTRACT OFF
#endif

typedef struct { double hi, lo; } dd;

static inline __attribute__((always_inline)) dd two_sum(double a, double b) {
    double s = a + b, bb = s - a;
    return (dd){s, (a - (s - bb)) + (b - bb)};
}
static inline __attribute__((always_inline)) dd dd_add(dd a, dd b) {
    dd s = two_sum(a.hi, b.hi);
    double lo = s.lo + a.lo + b.lo;
    return two_sum(s.hi, lo);
}
static inline __attribute__((always_inline)) dd dd_mul(dd a, dd b) {
    double p = a.hi * b.hi, e = fma(a.hi, b.hi, -p);
    e += a.hi * b.lo + a.lo * b.hi;
    return two_sum(p, e);
}

/// ldexp(x, e): one multiplication by 2^e, rounded once as ldexp rounds, when 2^e is a
/// normal double (libm's ldexp, called through the PLT, otherwise).
static inline __attribute__((always_inline)) double scaled(double x, int e) {
    return e >= -1022 && e <= 1023 ? x * pow2(e) : ldexp(x, e);
}

/// The value of one exact sum as a double-double; *unit is its window's lowest unit.
static inline __attribute__((always_inline)) dd state_value(const int64_t *s, double *unit) {
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

static inline __attribute__((always_inline)) void
moments(const int64_t *elements, ptrdiff_t count, int64_t norm_factor, int64_t samples, double *mean, double *sem) {
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

static void qclab_exact_moments_portable(const int64_t *elements, ptrdiff_t count, int64_t norm_factor,
                                         int64_t samples, double *mean, double *sem) {
    moments(elements, count, norm_factor, samples, mean, sem);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void qclab_exact_moments_fma(const int64_t *elements, ptrdiff_t count, int64_t norm_factor,
                                    int64_t samples, double *mean, double *sem) {
    moments(elements, count, norm_factor, samples, mean, sem);
}
#endif

/// Whether this machine runs the FMA build: where the record runs its AVX2 (or AVX-512)
/// version, which needs the same (chosen once, on first use).
static int runs_fma(void) { return qclab_exact_record_version() >= QCLAB_EXACT_AVX2; }

int qclab_exact_moments_using(int fma, const int64_t *elements, ptrdiff_t count, int64_t norm_factor,
                              int64_t samples, double *mean, double *sem) {
    if (!fma) {
        qclab_exact_moments_portable(elements, count, norm_factor, samples, mean, sem);
        return 1;
    }
#if defined(__x86_64__)
    if (runs_fma()) {
        qclab_exact_moments_fma(elements, count, norm_factor, samples, mean, sem);
        return 1;
    }
#endif
    return 0;
}

void qclab_exact_moments(const int64_t *elements, ptrdiff_t count, int64_t norm_factor, int64_t samples,
                         double *mean, double *sem) {
    qclab_exact_moments_using(runs_fma(), elements, count, norm_factor, samples, mean, sem);
}
