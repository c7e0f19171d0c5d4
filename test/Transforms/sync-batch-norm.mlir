// RUN: resnetc-opt %s -rn-build-train-step="sync-batch-norm=true" -rn-autodiff | FileCheck %s
// RUN: resnetc-opt %s -rn-build-train-step="sync-batch-norm=true" -rn-fuse-conv-bn-relu | FileCheck %s --check-prefix=FUSE

// Synchronised BatchNorm: the training step's BatchNorm is split at its
// sums over the batch (taken around the running mean), which a run on
// several ranks sums over the ranks; its gradient is the gradient sums,
// then dx. Evaluation keeps the inference BatchNorm, and fusion leaves the
// split BatchNorm alone.

module attributes {rn.recipe = {optimizer = "sgd"}} {
  rn.variable @c.weight : tensor<4x1x3x3xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<4xf32> {init = #rn.init<ones>}
  rn.variable @d.weight : tensor<3x4xf32> {init = #rn.init<glorot_uniform>, trainable}
  func.func @forward(%x: tensor<2x1x6x6xf32>) -> tensor<2x3xf32> {
    %w = rn.load @c.weight : tensor<4x1x3x3xf32>
    %0 = rn.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x1x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x6x6xf32>
    %g = rn.load @bn.gamma : tensor<4xf32>
    %b = rn.load @bn.beta : tensor<4xf32>
    %m = rn.load @bn.running_mean : tensor<4xf32>
    %v = rn.load @bn.running_var : tensor<4xf32>
    %1 = rn.batch_norm %0, %g, %b, %m, %v {epsilon = 1.0e-5, momentum = 0.9} : (tensor<2x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x6x6xf32>
    %2 = rn.relu %1 : tensor<2x4x6x6xf32>
    %3 = rn.global_avg_pool %2 : (tensor<2x4x6x6xf32>) -> tensor<2x4xf32>
    %d = rn.load @d.weight : tensor<3x4xf32>
    %4 = rn.dense %3, %d : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
    return %4 : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK: %[[X:.*]] = rn.conv2d
// CHECK: %[[RM:.*]] = rn.load @bn.running_mean
// CHECK: %[[S:.*]] = rn.batch_norm_sums %[[X]], %[[RM]] : (tensor<2x4x6x6xf32>, tensor<4xf32>) -> tensor<3x4xf32>
// CHECK: %[[M2:.*]] = rn.batch_norm_deviations %[[X]], %[[RM]], %[[S]] : (tensor<2x4x6x6xf32>, tensor<4xf32>, tensor<3x4xf32>) -> tensor<4xf32>
// CHECK: %result, %mean, %invstd, %new_running_mean, %new_running_var = rn.batch_norm_global %[[X]], %{{.*}}, %{{.*}}, %[[RM]], %{{.*}}, %[[S]], %[[M2]] {epsilon = 1.000000e-05 : f64, momentum = 9.000000e-01 : f64}
// CHECK: rn.store @bn.running_mean, %new_running_mean
// CHECK: rn.store @bn.running_var, %new_running_var
// CHECK: rn.relu %result
// CHECK: %scale_gradient, %offset_gradient, %sums = rn.batch_norm_grad_sums %{{.*}}, %[[X]], %mean, %invstd : ({{.*}}) -> (tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>)
// CHECK: rn.batch_norm_global_backward %{{.*}}, %[[X]], %{{.*}}, %mean, %invstd, %sums, %[[S]]
// CHECK: rn.apply_gradients %filter_gradient, %scale_gradient, %offset_gradient
// CHECK-LABEL: func.func @eval_step
// CHECK: rn.batch_norm %{{.*}} {epsilon

// FUSE-LABEL: func.func @train_step
// FUSE: rn.conv2d
// FUSE: rn.batch_norm_global
// FUSE-NOT: rn.batch_norm_apply
// FUSE-LABEL: func.func @eval_step
