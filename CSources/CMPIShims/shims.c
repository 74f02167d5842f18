#include "CMPIShims.h"

MPI_Comm qclab_mpi_comm_world(void) { return MPI_COMM_WORLD; }
MPI_Datatype qclab_mpi_byte(void) { return MPI_BYTE; }
MPI_Datatype qclab_mpi_int64(void) { return MPI_INT64_T; }
MPI_Status *qclab_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
MPI_Status *qclab_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
int qclab_mpi_any_source(void) { return MPI_ANY_SOURCE; }
int qclab_mpi_success(void) { return MPI_SUCCESS; }
int qclab_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
int qclab_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
int qclab_mpi_any_tag(void) { return MPI_ANY_TAG; }
MPI_Errhandler qclab_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
MPI_Errhandler qclab_mpi_errors_are_fatal(void) { return MPI_ERRORS_ARE_FATAL; }
