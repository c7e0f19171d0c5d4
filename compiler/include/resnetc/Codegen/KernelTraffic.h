//===- KernelTraffic.h - kernel calls and bytes moved by a step -*- C++ -*-===//

#ifndef RESNETC_CODEGEN_KERNELTRAFFIC_H
#define RESNETC_CODEGEN_KERNELTRAFFIC_H

#include "resnetc/Codegen/KernelSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace resnetc {

/// What one run of a step costs in kernel launches and memory traffic.
struct StepTraffic {
  int64_t kernels = 0;
  /// Bytes of every tensor each kernel call reads or writes, at the
  /// compiled batch: a lower bound on the step's memory traffic (a kernel
  /// that reads its input twice is counted once).
  int64_t bytes = 0;
};

/// The bytes of the tensors one kernel call reads and writes: those that do
/// not depend on the batch (weights and their gradients) and those per
/// image (activations, at the spec's compiled batch).
struct KernelBytes {
  int64_t fixed = 0, perImage = 0;
};
KernelBytes kernelBytes(const kernels::KernelSpec &spec);

/// The kernel calls of `step` (after rn-plan-memory, which the optimizers'
/// flat views need) and the bytes their tensors hold.
mlir::FailureOr<StepTraffic> stepTraffic(mlir::func::FuncOp step);

} // namespace resnetc

#endif // RESNETC_CODEGEN_KERNELTRAFFIC_H
