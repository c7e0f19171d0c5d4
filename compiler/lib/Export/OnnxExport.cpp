//===- OnnxExport.cpp - @forward as ONNX nodes ----------------------------===//
//
// Walks the forward graph in order and lets each op add its nodes. The one
// thing decided here is the graph's ends: `image` is @forward's argument,
// and `logits` what it returns, less a final softmax, which eval_step folds
// into its loss as well; `probabilities` is their softmax.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Export/OnnxExport.h"

#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace resnetc;

/// What the input holds, from the recipe: classify's images are scaled to
/// [0, 1], then normalised if the recipe says so.
static std::string inputDoc(ModuleOp module) {
  std::string doc = "NCHW images scaled to [0, 1]";
  auto recipe = module->getAttrOfType<DictionaryAttr>("rn.recipe");
  auto augment = recipe ? recipe.getAs<ArrayAttr>("augment") : ArrayAttr();
  for (Attribute a : augment ? augment.getValue() : ArrayRef<Attribute>()) {
    auto transform = dyn_cast<DictionaryAttr>(a);
    auto kind = transform ? transform.getAs<StringAttr>("kind") : StringAttr();
    auto mean = transform ? transform.getAs<DenseF64ArrayAttr>("mean")
                          : DenseF64ArrayAttr();
    auto stddev = transform ? transform.getAs<DenseF64ArrayAttr>("std")
                            : DenseF64ArrayAttr();
    if (!kind || kind.getValue() != "normalize" || !mean || !stddev)
      continue;
    llvm::raw_string_ostream os(doc);
    os << ", then (x - mean) / std per channel as the recipe normalises "
          "them: mean ";
    auto print = [&](double v) { os << llvm::format("%g", v); };
    llvm::interleave(mean.asArrayRef(), os, print, ", ");
    os << ", std ";
    llvm::interleave(stddev.asArrayRef(), os, print, ", ");
  }
  return doc;
}

FailureOr<OnnxGraph> resnetc::buildOnnxGraph(ModuleOp module) {
  auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
  if (!forward || forward.getNumArguments() != 1 ||
      forward.getNumResults() != 1)
    return module.emitError("no @forward(image) -> logits to export");
  OnnxGraph graph;
  graph.name = module.getSymName().value_or("model").str();
  graph.doc = "resnetc's inference graph of " + graph.name +
              " (what classify computes)";
  OnnxGraphBuilder builder(graph);
  for (auto variable : module.getOps<rn::VariableOp>())
    if (!variable.getDerived())
      builder.declareVariable(variable.getSymName(),
                              variable.getTensorType().getShape());

  Value image = forward.getArgument(0);
  builder.setName(image, "image");
  auto ret = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
  Value logits = ret.getOperand(0);
  Operation *finalSoftmax = logits.getDefiningOp<rn::SoftmaxOp>();
  if (finalSoftmax)
    logits = finalSoftmax->getOperand(0);
  builder.setName(logits, "logits");

  for (Operation &op : forward.getBody().front().without_terminator()) {
    if (&op == finalSoftmax)
      continue;
    auto exportable = dyn_cast<rn::OnnxExportOpInterface>(op);
    if (!exportable)
      return op.emitError("'")
             << op.getName() << "' has no ONNX form (OnnxExportOpInterface)";
    if (failed(exportable.exportToOnnx(builder)))
      return failure();
  }
  builder.addNode("probabilities", "Softmax", {"logits"}, {"probabilities"})
      .attr("axis", int64_t(1));

  auto shape = [](Value value) {
    return cast<RankedTensorType>(value.getType()).getShape().vec();
  };
  graph.inputs.push_back({"image", shape(image), inputDoc(module)});
  graph.outputs.push_back(
      {"logits", shape(logits), "the scores before softmax, one per class"});
  graph.outputs.push_back(
      {"probabilities", shape(logits), "softmax of the logits"});
  return graph;
}
