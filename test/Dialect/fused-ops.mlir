// RUN: resnetc-opt %s -split-input-file -verify-diagnostics | resnetc-opt -split-input-file | FileCheck %s
// The fused ops (rn-fuse-conv-bn-relu) print and parse back, and their
// verifiers keep the shape rules of the ops they replace.

// CHECK-LABEL: func.func @fused(
func.func @fused(%x: tensor<2x4x6x6xf32>, %w: tensor<8x4x3x3xf32>, %c: tensor<8xf32>, %r: tensor<2x8x6x6xf32>) -> tensor<2x8x6x6xf32> {
  // CHECK: rn.conv2d_stats %{{.*}}, %{{.*}} {{{.*}}relu = true{{.*}}} : (tensor<2x4x6x6xf32>, tensor<8x4x3x3xf32>) -> (tensor<2x8x6x6xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
  %y, %s, %m2 = rn.conv2d_stats %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1, relu = true} : (tensor<2x4x6x6xf32>, tensor<8x4x3x3xf32>) -> (tensor<2x8x6x6xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
  // CHECK: rn.add_stats
  %a, %as, %am2 = rn.add_stats %y, %r : (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>) -> (tensor<2x8x6x6xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
  // CHECK: rn.batch_norm_apply {{.*}} {{{.*}}relu = true}
  %o, %mean, %invstd, %rm, %rv = rn.batch_norm_apply %a, %as, %am2, %c, %c, %c, %c, %r {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64, relu = true} : (tensor<2x8x6x6xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8x6x6xf32>) -> (tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: rn.batch_norm_apply_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} result(%{{.*}}) {relu = true}
  %dx, %dg, %db, %dr = rn.batch_norm_apply_backward %o, %a, %c, %c, %mean, %invstd result(%o) {relu = true} : (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8x6x6xf32>) -> (tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8x6x6xf32>)
  // CHECK: rn.batch_norm_apply_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {relu = true} :
  %dx2, %dg2, %db2 = rn.batch_norm_apply_backward %o, %a, %c, %c, %mean, %invstd {relu = true} : (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: rn.fold_batch_norm
  %wf, %bf = rn.fold_batch_norm %w, %c, %c, %c, %c, %c {epsilon = 1.0e-05 : f64} : (tensor<8x4x3x3xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8x4x3x3xf32>, tensor<8xf32>)
  // CHECK: rn.fused_conv2d %{{.*}}, %{{.*}} bias(%{{.*}}) residual(%{{.*}})
  %f = rn.fused_conv2d %x, %wf bias(%bf) residual(%dx) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1, relu = true} : (tensor<2x4x6x6xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>, tensor<2x8x6x6xf32>) -> tensor<2x8x6x6xf32>
  // CHECK: rn.fused_conv2d %{{.*}}, %{{.*}} {
  %g = rn.fused_conv2d %x, %wf {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1, relu = false} : (tensor<2x4x6x6xf32>, tensor<8x4x3x3xf32>) -> tensor<2x8x6x6xf32>
  return %f : tensor<2x8x6x6xf32>
}

// -----

func.func @stats_moments(%x: tensor<2x4x6x6xf32>, %w: tensor<8x4x3x3xf32>) {
  // expected-error @+1 {{per-image moments must be 'tensor<2x8xf32>'}}
  %y, %s, %m2 = rn.conv2d_stats %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1, relu = false} : (tensor<2x4x6x6xf32>, tensor<8x4x3x3xf32>) -> (tensor<2x8x6x6xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
  return
}

// -----

func.func @stats_result(%x: tensor<2x4x6x6xf32>, %w: tensor<8x4x3x3xf32>) {
  // expected-error @+1 {{result must be 'tensor<2x8x6x6xf32>', got 'tensor<2x8x4x4xf32>'}}
  %y, %s, %m2 = rn.conv2d_stats %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1, relu = false} : (tensor<2x4x6x6xf32>, tensor<8x4x3x3xf32>) -> (tensor<2x8x4x4xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @apply_channels(%y: tensor<2x8x6x6xf32>, %s: tensor<2x8xf32>, %c: tensor<4xf32>) {
  // expected-error @+1 {{needs 8 values per channel vector}}
  %o, %mean, %invstd, %rm, %rv = rn.batch_norm_apply %y, %s, %s, %c, %c, %c, %c {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64, relu = false} : (tensor<2x8x6x6xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x8x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @apply_residual(%y: tensor<2x8x6x6xf32>, %s: tensor<2x8xf32>, %c: tensor<8xf32>, %r: tensor<2x8x3x3xf32>) {
  // expected-error @+1 {{residual must have the input's type 'tensor<2x8x6x6xf32>'}}
  %o, %mean, %invstd, %rm, %rv = rn.batch_norm_apply %y, %s, %s, %c, %c, %c, %c, %r {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64, relu = false} : (tensor<2x8x6x6xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8x3x3xf32>) -> (tensor<2x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @add_stats_types(%a: tensor<2x8x6x6xf32>, %b: tensor<2x8x3x3xf32>) {
  // expected-error @+1 {{summands and result must have one type}}
  %r, %s, %m2 = rn.add_stats %a, %b : (tensor<2x8x6x6xf32>, tensor<2x8x3x3xf32>) -> (tensor<2x8x6x6xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
  return
}

// -----

func.func @fused_conv_residual(%x: tensor<2x4x6x6xf32>, %w: tensor<8x4x3x3xf32>, %r: tensor<2x4x6x6xf32>) {
  // expected-error @+1 {{residual must have the result's type 'tensor<2x8x6x6xf32>'}}
  %f = rn.fused_conv2d %x, %w residual(%r) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1, relu = true} : (tensor<2x4x6x6xf32>, tensor<8x4x3x3xf32>, tensor<2x4x6x6xf32>) -> tensor<2x8x6x6xf32>
  return
}
