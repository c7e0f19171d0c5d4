//===- OnnxGraph.h - an ONNX graph as plain data ----------------*- C++ -*-===//
//
// The nodes, constants and variables that OnnxGraphBuilder records for
// `resnetc --emit=onnx`, as plain C++ (no MLIR, no protobuf): the dialect
// fills it, the export library writes it as an onnx::ModelProto.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_ONNXGRAPH_H
#define RESNETC_DIALECT_RN_IR_ONNXGRAPH_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace resnetc {

/// An attribute of a node: an INT, a FLOAT or INTS.
struct OnnxAttribute {
  std::string name;
  std::variant<int64_t, float, std::vector<int64_t>> value;
};

/// One node: an operator of the default domain (ai.onnx).
struct OnnxNode {
  std::string opType;
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<OnnxAttribute> attributes;

  OnnxNode &attr(llvm::StringRef key, int64_t value) {
    attributes.push_back({key.str(), value});
    return *this;
  }
  /// A FLOAT attribute (ONNX has no doubles: rounded to float).
  OnnxNode &attr(llvm::StringRef key, double value) {
    attributes.push_back({key.str(), static_cast<float>(value)});
    return *this;
  }
  OnnxNode &attr(llvm::StringRef key, llvm::ArrayRef<int64_t> values) {
    attributes.push_back({key.str(), values.vec()});
    return *this;
  }
};

/// A constant no weights file holds: Pad's and Slice's int64 operands,
/// the scalars of gelu's erf form. Exactly one of `ints` and `floats` holds
/// the values.
struct OnnxConstant {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<int64_t> ints;
  std::vector<float> floats;
};

/// A variable of the model (rn.variable): the weights file must hold every
/// one; those the graph reads become initializers of that name.
struct OnnxVariable {
  std::string name;
  std::vector<int64_t> shape;
  bool read = false;
};

/// A graph input or output: its shape, the first dimension the batch.
struct OnnxValueInfo {
  std::string name;
  std::vector<int64_t> shape;
  std::string doc;
};

struct OnnxGraph {
  std::string name;
  std::string doc;
  std::vector<OnnxValueInfo> inputs;
  std::vector<OnnxValueInfo> outputs;
  std::vector<OnnxNode> nodes;
  std::vector<OnnxConstant> constants;
  std::vector<OnnxVariable> variables;
};

} // namespace resnetc

#endif // RESNETC_DIALECT_RN_IR_ONNXGRAPH_H
