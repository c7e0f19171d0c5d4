// RUN: resnetc-opt %s -split-input-file -verify-diagnostics | resnetc-opt -split-input-file | FileCheck %s
// Every backward op's verifier applies the forward op's shape rule to the
// tensors it differentiates: well-formed gradients print and parse back,
// and a gradient of the wrong shape is refused with both types named.

// CHECK-LABEL: func.func @well_formed(
// CHECK: rn.conv2d_backward_data
// CHECK: rn.conv2d_backward_filter
// CHECK: rn.dense_backward_weights
// CHECK: rn.batch_norm_backward
// CHECK: rn.max_pool2d_backward
// CHECK: rn.global_avg_pool_backward
// CHECK: rn.flatten_backward
// CHECK: rn.concat_backward
// CHECK: rn.dropout_backward
func.func @well_formed(%x: tensor<2x4x6x6xf32>, %w: tensor<8x4x3x3xf32>,
                       %dy: tensor<2x8x6x6xf32>, %d2: tensor<2x10xf32>,
                       %x2: tensor<2x16xf32>, %c: tensor<8xf32>,
                       %y: tensor<2x8x6x6xf32>, %seed: i32) {
  %0 = rn.conv2d_backward_data %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x8x6x6xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x6x6xf32>
  %1, %2 = rn.conv2d_backward_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x6x6xf32>, tensor<2x8x6x6xf32>) -> (tensor<8x4x3x3xf32>, tensor<8xf32>)
  %3, %4 = rn.dense_backward_weights %x2, %d2 : (tensor<2x16xf32>, tensor<2x10xf32>) -> (tensor<10x16xf32>, tensor<10xf32>)
  %5, %6, %7 = rn.batch_norm_backward %dy, %y, %c, %c, %c : (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>)
  %8 = rn.max_pool2d_backward %dy, %y {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>) -> tensor<2x8x6x6xf32>
  %9 = rn.global_avg_pool_backward %d2 : (tensor<2x10xf32>) -> tensor<2x10x3x3xf32>
  %10 = rn.flatten_backward %x2 : (tensor<2x16xf32>) -> tensor<2x4x2x2xf32>
  %11, %12 = rn.concat_backward %dy : (tensor<2x8x6x6xf32>) -> (tensor<2x3x6x6xf32>, tensor<2x5x6x6xf32>)
  %13 = rn.dropout_backward %d2, %seed {rate = 5.0e-01 : f64, salt = 0 : i64} : tensor<2x10xf32>
  return
}

// -----

func.func @conv_data(%dy: tensor<2x8x5x5xf32>, %w: tensor<8x4x3x3xf32>) {
  // expected-error @+1 {{has output gradient 'tensor<2x8x5x5xf32>', but its forward op computes 'tensor<2x8x6x6xf32>'}}
  %0 = rn.conv2d_backward_data %dy, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x8x5x5xf32>, tensor<8x4x3x3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @conv_filter(%x: tensor<2x4x6x6xf32>, %dy: tensor<2x8x6x6xf32>) {
  // expected-error @+1 {{but its forward op computes 'tensor<2x8x4x4xf32>'}}
  %0 = rn.conv2d_backward_filter %x, %dy {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<2x4x6x6xf32>, tensor<2x8x6x6xf32>) -> tensor<8x4x5x5xf32>
  return
}

// -----

func.func @dense_weights(%x: tensor<2x16xf32>, %dy: tensor<2x10xf32>) {
  // expected-error @+1 {{has output gradient 'tensor<2x10xf32>', but its forward op computes 'tensor<2x9xf32>'}}
  %0 = rn.dense_backward_weights %x, %dy : (tensor<2x16xf32>, tensor<2x10xf32>) -> tensor<9x16xf32>
  return
}

// -----

func.func @batch_norm(%dy: tensor<2x8x6x6xf32>, %c: tensor<8xf32>, %bad: tensor<4xf32>) {
  // expected-error @+1 {{has per-channel tensor 'tensor<4xf32>' for 8 channels}}
  %0, %1, %2 = rn.batch_norm_backward %dy, %dy, %c, %c, %bad : (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4xf32>) -> (tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @max_pool(%dy: tensor<2x8x6x6xf32>, %x: tensor<2x8x6x6xf32>) {
  // expected-error @+1 {{but its forward op computes 'tensor<2x8x3x3xf32>'}}
  %0 = rn.max_pool2d_backward %dy, %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>) -> tensor<2x8x6x6xf32>
  return
}

// -----

func.func @global_pool(%dy: tensor<2x10xf32>) {
  // expected-error @+1 {{but its forward op computes 'tensor<2x12xf32>'}}
  %0 = rn.global_avg_pool_backward %dy : (tensor<2x10xf32>) -> tensor<2x12x3x3xf32>
  return
}

// -----

func.func @flatten(%dy: tensor<2x16xf32>) {
  // expected-error @+1 {{but its forward op computes 'tensor<2x18xf32>'}}
  %0 = rn.flatten_backward %dy : (tensor<2x16xf32>) -> tensor<2x2x3x3xf32>
  return
}

// -----

func.func @concat(%dy: tensor<2x8x6x6xf32>) {
  // expected-error @+1 {{but its forward op computes 'tensor<2x9x6x6xf32>'}}
  %0, %1 = rn.concat_backward %dy : (tensor<2x8x6x6xf32>) -> (tensor<2x3x6x6xf32>, tensor<2x6x6x6xf32>)
  return
}

// -----

func.func @dropout(%dy: tensor<2x10xf32>, %seed: i32) {
  // expected-error @+1 {{rate must be in [0, 1), got 1}}
  %0 = rn.dropout_backward %dy, %seed {rate = 1.0 : f64, salt = 0 : i64} : tensor<2x10xf32>
  return
}
