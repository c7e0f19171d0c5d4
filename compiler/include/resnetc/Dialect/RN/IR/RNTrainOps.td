//===- RNTrainOps.td - ops of the training step ------------*- tablegen -*-===//
//
// What the training passes add to a forward graph: the training forms of
// BatchNorm, dropout and dropblock, the loss, the backward (vector-Jacobian
// product) ops, the optimizer updates, stores to variables and the step's
// run-time hyperparameters. The frontend never emits these.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNTRAINOPS_TD
#define RESNETC_DIALECT_RN_IR_RNTRAINOPS_TD

include "resnetc/Dialect/RN/IR/RNBase.td"
include "resnetc/Dialect/RN/IR/RNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ViewLikeInterface.td"

def RN_LabelTensor : RankedTensorOf<[I32], [HasStaticShapePred,
                                            HasAnyRankOfPred<[1]>],
                                    "statically shaped 1-D i32 tensor (labels)">;
def RN_ScalarF32Tensor : RankedTensorOf<[F32], [HasAnyRankOfPred<[0]>],
                                        "0-D f32 tensor">;
def RN_ScalarI32Tensor : RankedTensorOf<[I32], [HasAnyRankOfPred<[0]>],
                                        "0-D i32 tensor">;

//===----------------------------------------------------------------------===//
// State and hyperparameters
//===----------------------------------------------------------------------===//

def RN_StoreOp : RN_Op<"store", [RN_NoKernel,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemWrite]>]> {
  let summary = "replaces the value of a variable";
  let description = [{
    The training step stores the updated BatchNorm running statistics.

    ```mlir
    rn.store @bn.running_mean, %new_mean : tensor<16xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$variable, RN_Tensor:$value);
  let assemblyFormat = "$variable `,` $value attr-dict `:` type($value)";
}

def RN_StepParam : I32EnumAttr<"StepParam",
    "a run-time hyperparameter of one training step", [
    I32EnumAttrCase<"lr", 0>, I32EnumAttrCase<"momentum", 1>,
    I32EnumAttrCase<"weight_decay", 2>, I32EnumAttrCase<"nesterov", 3>,
    I32EnumAttrCase<"beta1", 4>, I32EnumAttrCase<"beta2", 5>,
    I32EnumAttrCase<"epsilon", 6>, I32EnumAttrCase<"label_smoothing", 7>,
    I32EnumAttrCase<"step", 8>, I32EnumAttrCase<"seed", 9>
  ]> {
  let cppNamespace = "::mlir::rn";
}

def RN_StepParamOp : RN_Op<"step_param", [Pure, RN_NoKernel]> {
  let summary = "a hyperparameter the runtime passes to each step";
  let description = [{
    Reads one field of the runtime's `rn_step_params` (see
    runtime/include/resnetrt/Program.h): the learning rate of this step, the
    optimizer's coefficients, the 1-based step number, the seed of this
    step's random masks. `nesterov`, `step` and `seed` are `i32`, the others
    `f32`.

    ```mlir
    %lr = rn.step_param lr : f32
    %seed = rn.step_param seed : i32
    ```
  }];
  let arguments = (ins RN_StepParam:$param);
  let results = (outs AnyTypeOf<[F32, I32]>:$result);
  let assemblyFormat = "$param attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Training forms of forward ops
//===----------------------------------------------------------------------===//

def RN_BatchNormTrainOp : RN_Op<"batch_norm_train", [Pure,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>,
    RN_BatchedResultsOpInterface]> {
  let summary = "batch normalisation with the batch's own statistics";
  let description = [{
    Normalises with the mean and biased variance of the batch (per channel),
    returns them as `mean` and `invstd = 1 / sqrt(var + epsilon)` for the
    backward pass, and the updated running statistics
    `momentum * running + (1 - momentum) * batch` (the unbiased variance for
    the running one, as PyTorch).

    ```mlir
    %y, %mean, %invstd, %rm, %rv = rn.batch_norm_train %x, %g, %b, %m, %v
        {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64}
        : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>,
           tensor<16xf32>, tensor<16xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>,
            tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$input, RN_Tensor1D:$scale,
                       RN_Tensor1D:$offset, RN_Tensor1D:$running_mean,
                       RN_Tensor1D:$running_var, F64Attr:$epsilon,
                       F64Attr:$momentum);
  let results = (outs RN_Tensor2DOr4D:$result, RN_Tensor1D:$mean,
                      RN_Tensor1D:$invstd, RN_Tensor1D:$new_running_mean,
                      RN_Tensor1D:$new_running_var);
  let assemblyFormat = [{
    $input `,` $scale `,` $offset `,` $running_mean `,` $running_var attr-dict
    `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    bool isResultBatched(unsigned index) { return index == 0; }
  }];
}

//===----------------------------------------------------------------------===//
// Synchronised BatchNorm (resnetc --sync-batch-norm)
//===----------------------------------------------------------------------===//
//
// rn.batch_norm_train split where its statistics reduce over the batch, so
// that a run on several ranks can sum them over the ranks in between
// (RankSumOpInterface): the sums, then the squared deviations from the
// mean those give, then the normalisation; in the backward pass, the two
// sums of rn.batch_norm_backward, then dx. The sums are taken around the
// running mean, which every rank holds the same.

def RN_BatchNormSumsOp : RN_Op<"batch_norm_sums", [Pure,
    RN_RankSumOpInterface, RN_BatchedResultsOpInterface]> {
  let summary = "per-channel sum of a batch around a shift, and its size";
  let description = [{
    The sum of `input[.., c, ..] - shift[c]` over the batch and the pixels
    (accumulated in double) is `sums[0, c] + sums[1, c]` (hi and lo floats,
    so that sums over ranks that nearly cancel keep their digits),
    `sums[2, c]` the number of images: summed over ranks, the global
    batch's.

    ```mlir
    %s = rn.batch_norm_sums %x, %rm
        : (tensor<8x16x32x32xf32>, tensor<16xf32>) -> tensor<3x16xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$input, RN_Tensor1D:$shift);
  let results = (outs RN_Tensor2D:$sums);
  let assemblyFormat = [{
    $input `,` $shift attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    unsigned getRankSumResult() { return 0; }
    bool isRankSumOfGradients() { return false; }
  }];
}

def RN_BatchNormDeviationsOp : RN_Op<"batch_norm_deviations", [Pure,
    RN_RankSumOpInterface, RN_BatchedResultsOpInterface]> {
  let summary = "per-channel sum of squared deviations from the batch mean";
  let description = [{
    With the mean `shift[c] + (sums[0, c] + sums[1, c]) / (sums[2, c] * H
    * W)` (the global batch's, once `sums` is summed over the ranks),
    `m2[c]` is the sum of the squared deviations of the batch's values from
    it.

    ```mlir
    %m2 = rn.batch_norm_deviations %x, %rm, %s
        : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<3x16xf32>)
        -> tensor<16xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$input, RN_Tensor1D:$shift,
                       RN_Tensor2D:$sums);
  let results = (outs RN_Tensor1D:$m2);
  let assemblyFormat = [{
    $input `,` $shift `,` $sums attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    unsigned getRankSumResult() { return 0; }
    bool isRankSumOfGradients() { return false; }
  }];
}

def RN_BatchNormGlobalOp : RN_Op<"batch_norm_global", [Pure,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>,
    RN_BatchedResultsOpInterface]> {
  let summary = "training BatchNorm from sums over the (global) batch";
  let description = [{
    rn.batch_norm_train's results, with the batch mean and biased variance
    taken from `sums` and `m2` (rn.batch_norm_sums and
    rn.batch_norm_deviations of the same input and running mean): on
    several ranks, those of the global batch.

    ```mlir
    %y, %mean, %invstd, %nrm, %nrv = rn.batch_norm_global %x, %g, %b, %rm,
        %rv, %s, %m2 {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64}
        : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>,
           tensor<16xf32>, tensor<16xf32>, tensor<3x16xf32>, tensor<16xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>,
            tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$input, RN_Tensor1D:$scale,
                       RN_Tensor1D:$offset, RN_Tensor1D:$running_mean,
                       RN_Tensor1D:$running_var, RN_Tensor2D:$sums,
                       RN_Tensor1D:$m2, F64Attr:$epsilon, F64Attr:$momentum);
  let results = (outs RN_Tensor2DOr4D:$result, RN_Tensor1D:$mean,
                      RN_Tensor1D:$invstd, RN_Tensor1D:$new_running_mean,
                      RN_Tensor1D:$new_running_var);
  let assemblyFormat = [{
    $input `,` $scale `,` $offset `,` $running_mean `,` $running_var `,`
    $sums `,` $m2 attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    bool isResultBatched(unsigned index) { return index == 0; }
  }];
}

def RN_DropoutTrainOp : RN_Op<"dropout_train", [Pure,
    AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>]> {
  let summary = "dropout while training, with a seeded mask";
  let description = [{
    Keeps each element with probability `1 - rate`, scaled by
    `1 / (1 - rate)`. The mask is a hash of (`seed`, `salt`, element index),
    so the backward op recomputes it; `salt` tells the layers of one step
    apart.

    ```mlir
    %y = rn.dropout_train %x, %seed {rate = 5.0e-01 : f64, salt = 3 : i64}
        : tensor<8x256xf32>
    ```
  }];
  let arguments = (ins RN_Tensor:$input, I32:$seed, F64Attr:$rate,
                       I64Attr:$salt);
  let results = (outs RN_Tensor:$result);
  let assemblyFormat = "$input `,` $seed attr-dict `:` type($result)";
}

def RN_DropBlockTrainOp : RN_Op<"dropblock_train", [Pure,
    AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>]> {
  let summary = "dropblock while training, with a seeded mask";
  let description = [{
    ```mlir
    %y = rn.dropblock_train %x, %seed
        {rate = 1.0e-01 : f64, block_size = 5 : i64, salt = 1 : i64}
        : tensor<8x128x16x16xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, I32:$seed, F64Attr:$rate,
                       I64Attr:$block_size, I64Attr:$salt);
  let results = (outs RN_Tensor4D:$result);
  let assemblyFormat = "$input `,` $seed attr-dict `:` type($result)";
}

def RN_SoftmaxCrossEntropyOp : RN_Op<"softmax_cross_entropy", [Pure,
    DeclareOpInterfaceMethods<RN_LossOpInterface>]> {
  let summary = "mean softmax cross-entropy of logits against labels";
  let description = [{
    `loss` is the mean over the batch of the cross-entropy between
    softmax(`logits`) and the labels, smoothed as PyTorch's
    `label_smoothing`; `correct` counts the images whose highest logit is
    their label. With `with_gradient`, the op also returns the gradient of
    `loss` with respect to the logits, which seeds the backward pass.

    ```mlir
    %loss, %correct, %dlogits = rn.softmax_cross_entropy %logits, %labels,
        %smoothing {with_gradient}
        : (tensor<8x10xf32>, tensor<8xi32>, f32)
        -> (tensor<f32>, tensor<i32>, tensor<8x10xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor2D:$logits, RN_LabelTensor:$labels,
                       F32:$label_smoothing, UnitAttr:$with_gradient);
  let results = (outs RN_ScalarF32Tensor:$loss, RN_ScalarI32Tensor:$correct,
                      Optional<RN_Tensor2D>:$logits_gradient);
  let assemblyFormat = [{
    $logits `,` $labels `,` $label_smoothing attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Backward ops
//===----------------------------------------------------------------------===//

// A backward op's verifier checks its gradients against the forward op's
// shape rule (RNTrainOps.cpp).
class RN_BackwardOp<string mnemonic, string of, list<Trait> traits = []>
    : RN_Op<mnemonic, !listconcat([Pure], traits)> {
  let summary = "gradient of " # of;
  let hasVerifier = 1;
}

def RN_Conv2DBackwardDataOp : RN_BackwardOp<"conv2d_backward_data",
    "rn.conv2d with respect to its input",
    [DeclareOpInterfaceMethods<RN_CostOpInterface>]> {
  let description = [{
    The transposed convolution of `dy` with the filter. The result type
    (the forward input's) is explicit, since strides lose sizes.

    ```mlir
    %dx = rn.conv2d_backward_data %dy, %w {strides = array<i64: 2, 2>,
        padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
        groups = 1} : (tensor<8x32x16x16xf32>, tensor<32x16x3x3xf32>)
        -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$output_gradient, RN_Tensor4D:$filter,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $filter attr-dict `:` functional-type(operands, results)
  }];
}

def RN_Conv2DBackwardFilterOp : RN_BackwardOp<"conv2d_backward_filter",
    "rn.conv2d with respect to its filter (and bias)",
    [RN_BatchedResultsOpInterface,
     DeclareOpInterfaceMethods<RN_CostOpInterface>]> {
  let description = [{
    Correlates the forward input with `dy`, summed over the batch. With a
    second result, also the bias gradient (the sum of `dy` per channel).

    ```mlir
    %dw = rn.conv2d_backward_filter %x, %dy {strides = array<i64: 1, 1>,
        padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
        groups = 1} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>)
        -> tensor<16x16x3x3xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, RN_Tensor4D:$output_gradient,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilations, I64Attr:$groups);
  let results = (outs RN_Tensor4D:$filter_gradient,
                      Optional<RN_Tensor1D>:$bias_gradient);
  let assemblyFormat = [{
    $input `,` $output_gradient attr-dict `:` functional-type(operands, results)
  }];
}

def RN_DenseBackwardDataOp : RN_BackwardOp<"dense_backward_data",
    "rn.dense with respect to its input",
    [DeclareOpInterfaceMethods<RN_CostOpInterface>]> {
  let description = [{
    ```mlir
    %dx = rn.dense_backward_data %dy, %w
        : (tensor<8x10xf32>, tensor<10x64xf32>) -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2D:$output_gradient, RN_Tensor2D:$weight);
  let results = (outs RN_Tensor2D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $weight attr-dict `:` functional-type(operands, results)
  }];
}

def RN_DenseBackwardWeightsOp : RN_BackwardOp<"dense_backward_weights",
    "rn.dense with respect to its weight (and bias)",
    [RN_BatchedResultsOpInterface,
     DeclareOpInterfaceMethods<RN_CostOpInterface>]> {
  let description = [{
    ```mlir
    %dw, %db = rn.dense_backward_weights %x, %dy
        : (tensor<8x64xf32>, tensor<8x10xf32>)
        -> (tensor<10x64xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor2D:$input, RN_Tensor2D:$output_gradient);
  let results = (outs RN_Tensor2D:$weight_gradient,
                      Optional<RN_Tensor1D>:$bias_gradient);
  let assemblyFormat = [{
    $input `,` $output_gradient attr-dict `:` functional-type(operands, results)
  }];
}

def RN_BatchNormBackwardOp : RN_BackwardOp<"batch_norm_backward",
    "rn.batch_norm_train with respect to its input, scale and offset",
    [RN_BatchedResultsOpInterface]> {
  let description = [{
    Uses the batch statistics the forward op returned.

    ```mlir
    %dx, %dg, %db = rn.batch_norm_backward %dy, %x, %g, %mean, %invstd
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16xf32>,
           tensor<16xf32>, tensor<16xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$output_gradient, RN_Tensor2DOr4D:$input,
                       RN_Tensor1D:$scale, RN_Tensor1D:$mean,
                       RN_Tensor1D:$invstd);
  let results = (outs RN_Tensor2DOr4D:$input_gradient,
                      RN_Tensor1D:$scale_gradient,
                      RN_Tensor1D:$offset_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $input `,` $scale `,` $mean `,` $invstd attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    bool isResultBatched(unsigned index) { return index == 0; }
  }];
}

def RN_BatchNormGradSumsOp : RN_Op<"batch_norm_grad_sums", [Pure,
    RN_RankSumOpInterface, RN_BatchedResultsOpInterface]> {
  let summary = "the batch sums of rn.batch_norm_global's gradient";
  let description = [{
    `sum dy` (`sums[0, c] + sums[1, c]`) and `sum dy (x - mean)` (`sums[2,
    c] + sums[3, c]`) over the batch, accumulated in double, each as hi and
    lo floats: on several ranks summed over the ranks for dx. `offset_gradient` and `scale_gradient` (`sums[1] * invstd`) are
    this batch's own, like every other parameter gradient.

    ```mlir
    %dg, %db, %gs = rn.batch_norm_grad_sums %dy, %x, %mean, %invstd
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16xf32>,
           tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>, tensor<4x16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$output_gradient, RN_Tensor2DOr4D:$input,
                       RN_Tensor1D:$mean, RN_Tensor1D:$invstd);
  let results = (outs RN_Tensor1D:$scale_gradient,
                      RN_Tensor1D:$offset_gradient, RN_Tensor2D:$sums);
  let assemblyFormat = [{
    $output_gradient `,` $input `,` $mean `,` $invstd attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    unsigned getRankSumResult() { return 2; }
    bool isRankSumOfGradients() { return true; }
  }];
}

def RN_BatchNormGlobalBackwardOp : RN_BackwardOp<"batch_norm_global_backward",
    "rn.batch_norm_global with respect to its input"> {
  let description = [{
    `dx = gamma invstd (dy - sum dy / m - (x - mean) invstd^2 sum dy (x -
    mean) / m)` with `m = batch_sums[2] * H * W` values per channel: the
    gradient sums of rn.batch_norm_grad_sums and the forward pass's
    rn.batch_norm_sums, both over the (global) batch.

    ```mlir
    %dx = rn.batch_norm_global_backward %dy, %x, %g, %mean, %invstd, %gs, %s
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16xf32>,
           tensor<16xf32>, tensor<16xf32>, tensor<4x16xf32>, tensor<3x16xf32>)
        -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$output_gradient, RN_Tensor2DOr4D:$input,
                       RN_Tensor1D:$scale, RN_Tensor1D:$mean,
                       RN_Tensor1D:$invstd, RN_Tensor2D:$sums,
                       RN_Tensor2D:$batch_sums);
  let results = (outs RN_Tensor2DOr4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $input `,` $scale `,` $mean `,` $invstd `,` $sums `,`
    $batch_sums attr-dict `:` functional-type(operands, results)
  }];
}

// The activations' backward ops: RNActivations.td.

def RN_MaxPool2DBackwardOp : RN_BackwardOp<"max_pool2d_backward",
    "rn.max_pool2d"> {
  let description = [{
    Routes each window's gradient to its maximum, found again in the input.

    ```mlir
    %dx = rn.max_pool2d_backward %dy, %x {kernel = array<i64: 3, 3>,
        strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}
        : (tensor<8x64x56x56xf32>, tensor<8x64x112x112xf32>)
        -> tensor<8x64x112x112xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$output_gradient, RN_Tensor4D:$input,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def RN_AvgPool2DBackwardOp : RN_BackwardOp<"avg_pool2d_backward",
    "rn.avg_pool2d"> {
  let description = [{
    ```mlir
    %dx = rn.avg_pool2d_backward %dy {kernel = array<i64: 2, 2>,
        strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>,
        count_include_pad = false}
        : (tensor<8x2048x1x1xf32>) -> tensor<8x2048x2x2xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$output_gradient, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$padding,
                       BoolAttr:$count_include_pad);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient attr-dict `:` functional-type(operands, results)
  }];
}

def RN_GlobalAvgPoolBackwardOp : RN_BackwardOp<"global_avg_pool_backward",
    "rn.global_avg_pool"> {
  let description = [{
    ```mlir
    %dx = rn.global_avg_pool_backward %dy
        : (tensor<8x64xf32>) -> tensor<8x64x8x8xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2D:$output_gradient);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient attr-dict `:` functional-type(operands, results)
  }];
}

def RN_GlobalMaxPoolBackwardOp : RN_BackwardOp<"global_max_pool_backward",
    "rn.global_max_pool"> {
  let description = [{
    ```mlir
    %dx = rn.global_max_pool_backward %dy, %x
        : (tensor<8x64xf32>, tensor<8x64x8x8xf32>) -> tensor<8x64x8x8xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2D:$output_gradient, RN_Tensor4D:$input);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $input attr-dict `:` functional-type(operands, results)
  }];
}

def RN_ZeroPadBackwardOp : RN_BackwardOp<"zero_pad_backward", "rn.zero_pad"> {
  let description = [{
    Crops the padding away from the gradient.

    ```mlir
    %dx = rn.zero_pad_backward %dy {low = array<i64: 8, 0, 0>,
        high = array<i64: 8, 0, 0>}
        : (tensor<8x32x8x8xf32>) -> tensor<8x16x8x8xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$output_gradient, DenseI64ArrayAttr:$low,
                       DenseI64ArrayAttr:$high);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient attr-dict `:` functional-type(operands, results)
  }];
}

def RN_SubsampleBackwardOp : RN_BackwardOp<"subsample_backward",
    "rn.subsample"> {
  let description = [{
    Scatters the gradient back to every s-th pixel, zeros elsewhere.

    ```mlir
    %dx = rn.subsample_backward %dy {strides = array<i64: 2, 2>}
        : (tensor<8x16x16x16xf32>) -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$output_gradient, DenseI64ArrayAttr:$strides);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient attr-dict `:` functional-type(operands, results)
  }];
}

def RN_ConcatBackwardOp : RN_BackwardOp<"concat_backward", "rn.concat"> {
  let description = [{
    Splits the gradient along channels, one result per concatenated input.

    ```mlir
    %da, %db = rn.concat_backward %dy
        : (tensor<8x48x8x8xf32>) -> (tensor<8x16x8x8xf32>, tensor<8x32x8x8xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$output_gradient);
  let results = (outs Variadic<RN_Tensor2DOr4D>:$input_gradients);
  let assemblyFormat = [{
    $output_gradient attr-dict `:` functional-type(operands, results)
  }];
}

def RN_FlattenBackwardOp : RN_BackwardOp<"flatten_backward", "rn.flatten",
    [RN_NoKernel, ViewLikeOpInterface]> {
  let description = [{
    Reshapes the gradient back to images. Flattening keeps the memory order
    (channels fastest), so this moves no data.

    ```mlir
    %dx = rn.flatten_backward %dy : (tensor<8x256xf32>) -> tensor<8x64x2x2xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2D:$output_gradient);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    ::mlir::Value getViewSource() { return getOutputGradient(); }
  }];
}

def RN_DropoutBackwardOp : RN_BackwardOp<"dropout_backward",
    "rn.dropout_train", [AllTypesMatch<["output_gradient", "input_gradient"]>]> {
  let description = [{
    Recomputes the forward mask from the same seed and salt.

    ```mlir
    %dx = rn.dropout_backward %dy, %seed {rate = 5.0e-01 : f64, salt = 3 : i64}
        : tensor<8x256xf32>
    ```
  }];
  let arguments = (ins RN_Tensor:$output_gradient, I32:$seed, F64Attr:$rate,
                       I64Attr:$salt);
  let results = (outs RN_Tensor:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $seed attr-dict `:` type($input_gradient)
  }];
}

def RN_DropBlockBackwardOp : RN_BackwardOp<"dropblock_backward",
    "rn.dropblock_train", [AllTypesMatch<["output_gradient", "input_gradient"]>]> {
  let description = [{
    ```mlir
    %dx = rn.dropblock_backward %dy, %seed
        {rate = 1.0e-01 : f64, block_size = 5 : i64, salt = 1 : i64}
        : tensor<8x128x16x16xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$output_gradient, I32:$seed, F64Attr:$rate,
                       I64Attr:$block_size, I64Attr:$salt);
  let results = (outs RN_Tensor4D:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $seed attr-dict `:` type($input_gradient)
  }];
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

def RN_ApplyGradientsOp : RN_Op<"apply_gradients", [RN_NoKernel,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemWrite]>]> {
  let summary = "the gradients of the trainable variables, for the optimizer";
  let description = [{
    What `rn-autodiff` produces: gradient `i` belongs to variable
    `parameters[i]`. `rn-optimizer` replaces it with the recipe's update.

    ```mlir
    rn.apply_gradients %dw, %db {parameters = [@dense.weight, @dense.bias]}
        : tensor<10x64xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Variadic<RN_Tensor>:$gradients,
                       SymbolRefArrayAttr:$parameters);
  let assemblyFormat = "$gradients attr-dict `:` type($gradients)";
  let hasVerifier = 1;
}

// An optimizer's in-place update. `slotLists` lists the attributes that
// name its slot variables, one list per kind of slot. The interface checks
// the lists' lengths and names; verifySymbolUses that every name is a
// variable of its gradient's type, every parameter a trainable one.
class RN_OptimizerUpdateOp<string mnemonic, string slotLists>
    : RN_Op<mnemonic, [RN_OptimizerUpdateOpInterface, SymbolUserOpInterface,
                       MemoryEffects<[MemRead, MemWrite]>]> {
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::mlir::ArrayAttr> getSlotLists() {
      return {}] # slotLists # [{};
    }
    ::mlir::LogicalResult verifySymbolUses(
        ::mlir::SymbolTableCollection &symbols) {
      return ::mlir::rn::verifyUpdatedVariables(*this, symbols);
    }
  }];
}

def RN_SGDUpdateOp : RN_OptimizerUpdateOp<"sgd_update", "getMomenta()"> {
  let summary = "SGD with momentum, Nesterov and weight decay, in place";
  let description = [{
    For every parameter `w` with gradient `g` and momentum buffer `m`, as
    PyTorch's SGD (dampening 0):
    `g' = g + weight_decay * w; m = momentum * m + g';
     w -= lr * (nesterov ? g' + momentum * m : m)`.
    The memory plan keeps the parameters, gradients and momenta each in one
    contiguous run, so one kernel updates them all.

    ```mlir
    rn.sgd_update(%dw, %db) lr %lr momentum %mom weight_decay %wd
        nesterov %nest {parameters = [@dense.weight, @dense.bias],
        momenta = [@dense.weight.momentum, @dense.bias.momentum]}
        : tensor<10x64xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Variadic<RN_Tensor>:$gradients, F32:$lr, F32:$momentum,
                       F32:$weight_decay, I32:$nesterov,
                       SymbolRefArrayAttr:$parameters,
                       SymbolRefArrayAttr:$momenta);
  let assemblyFormat = [{
    `(` $gradients `)` `lr` $lr `momentum` $momentum `weight_decay`
    $weight_decay `nesterov` $nesterov attr-dict `:` type($gradients)
  }];
}

def RN_AdamUpdateOp : RN_OptimizerUpdateOp<"adam_update",
                                           "getFirstMoments(), getSecondMoments()"> {
  let summary = "Adam or AdamW (decoupled weight decay), in place";
  let description = [{
    PyTorch's Adam (`decoupled = false`: weight decay added to the gradient)
    or AdamW (`decoupled = true`: `w -= lr * weight_decay * w` first), with
    bias correction by the 1-based `step`.

    ```mlir
    rn.adam_update(%dw) lr %lr beta1 %b1 beta2 %b2 epsilon %eps
        weight_decay %wd step %step {decoupled = false,
        parameters = [@dense.weight], first_moments = [@dense.weight.adam_m],
        second_moments = [@dense.weight.adam_v]} : tensor<10x64xf32>
    ```
  }];
  let arguments = (ins Variadic<RN_Tensor>:$gradients, F32:$lr, F32:$beta1,
                       F32:$beta2, F32:$epsilon, F32:$weight_decay, I32:$step,
                       BoolAttr:$decoupled, SymbolRefArrayAttr:$parameters,
                       SymbolRefArrayAttr:$first_moments,
                       SymbolRefArrayAttr:$second_moments);
  let assemblyFormat = [{
    `(` $gradients `)` `lr` $lr `beta1` $beta1 `beta2` $beta2 `epsilon`
    $epsilon `weight_decay` $weight_decay `step` $step attr-dict `:`
    type($gradients)
  }];
}

#endif // RESNETC_DIALECT_RN_IR_RNTRAINOPS_TD
