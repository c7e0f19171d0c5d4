//===- RNVariables.cpp - ops that name variables: symbol checks -------------===//
//
// rn.load, rn.store, rn.apply_gradients and the optimizer updates refer to
// rn.variable symbols; each checks that its symbols name variables of the
// right type (and, where it updates them, trainable ones).
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"

using namespace mlir;
using namespace mlir::rn;

/// The variable `name` refers to from `op`, or a diagnostic. With a
/// non-null `type`, the variable must have it.
static FailureOr<VariableOp> lookupVariable(Operation *op,
                                            SymbolTableCollection &symbols,
                                            SymbolRefAttr name, Type type) {
  auto variable = symbols.lookupNearestSymbolFrom<VariableOp>(op, name);
  if (!variable)
    return op->emitOpError("refers to '")
           << name << "', which is not an rn.variable";
  if (type && variable.getType() != type)
    return op->emitOpError("uses ")
           << type << " for '" << name << "', which is "
           << variable.getType();
  return variable;
}

/// Every symbol of `names` names a variable with the type of the matching
/// gradient; with `trainable`, a trainable one.
static LogicalResult verifyVariableList(Operation *op,
                                        SymbolTableCollection &symbols,
                                        ArrayAttr names, TypeRange types,
                                        bool trainable, StringRef what) {
  if (names.size() != types.size())
    return op->emitOpError("has ")
           << types.size() << " gradients but " << names.size() << " " << what;
  for (auto [name, type] : llvm::zip(names, types)) {
    auto variable =
        lookupVariable(op, symbols, cast<SymbolRefAttr>(name), type);
    if (failed(variable))
      return failure();
    if (trainable && !variable->getTrainable())
      return op->emitOpError("updates '")
             << name << "', which is not trainable";
  }
  return success();
}

LogicalResult LoadOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return lookupVariable(*this, symbols, getVariableAttr(), getType());
}

LogicalResult StoreOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return lookupVariable(*this, symbols, getVariableAttr(),
                        getValue().getType());
}

LogicalResult ApplyGradientsOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyVariableList(*this, symbols, getParameters(),
                            getGradients().getTypes(), true, "parameters");
}

LogicalResult SGDUpdateOp::verifySymbolUses(SymbolTableCollection &symbols) {
  TypeRange types = getGradients().getTypes();
  return failure(
      failed(verifyVariableList(*this, symbols, getParameters(), types, true,
                                "parameters")) ||
      failed(verifyVariableList(*this, symbols, getMomenta(), types, false,
                                "momentum buffers")));
}

LogicalResult AdamUpdateOp::verifySymbolUses(SymbolTableCollection &symbols) {
  TypeRange types = getGradients().getTypes();
  return failure(
      failed(verifyVariableList(*this, symbols, getParameters(), types, true,
                                "parameters")) ||
      failed(verifyVariableList(*this, symbols, getFirstMoments(), types,
                                false, "first moments")) ||
      failed(verifyVariableList(*this, symbols, getSecondMoments(), types,
                                false, "second moments")));
}
