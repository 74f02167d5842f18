// Open MPI's C interface (Debian: libopenmpi-dev).
#include <mpi.h>
