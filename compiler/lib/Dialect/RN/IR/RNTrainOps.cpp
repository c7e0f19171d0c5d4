//===- RNTrainOps.cpp - the training step's ops: forms, verifiers ----------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"

using namespace mlir;
using namespace mlir::rn;

bool mlir::rn::isBatched(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0)
    return false;
  auto result = dyn_cast<OpResult>(value);
  if (!result) // the step's images and labels
    return true;
  auto op = dyn_cast<BatchedResultsOpInterface>(result.getOwner());
  return !op || op.isResultBatched(result.getResultNumber());
}

//===----------------------------------------------------------------------===//
// Forms in the training and evaluation steps (StepFormOpInterface)
//===----------------------------------------------------------------------===//

/// The variable an operand reads, for ops that must store back to it.
static FailureOr<FlatSymbolRefAttr> variableOf(Operation *user,
                                               Value operand) {
  if (auto load = operand.getDefiningOp<LoadOp>())
    return load.getVariableAttr();
  return user->emitOpError("needs its running statistics read straight from "
                           "variables to train");
}

/// Evaluation: inference BatchNorm with the running statistics, as built.
/// Training: the batch's statistics (or, synchronised, the global batch's
/// from sums the ranks add up), and stores of the new running statistics.
FailureOr<Value> BatchNormOp::buildStepForm(OpBuilder &builder,
                                            IRMapping &map, StepForm &form) {
  if (!form.training)
    return builder.clone(*getOperation(), map)->getResult(0);
  FailureOr<FlatSymbolRefAttr> mean = variableOf(*this, getMean());
  FailureOr<FlatSymbolRefAttr> var = variableOf(*this, getVariance());
  if (failed(mean) || failed(var))
    return failure();
  Type channels = getScale().getType();
  SmallVector<Type, 5> types{getType(), channels, channels, channels,
                             channels};
  Value input = map.lookup(getInput());
  Value runningMean = map.lookup(getMean());
  Operation *train;
  if (form.syncBatchNorm) {
    auto sumsType = RankedTensorType::get(
        {3, cast<RankedTensorType>(channels).getDimSize(0)},
        builder.getF32Type());
    auto sums = builder.create<BatchNormSumsOp>(getLoc(), sumsType, input,
                                                runningMean);
    auto m2 = builder.create<BatchNormDeviationsOp>(getLoc(), channels, input,
                                                    runningMean, sums);
    train = builder.create<BatchNormGlobalOp>(
        getLoc(), types, input, map.lookup(getScale()),
        map.lookup(getOffset()), runningMean, map.lookup(getVariance()), sums,
        m2, getEpsilonAttr(), getMomentumAttr());
  } else {
    train = builder.create<BatchNormTrainOp>(
        getLoc(), types, input, map.lookup(getScale()),
        map.lookup(getOffset()), runningMean, map.lookup(getVariance()),
        getEpsilonAttr(), getMomentumAttr());
  }
  // Results: y, mean, invstd, new running mean, new running variance.
  builder.create<StoreOp>(getLoc(), *mean, train->getResult(3));
  builder.create<StoreOp>(getLoc(), *var, train->getResult(4));
  return train->getResult(0);
}

/// The identity when evaluating; a seeded mask when training.
FailureOr<Value> DropoutOp::buildStepForm(OpBuilder &builder, IRMapping &map,
                                          StepForm &form) {
  Value input = map.lookup(getInput());
  if (!form.training)
    return input;
  return builder
      .create<DropoutTrainOp>(getLoc(), input.getType(), input, form.seed(),
                              getRateAttr(),
                              builder.getI64IntegerAttr(form.takeSalt()))
      .getResult();
}

FailureOr<Value> DropBlockOp::buildStepForm(OpBuilder &builder,
                                            IRMapping &map, StepForm &form) {
  Value input = map.lookup(getInput());
  if (!form.training)
    return input;
  return builder
      .create<DropBlockTrainOp>(getLoc(), input.getType(), input, form.seed(),
                                getRateAttr(), getBlockSizeAttr(),
                                builder.getI64IntegerAttr(form.takeSalt()))
      .getResult();
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult StepParamOp::verify() {
  bool integer = getParam() == StepParam::nesterov ||
                 getParam() == StepParam::step || getParam() == StepParam::seed;
  Type expected = integer ? Type(IntegerType::get(getContext(), 32))
                          : Type(Float32Type::get(getContext()));
  if (getType() != expected)
    return emitOpError("'") << stringifyStepParam(getParam()) << "' is "
                            << expected << ", not " << getType();
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::verify() {
  auto logits = getLogits().getType();
  if (getLabels().getType().getDimSize(0) != logits.getDimSize(0))
    return emitOpError("has ")
           << logits.getDimSize(0) << " rows of logits but "
           << getLabels().getType().getDimSize(0) << " labels";
  Value gradient = getLogitsGradient();
  if (bool(gradient) != getWithGradient())
    return emitOpError("returns the logits' gradient exactly when "
                       "`with_gradient` is set");
  if (gradient && gradient.getType() != logits)
    return emitOpError("logits gradient must have the logits' type ")
           << logits;
  return success();
}

LogicalResult ApplyGradientsOp::verify() {
  if (getGradients().size() != getParameters().size())
    return emitOpError("has ") << getGradients().size() << " gradients for "
                               << getParameters().size() << " parameters";
  return success();
}
