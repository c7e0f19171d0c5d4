//===- RNTrainOps.cpp - verifiers of the training-step ops ------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::rn;

bool mlir::rn::isBatched(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0)
    return false;
  Operation *op = value.getDefiningOp();
  if (!op) // the step's images and labels
    return true;
  unsigned index = cast<OpResult>(value).getResultNumber();
  // Results that sum over the batch, and what follows their operands.
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case<LoadOp, Conv2DBackwardFilterOp, DenseBackwardWeightsOp,
            FoldBatchNormOp, BatchNormSumsOp, BatchNormDeviationsOp,
            BatchNormGradSumsOp>([](auto) { return false; })
      .Case<BatchNormTrainOp, BatchNormBackwardOp, BatchNormApplyOp,
            BatchNormGlobalOp>([&](auto) { return index == 0; })
      .Case<BatchNormApplyBackwardOp>(
          [&](auto) { return index == 0 || index == 3; })
      .Case<AddOp>([](AddOp add) { return isBatched(add.getLhs()); })
      .Default([](Operation *) { return true; });
}

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
