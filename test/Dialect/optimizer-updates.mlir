// RUN: resnetc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The optimizer updates (OptimizerUpdateOpInterface): one parameter and one
// slot of each list per gradient, no variable named twice, every parameter
// a trainable variable and every slot a variable of its gradient's type.

module {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @w.m : tensor<2x4xf32> {init = #rn.init<zeros>}
  rn.variable @w.v : tensor<2x4xf32> {init = #rn.init<zeros>}
  func.func @train_step(%g: tensor<2x4xf32>, %f: f32, %i: i32) {
    rn.sgd_update(%g) lr %f momentum %f weight_decay %f nesterov %i {parameters = [@w], momenta = [@w.m]} : tensor<2x4xf32>
    rn.adam_update(%g) lr %f beta1 %f beta2 %f epsilon %f weight_decay %f step %i {decoupled = true, parameters = [@w], first_moments = [@w.m], second_moments = [@w.v]} : tensor<2x4xf32>
    return
  }
}
// CHECK: rn.sgd_update
// CHECK: rn.adam_update

// -----

module {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @w.m : tensor<2x4xf32> {init = #rn.init<zeros>}
  func.func @train_step(%g: tensor<2x4xf32>, %f: f32, %i: i32) {
    // expected-error @+1 {{'rn.sgd_update' op has 1 gradients but 2 'momenta'}}
    rn.sgd_update(%g) lr %f momentum %f weight_decay %f nesterov %i {parameters = [@w], momenta = [@w.m, @w.m]} : tensor<2x4xf32>
    return
  }
}

// -----

module {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @w.m : tensor<2x4xf32> {init = #rn.init<zeros>}
  func.func @train_step(%g: tensor<2x4xf32>, %f: f32, %i: i32) {
    // expected-error @+1 {{'rn.adam_update' op has 1 gradients but 0 'second_moments'}}
    rn.adam_update(%g) lr %f beta1 %f beta2 %f epsilon %f weight_decay %f step %i {decoupled = false, parameters = [@w], first_moments = [@w.m], second_moments = []} : tensor<2x4xf32>
    return
  }
}

// -----

module {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  func.func @train_step(%g: tensor<2x4xf32>, %f: f32, %i: i32) {
    // expected-error @+1 {{'rn.sgd_update' op names @w twice}}
    rn.sgd_update(%g) lr %f momentum %f weight_decay %f nesterov %i {parameters = [@w], momenta = [@w]} : tensor<2x4xf32>
    return
  }
}

// -----

module {
  func.func @train_step(%f: f32, %i: i32) {
    // expected-error @+1 {{'rn.sgd_update' op updates no parameter}}
    "rn.sgd_update"(%f, %f, %f, %i) {parameters = [], momenta = []} : (f32, f32, f32, i32) -> ()
    return
  }
}

// -----

module {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>}
  rn.variable @w.m : tensor<2x4xf32> {init = #rn.init<zeros>}
  func.func @train_step(%g: tensor<2x4xf32>, %f: f32, %i: i32) {
    // expected-error @+1 {{'rn.sgd_update' op updates '@w', which is not trainable}}
    rn.sgd_update(%g) lr %f momentum %f weight_decay %f nesterov %i {parameters = [@w], momenta = [@w.m]} : tensor<2x4xf32>
    return
  }
}

// -----

module {
  rn.variable @w : tensor<2x4xf32> {init = #rn.init<he_normal>, trainable}
  rn.variable @w.m : tensor<2x4xf32> {init = #rn.init<zeros>}
  rn.variable @w.v : tensor<4x2xf32> {init = #rn.init<zeros>}
  func.func @train_step(%g: tensor<2x4xf32>, %f: f32, %i: i32) {
    // expected-error @+1 {{'rn.adam_update' op uses 'tensor<2x4xf32>' for '@w.v', which is 'tensor<4x2xf32>'}}
    rn.adam_update(%g) lr %f beta1 %f beta2 %f epsilon %f weight_decay %f step %i {decoupled = false, parameters = [@w], first_moments = [@w.m], second_moments = [@w.v]} : tensor<2x4xf32>
    return
  }
}
