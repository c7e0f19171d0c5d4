// RUN: resnetc-opt %s -rn-plan-memory -split-input-file -verify-diagnostics | FileCheck %s

// Two parameters updated by SGD: the parameters, their gradients and the
// momenta are three dense runs with the same layout (stride 64 here: the
// parameters take 40 bytes). The images and labels open the per-sample
// region; activations are packed by liveness; the loss and correct count
// sit after the variables.

module attributes {rn.recipe = {optimizer = "sgd"}} {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @b : tensor<2xf32> {init = #rn.init<zeros>, trainable}
  rn.variable @w.momentum : tensor<2x4xf32> {init = #rn.init<zeros>}
  rn.variable @b.momentum : tensor<2xf32> {init = #rn.init<zeros>}
  func.func @train_step(%x: tensor<8x4xf32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @w : tensor<2x4xf32>
    %b = rn.load @b : tensor<2xf32>
    %h = rn.relu %x : tensor<8x4xf32>
    %y = rn.dense %h, %w, %b : (tensor<8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<8x2xf32>
    %ls = rn.step_param label_smoothing : f32
    %loss, %correct, %dy = rn.softmax_cross_entropy %y, %labels, %ls {with_gradient} : (tensor<8x2xf32>, tensor<8xi32>, f32) -> (tensor<f32>, tensor<i32>, tensor<8x2xf32>)
    %gw, %gb = rn.dense_backward_weights %h, %dy : (tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x4xf32>, tensor<2xf32>)
    %lr = rn.step_param lr : f32
    %m = rn.step_param momentum : f32
    %wd = rn.step_param weight_decay : f32
    %n = rn.step_param nesterov : i32
    rn.sgd_update(%gw, %gb) lr %lr momentum %m weight_decay %wd nesterov %n {parameters = [@w, @b], momenta = [@w.momentum, @b.momentum]} : tensor<2x4xf32>, tensor<2xf32>
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
  func.func @eval_step(%x: tensor<8x4xf32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @w : tensor<2x4xf32>
    %b = rn.load @b : tensor<2xf32>
    %h = rn.relu %x : tensor<8x4xf32>
    %y = rn.dense %h, %w, %b : (tensor<8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<8x2xf32>
    %zero = arith.constant 0.0 : f32
    %loss, %correct = rn.softmax_cross_entropy %y, %labels, %zero : (tensor<8x2xf32>, tensor<8xi32>, f32) -> (tensor<f32>, tensor<i32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// CHECK-DAG:   rn.variable @w {{.*}}rn.slot = #rn.slot<fixed, 0>
// CHECK-DAG:   rn.variable @b {{.*}}rn.slot = #rn.slot<fixed, 32>
// CHECK-DAG:   rn.variable @w.momentum {{.*}}rn.slot = #rn.slot<fixed, 128>
// CHECK-DAG:   rn.variable @b.momentum {{.*}}rn.slot = #rn.slot<fixed, 160>
// CHECK-DAG:   rn.arena = {alignment = 64 : i64, fixed_bytes = 320 : i64, per_sample_bytes = 320 : i64}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      {rn.slot = #rn.slot<per_sample, 0>}
// CHECK-SAME:      {rn.slot = #rn.slot<per_sample, 64>}
// CHECK:         rn.load @w {rn.slots = [#rn.slot<fixed, 0>]}
// CHECK:         rn.relu %{{.*}} {rn.slots = [#rn.slot<per_sample, 128>]}
// CHECK:         rn.dense {{.*}}rn.slots = [#rn.slot<per_sample, 192>]
// Scalars take no memory.
// CHECK:         rn.step_param label_smoothing : f32
// The loss and correct count sit after the variables. The loss kernel
// reads the logits while it writes their gradient, so the gradient does
// not reuse the logits' bytes even though they die there.
// CHECK:         rn.softmax_cross_entropy {{.*}}rn.slots = [#rn.slot<fixed, 192>, #rn.slot<fixed, 256>, #rn.slot<per_sample, 256>]
// The gradients the optimizer reads are written into the gradient run.
// CHECK:         rn.dense_backward_weights {{.*}}rn.slots = [#rn.slot<fixed, 64>, #rn.slot<fixed, 96>]

// -----

// expected-error @below {{rn-plan-memory needs @train_step and @eval_step}}
module {
}
