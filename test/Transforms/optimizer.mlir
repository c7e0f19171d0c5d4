// RUN: resnetc-opt %s -rn-optimizer -split-input-file -verify-diagnostics | FileCheck %s

// SGD: one update over every parameter, a zero-initialised momentum buffer
// per parameter, hyperparameters read from the step.
module attributes {rn.recipe = {optimizer = "sgd"}} {
  rn.variable @a : tensor<4xf32> {init = #rn.init<ones>, trainable}
  rn.variable @b : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  func.func @train_step(%ga: tensor<4xf32>, %gb: tensor<2x4xf32>) {
    rn.apply_gradients %ga, %gb {parameters = [@a, @b]} : tensor<4xf32>, tensor<2x4xf32>
    return
  }
}

// CHECK:       rn.variable @b :
// CHECK-NEXT:  rn.variable @a.momentum : tensor<4xf32> {init = #rn.init<zeros>}
// CHECK-NEXT:  rn.variable @b.momentum : tensor<2x4xf32> {init = #rn.init<zeros>}
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[GA:[^:]*]]: tensor<4xf32>, %[[GB:[^:]*]]: tensor<2x4xf32>)
// CHECK:         %[[LR:.*]] = rn.step_param lr : f32
// CHECK-NEXT:    %[[M:.*]] = rn.step_param momentum : f32
// CHECK-NEXT:    %[[WD:.*]] = rn.step_param weight_decay : f32
// CHECK-NEXT:    %[[N:.*]] = rn.step_param nesterov : i32
// CHECK-NEXT:    rn.sgd_update(%[[GA]], %[[GB]]) lr %[[LR]] momentum %[[M]] weight_decay %[[WD]] nesterov %[[N]] {momenta = [@a.momentum, @b.momentum], parameters = [@a, @b]}
// CHECK-NOT:     rn.apply_gradients

// -----

// AdamW: two moments per parameter, decoupled weight decay.
module attributes {rn.recipe = {optimizer = "adamw"}} {
  rn.variable @a : tensor<4xf32> {init = #rn.init<ones>, trainable}
  func.func @train_step(%ga: tensor<4xf32>) {
    rn.apply_gradients %ga {parameters = [@a]} : tensor<4xf32>
    return
  }
}

// CHECK:       rn.variable @a.adam_m : tensor<4xf32> {init = #rn.init<zeros>}
// CHECK-NEXT:  rn.variable @a.adam_v : tensor<4xf32> {init = #rn.init<zeros>}
// CHECK:       rn.adam_update(%{{.*}}) lr %{{.*}} beta1 %{{.*}} beta2 %{{.*}} epsilon %{{.*}} weight_decay %{{.*}} step %{{.*}} {decoupled = true, first_moments = [@a.adam_m], parameters = [@a], second_moments = [@a.adam_v]}

// -----

// expected-error @below {{the module has no rn.recipe with an `optimizer`}}
module {
  rn.variable @a : tensor<4xf32> {init = #rn.init<ones>, trainable}
  func.func @train_step(%ga: tensor<4xf32>) {
    rn.apply_gradients %ga {parameters = [@a]} : tensor<4xf32>
    return
  }
}

// -----

module attributes {rn.recipe = {optimizer = "sgd"}} {
  rn.variable @a : tensor<4xf32> {init = #rn.init<ones>}
  func.func @train_step(%ga: tensor<4xf32>) {
    // expected-error @below {{updates '@a', which is not trainable}}
    rn.apply_gradients %ga {parameters = [@a]} : tensor<4xf32>
    return
  }
}
