//===- BuildTrainStep.cpp - @forward to @train_step and @eval_step ----------===//
//
// A training step and an evaluation step are the forward graph with
// different semantics for a few layers, which build their own forms
// (StepFormOpInterface). Both take (images, labels) and return (mean loss,
// correct predictions); a softmax ending the model is folded into the loss,
// which is computed from logits. Today's forms:
//
//   layer            @train_step                         @eval_step
//   rn.batch_norm    rn.batch_norm_train + rn.store of   as written (running
//                    the running statistics (with        statistics)
//                    sync-batch-norm: rn.batch_norm_sums,
//                    _deviations, _global)
//   rn.dropout       rn.dropout_train (seeded mask)      removed (identity)
//   rn.dropblock     rn.dropblock_train (seeded mask)    removed (identity)
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::rn {
#define GEN_PASS_DEF_BUILDTRAINSTEP
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"
} // namespace mlir::rn

using namespace mlir;
using namespace mlir::rn;

namespace {

/// Clones `forward` into a step function of the given mode.
LogicalResult buildStep(ModuleOp module, func::FuncOp forward, bool training,
                        bool syncBatchNorm) {
  MLIRContext *ctx = module.getContext();
  OpBuilder builder(ctx);
  builder.setInsertionPointToEnd(module.getBody());
  auto images = cast<RankedTensorType>(forward.getArgumentTypes()[0]);
  auto labels =
      RankedTensorType::get({images.getDimSize(0)}, builder.getI32Type());
  auto lossType = RankedTensorType::get({}, builder.getF32Type());
  auto correctType = RankedTensorType::get({}, builder.getI32Type());
  auto step = builder.create<func::FuncOp>(
      forward.getLoc(), training ? kTrainStep : kEvalStep,
      builder.getFunctionType({images, labels}, {lossType, correctType}));
  Block *entry = step.addEntryBlock();
  entry->getArgument(0).setLoc(forward.getArgument(0).getLoc());
  builder.setInsertionPointToEnd(entry);

  IRMapping map;
  map.map(forward.getArgument(0), entry->getArgument(0));
  Value seed;
  StepForm form(training, syncBatchNorm, [&] {
    if (!seed)
      seed = builder.create<StepParamOp>(forward.getLoc(), builder.getI32Type(),
                                         StepParam::seed);
    return seed;
  });

  func::ReturnOp ret;
  for (Operation &op : forward.getBody().front()) {
    if (auto r = dyn_cast<func::ReturnOp>(op)) {
      ret = r;
      continue;
    }
    auto stepForm = dyn_cast<StepFormOpInterface>(op);
    if (!stepForm) {
      builder.clone(op, map);
      continue;
    }
    FailureOr<Value> value = stepForm.buildStepForm(builder, map, form);
    if (failed(value))
      return failure();
    map.map(op.getResult(0), *value);
  }

  // The loss is computed from logits: a final softmax is folded into it.
  Value output = map.lookup(ret.getOperand(0));
  if (auto softmax = output.getDefiningOp<SoftmaxOp>()) {
    output = softmax.getInput();
    softmax.erase();
  }
  Location lossLoc =
      NameLoc::get(builder.getStringAttr("loss"), ret.getLoc());
  Value smoothing =
      training ? builder
                     .create<StepParamOp>(lossLoc, builder.getF32Type(),
                                          StepParam::label_smoothing)
                     .getResult()
               : builder
                     .create<arith::ConstantOp>(lossLoc,
                                                builder.getF32FloatAttr(0))
                     .getResult();
  SmallVector<Type, 3> lossResults{lossType, correctType};
  if (training)
    lossResults.push_back(output.getType());
  auto loss = builder.create<SoftmaxCrossEntropyOp>(
      lossLoc, lossResults, output, entry->getArgument(1), smoothing,
      training ? builder.getUnitAttr() : UnitAttr());
  builder.create<func::ReturnOp>(ret.getLoc(),
                                 ValueRange{loss.getLoss(), loss.getCorrect()});
  return success();
}

struct BuildTrainStep : rn::impl::BuildTrainStepBase<BuildTrainStep> {
  using BuildTrainStepBase::BuildTrainStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(kForwardFunction);
    if (!forward) {
      module.emitError("rn-build-train-step needs a @forward function");
      return signalPassFailure();
    }
    if (module.lookupSymbol(kTrainStep) || module.lookupSymbol(kEvalStep)) {
      module.emitError("the module already has a training step");
      return signalPassFailure();
    }
    if (failed(buildStep(module, forward, /*training=*/true, syncBatchNorm)) ||
        failed(buildStep(module, forward, /*training=*/false, syncBatchNorm)))
      return signalPassFailure();
  }
};

} // namespace
