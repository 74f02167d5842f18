#ifndef QCLAB_EXACT_SUMS_H
#define QCLAB_EXACT_SUMS_H
#include <stddef.h>
#include <stdint.h>

// Exact, order- and grouping-independent sums of doubles: the reduction behind every
// output of a run (see exact_sum.c for the method).
//
// One summed element is a state of QCLAB_EXACT_STATE int64 values: the index of the
// window's top bin (or QCLAB_EXACT_EMPTY / QCLAB_EXACT_NONFINITE), then the window's
// four limbs from the top bin down. An output's element keeps two states side by side
// (QCLAB_EXACT_ELEMENT values): the sum of its samples and the sum of their squares.

/// int64 values in one exact sum.
#define QCLAB_EXACT_STATE 5
/// int64 values per output element: the sum of the samples, then the sum of their squares.
#define QCLAB_EXACT_ELEMENT 10
/// The top-bin index of a sum that holds nothing yet.
#define QCLAB_EXACT_EMPTY INT64_MIN
/// The top-bin index of a sum that received an infinity or NaN.
#define QCLAB_EXACT_NONFINITE INT64_MAX

/// Sets `elements` output elements to empty.
void qclab_exact_clear(int64_t *elements, ptrdiff_t count);

/// Adds `x`, `multiplicity` times, to one exact sum (`state`, QCLAB_EXACT_STATE values).
void qclab_exact_deposit(int64_t *state, double x, int64_t multiplicity);

/// Records one collect point of one output element (QCLAB_EXACT_ELEMENT values at
/// `element`) from `count` per-row values: rows form samples of `branches` consecutive
/// rows; each sample's sum y (rows added in order) goes into the first sum, y² (exactly,
/// as a double-double) into the second.
void qclab_exact_record(int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches);

/// `qclab_exact_record` for `element_count` elements at once: element `e`'s `count` rows
/// are `rows[e * count ..< (e + 1) * count]`, recorded into the element `e * stride`
/// elements after `elements` (a stride of 2 for the real or imaginary parts of a complex
/// output).
void qclab_exact_record_elements(int64_t *elements, ptrdiff_t stride, ptrdiff_t element_count, const double *rows,
                                 ptrdiff_t count, ptrdiff_t branches);

/// `qclab_exact_record_elements` with plain floating-point sums instead of exact ones, for
/// benchmarks that measure what the exact reduction costs: adds each element's sum of
/// samples and sum of their squares into `sums[2 e stride]` and `sums[2 e stride + 1]`
/// (rounded, in an order fixed by `count` and `branches` alone).
void qclab_plain_record_elements(double *sums, ptrdiff_t stride, ptrdiff_t element_count, const double *rows,
                                 ptrdiff_t count, ptrdiff_t branches);

/// The versions of `qclab_exact_record`, which all give the same bits: the scalar path
/// (one 128-bit slicing per value), and the slicing in floating point across a chunk's
/// values for baseline x86-64 (or the baseline of another architecture), AVX2 with FMA,
/// and AVX-512.
enum { QCLAB_EXACT_SCALAR = 0, QCLAB_EXACT_BASELINE = 1, QCLAB_EXACT_AVX2 = 2, QCLAB_EXACT_AVX512 = 3 };

/// The version `qclab_exact_record` uses: the best this machine runs, chosen on first use.
int qclab_exact_record_version(void);

/// `qclab_exact_record` through version `version` (for tests and benchmarks); returns 0,
/// recording nothing, if this machine cannot run it, else 1.
int qclab_exact_record_using(int version, int64_t *element, const double *rows, ptrdiff_t count, ptrdiff_t branches);

/// `qclab_exact_record_elements` through version `version` (for tests and benchmarks);
/// returns 0, recording nothing, if this machine cannot run it, else 1.
int qclab_exact_record_elements_using(int version, int64_t *elements, ptrdiff_t stride, ptrdiff_t element_count,
                                      const double *rows, ptrdiff_t count, ptrdiff_t branches);

/// Adds `count` output elements of `b` into those of `a`; the result does not depend on
/// the order or grouping of additions and deposits, to the bit.
void qclab_exact_add(int64_t *a, const int64_t *b, ptrdiff_t count);

/// Whether `count` output elements are well formed (top indices in range, limbs within
/// what `deposits` deposits can reach): for data read from files and messages.
int qclab_exact_valid(const int64_t *elements, ptrdiff_t count);

/// Means and standard errors of `count` output elements: mean = (sum of samples) /
/// `norm_factor`; the standard error of the mean of `samples` samples of
/// `norm_factor / samples` rows each, evaluated once, in double-double, from the exact
/// sums (zero when the spread is below what the sums resolve, so that identical samples
/// give exactly zero). `sem` may be NULL.
void qclab_exact_moments(const int64_t *elements, ptrdiff_t count, int64_t norm_factor, int64_t samples,
                         double *mean, double *sem);

/// `qclab_exact_moments` through its FMA build (`fma` 1, x86-64 with AVX2 and FMA) or its
/// portable one (`fma` 0), for tests: the same bits either way. Returns 0, computing
/// nothing, if this machine cannot run it, else 1.
int qclab_exact_moments_using(int fma, const int64_t *elements, ptrdiff_t count, int64_t norm_factor,
                              int64_t samples, double *mean, double *sem);

#endif
