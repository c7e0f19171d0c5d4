// RUN: resnetc-opt %s -rn-plan-memory | FileCheck %s --check-prefix=REUSE
// RUN: resnetc-opt %s -rn-plan-memory=reuse=false | FileCheck %s --check-prefix=ALL

// A chain of three ReLUs: %a dies once %b has read it, so %c takes %a's
// bytes; with reuse=false every tensor keeps its own bytes. Each takes one
// image's 16 bytes, aligned to 64, after the images (0) and labels (64).

module attributes {rn.recipe = {optimizer = "sgd"}} {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @b : tensor<2xf32> {init = #rn.init<zeros>, trainable}
  func.func @train_step(%x: tensor<8x4xf32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @w : tensor<2x4xf32>
    %b = rn.load @b : tensor<2xf32>
    %r1 = rn.relu %x : tensor<8x4xf32>
    %r2 = rn.relu %r1 : tensor<8x4xf32>
    %r3 = rn.relu %r2 : tensor<8x4xf32>
    %y = rn.dense %r3, %w, %b : (tensor<8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<8x2xf32>
    %zero = arith.constant 0.0 : f32
    %loss, %correct = rn.softmax_cross_entropy %y, %labels, %zero : (tensor<8x2xf32>, tensor<8xi32>, f32) -> (tensor<f32>, tensor<i32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
  func.func @eval_step(%x: tensor<8x4xf32>, %labels: tensor<8xi32>) -> (tensor<f32>, tensor<i32>) {
    %w = rn.load @w : tensor<2x4xf32>
    %b = rn.load @b : tensor<2xf32>
    %y = rn.dense %x, %w, %b : (tensor<8x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<8x2xf32>
    %zero = arith.constant 0.0 : f32
    %loss, %correct = rn.softmax_cross_entropy %y, %labels, %zero : (tensor<8x2xf32>, tensor<8xi32>, f32) -> (tensor<f32>, tensor<i32>)
    return %loss, %correct : tensor<f32>, tensor<i32>
  }
}

// REUSE-LABEL: func.func @train_step(
// REUSE:         rn.relu %{{.*}} {rn.slots = [#rn.slot<per_sample, 128>]}
// REUSE:         rn.relu %{{.*}} {rn.slots = [#rn.slot<per_sample, 192>]}
// REUSE:         rn.relu %{{.*}} {rn.slots = [#rn.slot<per_sample, 128>]}
// REUSE:         rn.dense {{.*}}rn.slots = [#rn.slot<per_sample, 192>]

// ALL-LABEL: func.func @train_step(
// ALL:         rn.relu %{{.*}} {rn.slots = [#rn.slot<per_sample, 128>]}
// ALL:         rn.relu %{{.*}} {rn.slots = [#rn.slot<per_sample, 192>]}
// ALL:         rn.relu %{{.*}} {rn.slots = [#rn.slot<per_sample, 256>]}
// ALL:         rn.dense {{.*}}rn.slots = [#rn.slot<per_sample, 320>]
