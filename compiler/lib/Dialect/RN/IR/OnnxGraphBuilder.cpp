//===- OnnxGraphBuilder.cpp - rn ops as ONNX nodes, no protobuf -----------===//

#include "resnetc/Dialect/RN/IR/OnnxGraphBuilder.h"

#include "mlir/IR/Location.h"
#include "llvm/ADT/STLExtras.h"

#include <cassert>

using namespace resnetc;

/// The DSL layer `op` comes from (its NameLoc, `stage1.conv`), else the
/// op's own name (`conv2d`).
static std::string layerName(mlir::Operation *op) {
  mlir::Location loc = op->getLoc();
  while (true) {
    if (auto named = llvm::dyn_cast<mlir::NameLoc>(loc))
      return named.getName().str();
    auto callSite = llvm::dyn_cast<mlir::CallSiteLoc>(loc);
    if (!callSite)
      break;
    loc = callSite.getCallee();
  }
  return op->getName().stripDialect().str();
}

std::string OnnxGraphBuilder::unique(llvm::StringMap<int> &used,
                                     llvm::StringRef base) {
  int &count = used[base];
  if (count++ == 0)
    return base.str();
  // `base_N` may be a name of its own (a layer `conv_1`): try the next N.
  while (true) {
    std::string candidate = (base + "_" + llvm::Twine(count - 1)).str();
    if (used.insert({candidate, 1}).second)
      return candidate;
    ++count;
  }
}

void OnnxGraphBuilder::setName(mlir::Value value, llvm::StringRef name) {
  names[value] = unique(valueNames, name);
}

void OnnxGraphBuilder::declareVariable(llvm::StringRef name,
                                       llvm::ArrayRef<int64_t> shape) {
  valueNames[name] = 1;
  variableIndex[name] = graph.variables.size();
  graph.variables.push_back({name.str(), shape.vec(), false});
}

void OnnxGraphBuilder::readVariable(mlir::Value value, llvm::StringRef name) {
  names[value] = name.str();
  auto found = variableIndex.find(name);
  assert(found != variableIndex.end() && "a variable that was not declared");
  graph.variables[found->second].read = true;
}

std::string OnnxGraphBuilder::name(mlir::Value value) const {
  auto found = names.find(value);
  assert(found != names.end() && "an operand used before it was defined");
  return found->second;
}

std::string OnnxGraphBuilder::result(mlir::Value result) {
  auto found = names.find(result);
  if (found != names.end())
    return found->second;
  return names[result] = unique(valueNames, layerName(result.getDefiningOp()));
}

std::string OnnxGraphBuilder::temporary(mlir::Operation *op,
                                        llvm::StringRef suffix) {
  return unique(valueNames, layerName(op) + "." + suffix.str());
}

OnnxNode &OnnxGraphBuilder::addNode(llvm::StringRef nodeName,
                                    llvm::StringRef opType,
                                    std::vector<std::string> inputs,
                                    std::vector<std::string> outputs) {
  OnnxNode &node = graph.nodes.emplace_back();
  node.opType = opType.str();
  node.name = unique(nodeNames, nodeName);
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  return node;
}

OnnxNode &OnnxGraphBuilder::addNode(mlir::Operation *op, llvm::StringRef opType,
                                    std::vector<std::string> inputs,
                                    std::vector<std::string> outputs) {
  // The node that defines the op's result is named after the layer; the
  // steps before it (gelu's, flatten's) after the values they define.
  bool definesResult = llvm::any_of(op->getResults(), [&](mlir::Value v) {
    auto found = names.find(v);
    return found != names.end() && llvm::is_contained(outputs, found->second);
  });
  std::string nodeName = definesResult ? layerName(op) : outputs.front();
  return addNode(nodeName, opType, std::move(inputs), std::move(outputs));
}

OnnxNode &OnnxGraphBuilder::addNode(mlir::Operation *op,
                                    llvm::StringRef opType) {
  std::vector<std::string> inputs, outputs;
  for (mlir::Value operand : op->getOperands())
    inputs.push_back(name(operand));
  for (mlir::Value value : op->getResults())
    outputs.push_back(result(value));
  return addNode(op, opType, std::move(inputs), std::move(outputs));
}

std::string OnnxGraphBuilder::constant(llvm::StringRef hint,
                                       llvm::ArrayRef<int64_t> values) {
  std::string &name = constants[{values.vec(), {}}];
  if (name.empty()) {
    name = unique(valueNames, hint);
    graph.constants.push_back(
        {name, {int64_t(values.size())}, values.vec(), {}});
  }
  return name;
}

std::string OnnxGraphBuilder::scalar(llvm::StringRef hint, float value) {
  std::string &name = constants[{{}, {value}}];
  if (name.empty()) {
    name = unique(valueNames, hint);
    graph.constants.push_back({name, {}, {}, {value}});
  }
  return name;
}
