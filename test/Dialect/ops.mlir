// RUN: resnetc-opt %s | resnetc-opt | FileCheck %s
// Every forward op prints and parses back.

// CHECK-LABEL: module
module {
  // CHECK: rn.variable @w : tensor<16x3x3x3xf32> {init = #rn.init<he_normal, mode = fan_out, seed = 7>, trainable}
  rn.variable @w : tensor<16x3x3x3xf32> {init = #rn.init<he_normal, mode = fan_out, seed = 7>, trainable}
  // CHECK: rn.variable @g : tensor<16xf32> {init = #rn.init<constant, value = 1.000000e+00 : f64>, trainable}
  rn.variable @g : tensor<16xf32> {init = #rn.init<constant, value = 1.0>, trainable}
  // CHECK: rn.variable @m : tensor<16xf32> {init = #rn.init<zeros>}
  rn.variable @m : tensor<16xf32> {init = #rn.init<zeros>}
  rn.variable @d : tensor<10x16xf32> {init = #rn.init<glorot_uniform>, trainable}
  rn.variable @b : tensor<10xf32> {init = #rn.init<zeros>, trainable}

  // CHECK-LABEL: func.func @forward
  func.func @forward(%x: tensor<8x3x32x32xf32>) -> tensor<8x10xf32> {
    %w = rn.load @w : tensor<16x3x3x3xf32>
    %g = rn.load @g : tensor<16xf32>
    %m = rn.load @m : tensor<16xf32>
    %d = rn.load @d : tensor<10x16xf32>
    %b = rn.load @b : tensor<10xf32>
    // CHECK: rn.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
    %0 = rn.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1} : (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<8x16x32x32xf32>
    // CHECK: rn.batch_norm
    %1 = rn.batch_norm %0, %g, %m, %m, %g {epsilon = 1.0e-5, momentum = 0.9} : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<8x16x32x32xf32>
    // CHECK: rn.relu
    %2 = rn.relu %1 : tensor<8x16x32x32xf32>
    // CHECK: rn.leaky_relu %{{.*}} {alpha = 1.000000e-01 : f64}
    %3 = rn.leaky_relu %2 {alpha = 0.1} : tensor<8x16x32x32xf32>
    // CHECK: rn.sigmoid
    %4 = rn.sigmoid %3 : tensor<8x16x32x32xf32>
    // CHECK: rn.tanh
    %5 = rn.tanh %4 : tensor<8x16x32x32xf32>
    // CHECK: rn.gelu
    %6 = rn.gelu %5 : tensor<8x16x32x32xf32>
    // CHECK: rn.add
    %7 = rn.add %6, %2 : tensor<8x16x32x32xf32>
    // CHECK: rn.concat %{{.*}}, %{{.*}} : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<8x32x32x32xf32>
    %8 = rn.concat %7, %6 : (tensor<8x16x32x32xf32>, tensor<8x16x32x32xf32>) -> tensor<8x32x32x32xf32>
    // CHECK: rn.max_pool2d
    %9 = rn.max_pool2d %8 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x32x32x32xf32>) -> tensor<8x32x16x16xf32>
    // CHECK: rn.avg_pool2d
    %10 = rn.avg_pool2d %9 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, count_include_pad = false} : (tensor<8x32x16x16xf32>) -> tensor<8x32x8x8xf32>
    // CHECK: rn.zero_pad
    %11 = rn.zero_pad %10 {low = array<i64: 8, 0, 0>, high = array<i64: 8, 0, 0>} : (tensor<8x32x8x8xf32>) -> tensor<8x48x8x8xf32>
    // CHECK: rn.subsample
    %12 = rn.subsample %11 {strides = array<i64: 2, 2>} : (tensor<8x48x8x8xf32>) -> tensor<8x48x4x4xf32>
    // CHECK: rn.dropblock
    %13 = rn.dropblock %12 {rate = 0.1, block_size = 3} : tensor<8x48x4x4xf32>
    // CHECK: rn.global_max_pool
    %14 = rn.global_max_pool %13 : (tensor<8x48x4x4xf32>) -> tensor<8x48xf32>
    // CHECK: rn.flatten
    %15 = rn.flatten %13 : (tensor<8x48x4x4xf32>) -> tensor<8x768xf32>
    // CHECK: rn.global_avg_pool
    %16 = rn.global_avg_pool %0 : (tensor<8x16x32x32xf32>) -> tensor<8x16xf32>
    // CHECK: rn.dropout
    %17 = rn.dropout %16 {rate = 0.5} : tensor<8x16xf32>
    // CHECK: rn.dense %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<8x10xf32>
    %18 = rn.dense %17, %d, %b : (tensor<8x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<8x10xf32>
    // CHECK: rn.softmax
    %19 = rn.softmax %18 : tensor<8x10xf32>
    return %19 : tensor<8x10xf32>
  }
}
