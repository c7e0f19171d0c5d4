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

//===----------------------------------------------------------------------===//
// Backward ops: their gradients against the forward op's shape rule
//===----------------------------------------------------------------------===//

/// The forward op's result type, as its shape rule computes it from the
/// tensors the backward op differentiates, must be `outputGradient`'s.
static LogicalResult expectForward(Operation *op,
                                   FailureOr<RankedTensorType> forward,
                                   Value outputGradient) {
  if (failed(forward))
    return failure(); // the shape rule said why
  if (*forward != outputGradient.getType())
    return op->emitOpError("has output gradient ")
           << outputGradient.getType() << ", but its forward op computes "
           << *forward;
  return success();
}

/// Two tensors of one type: a gradient and what it is the gradient of.
static LogicalResult expectSameType(Operation *op, Value gradient,
                                    Value of) {
  if (gradient.getType() != of.getType())
    return op->emitOpError("has gradient ")
           << gradient.getType() << " of a " << of.getType();
  return success();
}

LogicalResult Conv2DBackwardDataOp::verify() {
  return expectForward(
      *this,
      Conv2DOp::inferResultType(getLoc(), getInputGradient().getType(),
                                getFilter().getType(), Type(), getStrides(),
                                getPadding(), getDilations(), getGroups()),
      getOutputGradient());
}

LogicalResult Conv2DBackwardFilterOp::verify() {
  Type bias = getBiasGradient() ? getBiasGradient().getType() : Type();
  return expectForward(
      *this,
      Conv2DOp::inferResultType(getLoc(), getInput().getType(),
                                getFilterGradient().getType(), bias,
                                getStrides(), getPadding(), getDilations(),
                                getGroups()),
      getOutputGradient());
}

LogicalResult DenseBackwardDataOp::verify() {
  return expectForward(*this,
                       DenseOp::inferResultType(getLoc(),
                                                getInputGradient().getType(),
                                                getWeight().getType(), Type()),
                       getOutputGradient());
}

LogicalResult DenseBackwardWeightsOp::verify() {
  Type bias = getBiasGradient() ? getBiasGradient().getType() : Type();
  return expectForward(*this,
                       DenseOp::inferResultType(getLoc(), getInput().getType(),
                                                getWeightGradient().getType(),
                                                bias),
                       getOutputGradient());
}

// The backward convolutions and dense layers do the forward op's
// multiply-adds (CostOpInterface).
int64_t Conv2DBackwardDataOp::getMultiplyAddsPerImage() {
  return convMultiplyAdds(getOutputGradient().getType(),
                          getFilter().getType());
}

int64_t Conv2DBackwardFilterOp::getMultiplyAddsPerImage() {
  return convMultiplyAdds(getOutputGradient().getType(),
                          getFilterGradient().getType());
}

int64_t DenseBackwardDataOp::getMultiplyAddsPerImage() {
  return getWeight().getType().getNumElements();
}

int64_t DenseBackwardWeightsOp::getMultiplyAddsPerImage() {
  return getWeightGradient().getType().getNumElements();
}

/// BatchNorm's gradients: dy, x and dx of one type, and every per-channel
/// tensor [C] for the C channels of dimension 1.
static LogicalResult verifyBatchNormGradient(Operation *op, Value dy, Value x,
                                             Value dx, ValueRange channelwise) {
  if (failed(expectSameType(op, dy, x)) || failed(expectSameType(op, dx, x)))
    return failure();
  int64_t channels = cast<RankedTensorType>(x.getType()).getDimSize(1);
  for (Value v : channelwise)
    if (cast<RankedTensorType>(v.getType()).getDimSize(0) != channels)
      return op->emitOpError("has per-channel tensor ")
             << v.getType() << " for " << channels << " channels";
  return success();
}

LogicalResult BatchNormBackwardOp::verify() {
  return verifyBatchNormGradient(
      *this, getOutputGradient(), getInput(), getInputGradient(),
      {getScale(), getMean(), getInvstd(), getScaleGradient(),
       getOffsetGradient()});
}

LogicalResult BatchNormGlobalBackwardOp::verify() {
  if (failed(verifyBatchNormGradient(*this, getOutputGradient(), getInput(),
                                     getInputGradient(),
                                     {getScale(), getMean(), getInvstd()})))
    return failure();
  int64_t channels = getScale().getType().getDimSize(0);
  auto expectRows = [&](Value sums, int64_t rows) -> LogicalResult {
    auto type = cast<RankedTensorType>(sums.getType());
    if (type.getDimSize(0) != rows || type.getDimSize(1) != channels)
      return emitOpError("has sums ")
             << type << ", not " << rows << "x" << channels;
    return success();
  };
  // rn.batch_norm_grad_sums' [4, C]; rn.batch_norm_sums' [3, C].
  return failure(failed(expectRows(getSums(), 4)) ||
                 failed(expectRows(getBatchSums(), 3)));
}

LogicalResult MaxPool2DBackwardOp::verify() {
  if (failed(expectSameType(*this, getInputGradient(), getInput())))
    return failure();
  return expectForward(*this,
                       MaxPool2DOp::inferResultType(getLoc(),
                                                    getInput().getType(),
                                                    getKernel(), getStrides(),
                                                    getPadding()),
                       getOutputGradient());
}

LogicalResult AvgPool2DBackwardOp::verify() {
  return expectForward(
      *this,
      AvgPool2DOp::inferResultType(getLoc(), getInputGradient().getType(),
                                   getKernel(), getStrides(), getPadding()),
      getOutputGradient());
}

LogicalResult GlobalAvgPoolBackwardOp::verify() {
  return expectForward(
      *this,
      GlobalAvgPoolOp::inferResultType(getLoc(), getInputGradient().getType()),
      getOutputGradient());
}

LogicalResult GlobalMaxPoolBackwardOp::verify() {
  if (failed(expectSameType(*this, getInputGradient(), getInput())))
    return failure();
  return expectForward(
      *this, GlobalMaxPoolOp::inferResultType(getLoc(), getInput().getType()),
      getOutputGradient());
}

LogicalResult ZeroPadBackwardOp::verify() {
  return expectForward(*this,
                       ZeroPadOp::inferResultType(getLoc(),
                                                  getInputGradient().getType(),
                                                  getLow(), getHigh()),
                       getOutputGradient());
}

LogicalResult SubsampleBackwardOp::verify() {
  return expectForward(
      *this,
      SubsampleOp::inferResultType(getLoc(), getInputGradient().getType(),
                                   getStrides()),
      getOutputGradient());
}

LogicalResult ConcatBackwardOp::verify() {
  return expectForward(
      *this,
      ConcatOp::inferResultType(getLoc(), getInputGradients().getTypes()),
      getOutputGradient());
}

LogicalResult FlattenBackwardOp::verify() {
  return expectForward(
      *this, FlattenOp::inferResultType(getLoc(), getInputGradient().getType()),
      getOutputGradient());
}

/// A mask's gradient: dx like dy, and a rate the forward op could have.
static LogicalResult verifyMaskGradient(Operation *op, Value dy, Value dx,
                                        double rate) {
  if (failed(expectSameType(op, dx, dy)))
    return failure();
  if (!(rate >= 0 && rate < 1))
    return op->emitOpError("rate must be in [0, 1), got ") << rate;
  return success();
}

LogicalResult DropoutBackwardOp::verify() {
  return verifyMaskGradient(*this, getOutputGradient(), getInputGradient(),
                            getRate().convertToDouble());
}

LogicalResult DropBlockBackwardOp::verify() {
  if (getBlockSize() < 1)
    return emitOpError("block_size must be at least 1, got ")
           << getBlockSize();
  return verifyMaskGradient(*this, getOutputGradient(), getInputGradient(),
                            getRate().convertToDouble());
}
