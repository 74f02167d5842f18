// CBLAS and OpenBLAS's thread control (Debian: libopenblas-dev).
#include <cblas.h>
