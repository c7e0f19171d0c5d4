//===- Pipeline.h - the pass pipelines resnetc runs -------------*- C++ -*-===//

#ifndef RESNETC_DRIVER_PIPELINE_H
#define RESNETC_DRIVER_PIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace resnetc {

/// forward graph -> planned training and evaluation steps:
/// rn-build-train-step, rn-autodiff, rn-optimizer, rn-plan-memory (with
/// `reuseMemory` false, no two tensors share bytes).
void buildTrainingPipeline(mlir::OpPassManager &pm, bool reuseMemory = true);

} // namespace resnetc

#endif // RESNETC_DRIVER_PIPELINE_H
