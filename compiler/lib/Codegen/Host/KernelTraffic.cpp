//===- KernelTraffic.cpp - kernel calls and bytes moved by a step -----------===//

#include "resnetc/Codegen/KernelTraffic.h"
#include "resnetc/Codegen/KernelCall.h"

using namespace mlir;
using namespace resnetc;

static int64_t tensorBytes(const kernels::TensorSpec &tensor) {
  int64_t elements = 1;
  for (int64_t d : tensor.shape)
    elements *= d;
  return 4 * elements; // f32, i32 and u32 alike
}

KernelBytes resnetc::kernelBytes(const kernels::KernelSpec &spec) {
  KernelBytes bytes;
  for (const auto *tensors : {&spec.inputs, &spec.outputs})
    for (const kernels::TensorSpec &t : *tensors) {
      if (t.kind == kernels::TensorKind::Activation && !t.shape.empty())
        bytes.perImage += tensorBytes(t) / t.shape[0];
      else
        bytes.fixed += tensorBytes(t);
    }
  return bytes;
}

FailureOr<StepTraffic> resnetc::stepTraffic(func::FuncOp step) {
  StepTraffic traffic;
  WalkResult walk = step.walk([&](KernelOpInterface op) {
    FailureOr<KernelCall> call = op.getKernelCall();
    if (failed(call))
      return WalkResult::interrupt();
    ++traffic.kernels;
    for (const kernels::TensorSpec &t : call->spec.inputs)
      traffic.bytes += tensorBytes(t);
    for (const kernels::TensorSpec &t : call->spec.outputs)
      traffic.bytes += tensorBytes(t);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return traffic;
}
