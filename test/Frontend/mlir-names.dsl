# RUN: resnetc %s --emit=mlir --batch=2 --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s
# How layers and variables are named. A layer without `name =` is named
# after its kind, numbered from the second on (conv, conv_1, ...); inside a
# block the name is prefixed by the block instance (basic, basic_1, ...),
# and instances nest (basic.unit.conv). `name =` is used as given. Each
# variable is <layer>.<variable>. A zero_pad_shortcut whose shape does not
# change is no op at all; one that does becomes subsample + zero_pad, with
# the new channels split evenly before and after ("option A").
# CHECK: rn.variable @stem.weight : tensor<4x3x3x3xf32> {init = #rn.init<he_normal>, trainable} loc("stem"("{{.*}}":60:7))
# CHECK: rn.variable @conv.weight : tensor<4x4x3x3xf32> {init = #rn.init<he_normal>, trainable} loc("conv"("{{.*}}":61:7))
# CHECK: rn.variable @conv_1.weight : tensor<4x4x1x1xf32> {init = #rn.init<he_normal>, trainable} loc("conv_1"("{{.*}}":61:21))
# CHECK: rn.variable @basic.unit.conv.weight : tensor<4x4x3x3xf32> {init = #rn.init<he_normal>, trainable} loc("basic.unit.conv"("{{.*}}":51:12))
# CHECK: rn.variable @basic.unit.bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable} loc("basic.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic.unit.bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable} loc("basic.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic.unit.bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>} loc("basic.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic.unit.bn.running_var : tensor<4xf32> {init = #rn.init<ones>} loc("basic.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic.conv.weight : tensor<4x4x3x3xf32> {init = #rn.init<he_normal>, trainable} loc("basic.conv"("{{.*}}":56:9))
# CHECK: rn.variable @basic_1.unit.conv.weight : tensor<8x4x3x3xf32> {init = #rn.init<he_normal>, trainable} loc("basic_1.unit.conv"("{{.*}}":51:12))
# CHECK: rn.variable @basic_1.unit.bn.gamma : tensor<8xf32> {init = #rn.init<ones>, trainable} loc("basic_1.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic_1.unit.bn.beta : tensor<8xf32> {init = #rn.init<zeros>, trainable} loc("basic_1.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic_1.unit.bn.running_mean : tensor<8xf32> {init = #rn.init<zeros>} loc("basic_1.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic_1.unit.bn.running_var : tensor<8xf32> {init = #rn.init<ones>} loc("basic_1.unit.bn"("{{.*}}":51:32))
# CHECK: rn.variable @basic_1.conv.weight : tensor<8x8x3x3xf32> {init = #rn.init<he_normal>, trainable} loc("basic_1.conv"("{{.*}}":56:9))
# CHECK: rn.variable @dense.weight : tensor<10x8xf32> {init = #rn.init<he_normal>, trainable} loc("dense"("{{.*}}":64:29))
# CHECK: rn.variable @dense.bias : tensor<10xf32> {init = #rn.init<zeros>, trainable} loc("dense"("{{.*}}":64:29))
# CHECK: func.func @forward(%arg0: tensor<2x3x8x8xf32> loc("image"("{{.*}}":47:3))) -> tensor<2x10xf32> {
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32> loc("stem"("{{.*}}":60:7))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32> loc("conv"("{{.*}}":61:7))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<2x4x8x8xf32> loc("conv_1"("{{.*}}":61:21))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32> loc("basic.unit.conv"("{{.*}}":51:12))
# CHECK: rn.batch_norm {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {epsilon = 1.000000e-05 : f64, momentum = 9.000000e-01 : f64} : (tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32> loc("basic.unit.bn"("{{.*}}":51:32))
# CHECK: rn.relu {{%[a-z0-9]+}} : tensor<2x4x8x8xf32> loc("basic.unit.relu"("{{.*}}":51:38))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32> loc("basic.conv"("{{.*}}":56:9))
# CHECK: rn.add {{%[a-z0-9]+}}, {{%[a-z0-9]+}} : tensor<2x4x8x8xf32> loc("basic.add"("{{.*}}":57:19))
# CHECK: rn.relu {{%[a-z0-9]+}} : tensor<2x4x8x8xf32> loc("basic.relu"("{{.*}}":57:12))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<2x8x8x8xf32> loc("basic_1.unit.conv"("{{.*}}":51:12))
# CHECK: rn.batch_norm {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {epsilon = 1.000000e-05 : f64, momentum = 9.000000e-01 : f64} : (tensor<2x8x8x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8x8x8xf32> loc("basic_1.unit.bn"("{{.*}}":51:32))
# CHECK: rn.relu {{%[a-z0-9]+}} : tensor<2x8x8x8xf32> loc("basic_1.unit.relu"("{{.*}}":51:38))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x8x8x8xf32>, tensor<8x8x3x3xf32>) -> tensor<2x8x4x4xf32> loc("basic_1.conv"("{{.*}}":56:9))
# CHECK: rn.subsample {{%[a-z0-9]+}} {strides = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32> loc("basic_1.subsample"("{{.*}}":57:21))
# CHECK: rn.zero_pad {{%[a-z0-9]+}} {high = array<i64: 2, 0, 0>, low = array<i64: 2, 0, 0>} : (tensor<2x4x4x4xf32>) -> tensor<2x8x4x4xf32> loc("basic_1.zero_pad"("{{.*}}":57:21))
# CHECK: rn.add {{%[a-z0-9]+}}, {{%[a-z0-9]+}} : tensor<2x8x4x4xf32> loc("basic_1.add"("{{.*}}":57:19))
# CHECK: rn.relu {{%[a-z0-9]+}} : tensor<2x8x4x4xf32> loc("basic_1.relu"("{{.*}}":57:12))
# CHECK: rn.global_avg_pool {{%[a-z0-9]+}} : (tensor<2x8x4x4xf32>) -> tensor<2x8xf32> loc("global_avg_pool"("{{.*}}":64:10))
# CHECK: rn.dense {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}} : (tensor<2x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<2x10xf32> loc("dense"("{{.*}}":64:29))
model names {
  input image[3, 8, 8]
  classes 10

  block unit(x, filters) {
    return conv(x, filters, 3) |> bn |> relu
  }

  block basic(x, filters, stride = 1) {
    y = unit(x, filters)
    y = conv(y, filters, 3, stride = stride)
    return relu(y + zero_pad_shortcut(x, filters, stride = stride))
  }

  x = conv(image, 4, 3, name = "stem")
  x = conv(x, 4, 3) |> conv(4, 1)
  x = basic(x, 4)
  x = basic(x, 8, stride = 2)
  return global_avg_pool(x) |> dense(classes)
}
