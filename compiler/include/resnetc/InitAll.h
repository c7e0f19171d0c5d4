//===- InitAll.h - one place that registers resnetc's dialects and passes -===//
//
// Every tool (resnetc, resnetc-opt, the tests) registers through these two
// functions, so they all understand the same IR and the same pass names.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_INITALL_H
#define RESNETC_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace resnetc {

/// The rn dialect and the upstream dialects the pipeline emits.
void registerAllDialects(mlir::DialectRegistry &registry);

/// resnetc's passes and the upstream passes useful around them.
void registerAllPasses();

} // namespace resnetc

#endif // RESNETC_INITALL_H
