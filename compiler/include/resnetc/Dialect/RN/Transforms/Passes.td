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

    With `sync-batch-norm`, training BatchNorm is rn.batch_norm_sums,
    rn.batch_norm_deviations and rn.batch_norm_global instead of
    rn.batch_norm_train: its batch statistics split where a run on several
    ranks sums them over the ranks (synchronised BatchNorm).
  }];
  let options = [
    Option<"syncBatchNorm", "sync-batch-norm", "bool", /*default=*/"false",
           "Split training BatchNorm at its batch sums, for synchronised "
           "BatchNorm on several ranks">
  ];
  let dependentDialects = ["mlir::func::FuncDialect",
                           "mlir::arith::ArithDialect"];
}

def FuseConvBnRelu : Pass<"rn-fuse-conv-bn-relu", "mlir::ModuleOp"> {
  let summary = "Fuses conv -> BatchNorm -> (add) -> ReLU chains of the steps";
  let description = [{
    Runs after rn-build-train-step and before rn-autodiff. A chain is a
    BatchNorm whose input is a convolution used only by it (directly, or
    through a ReLU: the conv -> ReLU -> BN order), with a residual add and
    a ReLU after it if their inputs are used only by them.

    In `@train_step` the conv becomes `rn.conv2d_stats` (it also returns the
    per-image moments of its output) and the BatchNorm, add and ReLU one
    `rn.batch_norm_apply`, whose gradient (`rn.batch_norm_apply_backward`)
    is one kernel too. In `@eval_step` the BatchNorm is folded into the
    conv's weights and bias: `@prepare_eval` computes them into derived
    variables (`rn.fold_batch_norm`), and every conv whose output goes only
    to an add and/or a ReLU runs as one `rn.fused_conv2d`.

    With `report`, every BatchNorm and fused conv says what was done with
    it (or why not) as a remark at its layer's location. docs/fusion.md
    explains each fused kernel's passes over memory.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark for every chain fused or left alone">,
  ];
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

def PlanMemory : Pass<"rn-plan-memory", "mlir::ModuleOp"> {
  let summary = "Assigns every tensor of the steps a slot in one arena";
  let description = [{
    Lays out the arena that `train` allocates once, so its size is known
    before anything runs. The fixed region holds, in order: the optimizer's
    parameters (dense, in the update's order), their gradients (same
    layout: one flat update, one all-reduce), each kind of optimizer state
    (same layout), the other variables, then the step's small batch-free
    tensors (BatchNorm statistics, the loss). The per-sample region, whose
    sizes scale with the batch, holds the images and labels first, then
    every activation, placed by liveness (the step replayed with a
    first-fit allocator): tensors whose lives overlap, ends included, never
    share bytes, so no kernel reads and writes the same buffer unless its
    contract says so (the optimizer and the running statistics, updated in
    place). Loads and flattens alias their source. The steps are planned
    separately and share the arena, which is as large as the larger.

    With `reuse=false` no two tensors share bytes: every intermediate is
    still in the arena after a step, for debugging and numeric checks.

    Every offset is a multiple of `alignment` bytes (64: a cache line),
    except the variables', which lie densely in their runs (4 bytes apart)
    unless `align-variables` is set. A GPU arena sets both (256, true): each
    tensor a kernel gets is a view of the one device allocation, and OpenCL
    places those only at the device's base-address alignment. Each run of
    variables then has zeros between its tensors, in the same places in
    every run, which the updates keep zero.

    Writes `#rn.slot`s on variables (`rn.slot`), on step arguments and on
    every op result (`rn.slots`), and the sizes on the module
    (`rn.arena = {alignment, fixed_bytes, per_sample_bytes}`).
  }];
  let options = [
    Option<"reuse", "reuse", "bool", /*default=*/"true",
           "Let tensors whose lives do not overlap share bytes">,
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Bytes every offset is a multiple of (a power of two, >= 64)">,
    Option<"alignVariables", "align-variables", "bool", /*default=*/"false",
           "Align each variable too, not only each run of them">,
  ];
}

#endif // RESNETC_DIALECT_RN_TRANSFORMS_PASSES_TD
