//===- Pipeline.h - the pass pipelines resnetc runs -------------*- C++ -*-===//

#ifndef RESNETC_DRIVER_PIPELINE_H
#define RESNETC_DRIVER_PIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace resnetc {

struct PipelineOptions {
  /// false: no two tensors share bytes (rn-plan-memory{reuse=false}).
  bool reuseMemory = true;
  /// Run rn-fuse-conv-bn-relu.
  bool fuse = true;
  /// Training BatchNorm split for synchronised BatchNorm on several ranks
  /// (rn-build-train-step{sync-batch-norm=true}).
  bool syncBatchNorm = false;
  /// Have rn-fuse-conv-bn-relu remark on every chain.
  bool fusionReport = false;
  /// Plan for a GPU's arena: every tensor, variables included, 256-byte
  /// aligned (rn-plan-memory{alignment=256 align-variables=true}).
  bool gpu = false;
};

/// forward graph -> planned training and evaluation steps:
/// rn-build-train-step, rn-fuse-conv-bn-relu, rn-autodiff, rn-optimizer,
/// rn-plan-memory.
void buildTrainingPipeline(mlir::OpPassManager &pm,
                           const PipelineOptions &options = {});

} // namespace resnetc

#endif // RESNETC_DRIVER_PIPELINE_H
