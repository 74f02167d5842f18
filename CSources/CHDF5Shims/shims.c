#include "CHDF5Shims.h"

hid_t qclab_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
hid_t qclab_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
hid_t qclab_h5t_std_i64le(void) { return H5T_STD_I64LE; }
hid_t qclab_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
hid_t qclab_h5t_c_s1(void) { return H5T_C_S1; }
hid_t qclab_h5p_default(void) { return H5P_DEFAULT; }
hid_t qclab_h5s_all(void) { return H5S_ALL; }
hid_t qclab_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
hid_t qclab_h5p_file_access(void) { return H5P_FILE_ACCESS; }
hid_t qclab_h5p_file_create(void) { return H5P_FILE_CREATE; }
unsigned qclab_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
unsigned qclab_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
size_t qclab_h5t_variable(void) { return H5T_VARIABLE; }
unsigned qclab_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
hid_t qclab_h5e_default(void) { return H5E_DEFAULT; }
hid_t qclab_h5t_ieee_f64be(void) { return H5T_IEEE_F64BE; }
hid_t qclab_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
hid_t qclab_h5t_ieee_f32be(void) { return H5T_IEEE_F32BE; }
