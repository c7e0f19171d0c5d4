//===- Passes.td - rn dialect passes -----------------------*- tablegen -*-===//
//
// The passes that turn a forward graph into a training program, in pipeline
// order. Each is registered with resnetc-opt and tested alone with lit.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_TRANSFORMS_PASSES_TD
#define RESNETC_DIALECT_RN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def BuildTrainStep : Pass<"rn-build-train-step", "mlir::ModuleOp"> {
  let summary = "Builds @train_step and @eval_step from @forward";
  let description = [{
    Clones `@forward` twice. In `@train_step(images, labels)` BatchNorm uses
    the batch's statistics and stores the updated running statistics,
    dropout and dropblock draw seeded masks, and a softmax that ends the
    model is folded into the loss: the function returns the mean softmax
    cross-entropy and the number of correct predictions, and carries the
    loss's gradient for `rn-autodiff`. `@eval_step(images, labels)` keeps
    the inference forms and returns the same two values.
  }];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::arith::ArithDialect"];
}

def Autodiff : Pass<"rn-autodiff", "mlir::ModuleOp"> {
  let summary = "Differentiates @train_step's loss by reverse mode";
  let description = [{
    Walks `@train_step` backwards from its loss op (LossOpInterface), asking
    each op for its vector-Jacobian product (GradientOpInterface), and ends
    the step with `rn.apply_gradients` of every trainable variable. Only
    gradients that reach a trainable variable are built; gradients of a
    value used twice are summed.
  }];
}

def Optimizer : Pass<"rn-optimizer", "mlir::ModuleOp"> {
  let summary = "Replaces rn.apply_gradients with the recipe's optimizer";
  let description = [{
    Reads `optimizer` from the module's `rn.recipe` (sgd, adam or adamw),
    declares the optimizer's state variables (momentum buffers or Adam's
    two moments, zero-initialised) and replaces `rn.apply_gradients` with
    one `rn.sgd_update` or `rn.adam_update` over every parameter, reading
    its hyperparameters with `rn.step_param`.
  }];
}

#endif // RESNETC_DIALECT_RN_TRANSFORMS_PASSES_TD
