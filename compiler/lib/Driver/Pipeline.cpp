//===- Pipeline.cpp - the pass pipelines resnetc runs -----------------------===//

#include "resnetc/Driver/Pipeline.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

void resnetc::buildTrainingPipeline(mlir::OpPassManager &pm,
                                    const PipelineOptions &options) {
  pm.addPass(mlir::rn::createBuildTrainStep({options.syncBatchNorm}));
  if (options.fuse)
    pm.addPass(mlir::rn::createFuseConvBnRelu({options.fusionReport}));
  pm.addPass(mlir::rn::createAutodiff());
  pm.addPass(mlir::rn::createOptimizer());
  pm.addPass(mlir::rn::createPlanMemory(
      {options.reuseMemory, options.gpu ? 256 : 64, options.gpu}));
}
