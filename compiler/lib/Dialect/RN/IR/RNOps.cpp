//===- RNOps.cpp - rn ops: shape rules, verifiers, costs -------------------===//
//
// Each op's shape rule is its static `inferResultType`. The rules are written
// for the person who wrote the DSL: a failing rule says what is wrong in terms
// of channels, heights and widths, and what would fix it. Shapes in messages
// leave out the batch dimension, which the DSL never writes.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::rn;

#include "resnetc/Dialect/RN/IR/RNInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers shared by the shape rules
//===----------------------------------------------------------------------===//

namespace {

/// `[16, 32, 32]`: the per-image shape (the batch dimension left out).
std::string imageShape(RankedTensorType type) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleave(type.getShape().drop_front(), os, ", ");
  os << "]";
  return text;
}

/// `3x3`, for a pair of window sizes.
std::string pairText(int64_t a, int64_t b) {
  return std::to_string(a) + "x" + std::to_string(b);
}

RankedTensorType f32Tensor(ArrayRef<int64_t> shape, MLIRContext *ctx) {
  return RankedTensorType::get(shape, Float32Type::get(ctx));
}

/// A rank-`rank` ranked tensor, or a diagnostic naming what was expected.
FailureOr<RankedTensorType> expectRank(std::optional<Location> loc, Type type,
                                       ArrayRef<int64_t> ranks,
                                       StringRef what) {
  auto tensor = dyn_cast_or_null<RankedTensorType>(type);
  if (tensor && llvm::is_contained(ranks, tensor.getRank()))
    return tensor;
  if (ranks.size() == 1 && ranks.front() == 4)
    return emitOptionalError(loc, what,
                             " needs an image tensor (channels, height, "
                             "width), got ",
                             type);
  return emitOptionalError(loc, what, " has an unexpected type ", type);
}

LogicalResult checkPositive(std::optional<Location> loc, ArrayRef<int64_t> values,
                            size_t count, StringRef name) {
  if (values.size() != count)
    return emitOptionalError(loc, name, " needs ", count, " values, got ",
                             values.size());
  for (int64_t v : values)
    if (v < 1)
      return emitOptionalError(loc, name, " must be at least 1, got ", v);
  return success();
}

LogicalResult checkNonNegative(std::optional<Location> loc,
                               ArrayRef<int64_t> values, size_t count,
                               StringRef name) {
  if (values.size() != count)
    return emitOptionalError(loc, name, " needs ", count, " values, got ",
                             values.size());
  for (int64_t v : values)
    if (v < 0)
      return emitOptionalError(loc, name, " cannot be negative, got ", v);
  return success();
}

LogicalResult checkChannelVector(std::optional<Location> loc, Type type,
                                 int64_t channels, StringRef what) {
  auto tensor = dyn_cast_or_null<RankedTensorType>(type);
  if (tensor && tensor.getRank() == 1 && tensor.getDimSize(0) == channels)
    return success();
  return emitOptionalError(loc, what, " must have one value per channel (",
                           channels, "), got ", type);
}

/// Output size of a sliding window along one axis, or a diagnostic.
FailureOr<int64_t> windowOutput(std::optional<Location> loc, StringRef layer,
                                int64_t size, int64_t padBefore,
                                int64_t padAfter, int64_t window,
                                int64_t stride, StringRef axis) {
  int64_t padded = size + padBefore + padAfter;
  if (window > padded)
    return emitOptionalError(loc, layer, " window of ", window, " ", axis,
                             " is larger than its padded input (", padded,
                             "); use a smaller kernel or more padding");
  return (padded - window) / stride + 1;
}

} // namespace

//===----------------------------------------------------------------------===//
// rn.conv2d
//===----------------------------------------------------------------------===//

FailureOr<RankedTensorType>
Conv2DOp::inferResultType(std::optional<Location> loc, Type inputType,
                          Type filterType, Type biasType,
                          ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
                          ArrayRef<int64_t> dilations, int64_t groups) {
  auto input = expectRank(loc, inputType, {4}, "conv");
  auto filter = expectRank(loc, filterType, {4}, "conv filter");
  if (failed(input) || failed(filter) ||
      failed(checkPositive(loc, strides, 2, "conv stride")) ||
      failed(checkPositive(loc, dilations, 2, "conv dilation")) ||
      failed(checkNonNegative(loc, padding, 4, "conv padding")))
    return failure();
  if (groups < 1)
    return emitOptionalError(loc, "conv groups must be at least 1, got ",
                             groups);

  int64_t channels = input->getDimSize(1);
  int64_t filters = filter->getDimSize(0);
  if (channels % groups != 0)
    return emitOptionalError(loc, "conv input has ", channels,
                             " channels, which do not split into ", groups,
                             " groups");
  if (filters % groups != 0)
    return emitOptionalError(loc, "conv has ", filters,
                             " filters, which do not split into ", groups,
                             " groups");
  if (filter->getDimSize(1) * groups != channels)
    return emitOptionalError(
        loc, "channel mismatch: conv filter expects ",
        filter->getDimSize(1) * groups, " input channels but its input ",
        imageShape(*input), " has ", channels);
  if (biasType && failed(checkChannelVector(loc, biasType, filters,
                                            "conv bias")))
    return failure();

  int64_t kh = (filter->getDimSize(2) - 1) * dilations[0] + 1;
  int64_t kw = (filter->getDimSize(3) - 1) * dilations[1] + 1;
  int64_t height = input->getDimSize(2), width = input->getDimSize(3);
  if (kh > height + padding[0] + padding[2] ||
      kw > width + padding[1] + padding[3])
    return emitOptionalError(
        loc, "conv kernel ", pairText(kh, kw),
        " is larger than its input ",
        pairText(height + padding[0] + padding[2],
                 width + padding[1] + padding[3]),
        " (after padding); use a smaller kernel, more padding, or fewer "
        "downsampling layers before it");
  auto outH = windowOutput(loc, "conv", height, padding[0], padding[2], kh,
                           strides[0], "rows");
  auto outW = windowOutput(loc, "conv", width, padding[1], padding[3], kw,
                           strides[1], "columns");
  if (failed(outH) || failed(outW))
    return failure();
  return f32Tensor({input->getDimSize(0), filters, *outH, *outW},
                   inputType.getContext());
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  Type bias = adaptor.getBias() ? adaptor.getBias().getType() : Type();
  auto type = inferResultType(loc, adaptor.getInput().getType(),
                              adaptor.getFilter().getType(), bias,
                              adaptor.getStrides(), adaptor.getPadding(),
                              adaptor.getDilations(), adaptor.getGroups());
  if (failed(type))
    return failure();
  results.push_back(*type);
  return success();
}

int64_t mlir::rn::convMultiplyAdds(ShapedType output, ShapedType filter) {
  return output.getDimSize(1) * output.getDimSize(2) * output.getDimSize(3) *
         filter.getDimSize(1) * filter.getDimSize(2) * filter.getDimSize(3);
}

int64_t Conv2DOp::getMultiplyAddsPerImage() {
  return convMultiplyAdds(getResult().getType(), getFilter().getType());
}

//===----------------------------------------------------------------------===//
// rn.dense
//===----------------------------------------------------------------------===//

FailureOr<RankedTensorType> DenseOp::inferResultType(std::optional<Location> loc,
                                                     Type inputType,
                                                     Type weightType,
                                                     Type biasType) {
  auto input = dyn_cast_or_null<RankedTensorType>(inputType);
  if (!input || input.getRank() != 2)
    return emitOptionalError(
        loc, "dense needs a flat input (batch, features), got ", inputType,
        "; put flatten or global_avg_pool before it");
  auto weight = expectRank(loc, weightType, {2}, "dense weight");
  if (failed(weight))
    return failure();
  if (weight->getDimSize(1) != input.getDimSize(1))
    return emitOptionalError(loc, "dense weight expects ",
                             weight->getDimSize(1), " input features but its "
                             "input has ",
                             input.getDimSize(1));
  int64_t units = weight->getDimSize(0);
  if (biasType &&
      failed(checkChannelVector(loc, biasType, units, "dense bias")))
    return failure();
  return f32Tensor({input.getDimSize(0), units}, inputType.getContext());
}

LogicalResult DenseOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  Type bias = adaptor.getBias() ? adaptor.getBias().getType() : Type();
  auto type = inferResultType(loc, adaptor.getInput().getType(),
                              adaptor.getWeight().getType(), bias);
  if (failed(type))
    return failure();
  results.push_back(*type);
  return success();
}

int64_t DenseOp::getMultiplyAddsPerImage() {
  return getWeight().getType().getNumElements();
}

//===----------------------------------------------------------------------===//
// rn.batch_norm
//===----------------------------------------------------------------------===//

FailureOr<RankedTensorType>
BatchNormOp::inferResultType(std::optional<Location> loc, Type inputType,
                             TypeRange channelParams, double epsilon,
                             double momentum) {
  auto input = expectRank(loc, inputType, {2, 4}, "batch norm input");
  if (failed(input))
    return failure();
  int64_t channels = input->getDimSize(1);
  for (Type param : channelParams)
    if (failed(checkChannelVector(loc, param, channels,
                                  "batch norm scale, offset, mean and "
                                  "variance")))
      return failure();
  if (!(epsilon > 0))
    return emitOptionalError(loc, "batch norm epsilon must be positive, got ",
                             epsilon);
  if (!(momentum >= 0 && momentum <= 1))
    return emitOptionalError(loc,
                             "batch norm momentum must be in [0, 1], got ",
                             momentum);
  return *input;
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  SmallVector<Type, 4> params;
  for (Value v : {adaptor.getScale(), adaptor.getOffset(), adaptor.getMean(),
                  adaptor.getVariance()})
    params.push_back(v.getType());
  auto type = inferResultType(loc, adaptor.getInput().getType(), params,
                              adaptor.getEpsilon().convertToDouble(),
                              adaptor.getMomentum().convertToDouble());
  if (failed(type))
    return failure();
  results.push_back(*type);
  return success();
}

//===----------------------------------------------------------------------===//
// Activations and regularisation
//===----------------------------------------------------------------------===//

LogicalResult mlir::rn::verifyActivation(Operation *op) {
  for (NamedAttribute attr : op->getAttrs())
    if (auto real = dyn_cast<FloatAttr>(attr.getValue());
        real && !std::isfinite(real.getValueAsDouble()))
      return op->emitOpError()
             << attr.getName() << " must be a finite number, got "
             << real.getValueAsDouble();
  return success();
}

LogicalResult DropoutOp::verify() {
  double rate = getRate().convertToDouble();
  if (!(rate >= 0 && rate < 1))
    return emitOpError("rate must be in [0, 1), got ") << rate;
  return success();
}

LogicalResult DropBlockOp::verify() {
  double rate = getRate().convertToDouble();
  if (!(rate >= 0 && rate < 1))
    return emitOpError("rate must be in [0, 1), got ") << rate;
  int64_t block = getBlockSize();
  auto type = getInput().getType();
  int64_t side = std::min(type.getDimSize(2), type.getDimSize(3));
  if (block < 1 || block > side)
    return emitOpError("block_size must be between 1 and the feature map's "
                       "smaller side (")
           << side << "), got " << block;
  return success();
}

//===----------------------------------------------------------------------===//
// rn.add, rn.concat
//===----------------------------------------------------------------------===//

/// Adds activations, or (accumulating gradients) sums over the batch.
bool AddOp::isResultBatched(unsigned) { return isBatched(getLhs()); }

FailureOr<RankedTensorType> AddOp::inferResultType(std::optional<Location> loc,
                                                   Type lhsType, Type rhsType) {
  auto lhs = dyn_cast_or_null<RankedTensorType>(lhsType);
  auto rhs = dyn_cast_or_null<RankedTensorType>(rhsType);
  if (!lhs || !rhs)
    return emitOptionalError(loc, "add needs two tensors");
  if (lhs != rhs)
    return emitOptionalError(
        loc, "cannot add tensors of different shapes: ", imageShape(lhs),
        " and ", imageShape(rhs),
        "; a residual add needs both branches to have the same channels, "
        "height and width (use a 1x1 conv with the same stride on the "
        "shortcut)");
  return lhs;
}

FailureOr<RankedTensorType> ConcatOp::inferResultType(std::optional<Location> loc,
                                                      TypeRange inputs) {
  if (inputs.size() < 2)
    return emitOptionalError(loc, "concat needs at least two tensors, got ",
                             inputs.size());
  auto first = dyn_cast<RankedTensorType>(inputs.front());
  if (!first)
    return emitOptionalError(loc, "concat needs tensors");
  SmallVector<int64_t> shape(first.getShape());
  shape[1] = 0;
  for (Type t : inputs) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    bool sameOtherDims = tensor && tensor.getRank() == first.getRank();
    for (int64_t d = 0; sameOtherDims && d < first.getRank(); ++d)
      sameOtherDims = d == 1 || tensor.getDimSize(d) == first.getDimSize(d);
    if (!sameOtherDims)
      return emitOptionalError(
          loc, "concat joins along channels, so every other dimension must "
               "agree: ",
          imageShape(first), " and ",
          tensor ? imageShape(tensor) : std::string("a non-tensor"),
          " differ");
    shape[1] += tensor.getDimSize(1);
  }
  return f32Tensor(shape, first.getContext());
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto type = inferResultType(loc, adaptor.getInputs().getTypes());
  if (failed(type))
    return failure();
  results.push_back(*type);
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling and resampling
//===----------------------------------------------------------------------===//

/// The rule shared by max and average pooling.
static FailureOr<RankedTensorType>
inferPoolType(std::optional<Location> loc, StringRef layer, Type inputType,
              ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
              ArrayRef<int64_t> padding) {
  auto input = expectRank(loc, inputType, {4}, layer);
  if (failed(input) || failed(checkPositive(loc, kernel, 2, "pool size")) ||
      failed(checkPositive(loc, strides, 2, "pool stride")) ||
      failed(checkNonNegative(loc, padding, 4, "pool padding")))
    return failure();
  if (padding[0] >= kernel[0] || padding[2] >= kernel[0] ||
      padding[1] >= kernel[1] || padding[3] >= kernel[1])
    return emitOptionalError(loc, layer, " padding must be smaller than its ",
                             pairText(kernel[0], kernel[1]), " window");
  int64_t height = input->getDimSize(2), width = input->getDimSize(3);
  if (kernel[0] > height + padding[0] + padding[2] ||
      kernel[1] > width + padding[1] + padding[3])
    return emitOptionalError(
        loc, layer, " window ", pairText(kernel[0], kernel[1]),
        " does not fit its input ",
        pairText(height + padding[0] + padding[2],
                 width + padding[1] + padding[3]),
        ": the output would have no pixels; remove a downsampling layer "
        "before it or use a smaller window");
  int64_t outH = (height + padding[0] + padding[2] - kernel[0]) / strides[0] + 1;
  int64_t outW = (width + padding[1] + padding[3] - kernel[1]) / strides[1] + 1;
  return f32Tensor({input->getDimSize(0), input->getDimSize(1), outH, outW},
                   inputType.getContext());
}

#define RN_POOL_SHAPE_RULE(OP, LAYER)                                          \
  FailureOr<RankedTensorType> OP::inferResultType(                             \
      std::optional<Location> loc, Type input, ArrayRef<int64_t> kernel,       \
      ArrayRef<int64_t> strides, ArrayRef<int64_t> padding) {                  \
    return inferPoolType(loc, LAYER, input, kernel, strides, padding);         \
  }                                                                            \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &results) {         \
    auto type = inferResultType(loc, adaptor.getInput().getType(),             \
                                adaptor.getKernel(), adaptor.getStrides(),     \
                                adaptor.getPadding());                         \
    if (failed(type))                                                          \
      return failure();                                                        \
    results.push_back(*type);                                                  \
    return success();                                                          \
  }
RN_POOL_SHAPE_RULE(MaxPool2DOp, "max_pool")
RN_POOL_SHAPE_RULE(AvgPool2DOp, "avg_pool")
#undef RN_POOL_SHAPE_RULE

/// N x C x H x W -> N x C, shared by both global pools.
static FailureOr<RankedTensorType> inferGlobalPoolType(std::optional<Location> loc,
                                                       Type inputType) {
  auto input = expectRank(loc, inputType, {4}, "global pooling");
  if (failed(input))
    return failure();
  return f32Tensor({input->getDimSize(0), input->getDimSize(1)},
                   inputType.getContext());
}

#define RN_GLOBAL_POOL_SHAPE_RULE(OP)                                          \
  FailureOr<RankedTensorType> OP::inferResultType(std::optional<Location> loc, \
                                                  Type input) {                \
    return inferGlobalPoolType(loc, input);                                    \
  }                                                                            \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &results) {         \
    auto type = inferResultType(loc, adaptor.getInput().getType());            \
    if (failed(type))                                                          \
      return failure();                                                        \
    results.push_back(*type);                                                  \
    return success();                                                          \
  }
RN_GLOBAL_POOL_SHAPE_RULE(GlobalAvgPoolOp)
RN_GLOBAL_POOL_SHAPE_RULE(GlobalMaxPoolOp)
#undef RN_GLOBAL_POOL_SHAPE_RULE

FailureOr<RankedTensorType> ZeroPadOp::inferResultType(std::optional<Location> loc,
                                                       Type inputType,
                                                       ArrayRef<int64_t> low,
                                                       ArrayRef<int64_t> high) {
  auto input = expectRank(loc, inputType, {4}, "zero_pad");
  if (failed(input) ||
      failed(checkNonNegative(loc, low, 3, "zero_pad padding")) ||
      failed(checkNonNegative(loc, high, 3, "zero_pad padding")))
    return failure();
  SmallVector<int64_t> shape(input->getShape());
  for (int d = 0; d < 3; ++d)
    shape[d + 1] += low[d] + high[d];
  return f32Tensor(shape, inputType.getContext());
}

LogicalResult ZeroPadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  auto type = inferResultType(loc, adaptor.getInput().getType(),
                              adaptor.getLow(), adaptor.getHigh());
  if (failed(type))
    return failure();
  results.push_back(*type);
  return success();
}

FailureOr<RankedTensorType>
SubsampleOp::inferResultType(std::optional<Location> loc, Type inputType,
                             ArrayRef<int64_t> strides) {
  auto input = expectRank(loc, inputType, {4}, "subsample");
  if (failed(input) || failed(checkPositive(loc, strides, 2, "subsample stride")))
    return failure();
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  return f32Tensor({input->getDimSize(0), input->getDimSize(1),
                    ceilDiv(input->getDimSize(2), strides[0]),
                    ceilDiv(input->getDimSize(3), strides[1])},
                   inputType.getContext());
}

LogicalResult SubsampleOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto type =
      inferResultType(loc, adaptor.getInput().getType(), adaptor.getStrides());
  if (failed(type))
    return failure();
  results.push_back(*type);
  return success();
}

FailureOr<RankedTensorType> FlattenOp::inferResultType(std::optional<Location> loc,
                                                       Type inputType) {
  auto input = expectRank(loc, inputType, {4}, "flatten");
  if (failed(input))
    return failure();
  return f32Tensor({input->getDimSize(0), input->getDimSize(1) *
                                              input->getDimSize(2) *
                                              input->getDimSize(3)},
                   inputType.getContext());
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  auto type = inferResultType(loc, adaptor.getInput().getType());
  if (failed(type))
    return failure();
  results.push_back(*type);
  return success();
}

#define GET_OP_CLASSES
#include "resnetc/Dialect/RN/IR/RNOps.cpp.inc"
