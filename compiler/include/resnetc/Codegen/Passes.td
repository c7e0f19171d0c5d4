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
    runtime needs of it. `@prepare_eval`, if there is one, becomes
    `i32 @rn_prepare_eval(ptr arena, i32 batch)`.

    With `train-step=false` (programs that never train: `classify`),
    `@rn_train_step` calls no kernel and returns -1 (Halide's generic
    error), so none of the training kernels need be built or linked.

    With `device=true` (a GPU program) `arena` is the device arena, a
    `halide_buffer_t` of device memory: the descriptors get no host
    pointer but views of it at their tensors' offsets, all of a kernel's by
    `i32 @rn_device_views(ptr arena, ptr buffers, ptr offsets, i32 count)`,
    released by `i32 @rn_device_release_views(ptr buffers, i32 count)`
    once the kernel is queued (both in the runtime,
    runtime/include/resnetrt/Device.h).
  }];
  let options = [
    Option<"trainStep", "train-step", "bool", /*default=*/"true",
           "Lower @train_step (false: a stub that returns an error)">,
    Option<"device", "device", "bool", /*default=*/"false",
           "The arena is a GPU program's device arena">,
  ];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // RESNETC_CODEGEN_PASSES_TD
