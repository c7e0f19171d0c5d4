//===- Passes.td - codegen passes --------------------------*- tablegen -*-===//

#ifndef RESNETC_CODEGEN_PASSES_TD
#define RESNETC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToLLVM : Pass<"rn-lower-to-llvm", "mlir::ModuleOp"> {
  let summary = "Lowers the planned steps to LLVM functions that call kernels";
  let description = [{
    Replaces `@train_step` and `@eval_step` (after `rn-plan-memory`) with
    `i32 @rn_train_step(ptr arena, i32 batch, ptr params)` and
    `i32 @rn_eval_step(ptr arena, i32 batch)`. Each op that runs as a kernel
    (KernelOpInterface) becomes a call of the kernel's ahead-of-time
    compiled function, with `halide_buffer_t` descriptors built from the
    op's planned slots (the batch extent from the argument) and its scalars
    read from the `rn_step_params` the runtime passes; a non-zero status is
    returned at once. Loads, stores and flattens move no data: their slots
    already say where the data is. Everything else in the module (the
    variables, `@forward`) is dropped: the program table carries what the
    runtime needs of it.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // RESNETC_CODEGEN_PASSES_TD
