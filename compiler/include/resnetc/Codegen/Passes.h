//===- Passes.h - codegen passes --------------------------------*- C++ -*-===//

#ifndef RESNETC_CODEGEN_PASSES_H
#define RESNETC_CODEGEN_PASSES_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace resnetc {

#define GEN_PASS_DECL
#include "resnetc/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "resnetc/Codegen/Passes.h.inc"

} // namespace resnetc

#endif // RESNETC_CODEGEN_PASSES_H
