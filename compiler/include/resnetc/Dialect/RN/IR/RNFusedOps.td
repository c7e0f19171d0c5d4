//===- RNFusedOps.td - ops of fused conv/BatchNorm/ReLU chains -*- tablegen -*-===//
//
// What rn-fuse-conv-bn-relu rewrites conv -> BatchNorm -> (add) -> ReLU
// chains into (docs/fusion.md). In training a conv also returns the
// per-image moments of its output, and one op turns them into the batch
// statistics and applies normalisation, scale, shift, residual add and
// ReLU in one pass; its gradient is one op too. In inference the
// BatchNorm is folded into the conv's weights and bias, and the conv
// applies bias, residual add and ReLU to its accumulators. The frontend
// never emits these.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNFUSEDOPS_TD
#define RESNETC_DIALECT_RN_IR_RNFUSEDOPS_TD

include "resnetc/Dialect/RN/IR/RNBase.td"
include "resnetc/Dialect/RN/IR/RNInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

def RN_Conv2DStatsOp : RN_Op<"conv2d_stats", [Pure,
    DeclareOpInterfaceMethods<RN_CostOpInterface>,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>]> {
  let summary = "rn.conv2d (then ReLU if `relu`) that also returns the "
                "per-image moments of its output";
  let description = [{
    `result` is `rn.conv2d` of its operands, followed by `max(., 0)` if
    `relu` is set (the conv -> ReLU -> BatchNorm order). For every image n
    and output channel c, `image_sum[n, c]` is the sum of `result` over the
    image's pixels and `image_m2[n, c]` the sum of squared deviations from
    that image's mean: what `rn.batch_norm_apply` combines into the batch
    statistics, without reading `result` again.

    ```mlir
    %y, %sum, %m2 = rn.conv2d_stats %x, %w {strides = array<i64: 1, 1>,
        padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
        groups = 1, relu = false}
        : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, RN_Tensor4D:$filter,
                       Optional<RN_Tensor1D>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilations,
                       I64Attr:$groups, BoolAttr:$relu);
  let results = (outs RN_Tensor4D:$result, RN_Tensor2D:$image_sum,
                      RN_Tensor2D:$image_m2);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def RN_AddStatsOp : RN_Op<"add_stats", [Pure,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>]> {
  let summary = "rn.add that also returns the per-image moments of its sum";
  let description = [{
    `result = lhs + rhs`, and per image and channel the sum of `result`
    over the image's pixels and the sum of squared deviations from that
    image's mean, as `rn.conv2d_stats` returns them: the residual sum of a
    pre-activation block, whose BatchNorm `rn.batch_norm_apply` then
    finishes without reading it twice.

    ```mlir
    %y, %sum, %m2 = rn.add_stats %a, %b
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor4D:$lhs, RN_Tensor4D:$rhs);
  let results = (outs RN_Tensor4D:$result, RN_Tensor2D:$image_sum,
                      RN_Tensor2D:$image_m2);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def RN_BatchNormApplyOp : RN_Op<"batch_norm_apply", [Pure,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>,
    RN_BatchedResultsOpInterface]> {
  let summary = "training BatchNorm from per-image moments, with residual "
                "add and ReLU";
  let description = [{
    Combines the per-image moments of `input` (from `rn.conv2d_stats`) into
    the batch mean and biased variance, and returns
    `result = act(scale * (input - mean) * invstd + offset [+ residual])`
    with `act` the ReLU if `relu` is set, the batch `mean` and `invstd`,
    and the updated running statistics, all as `rn.batch_norm_train`
    (followed by `rn.add` and `rn.relu`) would.

    ```mlir
    %out, %mean, %invstd, %rm, %rv = rn.batch_norm_apply %y, %sum, %m2,
        %g, %b, %m, %v, %shortcut
        {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64, relu = true}
        : (tensor<8x16x32x32xf32>, tensor<8x16xf32>, tensor<8x16xf32>,
           tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>,
           tensor<8x16x32x32xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>,
            tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, RN_Tensor2D:$image_sum,
                       RN_Tensor2D:$image_m2, RN_Tensor1D:$scale,
                       RN_Tensor1D:$offset, RN_Tensor1D:$running_mean,
                       RN_Tensor1D:$running_var,
                       Optional<RN_Tensor4D>:$residual, F64Attr:$epsilon,
                       F64Attr:$momentum, BoolAttr:$relu);
  let results = (outs RN_Tensor4D:$result, RN_Tensor1D:$mean,
                      RN_Tensor1D:$invstd, RN_Tensor1D:$new_running_mean,
                      RN_Tensor1D:$new_running_var);
  let assemblyFormat = [{
    $input `,` $image_sum `,` $image_m2 `,` $scale `,` $offset `,`
    $running_mean `,` $running_var (`,` $residual^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isResultBatched(unsigned index) { return index == 0; }
  }];
}

def RN_BatchNormApplyBackwardOp : RN_Op<"batch_norm_apply_backward", [Pure,
    RN_BatchedResultsOpInterface]> {
  let summary = "gradient of rn.batch_norm_apply";
  let description = [{
    With `relu`, masks `dy` where the forward op's result was not
    positive; the masked gradient `g` is what a residual receives
    (`residual_gradient`, present when the forward op had a residual and
    `relu` is set; without `relu` the residual's gradient is `dy` itself).
    With a residual and `relu` the mask reads that `result`; without a
    residual the kernel recomputes the result from `input`, `scale`,
    `offset`, `mean` and `invstd` as the forward kernel computed it (the
    same rounding), so `result` is not an operand: one tensor less in each
    of the kernel's passes. Then the BatchNorm backward through the batch
    statistics, from `input` (the forward op's) and its `mean` and
    `invstd`: `input_gradient`, `scale_gradient`, `offset_gradient`, as
    `rn.batch_norm_backward` of `g`.

    ```mlir
    %dx, %dg, %db, %dres = rn.batch_norm_apply_backward %dy, %y, %g, %b,
        %mean, %invstd result(%out) {relu = true}
        : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>, tensor<16xf32>,
           tensor<16xf32>, tensor<16xf32>, tensor<16xf32>,
           tensor<8x16x32x32xf32>)
        -> (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>,
            tensor<8x16x32x32xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor4D:$output_gradient, RN_Tensor4D:$input,
                       RN_Tensor1D:$scale, RN_Tensor1D:$offset,
                       RN_Tensor1D:$mean, RN_Tensor1D:$invstd,
                       Optional<RN_Tensor4D>:$result, BoolAttr:$relu);
  let results = (outs RN_Tensor4D:$input_gradient, RN_Tensor1D:$scale_gradient,
                      RN_Tensor1D:$offset_gradient,
                      Optional<RN_Tensor4D>:$residual_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $input `,` $scale `,` $offset `,` $mean `,` $invstd
    (`result` `(` $result^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// dx and the residual's gradient; dgamma and dbeta sum the batch.
    bool isResultBatched(unsigned index) { return index == 0 || index == 3; }
  }];
}

//===----------------------------------------------------------------------===//
// Inference
//===----------------------------------------------------------------------===//

def RN_FoldBatchNormOp : RN_Op<"fold_batch_norm", [Pure,
    RN_BatchedResultsOpInterface]> {
  let summary = "folds an inference BatchNorm into the preceding conv";
  let description = [{
    With `s = scale / sqrt(variance + epsilon)` per output channel:
    `folded_filter[o] = filter[o] * s[o]` and
    `folded_bias = offset + (bias - mean) * s` (`bias` 0 if absent), so that
    `conv(x, folded_filter) + folded_bias` is `batch_norm(conv(x, filter) +
    bias)`. It reads only weights, so `@prepare_eval` runs it once per
    change of the weights, not per batch.

    ```mlir
    %wf, %bf = rn.fold_batch_norm %w, %g, %b, %m, %v {epsilon = 1.0e-05 : f64}
        : (tensor<16x16x3x3xf32>, tensor<16xf32>, tensor<16xf32>,
           tensor<16xf32>, tensor<16xf32>)
        -> (tensor<16x16x3x3xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins RN_Tensor4D:$filter, RN_Tensor1D:$scale,
                       RN_Tensor1D:$offset, RN_Tensor1D:$mean,
                       RN_Tensor1D:$variance, Optional<RN_Tensor1D>:$bias,
                       F64Attr:$epsilon);
  let results = (outs RN_Tensor4D:$folded_filter, RN_Tensor1D:$folded_bias);
  let assemblyFormat = [{
    $filter `,` $scale `,` $offset `,` $mean `,` $variance (`,` $bias^)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def RN_FusedConv2DOp : RN_Op<"fused_conv2d", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<RN_CostOpInterface>]> {
  let summary = "rn.conv2d with bias, residual add and ReLU applied to its "
                "accumulators";
  let description = [{
    `act(conv2d(input, filter) [+ bias] [+ residual])`, `act` the ReLU if
    `relu` is set: one pass over memory where `rn.conv2d`, `rn.add` and
    `rn.relu` make three. The bias and the residual are optional, and
    written `bias(%b)` and `residual(%r)`.

    ```mlir
    %y = rn.fused_conv2d %x, %w bias(%b) residual(%shortcut) {strides = array<i64: 1, 1>,
        padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
        groups = 1, relu = true}
        : (tensor<8x16x32x32xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>,
           tensor<8x16x32x32xf32>) -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, RN_Tensor4D:$filter,
                       Optional<RN_Tensor1D>:$bias,
                       Optional<RN_Tensor4D>:$residual,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilations,
                       I64Attr:$groups, BoolAttr:$relu);
  let results = (outs RN_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $filter (`bias` `(` $bias^ `)`)? (`residual` `(` $residual^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // RESNETC_DIALECT_RN_IR_RNFUSEDOPS_TD
