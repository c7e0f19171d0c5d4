// RUN: resnetc-opt %s -rn-build-train-step -split-input-file -verify-diagnostics | FileCheck %s

// conv -> bn -> relu -> pool -> dropout -> dense -> softmax. The training
// step uses batch statistics and stores the running ones, gives dropout a
// seeded mask, and folds the final softmax into the loss; the evaluation
// step keeps the running statistics and drops dropout.

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
    %4 = rn.dropout %3 {rate = 0.5} : tensor<2x4xf32>
    %d = rn.load @d.weight : tensor<3x4xf32>
    %5 = rn.dense %4, %d : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
    %6 = rn.softmax %5 : tensor<2x3xf32>
    return %6 : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[IMAGES:.*]]: tensor<2x1x6x6xf32>, %[[LABELS:.*]]: tensor<2xi32>) -> (tensor<f32>, tensor<i32>)
// CHECK:         rn.conv2d %[[IMAGES]]
// CHECK:         %[[Y:.*]], %{{.*}}, %{{.*}}, %[[RM:.*]], %[[RV:.*]] = rn.batch_norm_train
// CHECK-NEXT:    rn.store @bn.running_mean, %[[RM]]
// CHECK-NEXT:    rn.store @bn.running_var, %[[RV]]
// CHECK:         rn.relu %[[Y]]
// CHECK:         %[[SEED:.*]] = rn.step_param seed : i32
// CHECK-NEXT:    rn.dropout_train %{{.*}}, %[[SEED]] {rate = 5.000000e-01 : f64, salt = 0 : i64}
// CHECK:         %[[LOGITS:.*]] = rn.dense
// CHECK-NOT:     rn.softmax %
// CHECK:         %[[LS:.*]] = rn.step_param label_smoothing : f32
// CHECK-NEXT:    %[[LOSS:.*]], %[[CORRECT:.*]], %{{.*}} = rn.softmax_cross_entropy %[[LOGITS]], %[[LABELS]], %[[LS]] {with_gradient}
// CHECK-NEXT:    return %[[LOSS]], %[[CORRECT]]

// CHECK-LABEL: func.func @eval_step(
// CHECK:         rn.batch_norm %
// CHECK-NOT:     rn.store
// CHECK-NOT:     rn.dropout
// CHECK:         %[[LOGITS:.*]] = rn.dense
// CHECK:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %[[LOSS:.*]], %[[CORRECT:.*]] = rn.softmax_cross_entropy %[[LOGITS]], %{{.*}}, %[[ZERO]] :
// CHECK-NEXT:    return %[[LOSS]], %[[CORRECT]]

// -----

// expected-error @below {{rn-build-train-step needs a @forward function}}
module {
}

// -----

// Running statistics must come straight from variables.
module {
  func.func @forward(%x: tensor<2x4xf32>, %s: tensor<4xf32>) -> tensor<2x4xf32> {
    // expected-error @below {{needs its running statistics read straight from variables to train}}
    %0 = rn.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-5, momentum = 0.9} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    return %0 : tensor<2x4xf32>
  }
}
