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

/// The attribute of `op` that holds `list`, for messages.
static StringRef listName(Operation *op, ArrayAttr list) {
  for (NamedAttribute attr : op->getAttrs())
    if (attr.getValue() == list)
      return attr.getName().strref();
  return "slots";
}

LogicalResult mlir::rn::verifyOptimizerUpdate(Operation *op) {
  auto update = cast<OptimizerUpdateOpInterface>(op);
  size_t gradients = update.getGradients().size();
  if (gradients == 0)
    return op->emitOpError("updates no parameter");
  SmallVector<ArrayAttr> lists{update.getParameters()};
  llvm::append_range(lists, update.getSlotLists());
  DenseSet<Attribute> named;
  for (ArrayAttr list : lists) {
    if (list.size() != gradients)
      return op->emitOpError("has ")
             << gradients << " gradients but " << list.size() << " '"
             << listName(op, list) << "'";
    for (Attribute name : list)
      if (!named.insert(name).second)
        return op->emitOpError("names ") << name << " twice";
  }
  return success();
}

LogicalResult mlir::rn::verifyUpdatedVariables(
    OptimizerUpdateOpInterface update, SymbolTableCollection &symbols) {
  Operation *op = update;
  TypeRange types = update.getGradients().getTypes();
  if (failed(verifyVariableList(op, symbols, update.getParameters(), types,
                                /*trainable=*/true, "parameters")))
    return failure();
  for (ArrayAttr slots : update.getSlotLists())
    if (failed(verifyVariableList(op, symbols, slots, types,
                                  /*trainable=*/false, listName(op, slots))))
      return failure();
  return success();
}
