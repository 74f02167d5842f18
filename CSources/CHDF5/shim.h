// HDF5's C interface, serial build (Debian: libhdf5-dev).
#include <hdf5.h>
