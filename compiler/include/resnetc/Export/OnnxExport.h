//===- OnnxExport.h - the inference graph as an ONNX model ------*- C++ -*-===//
//
// `resnetc --emit=onnx --weights=W.safetensors -o model.onnx`: the forward
// graph in inference form (what classify's eval_step computes) as an ONNX
// model of opset 17. Input `image` [batch, C, H, W] (the batch a symbolic
// dimension), outputs `logits` [batch, classes] (before any final softmax)
// and `probabilities` (their softmax); the weights file's tensors are the
// initializers, under their own names. Each op says what nodes it is
// (OnnxExportOpInterface); this library only walks the graph
// (OnnxExport.cpp) and writes protobuf (OnnxModel.cpp, which sees no MLIR
// and is built with exceptions, as the runtime's safetensors reader it
// calls). resnetc links it, the dialect does not.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_EXPORT_ONNXEXPORT_H
#define RESNETC_EXPORT_ONNXEXPORT_H

#include "resnetc/Dialect/RN/IR/OnnxGraph.h"

#include "llvm/Support/LogicalResult.h"

#include <optional>
#include <string>

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace resnetc {

/// The ONNX graph of `module`'s @forward. An op that cannot be exported is
/// diagnosed at its location.
llvm::FailureOr<OnnxGraph> buildOnnxGraph(mlir::ModuleOp module);

/// Writes `graph` as an ONNX model to `outputPath` (`-`: standard output),
/// its initializers read from the safetensors file `weightsPath`, which
/// must hold every variable of the model (F32, of its shape) and nothing
/// else. Returns what went wrong, for the user, or nothing.
std::optional<std::string> writeOnnxModel(const OnnxGraph &graph,
                                          const std::string &weightsPath,
                                          const std::string &outputPath);

} // namespace resnetc

#endif // RESNETC_EXPORT_ONNXEXPORT_H
