//===- Launcher.cpp - what an MPI launcher told this process --------------===//

#include "resnetrt/Launcher.h"

#include <cstdlib>
#include <iterator>

namespace resnetrt {

/// The first of the launchers' variables that is set, or null. Open MPI's
/// mpirun sets OMPI_*, PMIx launchers (srun, prterun) PMIX_RANK, the
/// Hydra-style ones PMI_*.
static const char *launcherVariable(const char *const names[], size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (const char *value = std::getenv(names[i]); value && *value)
      return value;
  return nullptr;
}

bool launchedByMpi() {
  static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                                      "PMI_SIZE"};
  return launcherVariable(names, std::size(names)) != nullptr;
}

int launcherRank() {
  static const char *const names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK",
                                      "PMI_RANK"};
  const char *value = launcherVariable(names, std::size(names));
  return value ? std::atoi(value) : 0;
}

int launcherLocalRank() {
  static const char *const names[] = {"OMPI_COMM_WORLD_LOCAL_RANK",
                                      "PMIX_LOCAL_RANK", "MPI_LOCALRANKID"};
  const char *value = launcherVariable(names, std::size(names));
  return value ? std::atoi(value) : 0;
}

} // namespace resnetrt
