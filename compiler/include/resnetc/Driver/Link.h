//===- Link.h - linking train with the system's C++ compiler driver -*- C++ -*-===//

#ifndef RESNETC_DRIVER_LINK_H
#define RESNETC_DRIVER_LINK_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace resnetc {

/// The C++ compiler driver used as linker: $CXX, else c++, g++ or clang++
/// on PATH. Empty if there is none.
std::string findLinker();

/// The runtime archive `archive` (libresnetrt.a for train,
/// libresnetrt-classify.a for classify) in <resnetc's dir>/../lib;
/// $RESNETC_RUNTIME and $RESNETC_RUNTIME_CLASSIFY, if set, are the paths of
/// libresnetrt.a and libresnetrt-classify.a instead. Empty if it is
/// not there.
std::string findRuntimeLibrary(const char *argv0, llvm::StringRef archive);

/// Links `objects` and the runtime into the executable `output`, or with
/// `relocatable` merges the objects into one object file. Returns the
/// error, with the linker's output, on failure.
std::optional<std::string> link(const std::string &linker,
                                const std::vector<std::string> &objects,
                                const std::string &runtimeLibrary,
                                const std::string &output, bool relocatable,
                                bool verbose);

} // namespace resnetc

#endif // RESNETC_DRIVER_LINK_H
