//===- OnnxGraphBuilder.h - rn ops as ONNX nodes, no protobuf ---*- C++ -*-===//
//
// What `resnetc --emit=onnx` asks of each op of the forward graph: the ONNX
// nodes (opset 17) that compute its results. An op adds them through
// OnnxExportOpInterface to an OnnxGraphBuilder, which records plain nodes,
// value names and constants in an OnnxGraph (OnnxGraph.h); the export
// library (resnetc/Export/OnnxExport.h) turns that into an onnx::ModelProto.
// So the dialect never sees protobuf or libonnx.
//
// Names: a variable's value is named as the variable (the weights file's
// tensor names, which become the initializers); every other value and
// node after its DSL layer (the op's NameLoc, `stage1.conv`), made unique
// with a `_N` suffix; the steps of a layer of several nodes after the
// values they define (`gelu.erf`).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_ONNXGRAPHBUILDER_H
#define RESNETC_DIALECT_RN_IR_ONNXGRAPHBUILDER_H

#include "resnetc/Dialect/RN/IR/OnnxGraph.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <map>

namespace resnetc {

/// Builds `graph` op by op. Values get names when they are defined
/// (`result`, `variable`, `setName`) and are looked up by `name` when used.
class OnnxGraphBuilder {
public:
  explicit OnnxGraphBuilder(OnnxGraph &graph) : graph(graph) {}

  /// Gives `value` the name `name` (graph inputs and outputs), before it is
  /// defined.
  void setName(mlir::Value value, llvm::StringRef name);
  /// Declares a variable of the model (which must be in the weights).
  void declareVariable(llvm::StringRef name, llvm::ArrayRef<int64_t> shape);
  /// `value` reads the declared variable `name`: it is that initializer.
  void readVariable(mlir::Value value, llvm::StringRef name);

  /// The name of `value`, which an op or a setName defined before.
  std::string name(mlir::Value value) const;
  /// The name of `result` as a node defines it: the name setName gave it,
  /// else a new one after its op's layer.
  std::string result(mlir::Value result);
  /// A new name for a value inside the nodes of `op` (gelu's steps).
  std::string temporary(mlir::Operation *op, llvm::StringRef suffix);

  /// Adds a node of `opType` named `nodeName` (made unique).
  OnnxNode &addNode(llvm::StringRef nodeName, llvm::StringRef opType,
                    std::vector<std::string> inputs,
                    std::vector<std::string> outputs);
  /// Adds a node of `opType` for `op`: named after its layer if it defines
  /// one of the op's results, else after its first output (a temporary).
  OnnxNode &addNode(mlir::Operation *op, llvm::StringRef opType,
                    std::vector<std::string> inputs,
                    std::vector<std::string> outputs);
  /// The common case: the node reads the op's operands in order and
  /// defines its results.
  OnnxNode &addNode(mlir::Operation *op, llvm::StringRef opType);

  /// A constant 1-D INT64 tensor; identical constants are one initializer.
  std::string constant(llvm::StringRef hint, llvm::ArrayRef<int64_t> values);
  /// A constant FLOAT scalar (0-D); shared like `constant`.
  std::string scalar(llvm::StringRef hint, float value);

private:
  /// `base`, or `base_N` if a value (or node) has it already.
  std::string unique(llvm::StringMap<int> &used, llvm::StringRef base);

  OnnxGraph &graph;
  llvm::DenseMap<mlir::Value, std::string> names;
  llvm::StringMap<int> valueNames, nodeNames;
  llvm::StringMap<size_t> variableIndex;
  std::map<std::pair<std::vector<int64_t>, std::vector<float>>, std::string>
      constants;
};

} // namespace resnetc

#endif // RESNETC_DIALECT_RN_IR_ONNXGRAPHBUILDER_H
