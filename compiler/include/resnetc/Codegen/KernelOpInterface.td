//===- KernelOpInterface.td - ops that run as a kernel ------*- tablegen -*-===//
//
// The ops of a planned step that run as one Halide kernel say which kernel
// (its KernelSpec) and with which buffers and scalars. The models live in
// codegen (KernelCalls.cpp) and are attached to the rn ops at registration,
// so the dialect knows nothing about kernels.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELOPINTERFACE_TD
#define RESNETC_CODEGEN_KERNELOPINTERFACE_TD

include "mlir/IR/OpBase.td"

def KernelOpInterface : OpInterface<"KernelOpInterface"> {
  let cppNamespace = "::resnetc";
  let methods = [
    InterfaceMethod<[{
        The kernel this op runs as and its arguments, in the family's ABI
        order (Kernels.h). Fails with a diagnostic when the op cannot run
        yet (the optimizers need the memory plan).
      }],
      "::mlir::FailureOr<::resnetc::KernelCall>", "getKernelCall">
  ];
}

#endif // RESNETC_CODEGEN_KERNELOPINTERFACE_TD
