//===- RNFusedOps.cpp - verifiers of the fused ops --------------------------===//
//
// The fused ops keep the shape rules of the ops they replace: the conv's
// output follows Conv2DOp's rule, everything else has the shape of the
// tensor it normalises or adds to.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"

using namespace mlir;
using namespace mlir::rn;

/// The conv's result must be what rn.conv2d of the same operands gives.
static LogicalResult verifyConvResult(Operation *op, Value input, Value filter,
                                      Value bias, ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> padding,
                                      ArrayRef<int64_t> dilations,
                                      int64_t groups, Type result) {
  FailureOr<RankedTensorType> expected = Conv2DOp::inferResultType(
      op->getLoc(), input.getType(), filter.getType(),
      bias ? bias.getType() : Type(), strides, padding, dilations, groups);
  if (failed(expected))
    return failure();
  if (*expected != result)
    return op->emitOpError("result must be ") << *expected << ", got " << result;
  return success();
}

/// Per-image moments of `result`: [N, C].
static LogicalResult verifyMoments(Operation *op, RankedTensorType result,
                                   Value sum, Value m2) {
  auto moments = RankedTensorType::get(
      {result.getDimSize(0), result.getDimSize(1)}, result.getElementType());
  if (sum.getType() != moments || m2.getType() != moments)
    return op->emitOpError("per-image moments must be ") << moments;
  return success();
}

LogicalResult Conv2DStatsOp::verify() {
  if (failed(verifyConvResult(*this, getInput(), getFilter(), getBias(),
                              getStrides(), getPadding(), getDilations(),
                              getGroups(), getResult().getType())))
    return failure();
  return verifyMoments(*this, getResult().getType(), getImageSum(),
                       getImageM2());
}

LogicalResult AddStatsOp::verify() {
  auto result = getResult().getType();
  if (getLhs().getType() != result || getRhs().getType() != result)
    return emitOpError("summands and result must have one type");
  return verifyMoments(*this, result, getImageSum(), getImageM2());
}

LogicalResult BatchNormApplyOp::verify() {
  auto input = getInput().getType();
  int64_t channels = input.getDimSize(1);
  for (Value v : {getScale(), getOffset(), getRunningMean(), getRunningVar()})
    if (cast<RankedTensorType>(v.getType()).getDimSize(0) != channels)
      return emitOpError("needs ") << channels << " values per channel vector";
  if (failed(verifyMoments(*this, input, getImageSum(), getImageM2())))
    return failure();
  if (getResidual() && getResidual().getType() != input)
    return emitOpError("residual must have the input's type ") << input;
  if (getResult().getType() != input)
    return emitOpError("result must have the input's type ") << input;
  return success();
}

LogicalResult FusedConv2DOp::verify() {
  if (failed(verifyConvResult(*this, getInput(), getFilter(), getBias(),
                              getStrides(), getPadding(), getDilations(),
                              getGroups(), getResult().getType())))
    return failure();
  if (getResidual() && getResidual().getType() != getResult().getType())
    return emitOpError("residual must have the result's type ")
           << getResult().getType();
  return success();
}

int64_t Conv2DStatsOp::getMultiplyAddsPerImage() {
  return convMultiplyAdds(getResult().getType(), getFilter().getType());
}

int64_t FusedConv2DOp::getMultiplyAddsPerImage() {
  return convMultiplyAdds(getResult().getType(), getFilter().getType());
}
