//===- Launcher.h - what an MPI launcher told this process ------*- C++ -*-===//
//
// mpirun (and srun, mpiexec) start each rank with its place in the job in
// the environment. Read before MPI is initialised, and by code that does
// not link MPI (the GPU a rank takes, Device.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_LAUNCHER_H
#define RESNETRT_LAUNCHER_H

namespace resnetrt {

/// Whether this process was started by an MPI launcher (mpirun, mpiexec,
/// srun with PMIx): only then does train initialise MPI.
bool launchedByMpi();

/// The rank of this process in its MPI job (0 when not launched by MPI).
int launcherRank();

/// This process's index among the job's ranks on its machine (0 when not
/// launched by MPI): which of the machine's GPUs it takes.
int launcherLocalRank();

} // namespace resnetrt

#endif // RESNETRT_LAUNCHER_H
