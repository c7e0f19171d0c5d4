// RUN: resnetc-opt %s -rn-fuse-conv-bn-relu=report=true -split-input-file -verify-diagnostics | FileCheck %s

// One case per pattern of rn-fuse-conv-bn-relu, each the smallest chain it
// rewrites (fuse-conv-bn-relu.mlir has the combinations and the chains
// left alone).

// FuseTrainingChain: conv -> batch_norm_train, nothing after it.
module {
  rn.variable @c.weight : tensor<2x3x1x1xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @bn.gamma : tensor<2xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<2xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<2xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<2xf32> {init = #rn.init<ones>}
  func.func @train_step(%x: tensor<4x3x2x2xf32>) -> tensor<4x2x2x2xf32> {
    %w = rn.load @c.weight : tensor<2x3x1x1xf32>
    %g = rn.load @bn.gamma : tensor<2xf32>
    %b = rn.load @bn.beta : tensor<2xf32>
    %m = rn.load @bn.running_mean : tensor<2xf32>
    %v = rn.load @bn.running_var : tensor<2xf32>
    %y = rn.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<4x3x2x2xf32>, tensor<2x3x1x1xf32>) -> tensor<4x2x2x2xf32>
    // expected-remark @+1 {{fused conv2d + batch_norm into conv2d_stats + batch_norm_apply (2 kernels, was 2)}}
    %z, %mean, %invstd, %rm, %rv = rn.batch_norm_train %y, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<4x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<4x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
    rn.store @bn.running_mean, %rm : tensor<2xf32>
    rn.store @bn.running_var, %rv : tensor<2xf32>
    return %z : tensor<4x2x2x2xf32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK:         %[[Y:.*]], %[[SUM:.*]], %[[M2:.*]] = rn.conv2d_stats %{{.*}}, %{{.*}} {{{.*}}relu = false{{.*}}} : (tensor<4x3x2x2xf32>, tensor<2x3x1x1xf32>) -> (tensor<4x2x2x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>)
// CHECK-NEXT:    %[[Z:[^,]*]], %{{.*}}, %{{.*}}, %[[RM:.*]], %[[RV:.*]] = rn.batch_norm_apply %[[Y]], %[[SUM]], %[[M2]], {{.*}} {{{.*}}relu = false}
// CHECK-NEXT:    rn.store @bn.running_mean, %[[RM]]
// CHECK-NEXT:    rn.store @bn.running_var, %[[RV]]
// CHECK-NEXT:    return %[[Z]]

// -----

// FoldInferenceBatchNorm: conv -> batch_norm in @eval_step becomes a conv
// with folded weights, computed by @prepare_eval into derived variables
// named after the filter's layer ("<layer>.folded_<param>").
module {
  rn.variable @stem.kernel : tensor<2x3x1x1xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @bn.gamma : tensor<2xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<2xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<2xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<2xf32> {init = #rn.init<ones>}
  func.func @eval_step(%x: tensor<4x3x2x2xf32>) -> tensor<4x2x2x2xf32> {
    %w = rn.load @stem.kernel : tensor<2x3x1x1xf32>
    %g = rn.load @bn.gamma : tensor<2xf32>
    %b = rn.load @bn.beta : tensor<2xf32>
    %m = rn.load @bn.running_mean : tensor<2xf32>
    %v = rn.load @bn.running_var : tensor<2xf32>
    %y = rn.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<4x3x2x2xf32>, tensor<2x3x1x1xf32>) -> tensor<4x2x2x2xf32>
    // expected-remark @+1 {{folded batch_norm into the convolution's weights and bias (computed once by @prepare_eval)}}
    %z = rn.batch_norm %y, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<4x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2x2x2xf32>
    return %z : tensor<4x2x2x2xf32>
  }
}

// CHECK:         rn.variable @bn.running_var
// CHECK-NEXT:    rn.variable @stem.folded_kernel : tensor<2x3x1x1xf32> {derived, init = #rn.init<zeros>}
// CHECK-NEXT:    rn.variable @stem.folded_bias : tensor<2xf32> {derived, init = #rn.init<zeros>}
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4x3x2x2xf32>
// CHECK-NEXT:    %[[FW:.*]] = rn.load @stem.folded_kernel
// CHECK-NEXT:    %[[FB:.*]] = rn.load @stem.folded_bias
// CHECK-NEXT:    %[[Z:.*]] = rn.conv2d %[[X]], %[[FW]], %[[FB]]
// CHECK-NEXT:    return %[[Z]]
// CHECK-LABEL: func.func @prepare_eval()
// CHECK-NEXT:    %[[W:.*]] = rn.load @stem.kernel
// CHECK-NEXT:    %[[G:.*]] = rn.load @bn.gamma
// CHECK-NEXT:    %[[B:.*]] = rn.load @bn.beta
// CHECK-NEXT:    %[[M:.*]] = rn.load @bn.running_mean
// CHECK-NEXT:    %[[V:.*]] = rn.load @bn.running_var
// CHECK-NEXT:    %[[FW2:.*]], %[[FB2:.*]] = rn.fold_batch_norm %[[W]], %[[G]], %[[B]], %[[M]], %[[V]] {epsilon = 1.000000e-05 : f64}
// CHECK-NEXT:    rn.store @stem.folded_kernel, %[[FW2]]
// CHECK-NEXT:    rn.store @stem.folded_bias, %[[FB2]]
// CHECK-NEXT:    return

// -----

// FuseConvEpilogue: conv -> add -> relu in @eval_step, no BatchNorm; no
// @prepare_eval is made.
module {
  rn.variable @c.weight : tensor<3x3x1x1xf32> {init = #rn.init<he_normal>, trainable}
  func.func @eval_step(%x: tensor<4x3x2x2xf32>) -> tensor<4x3x2x2xf32> {
    %w = rn.load @c.weight : tensor<3x3x1x1xf32>
    // expected-remark @+1 {{fused conv2d + add + relu into fused_conv2d (1 kernel, was 3)}}
    %y = rn.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<4x3x2x2xf32>, tensor<3x3x1x1xf32>) -> tensor<4x3x2x2xf32>
    %s = rn.add %x, %y : tensor<4x3x2x2xf32>
    %a = rn.relu %s : tensor<4x3x2x2xf32>
    return %a : tensor<4x3x2x2xf32>
  }
}

// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<4x3x2x2xf32>
// CHECK-NEXT:    %[[W:.*]] = rn.load @c.weight
// CHECK-NEXT:    %[[A:.*]] = rn.fused_conv2d %[[X]], %[[W]] residual(%[[X]]) {{{.*}}relu = true{{.*}}}
// CHECK-NEXT:    return %[[A]]
// CHECK-NOT:   @prepare_eval
