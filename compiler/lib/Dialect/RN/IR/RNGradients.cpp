//===- RNGradients.cpp - each op's vector-Jacobian product ------------------===//
//
// GradientOpInterface for every differentiable op but the activations,
// whose gradient RNActivations.td writes. Each builds the backward
// ops of the gradients it is asked for and nothing else (the stem conv's
// input gradient, for instance, is never built). The formulas live in the
// backward ops' kernels; here is only which backward op answers which
// gradient.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::rn;

//===----------------------------------------------------------------------===//
// Convolution and dense
//===----------------------------------------------------------------------===//

/// The gradients of a convolution (rn.conv2d, rn.conv2d_stats) given `dy`,
/// that of its output.
static void convGradient(OpBuilder &builder, Location loc, Value input,
                         Value filter, Value bias, DenseI64ArrayAttr strides,
                         DenseI64ArrayAttr padding, DenseI64ArrayAttr dilations,
                         IntegerAttr groups, Value dy, ArrayRef<bool> needed,
                         MutableArrayRef<Value> operandGradients) {
  if (needed[0])
    operandGradients[0] = builder.create<Conv2DBackwardDataOp>(
        loc, input.getType(), dy, filter, strides, padding, dilations, groups);
  bool needBias = bias && needed[2];
  if (!needed[1] && !needBias)
    return;
  SmallVector<Type, 2> types{filter.getType()};
  if (bias)
    types.push_back(bias.getType());
  auto backward = builder.create<Conv2DBackwardFilterOp>(
      loc, types, input, dy, strides, padding, dilations, groups);
  operandGradients[1] = backward.getFilterGradient();
  if (bias)
    operandGradients[2] = backward.getBiasGradient();
}

LogicalResult Conv2DOp::buildGradient(OpBuilder &builder,
                                      ArrayRef<Value> resultGradients,
                                      ArrayRef<bool> needed,
                                      MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    convGradient(builder, getLoc(), getInput(), getFilter(), getBias(),
                 getStridesAttr(), getPaddingAttr(), getDilationsAttr(),
                 getGroupsAttr(), dy, needed, operandGradients);
  return success();
}

LogicalResult
Conv2DStatsOp::buildGradient(OpBuilder &builder,
                             ArrayRef<Value> resultGradients,
                             ArrayRef<bool> needed,
                             MutableArrayRef<Value> operandGradients) {
  // Only the output carries a gradient: rn.batch_norm_apply's accounts for
  // the moments it reads.
  Value dy = resultGradients[0];
  if (!dy)
    return success();
  if (getRelu())
    dy = builder.create<ReluBackwardOp>(getLoc(), dy.getType(), dy,
                                        getResult());
  convGradient(builder, getLoc(), getInput(), getFilter(), getBias(),
               getStridesAttr(), getPaddingAttr(), getDilationsAttr(),
               getGroupsAttr(), dy, needed, operandGradients);
  return success();
}

LogicalResult DenseOp::buildGradient(OpBuilder &builder,
                                     ArrayRef<Value> resultGradients,
                                     ArrayRef<bool> needed,
                                     MutableArrayRef<Value> operandGradients) {
  Value dy = resultGradients[0];
  if (!dy)
    return success();
  if (needed[0])
    operandGradients[0] = builder.create<DenseBackwardDataOp>(
        getLoc(), getInput().getType(), dy, getWeight());
  bool needBias = getBias() && needed[2];
  if (!needed[1] && !needBias)
    return success();
  SmallVector<Type, 2> types{getWeight().getType()};
  if (getBias())
    types.push_back(getBias().getType());
  auto backward = builder.create<DenseBackwardWeightsOp>(getLoc(), types,
                                                         getInput(), dy);
  operandGradients[1] = backward.getWeightGradient();
  if (getBias())
    operandGradients[2] = backward.getBiasGradient();
  return success();
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

LogicalResult
BatchNormTrainOp::buildGradient(OpBuilder &builder,
                                ArrayRef<Value> resultGradients,
                                ArrayRef<bool> needed,
                                MutableArrayRef<Value> operandGradients) {
  Value dy = resultGradients[0];
  if (!dy)
    return success();
  // One kernel gives all three; its reductions are needed for dx anyway.
  auto backward = builder.create<BatchNormBackwardOp>(
      getLoc(),
      TypeRange{getInput().getType(), getScale().getType(),
                getOffset().getType()},
      dy, getInput(), getScale(), getMean(), getInvstd());
  operandGradients[0] = backward.getInputGradient();
  operandGradients[1] = backward.getScaleGradient();
  operandGradients[2] = backward.getOffsetGradient();
  return success();
}

LogicalResult
BatchNormGlobalOp::buildGradient(OpBuilder &builder,
                                 ArrayRef<Value> resultGradients,
                                 ArrayRef<bool> needed,
                                 MutableArrayRef<Value> operandGradients) {
  Value dy = resultGradients[0];
  if (!dy)
    return success();
  // The whole BatchNorm backward, through the mean and variance as well:
  // the sums and deviations operands get no gradient of their own.
  Type channels = getScale().getType();
  // sum dy and sum dy (x - mean), each as hi and lo floats.
  auto sumsType = RankedTensorType::get(
      {4, cast<RankedTensorType>(channels).getDimSize(0)},
      builder.getF32Type());
  auto sums = builder.create<BatchNormGradSumsOp>(
      getLoc(), TypeRange{channels, channels, sumsType}, dy, getInput(),
      getMean(), getInvstd());
  operandGradients[0] = builder.create<BatchNormGlobalBackwardOp>(
      getLoc(), getInput().getType(), dy, getInput(), getScale(), getMean(),
      getInvstd(), sums.getSums(), getSums());
  operandGradients[1] = sums.getScaleGradient();
  operandGradients[2] = sums.getOffsetGradient();
  return success();
}

LogicalResult
BatchNormApplyOp::buildGradient(OpBuilder &builder,
                                ArrayRef<Value> resultGradients,
                                ArrayRef<bool> needed,
                                MutableArrayRef<Value> operandGradients) {
  Value dy = resultGradients[0];
  if (!dy)
    return success();
  // The BatchNorm backward covers the moments too (the mean and variance
  // are functions of the input), so they get no gradient of their own.
  Type channels = getScale().getType();
  SmallVector<Type, 4> types{getInput().getType(), channels, channels};
  bool maskedResidual = getResidual() && getRelu();
  if (maskedResidual)
    types.push_back(getInput().getType());
  // With a residual the ReLU's mask needs the result; without, the
  // kernel recomputes it from the input.
  auto backward = builder.create<BatchNormApplyBackwardOp>(
      getLoc(), types, dy, getInput(), getScale(), getOffset(), getMean(),
      getInvstd(), maskedResidual ? getResult() : Value(), getReluAttr());
  operandGradients[0] = backward.getInputGradient();
  operandGradients[3] = backward.getScaleGradient();
  operandGradients[4] = backward.getOffsetGradient();
  if (getResidual() && needed[7])
    operandGradients[7] = maskedResidual ? backward.getResidualGradient() : dy;
  return success();
}

//===----------------------------------------------------------------------===//
// Merging branches
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradient(OpBuilder &, ArrayRef<Value> resultGradients,
                                   ArrayRef<bool> needed,
                                   MutableArrayRef<Value> operandGradients) {
  // Both branches receive the gradient as it is; no op needed.
  for (int i = 0; i < 2; ++i)
    if (needed[i])
      operandGradients[i] = resultGradients[0];
  return success();
}

LogicalResult AddStatsOp::buildGradient(OpBuilder &,
                                        ArrayRef<Value> resultGradients,
                                        ArrayRef<bool> needed,
                                        MutableArrayRef<Value> operandGradients) {
  // As rn.add: the moments carry no gradient (rn.batch_norm_apply's
  // accounts for them).
  for (int i = 0; i < 2; ++i)
    if (needed[i])
      operandGradients[i] = resultGradients[0];
  return success();
}

LogicalResult ConcatOp::buildGradient(OpBuilder &builder,
                                      ArrayRef<Value> resultGradients,
                                      ArrayRef<bool> needed,
                                      MutableArrayRef<Value> operandGradients) {
  Value dy = resultGradients[0];
  if (!dy)
    return success();
  auto split = builder.create<ConcatBackwardOp>(
      getLoc(), getInputs().getTypes(), dy);
  for (auto [i, dx] : llvm::enumerate(split.getInputGradients()))
    if (needed[i])
      operandGradients[i] = dx;
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling and resampling
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2DOp::buildGradient(OpBuilder &builder,
                                         ArrayRef<Value> resultGradients,
                                         ArrayRef<bool>,
                                         MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<MaxPool2DBackwardOp>(
        getLoc(), getInput().getType(), dy, getInput(), getKernelAttr(),
        getStridesAttr(), getPaddingAttr());
  return success();
}

LogicalResult AvgPool2DOp::buildGradient(OpBuilder &builder,
                                         ArrayRef<Value> resultGradients,
                                         ArrayRef<bool>,
                                         MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<AvgPool2DBackwardOp>(
        getLoc(), getInput().getType(), dy, getKernelAttr(), getStridesAttr(),
        getPaddingAttr(), getCountIncludePadAttr());
  return success();
}

LogicalResult
GlobalAvgPoolOp::buildGradient(OpBuilder &builder,
                               ArrayRef<Value> resultGradients, ArrayRef<bool>,
                               MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<GlobalAvgPoolBackwardOp>(
        getLoc(), getInput().getType(), dy);
  return success();
}

LogicalResult
GlobalMaxPoolOp::buildGradient(OpBuilder &builder,
                               ArrayRef<Value> resultGradients, ArrayRef<bool>,
                               MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<GlobalMaxPoolBackwardOp>(
        getLoc(), getInput().getType(), dy, getInput());
  return success();
}

LogicalResult ZeroPadOp::buildGradient(OpBuilder &builder,
                                       ArrayRef<Value> resultGradients,
                                       ArrayRef<bool>,
                                       MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<ZeroPadBackwardOp>(
        getLoc(), getInput().getType(), dy, getLowAttr(), getHighAttr());
  return success();
}

LogicalResult SubsampleOp::buildGradient(OpBuilder &builder,
                                         ArrayRef<Value> resultGradients,
                                         ArrayRef<bool>,
                                         MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<SubsampleBackwardOp>(
        getLoc(), getInput().getType(), dy, getStridesAttr());
  return success();
}

LogicalResult FlattenOp::buildGradient(OpBuilder &builder,
                                       ArrayRef<Value> resultGradients,
                                       ArrayRef<bool>,
                                       MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<FlattenBackwardOp>(
        getLoc(), getInput().getType(), dy);
  return success();
}

//===----------------------------------------------------------------------===//
// Regularisation and the loss
//===----------------------------------------------------------------------===//

LogicalResult
DropoutTrainOp::buildGradient(OpBuilder &builder,
                              ArrayRef<Value> resultGradients, ArrayRef<bool>,
                              MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<DropoutBackwardOp>(
        getLoc(), dy.getType(), dy, getSeed(), getRateAttr(), getSaltAttr());
  return success();
}

LogicalResult
DropBlockTrainOp::buildGradient(OpBuilder &builder,
                                ArrayRef<Value> resultGradients, ArrayRef<bool>,
                                MutableArrayRef<Value> operandGradients) {
  if (Value dy = resultGradients[0])
    operandGradients[0] = builder.create<DropBlockBackwardOp>(
        getLoc(), dy.getType(), dy, getSeed(), getRateAttr(),
        getBlockSizeAttr(), getSaltAttr());
  return success();
}

Value SoftmaxCrossEntropyOp::getLossValue() { return getLoss(); }

LogicalResult SoftmaxCrossEntropyOp::getSeedGradients(
    MutableArrayRef<Value> operandGradients) {
  if (!getWithGradient())
    return emitOpError("was built without `with_gradient`, so it cannot seed "
                       "the backward pass");
  operandGradients[0] = getLogitsGradient();
  return success();
}
