// LAPACKE, the C interface to LAPACK (Debian: liblapacke-dev).
//
// By default LAPACKE's complex types are C99 `double _Complex`, which Swift cannot
// import; a plain two-double struct has the same layout, so we declare LAPACKE's complex
// types as such structs (LAPACKE's documented LAPACK_COMPLEX_CUSTOM hook).
#ifndef QCLAB_CLAPACKE_SHIM_H
#define QCLAB_CLAPACKE_SHIM_H
#define LAPACK_COMPLEX_CUSTOM
typedef struct { float real, imag; } qclab_lapack_complex_float;
typedef struct { double real, imag; } qclab_lapack_complex_double;
#define lapack_complex_float qclab_lapack_complex_float
#define lapack_complex_double qclab_lapack_complex_double
#include <lapacke.h>
#endif
