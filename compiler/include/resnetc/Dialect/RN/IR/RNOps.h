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

#include "resnetc/Dialect/RN/IR/RNDialect.h"
#include "resnetc/Dialect/RN/IR/RNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "resnetc/Dialect/RN/IR/RNOps.h.inc"

#endif // RESNETC_DIALECT_RN_IR_RNOPS_H
