//===- RNDialect.cpp - rn dialect registration ------------------------------===//
//
// Registers the rn dialect's ops and attributes.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNDialect.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::rn;

#include "resnetc/Dialect/RN/IR/RNDialect.cpp.inc"
#include "resnetc/Dialect/RN/IR/RNEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "resnetc/Dialect/RN/IR/RNAttrs.cpp.inc"

void RNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "resnetc/Dialect/RN/IR/RNOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "resnetc/Dialect/RN/IR/RNAttrs.cpp.inc"
      >();
}
