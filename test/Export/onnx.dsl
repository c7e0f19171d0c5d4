# resnetc --emit=onnx: every forward op of the rn dialect as ONNX nodes
# (opset 17), checked by onnx.checker's full check; the weights file's
# tensors become the initializers under their own names. The numeric test
# test/numeric/onnx_test.py runs this model's ONNX against the rn graph.

# REQUIRES: onnx
# RUN: resnetc %s --emit=mlir -o %t.mlir
# RUN: python3 %S/Inputs/weights.py %t.mlir %t.safetensors
# RUN: resnetc --mode=infer %s --emit=onnx --weights=%t.safetensors -o %t.onnx
# RUN: %system_python %S/Inputs/print_onnx.py %t.onnx | FileCheck %s
# The graph does not depend on --mode or --batch: the batch is symbolic.
# RUN: resnetc %s --batch=7 --emit=onnx --weights=%t.safetensors -o %t.train.onnx
# RUN: cmp %t.onnx %t.train.onnx
# -o - writes it to standard output.
# RUN: resnetc --mode=infer %s --emit=onnx --weights=%t.safetensors -o - > %t.stdout.onnx
# RUN: cmp %t.onnx %t.stdout.onnx

# CHECK:      ir 8 opset ai.onnx 17 producer resnetc
# CHECK-NEXT: input image [batch, 3, 12, 12]
# CHECK-NEXT: output logits [batch, 5]
# CHECK-NEXT: output probabilities [batch, 5]
# CHECK-NEXT: initializer stem.weight FLOAT [6, 3, 3, 3]
# CHECK-NEXT: initializer stem.bias FLOAT [6]
# CHECK-NEXT: initializer bn.gamma FLOAT [6]
# CHECK-NEXT: initializer bn.beta FLOAT [6]
# CHECK-NEXT: initializer bn.running_mean FLOAT [6]
# CHECK-NEXT: initializer bn.running_var FLOAT [6]
# CHECK-NEXT: initializer dilated.weight FLOAT [6, 2, 3, 3]
# CHECK-NEXT: initializer dense.weight FLOAT [16, 405]
# CHECK-NEXT: initializer bn_1.gamma FLOAT [16]
# CHECK-NEXT: initializer bn_1.beta FLOAT [16]
# CHECK-NEXT: initializer bn_1.running_mean FLOAT [16]
# CHECK-NEXT: initializer bn_1.running_var FLOAT [16]
# CHECK-NEXT: initializer dense_1.weight FLOAT [5, 67]
# CHECK-NEXT: initializer dense_1.bias FLOAT [5]
# CHECK-NEXT: initializer sqrt2 FLOAT []
# CHECK-NEXT: initializer one FLOAT []
# CHECK-NEXT: initializer half FLOAT []
# CHECK-NEXT: initializer starts INT64 [2]
# CHECK-NEXT: initializer ends INT64 [2]
# CHECK-NEXT: initializer axes INT64 [2]
# CHECK-NEXT: initializer steps INT64 [2]
# CHECK-NEXT: initializer pads INT64 [8]

# Conv: rn's [top, left, bottom, right] padding is ONNX's pads order.
# CHECK-NEXT: node stem: %stem = Conv[dilations = [1, 1], group = 1, kernel_shape = [3, 3], pads = [0, 0, 1, 1], strides = [2, 2]](%image, %stem.weight, %stem.bias)
# BatchNorm in inference form: the running statistics, the layer's epsilon.
# CHECK-NEXT: node bn: %bn = BatchNormalization[epsilon = 0.0010000000{{[0-9]*}}, momentum = 0.89999997{{[0-9]*}}](%stem, %bn.gamma, %bn.beta, %bn.running_mean, %bn.running_var)
# Gelu (opset 20's) as x * 0.5 * (1 + erf(x / sqrt(2))).
# CHECK-NEXT: node gelu.scaled: %gelu.scaled = Div(%bn, %sqrt2)
# CHECK-NEXT: node gelu.erf: %gelu.erf = Erf(%gelu.scaled)
# CHECK-NEXT: node gelu.one_plus_erf: %gelu.one_plus_erf = Add(%gelu.erf, %one)
# CHECK-NEXT: node gelu.x_times: %gelu.x_times = Mul(%bn, %gelu.one_plus_erf)
# CHECK-NEXT: node gelu: %gelu = Mul(%gelu.x_times, %half)
# CHECK-NEXT: node dilated: %dilated = Conv[dilations = [2, 2], group = 3, kernel_shape = [3, 3], pads = [2, 2, 2, 2], strides = [1, 1]](%gelu, %dilated.weight)
# CHECK-NEXT: node leaky_relu: %leaky_relu = LeakyRelu[alpha = 0.2000000{{[0-9]*}}](%dilated)
# CHECK-NEXT: node max_pool: %max_pool = MaxPool[kernel_shape = [2, 2], pads = [1, 1, 0, 0], strides = [1, 1]](%gelu)
# CHECK-NEXT: node tanh: %tanh = Tanh(%max_pool)
# CHECK-NEXT: node avg_pool: %avg_pool = AveragePool[count_include_pad = 0, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [1, 1]](%gelu)
# CHECK-NEXT: node sigmoid: %sigmoid = Sigmoid(%avg_pool)
# CHECK-NEXT: node avg_pool_1: %avg_pool_1 = AveragePool[count_include_pad = 1, kernel_shape = [2, 2], pads = [0, 0, 1, 1], strides = [1, 1]](%gelu)
# CHECK-NEXT: node joined: %joined = Concat[axis = 1](%leaky_relu, %tanh, %sigmoid, %avg_pool_1)
# CHECK-NEXT: node relu: %relu = Relu(%joined)
# CHECK-NEXT: node add: %add = Add(%joined, %relu)
# Dropout and DropBlock are the identity in inference.
# CHECK-NEXT: node dropblock: %dropblock = Identity(%add)
# CHECK-NEXT: node subsample: %subsample = Slice(%dropblock, %starts, %ends, %axes, %steps)
# CHECK-NEXT: node zero_pad: %zero_pad = Pad(%subsample, %pads)
# rn flattens in Keras's order (H, W, C).
# CHECK-NEXT: node flatten.nhwc: %flatten.nhwc = Transpose[perm = [0, 2, 3, 1]](%zero_pad)
# CHECK-NEXT: node flatten: %flatten = Flatten[axis = 1](%flatten.nhwc)
# CHECK-NEXT: node dense: %dense = Gemm[transB = 1](%flatten, %dense.weight)
# CHECK-NEXT: node bn_1: %bn_1 = BatchNormalization[epsilon = 9.99999{{[0-9]*}}e-06, momentum = 0.89999997{{[0-9]*}}](%dense, %bn_1.gamma, %bn_1.beta, %bn_1.running_mean, %bn_1.running_var)
# CHECK-NEXT: node softmax: %softmax = Softmax[axis = 1](%bn_1)
# CHECK-NEXT: node dropout: %dropout = Identity(%softmax)
# CHECK-NEXT: node global_max_pool.pooled: %global_max_pool.pooled = GlobalMaxPool(%zero_pad)
# CHECK-NEXT: node global_max_pool: %global_max_pool = Flatten[axis = 1](%global_max_pool.pooled)
# CHECK-NEXT: node global_avg_pool.pooled: %global_avg_pool.pooled = GlobalAveragePool(%dropblock)
# CHECK-NEXT: node global_avg_pool: %global_avg_pool = Flatten[axis = 1](%global_avg_pool.pooled)
# CHECK-NEXT: node concat: %concat = Concat[axis = 1](%global_max_pool, %dropout, %global_avg_pool)
# The model's final softmax is left out of the logits, as eval_step leaves
# it; probabilities are their softmax.
# CHECK-NEXT: node dense_1: %logits = Gemm[transB = 1](%concat, %dense_1.weight, %dense_1.bias)
# CHECK-NEXT: node probabilities: %probabilities = Softmax[axis = 1](%logits)
# CHECK-NOT:  node

model onnx_ops {
  input image[3, 12, 12]
  classes 5

  s = conv(image, 6, 3, stride = 2, padding = same, bias = true, name = "stem")
  s = s |> bn(epsilon = 1e-3) |> gelu
  a = conv(s, 6, 3, dilation = 2, groups = 3, padding = 2, name = "dilated")
  a = leaky_relu(a, alpha = 0.2)
  b = max_pool(s, 2, stride = 1, padding = [1, 1, 0, 0]) |> tanh
  c = avg_pool(s, 3, stride = 1, padding = 1) |> sigmoid
  d = avg_pool(s, 2, stride = 1, padding = [0, 0, 1, 1], count_include_pad = true)
  x = concat(a, b, c, d, name = "joined")
  x = add(x, relu(x)) |> dropblock(rate = 0.1, size = 2)
  z = subsample(x, stride = 2) |> zero_pad(padding = [1, 0], channels = [1, 2])
  f = flatten(z) |> dense(16, bias = false) |> bn |> softmax |> dropout(0.25)
  h = concat(global_max_pool(z), f, global_avg_pool(x))
  return dense(h, classes) |> softmax
}
