#ifndef QCLAB_CMPI_SHIMS_H
#define QCLAB_CMPI_SHIMS_H
#include <mpi.h>

// Open MPI's handles (MPI_COMM_WORLD, MPI_BYTE, MPI_INT64_T, MPI_STATUS_IGNORE, ...) are
// macros over the addresses of global structs, which Swift cannot import; each one the
// drivers need is wrapped in a function here.

/// MPI_COMM_WORLD.
MPI_Comm qclab_mpi_comm_world(void);
/// MPI_BYTE.
MPI_Datatype qclab_mpi_byte(void);
/// MPI_INT64_T.
MPI_Datatype qclab_mpi_int64(void);
/// MPI_STATUS_IGNORE.
MPI_Status *qclab_mpi_status_ignore(void);
/// MPI_STATUSES_IGNORE: for MPI_Waitall on the sends the MPI driver posts, whose
/// statuses it does not need (a cast macro, which Swift cannot import).
MPI_Status *qclab_mpi_statuses_ignore(void);
/// MPI_ANY_SOURCE.
int qclab_mpi_any_source(void);
/// MPI_SUCCESS.
int qclab_mpi_success(void);
/// MPI_MAX_ERROR_STRING.
int qclab_mpi_max_error_string(void);

/// MPI_THREAD_FUNNELED: the MPI driver runs rank 0's batches on a second thread while the
/// main thread, the only one calling MPI, hands out batches (an enum constant in some
/// MPIs and a macro in others, so Swift cannot rely on importing it).
int qclab_mpi_thread_funneled(void);
/// MPI_ERRORS_RETURN and MPI_ERRORS_ARE_FATAL: for MPI calls that should fail softly, to
/// say what to do about it.
MPI_Errhandler qclab_mpi_errors_return(void);
MPI_Errhandler qclab_mpi_errors_are_fatal(void);
/// MPI_ANY_TAG.
int qclab_mpi_any_tag(void);

#endif
