# The residual net of seed 002 ("Tensorflow CIFAR-100 Series (7): ResNets",
# TensorFlow 1; its code is TrainResNet.py in omar-mohamed/Object-
# Classification-CIFAR-100): four residual blocks with 128, 256, 512 and
# 1024 filters. Each block runs two pre-activation conv blocks (BN, ReLU,
# conv 3x3, BN, ReLU, conv 3x3; convs without bias), h1 = relu(block1(x)),
# h2 = block2(h1), hidden = relu(h1 + h2), then DropBlock (block size 5;
# on the last block's 4x4 map the seed's DropBlock samples no block and is
# the identity, so it is left out there) and 3x3/2 max pooling with SAME
# padding, halving 32 -> 16 -> 8 -> 4 -> 2.
# Then flatten (channels last, as tf.contrib.layers.flatten on NHWC) and
# three dense layers 4096 -> 4096 -> 100, each a matmul without bias followed
# by BN, the first two with ReLU and dropout 0.5. Every weight is Xavier
# (glorot_uniform); BN has momentum 0.997 and epsilon 1e-5. The tutorial
# reports 70.7% test accuracy.
#
# Parameters: 77,821,724 in all (BN moving averages included), 77,791,822
# trainable.
#
# Recipe, from the same file: Adam at 5e-4, decayed by 0.98 after every
# epoch (tf.train.exponential_decay with staircase, written here as a step
# schedule that drops at every epoch), batch 250, 75 epochs; inputs
# (pixel - 127.5) / 127.5, which is normalize(0.5, 0.5) on pixels in [0, 1].
# Choices where the DSL has no exact equivalent: the DropBlock keep
# probability ramps from 1.0 down to 0.8 over the first 40 epochs there; here
# the rate is a fixed 0.1. The augmentation there (imgaug: crops of 0-12
# pixels resized back, flips, coarse dropout) becomes random 32x32 crops of
# the 4-pixel-padded image and flips. Gradient clipping (global norm 100)
# and early stopping are left out.
model cifar100_resnet_dropblock {
  input image[3, 32, 32]
  classes 100
  init glorot_uniform

  block norm(x) {
    return bn(x, momentum = 0.997, epsilon = 1e-5)
  }

  block conv_block(x, filters) {
    y = norm(x) |> relu |> conv(filters, 3, padding = same)
    return norm(y) |> relu |> conv(filters, 3, padding = same)
  }

  block residual_block(x, filters) {
    hidden1 = conv_block(x, filters) |> relu
    hidden2 = conv_block(hidden1, filters)
    hidden = relu(hidden1 + hidden2)
    # The seed's DropBlock samples no block on a map smaller than the block
    # (the last block's 4x4), where it is the identity; so is skipping it.
    if height(hidden) >= 5 {
      hidden = dropblock(hidden, rate = 0.1, size = 5)
    }
    return max_pool(hidden, 3, stride = 2, padding = same)
  }

  block hidden_layer(x, units, keep_prob) {
    y = dense(x, units, bias = false) |> norm |> relu
    return dropout(y, 1 - keep_prob)
  }

  x = image
  for depth in [128, 256, 512, 1024] {
    x = residual_block(x, depth)
  }
  x = flatten(x)
  x = hidden_layer(x, 4096, 0.5)
  x = hidden_layer(x, 4096, 0.5)
  return dense(x, classes, bias = false) |> norm
}

train {
  data cifar100 {
    augment random_crop(32, pad = 4), flip_horizontal,
            normalize(mean = 0.5, std = 0.5)
  }
  batch 250
  epochs 75
  optimizer adam(lr = 5e-4)
  schedule step(at = range(1, 75), factor = 0.98)
}
