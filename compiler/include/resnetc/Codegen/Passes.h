//===- Passes.h - codegen passes --------------------------------*- C++ -*-===//

#ifndef RESNETC_CODEGEN_PASSES_H
#define RESNETC_CODEGEN_PASSES_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace resnetc {

/// The LLVM symbol of step function `step` (rn::kTrainStep, ...), which
/// rn_program points at: rn_train_step, rn_eval_step, rn_prepare_eval.
inline std::string stepSymbol(llvm::StringRef step) {
  return ("rn_" + step).str();
}

#define GEN_PASS_DECL
#include "resnetc/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "resnetc/Codegen/Passes.h.inc"

} // namespace resnetc

#endif // RESNETC_CODEGEN_PASSES_H
