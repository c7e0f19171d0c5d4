// RUN: resnetc-opt %s -rn-autodiff -split-input-file -verify-diagnostics | FileCheck %s

// A residual block: x = relu(conv(image)); y = relu(conv(x) + x); loss on
// dense(global_avg_pool(y)). The images need no gradient, so the first
// conv's backward-data is never built; x is used twice, so its two
// gradients are summed.

module {
  rn.variable @c1.weight : tensor<4x1x3x3xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @c2.weight : tensor<4x4x3x3xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @d.weight : tensor<3x4xf32> {init = #rn.init<glorot_uniform>, trainable}
  rn.variable @d.bias : tensor<3xf32> {init = #rn.init<zeros>, trainable}
  func.func @train_step(%images: tensor<2x1x6x6xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %w1 = rn.load @c1.weight : tensor<4x1x3x3xf32>
    %0 = rn.conv2d %images, %w1 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x1x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x6x6xf32>
    %x = rn.relu %0 : tensor<2x4x6x6xf32>
    %w2 = rn.load @c2.weight : tensor<4x4x3x3xf32>
    %1 = rn.conv2d %x, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x6x6xf32>
    %2 = rn.add %1, %x : tensor<2x4x6x6xf32>
    %y = rn.relu %2 : tensor<2x4x6x6xf32>
    %3 = rn.global_avg_pool %y : (tensor<2x4x6x6xf32>) -> tensor<2x4xf32>
    %dw = rn.load @d.weight : tensor<3x4xf32>
    %db = rn.load @d.bias : tensor<3xf32>
    %4 = rn.dense %3, %dw, %db : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %ls = rn.step_param label_smoothing : f32
    %loss, %correct, %dlogits = rn.softmax_cross_entropy %4, %labels, %ls {with_gradient} : (tensor<2x3xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>, tensor<2x3xf32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[IMAGES:[^:]*]]: tensor<2x1x6x6xf32>
// CHECK:         %[[W1:.*]] = rn.load @c1.weight
// CHECK:         %[[X:.*]] = rn.relu
// CHECK:         %[[W2:.*]] = rn.load @c2.weight
// CHECK:         %[[Y:.*]] = rn.relu
// CHECK:         %[[POOLED:.*]] = rn.global_avg_pool
// CHECK:         %[[DW:.*]] = rn.load @d.weight
// CHECK:         %{{.*}}, %{{.*}}, %[[DLOGITS:.*]] = rn.softmax_cross_entropy
// The backward pass, in reverse order:
// CHECK:         %[[DPOOLED:.*]] = rn.dense_backward_data %[[DLOGITS]], %[[DW]]
// CHECK-NEXT:    %[[GW:.*]], %[[GB:.*]] = rn.dense_backward_weights %[[POOLED]], %[[DLOGITS]]
// CHECK-NEXT:    %[[DY:.*]] = rn.global_avg_pool_backward %[[DPOOLED]]
// CHECK-NEXT:    %[[DSUM:.*]] = rn.relu_backward %[[DY]], %[[Y]]
// CHECK-NEXT:    %[[DX1:.*]] = rn.conv2d_backward_data %[[DSUM]], %[[W2]]
// CHECK-NEXT:    %[[G2:.*]] = rn.conv2d_backward_filter %[[X]], %[[DSUM]]
// CHECK-NEXT:    %[[DX:.*]] = rn.add %[[DSUM]], %[[DX1]]
// CHECK-NEXT:    %[[D0:.*]] = rn.relu_backward %[[DX]], %[[X]]
// CHECK-NOT:     rn.conv2d_backward_data
// CHECK-NEXT:    %[[G1:.*]] = rn.conv2d_backward_filter %[[IMAGES]], %[[D0]]
// CHECK-NEXT:    rn.apply_gradients %[[G1]], %[[G2]], %[[GW]], %[[GB]] {parameters = [@c1.weight, @c2.weight, @d.weight, @d.bias]}
// CHECK-NEXT:    return

// -----

// Non-trainable variables (running statistics) get no gradient; BatchNorm's
// backward returns all three gradients from one op.
module {
  rn.variable @bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable}
  rn.variable @bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>}
  rn.variable @bn.running_var : tensor<4xf32> {init = #rn.init<ones>}
  func.func @train_step(%x: tensor<2x4xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %g = rn.load @bn.gamma : tensor<4xf32>
    %b = rn.load @bn.beta : tensor<4xf32>
    %m = rn.load @bn.running_mean : tensor<4xf32>
    %v = rn.load @bn.running_var : tensor<4xf32>
    %y, %mean, %invstd, %rm, %rv = rn.batch_norm_train %x, %g, %b, %m, %v {epsilon = 1.0e-5, momentum = 0.9} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
    rn.store @bn.running_mean, %rm : tensor<4xf32>
    rn.store @bn.running_var, %rv : tensor<4xf32>
    %ls = rn.step_param label_smoothing : f32
    %loss, %correct, %dy = rn.softmax_cross_entropy %y, %labels, %ls {with_gradient} : (tensor<2x4xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>, tensor<2x4xf32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK:         %[[DX:.*]], %[[DG:.*]], %[[DB:.*]] = rn.batch_norm_backward
// CHECK-NEXT:    rn.apply_gradients %[[DG]], %[[DB]] {parameters = [@bn.gamma, @bn.beta]}

// -----

// An op on the path from a trainable variable to the loss must have a
// gradient.
module {
  rn.variable @d.weight : tensor<3x4xf32> {init = #rn.init<glorot_uniform>, trainable}
  func.func @train_step(%x: tensor<2x4xf32>, %labels: tensor<2xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @d.weight : tensor<3x4xf32>
    %0 = rn.dense %x, %w : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
    // expected-error @below {{has no gradient, but the loss depends on it through a trainable variable}}
    %1 = rn.softmax %0 : tensor<2x3xf32>
    %ls = rn.step_param label_smoothing : f32
    %loss, %correct, %d = rn.softmax_cross_entropy %1, %labels, %ls {with_gradient} : (tensor<2x3xf32>, tensor<2xi32>, f32) -> (tensor<f32>, tensor<i32>, tensor<2x3xf32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}
