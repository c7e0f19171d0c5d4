//===- Pipeline.cpp - the pass pipelines resnetc runs -----------------------===//

#include "resnetc/Driver/Pipeline.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

void resnetc::buildTrainingPipeline(mlir::OpPassManager &pm,
                                    bool reuseMemory) {
  pm.addPass(mlir::rn::createBuildTrainStep());
  pm.addPass(mlir::rn::createAutodiff());
  pm.addPass(mlir::rn::createOptimizer());
  pm.addPass(mlir::rn::createPlanMemory({reuseMemory}));
}
