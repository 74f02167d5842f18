// The library users import: the layers below, re-exported as one module.
//
// QCLabCore holds the physics (batches, linear algebra, models, algorithms, results in
// memory), QCLabIO the files (jobs, HDF5, checkpoints, plots), QCLabRuntime the drivers.
// What only these targets share is `package`; what is public here is the user surface.
@_exported import QCLabCore
@_exported import QCLabSystem
@_exported import QCLabIO
@_exported import QCLabRuntime
