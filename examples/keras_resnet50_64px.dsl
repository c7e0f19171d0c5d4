# ResNet-50 as the Keras tutorial in seed 004 builds it: 64x64x3 images,
# 10 classes (as its compile cell builds it), zero padding then a 7x7/2 stem with a bias, 3x3/2 max pooling,
# bottleneck blocks ("convolutional" blocks with a 1x1 projection shortcut and
# "identity" blocks), 2x2 average pooling, flatten and a softmax dense layer.
# Every conv has a bias and glorot_uniform(seed = 0) weights, as in Keras.
# Layer names follow the tutorial's (res2a_branch2a, bn2a_branch2a, ...).
#
# Parameters: 23,608,202 in all, 23,555,082 trainable and 53,120
# non-trainable (the BN moving averages): Keras's model.summary() figures
# for the seed's 6-class summary (23,600,006) plus the 8,196 of the wider
# last layer of its 10-class compile cell.
#
# Recipe: the seed compiles with Keras's 'adam' (rate 1e-3, epsilon 1e-7)
# and categorical cross-entropy on the softmax output. Choices: its fit()
# is not shown, so batch 32 (Keras's default) and 20 epochs. The seed's
# data set (64x64 photos) is not at hand, so the recipe trains on CIFAR-10
# resized to 64x64 once, when loaded, with CIFAR-10's class names; a
# folder of one's own photos goes in with `--data=DIR --dataset=folder`
# (DIR/train/CLASS/*.jpg, DIR/test/CLASS/*.jpg, 10 classes).
model keras_resnet50 {
  input image[3, 64, 64]
  classes ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
           "horse", "ship", "truck"]
  init glorot_uniform(seed = 0)

  # Keras BatchNormalization defaults.
  block norm(x, name) {
    return bn(x, momentum = 0.99, epsilon = 1e-3, name = name)
  }

  block identity_block(x, f, filters, stage, part) {
    conv_name = "res" + str(stage) + part + "_branch"
    bn_name = "bn" + str(stage) + part + "_branch"
    y = conv(x, filters[0], 1, padding = valid, bias = true, name = conv_name + "2a")
    y = norm(y, bn_name + "2a") |> relu
    y = conv(y, filters[1], f, padding = same, bias = true, name = conv_name + "2b")
    y = norm(y, bn_name + "2b") |> relu
    y = conv(y, filters[2], 1, padding = valid, bias = true, name = conv_name + "2c")
    y = norm(y, bn_name + "2c")
    return relu(y + x)
  }

  block conv_block(x, f, filters, stage, part, s = 2) {
    conv_name = "res" + str(stage) + part + "_branch"
    bn_name = "bn" + str(stage) + part + "_branch"
    y = conv(x, filters[0], 1, stride = s, padding = valid, bias = true, name = conv_name + "2a")
    y = norm(y, bn_name + "2a") |> relu
    y = conv(y, filters[1], f, padding = same, bias = true, name = conv_name + "2b")
    y = norm(y, bn_name + "2b") |> relu
    y = conv(y, filters[2], 1, padding = valid, bias = true, name = conv_name + "2c")
    y = norm(y, bn_name + "2c")
    shortcut = conv(x, filters[2], 1, stride = s, padding = valid, bias = true, name = conv_name + "1")
    shortcut = norm(shortcut, bn_name + "1")
    return relu(y + shortcut)
  }

  x = zero_pad(image, 3)
  x = conv(x, 64, 7, stride = 2, padding = valid, bias = true, name = "conv1")
  x = norm(x, "bn_conv1") |> relu
  x = max_pool(x, 3, stride = 2)

  stages = [[2, [64, 64, 256], 1, 2], [3, [128, 128, 512], 2, 3],
            [4, [256, 256, 1024], 2, 5], [5, [512, 512, 2048], 2, 2]]
  parts = ["a", "b", "c", "d", "e", "f"]
  for stage in stages {
    x = conv_block(x, 3, stage[1], stage[0], "a", s = stage[2])
    repeat stage[3] as i {
      x = identity_block(x, 3, stage[1], stage[0], parts[i + 1])
    }
  }
  x = avg_pool(x, 2, name = "avg_pool")
  return flatten(x) |> dense(classes, activation = softmax,
                             name = "fc" + str(classes))
}

train {
  data cifar10 {
    augment resize(64, 64)
  }
  batch 32
  epochs 20
  optimizer adam(lr = 1e-3, epsilon = 1e-7, keras_epsilon = true)
  loss cross_entropy
}
