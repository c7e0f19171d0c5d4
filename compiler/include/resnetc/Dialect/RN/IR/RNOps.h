//===- RNOps.h - rn dialect operations --------------------------*- C++ -*-===//
//
// Declares the ops of the rn dialect and the interfaces they implement.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNOPS_H
#define RESNETC_DIALECT_RN_IR_RNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "resnetc/Dialect/RN/IR/OnnxGraphBuilder.h"
#include "resnetc/Dialect/RN/IR/RNDialect.h"
#include "resnetc/Dialect/RN/IR/RNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "resnetc/Dialect/RN/IR/RNOps.h.inc"

namespace mlir::rn {

/// Whether `value` holds one slice per image of the batch (its first
/// dimension is the batch), as activations, labels and their gradients do,
/// rather than being independent of the batch (variables, their gradients,
/// BatchNorm's batch statistics, the loss). Kernels lay the two kinds out
/// differently and the memory plan scales only the first with the batch.
bool isBatched(Value value);

} // namespace mlir::rn

#endif // RESNETC_DIALECT_RN_IR_RNOPS_H
