# RUN: resnetc %s --emit=mlir | FileCheck %s
# Every initialiser and the #rn.init it becomes. Glorot scales by the mean
# of fan-in and fan-out unless `mode` says otherwise; He and LeCun by the
# fan-in. The model's `init` is the default of every conv and dense layer;
# biases start at zero and BN at gamma = 1, beta = 0, mean 0, variance 1.

# CHECK: rn.variable @default.weight : tensor<4x1x3x3xf32> {init = #rn.init<glorot_uniform, mode = fan_avg>, trainable}
# CHECK: rn.variable @glorot_normal.weight : tensor<4x4x3x3xf32> {init = #rn.init<glorot_normal, mode = fan_avg>, trainable}
# CHECK: rn.variable @glorot_fan_in.weight : {{.*}} {init = #rn.init<glorot_uniform>, trainable}
# CHECK: rn.variable @he_normal.weight : {{.*}} {init = #rn.init<he_normal>, trainable}
# CHECK: rn.variable @he_uniform.weight : {{.*}} {init = #rn.init<he_uniform, mode = fan_out, seed = 7>, trainable}
# CHECK: rn.variable @lecun_normal.weight : {{.*}} {init = #rn.init<lecun_normal>, trainable}
# CHECK: rn.variable @normal.weight : {{.*}} {init = #rn.init<normal, value = 1.000000e-02 : f64, seed = 3>, trainable}
# CHECK: rn.variable @uniform.weight : {{.*}} {init = #rn.init<uniform, value = 5.000000e-02 : f64>, trainable}
# CHECK: rn.variable @constant.weight : {{.*}} {init = #rn.init<constant, value = -2.500000e-01 : f64>, trainable}
# CHECK: rn.variable @constant.bias : tensor<4xf32> {init = #rn.init<zeros>, trainable}
# CHECK: rn.variable @bn.gamma : tensor<4xf32> {init = #rn.init<ones>, trainable}
# CHECK: rn.variable @bn.beta : tensor<4xf32> {init = #rn.init<zeros>, trainable}
# CHECK: rn.variable @bn.running_mean : tensor<4xf32> {init = #rn.init<zeros>}
# CHECK: rn.variable @bn.running_var : tensor<4xf32> {init = #rn.init<ones>}
# CHECK: rn.variable @zeros.weight : tensor<10x4xf32> {init = #rn.init<zeros>, trainable}
# CHECK: rn.variable @ones.weight : tensor<10x10xf32> {init = #rn.init<ones>, trainable}
model initializers {
  input image[1, 8, 8]
  classes 10
  init glorot_uniform

  x = conv(image, 4, 3, name = "default")
  x = conv(x, 4, 3, init = glorot_normal, name = "glorot_normal")
  x = conv(x, 4, 3, init = glorot_uniform(mode = fan_in), name = "glorot_fan_in")
  x = conv(x, 4, 3, init = he_normal, name = "he_normal")
  x = conv(x, 4, 3, init = he_uniform(mode = fan_out, seed = 7), name = "he_uniform")
  x = conv(x, 4, 3, init = lecun_normal(), name = "lecun_normal")
  x = conv(x, 4, 3, init = normal(stddev = 0.01, seed = 3), name = "normal")
  x = conv(x, 4, 3, init = uniform, name = "uniform")
  x = conv(x, 4, 3, bias = true, init = constant(-0.25), name = "constant")
  x = bn(x, name = "bn") |> global_avg_pool
  x = dense(x, classes, bias = false, init = zeros, name = "zeros")
  return dense(x, classes, bias = false, init = ones, name = "ones")
}
