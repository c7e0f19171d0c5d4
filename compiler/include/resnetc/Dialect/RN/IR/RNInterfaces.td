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
    The multiply-adds an op does, for `resnetc --summary` (the forward
    graph's) and `train --profile` (each kernel's GFLOP/s): the
    convolutions and dense layers, forward, fused and backward. Ops that do
    no multiply-adds (elementwise, pooling, data movement) do not implement
    it and count as zero.
  }];
  let methods = [
    InterfaceMethod<
      "Multiply-adds for one image of the batch.",
      "int64_t", "getMultiplyAddsPerImage">
  ];
}

def RN_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    An op's vector-Jacobian product. `rn-autodiff` walks the training step
    backwards and asks each op for the gradients of its operands given those
    of its results; it never looks at which op it is, so a new op brings its
    gradient with it.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, the gradient of the loss
        with respect to each operand `j` for which `neededOperands[j]` is
        set, and stores it in `operandGradients[j]` (which has one entry per
        operand, null on entry). `resultGradients[i]` is the gradient with
        respect to result `i`, or null where that result does not reach the
        loss. Fails with a diagnostic if the op cannot be differentiated.
      }],
      "::llvm::LogicalResult", "buildGradient",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGradients,
           "::llvm::ArrayRef<bool>":$neededOperands,
           "::llvm::MutableArrayRef<::mlir::Value>":$operandGradients)>
  ];
}

def RN_RankSumOpInterface : OpInterface<"RankSumOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    An op one of whose results is a sum over the batch that a run on
    several ranks must also sum over the ranks (synchronised BatchNorm):
    its kernel site says so (rn_kernel_site.rank_sum), and the runtime
    all-reduces that result in place right after the kernel, before any
    other kernel reads it. Gradient sums are in each rank's own scale (its
    loss is a mean over its images): the runtime converts them to the
    global batch's scale for the sum and back.
  }];
  let methods = [
    InterfaceMethod<"The result that is summed over the ranks.", "unsigned",
                    "getRankSumResult">,
    InterfaceMethod<"Whether that result sums gradients (else statistics "
                    "of the forward pass).", "bool", "isRankSumOfGradients">
  ];
}

def RN_LossOpInterface : OpInterface<"LossOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    An op that computes the scalar loss of a training step and the gradient
    of that loss with respect to its inputs, which seeds `rn-autodiff`.
  }];
  let methods = [
    InterfaceMethod<"The 0-D loss this op computes.", "::mlir::Value",
                    "getLossValue">,
    InterfaceMethod<[{
        Stores in `operandGradients[j]` (one entry per operand, null on
        entry) the gradient of the loss with respect to operand `j`, where
        one flows; fails with a diagnostic if the op was not built to
        provide it.
      }],
      "::llvm::LogicalResult", "getSeedGradients",
      (ins "::llvm::MutableArrayRef<::mlir::Value>":$operandGradients)>
  ];
}

def RN_OnnxExportOpInterface : OpInterface<"OnnxExportOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    An op of the forward graph as ONNX nodes (opset 17), for `resnetc
    --emit=onnx`: the inference form of the layer (BatchNorm with its
    running statistics, dropout the identity). The op adds its nodes to an
    OnnxGraphBuilder, a plain record of nodes and names
    (OnnxGraphBuilder.h), so the dialect does not depend on protobuf or
    libonnx; the export walks the graph and never looks at which op it is.
  }];
  let methods = [
    InterfaceMethod<[{
        Adds, through `builder`, the nodes that compute this op's results
        from its operands (`builder.name` of each), and names the results.
        Fails with a diagnostic if this instance cannot be expressed.
      }],
      "::llvm::LogicalResult", "exportToOnnx",
      (ins "::resnetc::OnnxGraphBuilder &":$builder)>
  ];
}

def RN_BatchedResultsOpInterface : OpInterface<"BatchedResultsOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    An op some of whose results do not have one slice per image of the
    batch: sums over the batch (weight gradients, BatchNorm statistics),
    variables. Results of ops without it are batched, as are the step's
    images and labels. `rn::isBatched` asks this; the memory plan scales
    only batched tensors with the run's batch, and kernels lay the two
    kinds out differently.
  }];
  let methods = [
    InterfaceMethod<"Whether result `index` has one slice per image.",
                    "bool", "isResultBatched", (ins "unsigned":$index), [{}],
                    [{ return false; }]>
  ];
}

def RN_StepFormOpInterface : OpInterface<"StepFormOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    An op of the forward graph whose form in the training or evaluation
    step is another op (BatchNorm with the batch's statistics and stores of
    its running statistics; dropout and DropBlock with their masks, and the
    identity when evaluating). `rn-build-train-step` clones every other op
    into both steps as it is, and never looks at which op it is.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, this op's form in the step
        `form` describes; `map` takes the forward graph's values to the
        step's. Returns the step's value for this op's (single) result, or
        fails with a diagnostic.
      }],
      "::mlir::FailureOr<::mlir::Value>", "buildStepForm",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::IRMapping &":$map,
           "::mlir::rn::StepForm &":$form)>
  ];
}

def RN_OptimizerUpdateOpInterface : OpInterface<"OptimizerUpdateOpInterface"> {
  let cppNamespace = "::mlir::rn";
  let description = [{
    The training step's in-place update of every trainable parameter from
    its gradient (the op's leading operands), with the optimizer's slots
    (momenta, moments). The memory plan lays the parameters, the gradients
    and each list of slots out as dense runs of one layout, so one kernel
    walks them together; the program object marks the slots' variables.
  }];
  let methods = [
    InterfaceMethod<"The parameters, in the gradients' order.",
                    "::mlir::ArrayAttr", "getParameters">,
    InterfaceMethod<"One gradient per parameter.",
                    "::mlir::Operation::operand_range", "getGradients">,
    InterfaceMethod<"Each list of the optimizer's slots, one variable per "
                    "parameter.",
                    "::llvm::SmallVector<::mlir::ArrayAttr>", "getSlotLists">
  ];
  // One parameter and one slot of each list per gradient, no variable
  // named twice (the kernel would update it twice).
  let verify = [{ return ::mlir::rn::verifyOptimizerUpdate($_op); }];
}

#endif // RESNETC_DIALECT_RN_IR_RNINTERFACES_TD
