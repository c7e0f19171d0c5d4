//===- RNInterfaces.td - per-op behaviour behind interfaces -*- tablegen -*-===//
//
// What an analysis or a pass needs to know about one op sits behind an
// interface here, so that no pass switches on op names.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNINTERFACES_TD
#define RESNETC_DIALECT_RN_IR_RNINTERFACES_TD

include "mlir/IR/OpBase.td"

def RN_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    The arithmetic an op does in the forward pass, for `resnetc --summary`.
    Ops that do no multiply-adds (elementwise, pooling, data movement) do not
    implement it and count as zero.
  }];
  let methods = [
    InterfaceMethod<
      "Multiply-adds of the forward pass for one image of the batch.",
      "int64_t", "getMultiplyAddsPerImage">
  ];
}

#endif // RESNETC_DIALECT_RN_IR_RNINTERFACES_TD
