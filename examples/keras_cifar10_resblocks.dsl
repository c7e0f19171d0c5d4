# The residual net of seed 000 ("Understanding Resnet", Keras): CIFAR-10
# images scaled to [0, 1], centrally cropped to 24x24 and randomly flipped;
# conv 32 and conv 64 (3x3, valid, ReLU), 3x3 max pooling, ten residual
# blocks of 64 filters (conv-ReLU-BN, conv-BN, add, ReLU), conv 64 (3x3,
# valid, ReLU), global average pooling, dense 256 (ReLU), dropout 0.5 and a
# 10-way softmax. Keras defaults throughout: convs and dense layers have a
# bias and glorot_uniform weights; BatchNormalization has momentum 0.99 and
# epsilon 1e-3.
#
# Parameters: 819,210 in all, 816,650 trainable, as Keras counts them.
#
# Recipe, as in the seed: Adam with Keras's defaults (rate 1e-3, epsilon
# 1e-7), batch 64, 30 "epochs" of 195 steps, which is 5,850 steps (the seed's
# epochs are a quarter of CIFAR-10's 50,000 images each). The seed's
# pipeline is pixel / 255, tf.image.central_crop(0.75) and a random flip, so
# there is no `normalize`: the loader already scales pixels to [0, 1].
# Choice: the seed validates on 3 batches of 5,000 test images; train
# evaluates on the whole test set.
model keras_cifar10_resblocks {
  input image[3, 24, 24]
  classes 10
  init glorot_uniform

  # Keras BatchNormalization defaults.
  block norm(x) {
    return bn(x, momentum = 0.99, epsilon = 1e-3)
  }

  block res_net_block(x, filters, conv_size) {
    y = conv(x, filters, conv_size, padding = same, bias = true,
             activation = relu) |> norm
    y = conv(y, filters, conv_size, padding = same, bias = true) |> norm
    return relu(y + x)
  }

  x = conv(image, 32, 3, padding = valid, bias = true, activation = relu)
  x = conv(x, 64, 3, padding = valid, bias = true, activation = relu)
  x = max_pool(x, 3)
  repeat 10 {
    x = res_net_block(x, 64, 3)
  }
  x = conv(x, 64, 3, padding = valid, bias = true, activation = relu)
  x = global_avg_pool(x)
  x = dense(x, 256, activation = relu) |> dropout(0.5)
  return dense(x, classes, activation = softmax)
}

train {
  data cifar10 {
    augment central_crop(0.75), flip_horizontal
  }
  batch 64
  steps 5850
  optimizer adam(lr = 1e-3, epsilon = 1e-7, keras_epsilon = true)
  loss cross_entropy
}
