# RUN: resnetc %s --emit=mlir --batch=2 --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s
# Every layer and option as the rn ops they become, with each op's layer
# name in its location: `padding = same` pads like TensorFlow (odd pixel
# after: [top, left, bottom, right] = [0, 0, 1, 1] for 3x3/2 on 16x16);
# [h, w] and [top, left, bottom, right] paddings; dilation and groups;
# `activation =`; zero_pad's [before, after] channels; variables before the
# function, named <layer>.<variable>. rn.load lines are left out.
# CHECK: rn.variable @same_s2.weight : tensor<8x3x3x3xf32> {init = #rn.init<he_normal, mode = fan_out>, trainable} loc("same_s2"("{{.*}}":47:7))
# CHECK: rn.variable @same_s2.bias : tensor<8xf32> {init = #rn.init<zeros>, trainable} loc("same_s2"("{{.*}}":47:7))
# CHECK: rn.variable @pad_hw.weight : tensor<8x3x3x5xf32> {init = #rn.init<he_normal, mode = fan_out>, trainable} loc("pad_hw"("{{.*}}":48:7))
# CHECK: rn.variable @pad_tlbr.weight : tensor<8x3x2x2xf32> {init = #rn.init<he_normal, mode = fan_out>, trainable} loc("pad_tlbr"("{{.*}}":49:7))
# CHECK: rn.variable @dilated.weight : tensor<6x1x3x3xf32> {init = #rn.init<he_normal, mode = fan_out>, trainable} loc("dilated"("{{.*}}":50:7))
# CHECK: rn.variable @activated.weight : tensor<8x3x3x3xf32> {init = #rn.init<he_normal, mode = fan_out>, trainable} loc("activated"("{{.*}}":51:7))
# CHECK: rn.variable @dense.weight : tensor<16x8xf32> {init = #rn.init<he_normal, mode = fan_out>, trainable} loc("dense"("{{.*}}":60:26))
# CHECK: rn.variable @dense_1.weight : tensor<10x346xf32> {init = #rn.init<he_normal, mode = fan_out>, trainable} loc("dense_1"("{{.*}}":63:10))
# CHECK: rn.variable @dense_1.bias : tensor<10xf32> {init = #rn.init<zeros>, trainable} loc("dense_1"("{{.*}}":63:10))
# CHECK: func.func @forward(%arg0: tensor<2x3x16x16xf32> loc("image"("{{.*}}":43:3))) -> tensor<2x10xf32> {
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x3x16x16xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<2x8x8x8xf32> loc("same_s2"("{{.*}}":47:7))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 2, 1, 2>, strides = array<i64: 1, 1>} : (tensor<2x3x16x16xf32>, tensor<8x3x3x5xf32>) -> tensor<2x8x16x16xf32> loc("pad_hw"("{{.*}}":48:7))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 0, 1, 1, 0>, strides = array<i64: 1, 1>} : (tensor<2x3x16x16xf32>, tensor<8x3x2x2xf32>) -> tensor<2x8x16x16xf32> loc("pad_tlbr"("{{.*}}":49:7))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 2, 2>, groups = 3 : i64, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x3x16x16xf32>, tensor<6x1x3x3xf32>) -> tensor<2x6x12x12xf32> loc("dilated"("{{.*}}":50:7))
# CHECK: rn.conv2d {{%[a-z0-9]+}}, {{%[a-z0-9]+}} {dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<2x3x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<2x8x16x16xf32> loc("activated"("{{.*}}":51:7))
# CHECK: rn.leaky_relu {{%[a-z0-9]+}} {alpha = 1.000000e-02 : f64} : tensor<2x8x16x16xf32> loc("leaky_relu"("{{.*}}":51:38))
# CHECK: rn.concat {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}} : (tensor<2x8x16x16xf32>, tensor<2x8x16x16xf32>, tensor<2x8x16x16xf32>) -> tensor<2x24x16x16xf32> loc("concat"("{{.*}}":52:7))
# CHECK: rn.leaky_relu {{%[a-z0-9]+}} {alpha = 2.000000e-01 : f64} : tensor<2x24x16x16xf32> loc("leaky_relu_1"("{{.*}}":53:7))
# CHECK: rn.sigmoid {{%[a-z0-9]+}} : tensor<2x24x16x16xf32> loc("sigmoid"("{{.*}}":53:34))
# CHECK: rn.tanh {{%[a-z0-9]+}} : tensor<2x24x16x16xf32> loc("tanh"("{{.*}}":53:45))
# CHECK: rn.gelu {{%[a-z0-9]+}} : tensor<2x24x16x16xf32> loc("gelu"("{{.*}}":53:53))
# CHECK: rn.max_pool2d {{%[a-z0-9]+}} {kernel = array<i64: 3, 3>, padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x24x16x16xf32>) -> tensor<2x24x8x8xf32> loc("max_pool"("{{.*}}":54:7))
# CHECK: rn.avg_pool2d {{%[a-z0-9]+}} {count_include_pad = true, kernel = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x24x8x8xf32>) -> tensor<2x24x5x5xf32> loc("avg_pool"("{{.*}}":55:7))
# CHECK: rn.zero_pad {{%[a-z0-9]+}} {high = array<i64: 2, 1, 0>, low = array<i64: 1, 1, 0>} : (tensor<2x24x5x5xf32>) -> tensor<2x27x7x5xf32> loc("zero_pad"("{{.*}}":56:7))
# CHECK: rn.subsample {{%[a-z0-9]+}} {strides = array<i64: 2, 2>} : (tensor<2x27x7x5xf32>) -> tensor<2x27x4x3xf32> loc("subsample"("{{.*}}":57:7))
# CHECK: rn.dropblock {{%[a-z0-9]+}} {block_size = 2 : i64, rate = 1.000000e-01 : f64} : tensor<2x27x4x3xf32> loc("dropblock"("{{.*}}":58:7))
# CHECK: rn.dropout {{%[a-z0-9]+}} {rate = 2.500000e-01 : f64} : tensor<2x27x4x3xf32> loc("dropout"("{{.*}}":58:42))
# CHECK: rn.flatten {{%[a-z0-9]+}} : (tensor<2x27x4x3xf32>) -> tensor<2x324xf32> loc("flatten"("{{.*}}":59:7))
# CHECK: rn.global_max_pool {{%[a-z0-9]+}} : (tensor<2x8x8x8xf32>) -> tensor<2x8xf32> loc("global_max_pool"("{{.*}}":60:7))
# CHECK: rn.dense {{%[a-z0-9]+}}, {{%[a-z0-9]+}} : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf32> loc("dense"("{{.*}}":60:26))
# CHECK: rn.global_avg_pool {{%[a-z0-9]+}} : (tensor<2x6x12x12xf32>) -> tensor<2x6xf32> loc("global_avg_pool"("{{.*}}":61:7))
# CHECK: rn.concat {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}} : (tensor<2x324xf32>, tensor<2x16xf32>, tensor<2x6xf32>) -> tensor<2x346xf32> loc("concat_1"("{{.*}}":62:7))
# CHECK: rn.dense {{%[a-z0-9]+}}, {{%[a-z0-9]+}}, {{%[a-z0-9]+}} : (tensor<2x346xf32>, tensor<10x346xf32>, tensor<10xf32>) -> tensor<2x10xf32> loc("dense_1"("{{.*}}":63:10))
# CHECK: rn.softmax {{%[a-z0-9]+}} : tensor<2x10xf32> loc("softmax"("{{.*}}":63:41))
model layers {
  input image[3, 16, 16]
  classes 10
  init he_normal(mode = fan_out)

  a = conv(image, 8, 3, stride = 2, padding = same, bias = true, name = "same_s2")
  b = conv(image, 8, [3, 5], padding = [1, 2], name = "pad_hw")
  c = conv(image, 8, 2, padding = [0, 1, 1, 0], name = "pad_tlbr")
  d = conv(image, 6, 3, dilation = 2, groups = 3, padding = valid, name = "dilated")
  e = conv(image, 8, 3, activation = leaky_relu, name = "activated")
  x = concat(b, c, e)
  x = leaky_relu(x, alpha = 0.2) |> sigmoid |> tanh |> gelu
  x = max_pool(x, 3, stride = 2, padding = same)
  x = avg_pool(x, 2, padding = 1, count_include_pad = true)
  x = zero_pad(x, padding = [1, 0], channels = [1, 2])
  x = subsample(x, stride = 2)
  x = dropblock(x, rate = 0.1, size = 2) |> dropout(0.25)
  x = flatten(x)
  y = global_max_pool(a) |> dense(16, bias = false)
  z = global_avg_pool(d)
  x = concat(x, y, z)
  return dense(x, classes, activation = softmax)
}
