#ifndef QCLAB_CHDF5_SHIMS_H
#define QCLAB_CHDF5_SHIMS_H
#include <hdf5.h>

// HDF5's predefined type handles (H5T_NATIVE_DOUBLE, H5T_STD_I64LE, H5T_C_S1, ...) are
// macros that expand to a library-open call plus a global id, and H5P_DEFAULT / H5S_ALL
// are macros too: Swift imports none of them, so each is wrapped in a function here.

/// H5T_NATIVE_DOUBLE: float64 in memory.
hid_t qclab_h5t_native_double(void);
/// H5T_NATIVE_INT64: int64 in memory.
hid_t qclab_h5t_native_int64(void);
/// H5T_STD_I64LE: int64 as h5py stores numpy's int64 on disk.
hid_t qclab_h5t_std_i64le(void);
/// H5T_IEEE_F64LE: float64 as h5py stores numpy's float64 on disk.
hid_t qclab_h5t_ieee_f64le(void);
/// H5T_IEEE_F64BE, H5T_IEEE_F32LE, H5T_IEEE_F32BE: the other standard floats a file may hold.
hid_t qclab_h5t_ieee_f64be(void);
hid_t qclab_h5t_ieee_f32le(void);
hid_t qclab_h5t_ieee_f32be(void);
/// H5T_C_S1: the base type for strings.
hid_t qclab_h5t_c_s1(void);
/// H5P_DEFAULT: the default property list.
hid_t qclab_h5p_default(void);
/// H5P_DATASET_CREATE: the class of dataset-creation property lists (a macro), for
/// chunked, compressed datasets.
hid_t qclab_h5p_dataset_create(void);
/// H5P_FILE_ACCESS: the class of file-access property lists (a macro), to choose the
/// file format version written.
hid_t qclab_h5p_file_access(void);
/// H5P_FILE_CREATE: the class of file-creation property lists (a macro), to keep the root
/// group's links in its object header.
hid_t qclab_h5p_file_create(void);
/// H5S_ALL: the whole dataspace.
hid_t qclab_h5s_all(void);
/// H5F_ACC_TRUNC / H5F_ACC_RDONLY: file access flags (macros in HDF5 1.10).
unsigned qclab_h5f_acc_trunc(void);
unsigned qclab_h5f_acc_rdonly(void);
/// H5T_VARIABLE: the size that marks a variable-length string (a macro).
size_t qclab_h5t_variable(void);
/// H5F_ACC_EXCL: create-only-if-absent flag (a macro), so a temporary file never clobbers another.
unsigned qclab_h5f_acc_excl(void);
/// H5E_DEFAULT: the default error stack (a macro), for silencing HDF5's automatic error printing.
hid_t qclab_h5e_default(void);

#endif
