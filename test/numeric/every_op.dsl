# Every forward layer of the DSL at least once, small enough to compile in
# seconds: torch_step_test.py checks its training step against PyTorch
# autograd (test/numeric/CMakeLists.txt: torch-step-every-op-*), with each
# optimizer swapped into the train block by --optimizer. The layers are
# test/Export/onnx.dsl's, on CIFAR-10's 3x32x32 images, with these changes:
# - dropout and DropBlock follow sigmoid, tanh and BatchNorm, whose outputs
#   are never exactly zero, so that the test can tell from our input and
#   output which elements they dropped;
# - the conv with a bias feeds a ReLU, not BatchNorm (which would make the
#   bias's gradient zero, i.e. rounding noise in both implementations);
# - softmax only ends the model, where the loss folds it: a softmax inside
#   a model has no gradient in rn-autodiff.
model every_op {
  input image[3, 32, 32]
  classes 10

  s = conv(image, 6, 3, stride = 2, padding = same, name = "stem")
  s = s |> bn(epsilon = 1e-3) |> gelu
  a = conv(s, 6, 3, dilation = 2, groups = 3, padding = 2, name = "dilated")
  a = leaky_relu(a, alpha = 0.2) |> elu(alpha = 0.5)
  b = max_pool(s, 2, stride = 1, padding = [1, 1, 0, 0]) |> tanh
  b = dropout(b, 0.25)
  c = avg_pool(s, 3, stride = 1, padding = 1) |> sigmoid
  c = dropblock(c, rate = 0.2, size = 3)
  d = avg_pool(s, 2, stride = 1, padding = [0, 0, 1, 1],
               count_include_pad = true)
  x = concat(a, b, c, d, name = "joined")
  x = add(x, relu(x))
  y = zero_pad_shortcut(x, 32, stride = 2)
  z = subsample(x, stride = 2) |> zero_pad(padding = [1, 0], channels = [1, 2])
  f = max_pool(x, 2) |> conv(8, 3, bias = true, activation = relu) |> flatten
  f = f |> dense(16, bias = false) |> bn |> dropout(0.5)
  f = dense(f, 12, activation = tanh)
  h = concat(global_max_pool(z), f, global_avg_pool(y))
  return dense(h, classes) |> softmax
}

train {
  data cifar10 {
    augment normalize(mean = [0.4914, 0.4822, 0.4465],
                      std = [0.2470, 0.2435, 0.2616])
  }
  batch 16
  steps 100
  optimizer sgd(lr = 0.05, momentum = 0.9, nesterov = true, weight_decay = 5e-4)
  schedule cosine(warmup = 0.5)
}
