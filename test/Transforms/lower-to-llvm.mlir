// RUN: resnetc-opt %s -rn-plan-memory -rn-lower-to-llvm | FileCheck %s
// RUN: resnetc-opt %s -rn-plan-memory -rn-lower-to-llvm=train-step=false | FileCheck %s --check-prefix=STUB

// A program that never trains (classify) gets a train step that calls no
// kernel and returns Halide's generic error.
// STUB-LABEL: llvm.func @rn_train_step(%{{.*}}: !llvm.ptr, %{{.*}}: i32, %{{.*}}: !llvm.ptr) -> i32 {
// STUB-NEXT:    %[[ERR:.*]] = llvm.mlir.constant(-1 : i32) : i32
// STUB-NEXT:    llvm.return %[[ERR]] : i32
// STUB-NEXT:  }
// STUB-LABEL: llvm.func @rn_eval_step(
// STUB:         llvm.call

// The planned step becomes an LLVM function that calls one kernel per op:
// per-sample buffers start at fixed_bytes + batch * offset, the batch is
// the activations' run-time extent, scalars are read from rn_step_params
// (4 bytes a field, in StepParam order), and a non-zero status returns.

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

// CHECK-DAG:   llvm.func @rn_relu_{{[0-9a-f]+}}(!llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG:   llvm.func @rn_dense_{{[0-9a-f]+}}(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG:   llvm.func @rn_softmax_cross_entropy_{{[0-9a-f]+}}(!llvm.ptr, !llvm.ptr, f32, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG:   llvm.func @rn_dense_backward_weights_{{[0-9a-f]+}}(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> i32
// CHECK-DAG:   llvm.func @rn_sgd_update_{{[0-9a-f]+}}(!llvm.ptr, !llvm.ptr, !llvm.ptr, f32, f32, f32, i32, !llvm.ptr, !llvm.ptr) -> i32

// CHECK-LABEL: llvm.func @rn_train_step(
// CHECK-SAME:      %[[ARENA:.*]]: !llvm.ptr, %[[BATCH:.*]]: i32, %[[PARAMS:.*]]: !llvm.ptr) -> i32
// CHECK:         %[[N:.*]] = llvm.sext %[[BATCH]] : i32 to i64
// The relu's input, the images: per-sample offset 0.
// CHECK:         %[[OFF:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT:    %[[SCALED:.*]] = llvm.mul %[[N]], %[[OFF]] : i64
// CHECK-NEXT:    %[[FIXED:.*]] = llvm.mlir.constant(320 : i64) : i64
// CHECK-NEXT:    %[[AT:.*]] = llvm.add %[[SCALED]], %[[FIXED]] : i64
// CHECK-NEXT:    llvm.getelementptr %[[ARENA]][%[[AT]]]
// Its batch dimension's extent is the argument.
// CHECK:         llvm.store %[[BATCH]]
// CHECK:         %[[STATUS:.*]] = llvm.call @rn_relu_{{[0-9a-f]+}}
// CHECK:         %[[BAD:.*]] = llvm.icmp "ne" %[[STATUS]]
// CHECK-NEXT:    llvm.cond_br %[[BAD]], ^[[FAIL:.*]](%[[STATUS]] : i32), ^
// The label smoothing is field 7 of rn_step_params.
// CHECK:         %[[FIELD:.*]] = llvm.mlir.constant(28 : i64) : i64
// CHECK-NEXT:    %[[PTR:.*]] = llvm.getelementptr %[[PARAMS]][%[[FIELD]]]
// CHECK-NEXT:    %[[LS:.*]] = llvm.load %[[PTR]] : !llvm.ptr -> f32
// CHECK:         llvm.call @rn_softmax_cross_entropy_{{[0-9a-f]+}}(%{{.*}}, %{{.*}}, %[[LS]],
// CHECK:         llvm.call @rn_sgd_update_
// CHECK:         llvm.return
// CHECK:       ^[[FAIL]](%[[CODE:.*]]: i32):
// CHECK-NEXT:    llvm.return %[[CODE]] : i32

// CHECK-LABEL: llvm.func @rn_eval_step(
// CHECK-SAME:      !llvm.ptr, %{{.*}}: i32) -> i32
// The constant label smoothing of evaluation.
// CHECK:         llvm.mlir.constant(0.000000e+00 : f32) : f32

// Nothing but LLVM functions is left.
// CHECK-NOT:   rn.
