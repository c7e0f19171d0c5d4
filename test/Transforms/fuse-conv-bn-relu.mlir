// RUN: resnetc-opt %s -rn-fuse-conv-bn-relu=report=true -split-input-file -verify-diagnostics | FileCheck %s

// Training, post-activation (He et al.): conv -> BN -> add -> ReLU becomes
// conv2d_stats (the conv and its per-image moments) and one
// batch_norm_apply (statistics, normalisation, residual add, ReLU); the
// running statistics are stored after it.
module {
  rn.variable @c.weight : tensor<4x4x3x3xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<4xf32> {init = #rn.init<ones>}
  func.func @train_step(%x: tensor<2x4x4x4xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @c.weight : tensor<4x4x3x3xf32>
    %g = rn.load @bn.gamma : tensor<4xf32>
    %b = rn.load @bn.beta : tensor<4xf32>
    %m = rn.load @bn.running_mean : tensor<4xf32>
    %v = rn.load @bn.running_var : tensor<4xf32>
    %y = rn.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x4x4xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x4x4xf32>
    // expected-remark @+1 {{fused conv2d + batch_norm + add + relu into conv2d_stats + batch_norm_apply (2 kernels, was 4)}}
    %z, %mean, %invstd, %rm, %rv = rn.batch_norm_train %y, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    rn.store @bn.running_mean, %rm : tensor<4xf32>
    rn.store @bn.running_var, %rv : tensor<4xf32>
    %s = rn.add %z, %x : tensor<2x4x4x4xf32>
    %a = rn.relu %s : tensor<2x4x4x4xf32>
    %p = rn.global_avg_pool %a : (tensor<2x4x4x4xf32>) -> tensor<2x4xf32>
    %ls = rn.step_param label_smoothing : f32
    %loss, %correct, %dl = rn.softmax_cross_entropy %p, %labels, %ls {with_gradient} : (tensor<2x4xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>, tensor<2x4xf32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x4x4xf32>
// CHECK:         %[[W:.*]] = rn.load @c.weight
// CHECK:         %[[Y:.*]], %[[SUM:.*]], %[[M2:.*]] = rn.conv2d_stats %[[X]], %[[W]] {{{.*}}relu = false{{.*}}} : (tensor<2x4x4x4xf32>, tensor<4x4x3x3xf32>) -> (tensor<2x4x4x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK-NOT:     rn.batch_norm_train
// CHECK:         %[[A:[^,]*]], %{{.*}}, %{{.*}}, %[[RM:.*]], %[[RV:.*]] = rn.batch_norm_apply %[[Y]], %[[SUM]], %[[M2]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[X]] {{{.*}}relu = true}
// CHECK-NEXT:    rn.store @bn.running_mean, %[[RM]]
// CHECK-NEXT:    rn.store @bn.running_var, %[[RV]]
// CHECK-NEXT:    rn.global_avg_pool %[[A]]
// CHECK-NOT:     rn.add
// CHECK-NOT:     rn.relu

// -----

// Training, the seed's order conv -> ReLU -> BN: the ReLU goes into the
// conv's epilogue, before the moments (and the add after the BN into
// batch_norm_apply). And the chains that must not fuse: a BN of an add's
// output (pre-activation blocks), a conv whose output is also used
// elsewhere, a ReLU before the BN with another user.
module {
  rn.variable @c.weight : tensor<4x4x1x1xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<4xf32> {init = #rn.init<ones>}
  func.func @train_step(%x: tensor<2x4x4x4xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @c.weight : tensor<4x4x1x1xf32>
    %g = rn.load @bn.gamma : tensor<4xf32>
    %b = rn.load @bn.beta : tensor<4xf32>
    %m = rn.load @bn.running_mean : tensor<4xf32>
    %v = rn.load @bn.running_var : tensor<4xf32>
    %y = rn.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<2x4x4x4xf32>
    %r = rn.relu %y : tensor<2x4x4x4xf32>
    // expected-remark @+1 {{fused conv2d + relu + batch_norm + add into conv2d_stats + batch_norm_apply (2 kernels, was 4)}}
    %z, %mean, %invstd, %rm, %rv = rn.batch_norm_train %r, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    %s = rn.add %z, %x : tensor<2x4x4x4xf32>
    // expected-remark @+1 {{batch_norm_train not fused: its input is neither a convolution nor an add}}
    %z2, %mean2, %invstd2, %rm2, %rv2 = rn.batch_norm_train %s, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    %y3 = rn.conv2d %z2, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<2x4x4x4xf32>
    // expected-remark @+1 {{batch_norm_train not fused: the convolution's output has other users}}
    %z3, %mean3, %invstd3, %rm3, %rv3 = rn.batch_norm_train %y3, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    %s3 = rn.add %z3, %y3 : tensor<2x4x4x4xf32>
    %r4 = rn.relu %s3 : tensor<2x4x4x4xf32>
    // expected-remark @+1 {{batch_norm_train not fused: the ReLU before it has other users}}
    %z4, %mean4, %invstd4, %rm4, %rv4 = rn.batch_norm_train %r4, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    %s4 = rn.add %z4, %r4 : tensor<2x4x4x4xf32>
    %p = rn.global_avg_pool %s4 : (tensor<2x4x4x4xf32>) -> tensor<2x4xf32>
    %ls = rn.step_param label_smoothing : f32
    %loss, %correct, %dl = rn.softmax_cross_entropy %p, %labels, %ls {with_gradient} : (tensor<2x4xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>, tensor<2x4xf32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK:         %[[Y:.*]], %[[SUM:.*]], %[[M2:.*]] = rn.conv2d_stats %{{.*}}, %{{.*}} {{{.*}}relu = true{{.*}}}
// CHECK:         %[[S:[^,]*]], {{.*}} = rn.batch_norm_apply %[[Y]], %[[SUM]], %[[M2]], {{.*}} {{{.*}}relu = false}
// CHECK-NEXT:    %[[Z2:[^,]*]], {{.*}} = rn.batch_norm_train %[[S]]
// CHECK-NEXT:    %[[Y3:.*]] = rn.conv2d %[[Z2]]
// CHECK-NEXT:    rn.batch_norm_train %[[Y3]]
// CHECK-NEXT:    rn.add
// CHECK-NEXT:    %[[R4:.*]] = rn.relu
// CHECK-NEXT:    rn.batch_norm_train %[[R4]]

// -----

// Inference: BN folded into the conv's weights and bias, which
// @prepare_eval computes into derived variables; the conv, the add and the
// ReLU run as one fused_conv2d. A BN after a ReLU is not folded, but the
// conv still takes the ReLU; a conv used twice keeps its output.
module {
  rn.variable @c.weight : tensor<4x4x3x3xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @c.bias : tensor<4xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<4xf32> {init = #rn.init<ones>}
  func.func @eval_step(%x: tensor<2x4x4x4xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @c.weight : tensor<4x4x3x3xf32>
    %cb = rn.load @c.bias : tensor<4xf32>
    %g = rn.load @bn.gamma : tensor<4xf32>
    %b = rn.load @bn.beta : tensor<4xf32>
    %m = rn.load @bn.running_mean : tensor<4xf32>
    %v = rn.load @bn.running_var : tensor<4xf32>
    // expected-remark @+1 {{fused conv2d + add + relu into fused_conv2d (1 kernel, was 3)}}
    %y = rn.conv2d %x, %w, %cb {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x4x4xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
    // expected-remark @+1 {{folded batch_norm into the convolution's weights and bias (computed once by @prepare_eval)}}
    %z = rn.batch_norm %y, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
    %s = rn.add %z, %x : tensor<2x4x4x4xf32>
    %a = rn.relu %s : tensor<2x4x4x4xf32>
    // expected-remark @+1 {{fused conv2d + relu into fused_conv2d (1 kernel, was 2)}}
    %y2 = rn.conv2d %a, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x4x4xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x4x4xf32>
    %r2 = rn.relu %y2 : tensor<2x4x4x4xf32>
    // expected-remark @+1 {{batch_norm not folded: a ReLU separates it from the convolution}}
    %z2 = rn.batch_norm %r2, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
    %y3 = rn.conv2d %z2, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x4x4xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x4x4xf32>
    %s3 = rn.add %y3, %y3 : tensor<2x4x4x4xf32>
    %p = rn.global_avg_pool %s3 : (tensor<2x4x4x4xf32>) -> tensor<2x4xf32>
    %ls = arith.constant 0.0 : f32
    %loss, %correct = rn.softmax_cross_entropy %p, %labels, %ls : (tensor<2x4xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// CHECK:         rn.variable @c.folded_weight : tensor<4x4x3x3xf32> {derived, init = #rn.init<zeros>}
// CHECK-NEXT:    rn.variable @c.folded_bias : tensor<4xf32> {derived, init = #rn.init<zeros>}
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x4x4xf32>
// CHECK-NOT:     rn.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {{.*}}-> tensor<2x4x4x4xf32>{{$}}
// CHECK:         %[[FW:.*]] = rn.load @c.folded_weight
// CHECK-NEXT:    %[[FB:.*]] = rn.load @c.folded_bias
// CHECK-NEXT:    %[[A:.*]] = rn.fused_conv2d %[[X]], %[[FW]] bias(%[[FB]]) residual(%[[X]]) {{{.*}}relu = true{{.*}}}
// CHECK-NEXT:    %[[R2:.*]] = rn.fused_conv2d %[[A]], %{{[^ ]*}} {{{.*}}relu = true{{.*}}}
// CHECK-NEXT:    %[[Z2:.*]] = rn.batch_norm %[[R2]]
// CHECK-NEXT:    %[[Y3:.*]] = rn.conv2d %[[Z2]]
// CHECK-NEXT:    rn.add %[[Y3]], %[[Y3]]
// CHECK-LABEL: func.func @prepare_eval()
// CHECK-DAG:     %[[W:.*]] = rn.load @c.weight
// CHECK-DAG:     %[[CB:.*]] = rn.load @c.bias
// CHECK-DAG:     %[[G:.*]] = rn.load @bn.gamma
// CHECK:         %[[FW:.*]], %[[FB:.*]] = rn.fold_batch_norm %[[W]], %[[G]], %{{.*}}, %{{.*}}, %{{.*}}, %[[CB]] {epsilon = 1.000000e-05 : f64}
// CHECK-NEXT:    rn.store @c.folded_weight, %[[FW]]
// CHECK-NEXT:    rn.store @c.folded_bias, %[[FB]]
// CHECK-NEXT:    return

// -----

// Training, pre-activation: the block's sum (also its identity shortcut)
// -> BN -> ReLU. The add becomes add_stats, which keeps its result for the
// shortcut and returns the moments; BN and ReLU one batch_norm_apply.
// Inference cannot fold a BN into an add.
module {
  rn.variable @bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<4xf32> {init = #rn.init<ones>}
  func.func @train_step(%x: tensor<2x4x4x4xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %g = rn.load @bn.gamma : tensor<4xf32>
    %b = rn.load @bn.beta : tensor<4xf32>
    %m = rn.load @bn.running_mean : tensor<4xf32>
    %v = rn.load @bn.running_var : tensor<4xf32>
    %s = rn.add %x, %x : tensor<2x4x4x4xf32>
    // expected-remark @+1 {{fused add + batch_norm + relu into add_stats + batch_norm_apply (2 kernels, was 3)}}
    %z, %mean, %invstd, %rm, %rv = rn.batch_norm_train %s, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    %a = rn.relu %z : tensor<2x4x4x4xf32>
    %t = rn.add %a, %s : tensor<2x4x4x4xf32>
    %p = rn.global_avg_pool %t : (tensor<2x4x4x4xf32>) -> tensor<2x4xf32>
    %ls = rn.step_param label_smoothing : f32
    %loss, %correct, %dl = rn.softmax_cross_entropy %p, %labels, %ls {with_gradient} : (tensor<2x4xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>, tensor<2x4xf32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
  func.func @eval_step(%x: tensor<2x4x4x4xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %g = rn.load @bn.gamma : tensor<4xf32>
    %b = rn.load @bn.beta : tensor<4xf32>
    %m = rn.load @bn.running_mean : tensor<4xf32>
    %v = rn.load @bn.running_var : tensor<4xf32>
    %s = rn.add %x, %x : tensor<2x4x4x4xf32>
    // expected-remark @+1 {{batch_norm not folded: its input is an add, not a convolution}}
    %z = rn.batch_norm %s, %g, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64} : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
    %p = rn.global_avg_pool %z : (tensor<2x4x4x4xf32>) -> tensor<2x4xf32>
    %ls = arith.constant 0.0 : f32
    %loss, %correct = rn.softmax_cross_entropy %p, %labels, %ls : (tensor<2x4xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[X:[^:]*]]: tensor<2x4x4x4xf32>
// CHECK:         %[[S:.*]], %[[SUM:.*]], %[[M2:.*]] = rn.add_stats %[[X]], %[[X]]
// CHECK-NEXT:    %[[A:[^,]*]], {{.*}} = rn.batch_norm_apply %[[S]], %[[SUM]], %[[M2]], {{.*}} {{{.*}}relu = true}
// CHECK:         rn.add %[[A]], %[[S]]
// CHECK-LABEL: func.func @eval_step(
// CHECK:         rn.batch_norm
