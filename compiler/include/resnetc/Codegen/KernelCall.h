//===- KernelCall.h - how an op of a step calls its kernel ------*- C++ -*-===//

#ifndef RESNETC_CODEGEN_KERNELCALL_H
#define RESNETC_CODEGEN_KERNELCALL_H

#include "resnetc/Codegen/KernelSpec.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OpDefinition.h"

namespace resnetc {

/// A tensor argument of a kernel: an SSA tensor in its planned slot, or a
/// run of the fixed region (the optimizers' flat views of all parameters,
/// gradients and states).
struct KernelBuffer {
  mlir::Value value;
  int64_t fixedOffset = -1;
};

struct KernelCall {
  kernels::KernelSpec spec;
  llvm::SmallVector<KernelBuffer> inputs;  ///< In spec order.
  llvm::SmallVector<mlir::Value> scalars;  ///< The family's, in ABI order.
  llvm::SmallVector<KernelBuffer> outputs; ///< In spec order.
};

/// Whether `op` runs as a kernel: every rn op but those marked RN_NoKernel.
/// Its family (Kernels.h) has its name without the dialect prefix.
bool runsAKernel(mlir::RegisteredOperationName op);

/// Attaches KernelOpInterface to every rn op that runs as a kernel.
void registerKernelCallModels(mlir::DialectRegistry &registry);

} // namespace resnetc

#include "resnetc/Codegen/KernelOpInterface.h.inc"

#endif // RESNETC_CODEGEN_KERNELCALL_H
