//===- RNOnnx.cpp - each forward op as ONNX nodes -------------------------===//
//
// OnnxExportOpInterface for every op of the forward graph: the opset-17
// nodes that compute the layer in inference, as classify's eval_step does
// (rn.batch_norm with its running statistics, dropout and DropBlock the
// identity). No layout changes: activations are NCHW and conv filters OIHW
// in both, rn's `[top, left, bottom, right]` padding is the order of ONNX's
// `pads`, and a dense weight `[out, in]` is Gemm's B with transB.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::rn;
using resnetc::OnnxGraphBuilder;

//===----------------------------------------------------------------------===//
// Variables, convolution, dense, BatchNorm
//===----------------------------------------------------------------------===//

LogicalResult LoadOp::exportToOnnx(OnnxGraphBuilder &builder) {
  builder.readVariable(getResult(), getVariable());
  return success();
}

LogicalResult Conv2DOp::exportToOnnx(OnnxGraphBuilder &builder) {
  auto filter = getFilter().getType();
  builder.addNode(*this, "Conv")
      .attr("kernel_shape",
            ArrayRef<int64_t>{filter.getDimSize(2), filter.getDimSize(3)})
      .attr("strides", getStrides())
      .attr("pads", getPadding())
      .attr("dilations", getDilations())
      .attr("group", int64_t(getGroups()));
  return success();
}

LogicalResult DenseOp::exportToOnnx(OnnxGraphBuilder &builder) {
  builder.addNode(*this, "Gemm").attr("transB", int64_t(1));
  return success();
}

LogicalResult BatchNormOp::exportToOnnx(OnnxGraphBuilder &builder) {
  // Inference form (training_mode = 0): the running statistics. ONNX's
  // momentum is the weight of the old running value, as rn's.
  builder.addNode(*this, "BatchNormalization")
      .attr("epsilon", getEpsilon().convertToDouble())
      .attr("momentum", getMomentum().convertToDouble());
  return success();
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

LogicalResult mlir::rn::exportActivation(OnnxGraphBuilder &builder,
                                        Operation *op, StringRef node) {
  auto &added = builder.addNode(op, node);
  for (NamedAttribute attr : op->getAttrs())
    if (auto real = dyn_cast<FloatAttr>(attr.getValue()))
      added.attr(attr.getName().strref(), real.getValueAsDouble());
  return success();
}

LogicalResult GeluOp::exportToOnnx(OnnxGraphBuilder &builder) {
  // Opset 17 has no Gelu (it came in 20): x * 0.5 * (1 + erf(x / sqrt(2))).
  Operation *op = *this;
  std::string x = builder.name(getInput());
  std::string scaled = builder.temporary(op, "scaled");
  std::string erf = builder.temporary(op, "erf");
  std::string onePlus = builder.temporary(op, "one_plus_erf");
  std::string product = builder.temporary(op, "x_times");
  builder.addNode(op, "Div", {x, builder.scalar("sqrt2", float(M_SQRT2))},
                  {scaled});
  builder.addNode(op, "Erf", {scaled}, {erf});
  builder.addNode(op, "Add", {erf, builder.scalar("one", 1.0f)}, {onePlus});
  builder.addNode(op, "Mul", {x, onePlus}, {product});
  builder.addNode(op, "Mul", {product, builder.scalar("half", 0.5f)},
                  {builder.result(getResult())});
  return success();
}

LogicalResult SoftmaxOp::exportToOnnx(OnnxGraphBuilder &builder) {
  builder.addNode(*this, "Softmax").attr("axis", int64_t(1));
  return success();
}

//===----------------------------------------------------------------------===//
// Merging branches
//===----------------------------------------------------------------------===//

LogicalResult AddOp::exportToOnnx(OnnxGraphBuilder &builder) {
  builder.addNode(*this, "Add");
  return success();
}

LogicalResult ConcatOp::exportToOnnx(OnnxGraphBuilder &builder) {
  builder.addNode(*this, "Concat").attr("axis", int64_t(1));
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling and resampling
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2DOp::exportToOnnx(OnnxGraphBuilder &builder) {
  // ONNX pads a max pool with -inf, as rn does.
  builder.addNode(*this, "MaxPool")
      .attr("kernel_shape", getKernel())
      .attr("strides", getStrides())
      .attr("pads", getPadding());
  return success();
}

LogicalResult AvgPool2DOp::exportToOnnx(OnnxGraphBuilder &builder) {
  // count_include_pad means the same in both: divide by the whole window
  // (1) or by its elements inside the input (0).
  builder.addNode(*this, "AveragePool")
      .attr("kernel_shape", getKernel())
      .attr("strides", getStrides())
      .attr("pads", getPadding())
      .attr("count_include_pad", int64_t(getCountIncludePad()));
  return success();
}

/// A global pool of ONNX (N x C x 1 x 1) flattened to rn's N x C.
static void globalPool(OnnxGraphBuilder &builder, Operation *op,
                       StringRef opType) {
  std::string pooled = builder.temporary(op, "pooled");
  builder.addNode(op, opType, {builder.name(op->getOperand(0))}, {pooled});
  builder.addNode(op, "Flatten", {pooled}, {builder.result(op->getResult(0))})
      .attr("axis", int64_t(1));
}

LogicalResult GlobalAvgPoolOp::exportToOnnx(OnnxGraphBuilder &builder) {
  globalPool(builder, *this, "GlobalAveragePool");
  return success();
}

LogicalResult GlobalMaxPoolOp::exportToOnnx(OnnxGraphBuilder &builder) {
  globalPool(builder, *this, "GlobalMaxPool");
  return success();
}

LogicalResult ZeroPadOp::exportToOnnx(OnnxGraphBuilder &builder) {
  // Pad's pads: the starts of N, C, H, W, then their ends.
  ArrayRef<int64_t> low = getLow(), high = getHigh();
  std::string pads = builder.constant(
      "pads", {0, low[0], low[1], low[2], 0, high[0], high[1], high[2]});
  builder.addNode(*this, "Pad", {builder.name(getInput()), pads},
                  {builder.result(getResult())});
  return success();
}

LogicalResult SubsampleOp::exportToOnnx(OnnxGraphBuilder &builder) {
  // x[:, :, ::sh, ::sw] as a Slice of H and W with steps.
  auto input = getInput().getType();
  ArrayRef<int64_t> strides = getStrides();
  builder.addNode(
      *this, "Slice",
      {builder.name(getInput()), builder.constant("starts", {0, 0}),
       builder.constant("ends", {input.getDimSize(2), input.getDimSize(3)}),
       builder.constant("axes", {2, 3}),
       builder.constant("steps", {strides[0], strides[1]})},
      {builder.result(getResult())});
  return success();
}

LogicalResult FlattenOp::exportToOnnx(OnnxGraphBuilder &builder) {
  // rn flattens in height, width, channel order (Keras's): NHWC first.
  std::string nhwc = builder.temporary(*this, "nhwc");
  builder.addNode(*this, "Transpose", {builder.name(getInput())}, {nhwc})
      .attr("perm", ArrayRef<int64_t>{0, 2, 3, 1});
  builder.addNode(*this, "Flatten", {nhwc}, {builder.result(getResult())})
      .attr("axis", int64_t(1));
  return success();
}

//===----------------------------------------------------------------------===//
// Regularisation: the identity in inference
//===----------------------------------------------------------------------===//

LogicalResult DropoutOp::exportToOnnx(OnnxGraphBuilder &builder) {
  builder.addNode(*this, "Identity");
  return success();
}

LogicalResult DropBlockOp::exportToOnnx(OnnxGraphBuilder &builder) {
  builder.addNode(*this, "Identity");
  return success();
}
