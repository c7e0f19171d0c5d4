//===- KernelTraffic.h - kernel calls and bytes moved by a step -*- C++ -*-===//

#ifndef RESNETC_CODEGEN_KERNELTRAFFIC_H
#define RESNETC_CODEGEN_KERNELTRAFFIC_H

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

/// The kernel calls of `step` (after rn-plan-memory, which the optimizers'
/// flat views need) and the bytes their tensors hold.
mlir::FailureOr<StepTraffic> stepTraffic(mlir::func::FuncOp step);

} // namespace resnetc

#endif // RESNETC_CODEGEN_KERNELTRAFFIC_H
