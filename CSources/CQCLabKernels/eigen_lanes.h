// The lane vectors of the batched eigensolvers (eigensolver.c, warm_tridiagonal.c): one
// vector holds the same quantity of LANES independent trajectories' problems.
#ifndef QCLAB_EIGEN_LANES_H
#define QCLAB_EIGEN_LANES_H
#include <stdint.h>

/// Sixteen lanes unless the including file sets QCLAB_EIGEN_LANES: two AVX-512 registers
/// (four AVX2 ones) per vector, so the latency-bound QL and inverse-iteration recurrences
/// always have independent chains to overlap (faster than eight lanes with AVX-512 and AVX2;
/// Benchmarks/README.md).
#ifndef QCLAB_EIGEN_LANES
#define QCLAB_EIGEN_LANES 16
#endif
enum { LANES = QCLAB_EIGEN_LANES };
typedef double lanes __attribute__((vector_size(LANES * sizeof(double))));
typedef int64_t lane_mask __attribute__((vector_size(LANES * sizeof(double))));

#define INLINE static inline __attribute__((always_inline))

// Vector helpers are macros and clang builtins, never functions taking or returning vectors:
// the baseline clone has no 512-bit registers, so vector arguments would change the ABI.
#define splat(x) ((lanes){0} + (double)(x))
#define select_lanes(m, a, b) ((lanes)(((m) & (lane_mask)(a)) | (~(m) & (lane_mask)(b))))
#define abs_lanes(x) __builtin_elementwise_abs(x)
#define sqrt_lanes(x) __builtin_elementwise_sqrt(x)
#define max_lanes(a, b) __builtin_elementwise_max(a, b)
#define min_lanes(a, b) __builtin_elementwise_min(a, b)
#define copysign_lanes(magnitude, sign) __builtin_elementwise_copysign(magnitude, sign)
#define any_lane(m) (__builtin_reduce_or(m) != 0)
#define all_lanes(m) (__builtin_reduce_and(m) != 0)
/// An unaligned view of LANES doubles (the caller's batch arrays).
typedef double unaligned_lanes __attribute__((vector_size(LANES * sizeof(double)), aligned(8)));
#define load_lanes(p) ((lanes)*(const unaligned_lanes *)(p))

#endif
