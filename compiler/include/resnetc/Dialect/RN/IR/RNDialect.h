//===- RNDialect.h - the rn dialect -----------------------------*- C++ -*-===//
//
// Declares the rn dialect, its attributes and enums.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNDIALECT_H
#define RESNETC_DIALECT_RN_IR_RNDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "resnetc/Dialect/RN/IR/RNDialect.h.inc"
#include "resnetc/Dialect/RN/IR/RNEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "resnetc/Dialect/RN/IR/RNAttrs.h.inc"

#endif // RESNETC_DIALECT_RN_IR_RNDIALECT_H
