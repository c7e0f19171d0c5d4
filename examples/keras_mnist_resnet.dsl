# The ResNet of seed 001 (Keras, "Implementation of simple residual unit"):
# MNIST digits scaled to [0, 1]; conv 64 (7x7, same), BN, ReLU, 3x3 max
# pooling (Keras's MaxPool2D((3, 3)): stride 3, valid), two residual units of
# 64 filters (conv 3x3 same, BN, ReLU, conv 3x3 same, BN, add, ReLU), global
# average pooling and a 10-way softmax. Keras defaults throughout: convs and
# the dense layer have a bias and glorot_uniform weights; BatchNormalization
# has momentum 0.99 and epsilon 1e-3.
#
# Parameters: 152,842 in all, 152,202 trainable, as Keras counts them.
#
# Recipe, as in the seed: Adam with Keras's defaults (rate 1e-3, epsilon
# 1e-7), 5 epochs, 20% of the training images held out for validation
# (`validation_split = 0.2`), pixels / 255 and no augmentation. Choice: the
# seed's fit() leaves the batch at Keras's default, 32.
model keras_mnist_resnet {
  input image[1, 28, 28]
  classes 10
  init glorot_uniform

  # Keras BatchNormalization defaults.
  block norm(x) {
    return bn(x, momentum = 0.99, epsilon = 1e-3)
  }

  block residual_block(x, filters, kernel_size) {
    y = conv(x, filters, kernel_size, padding = same, bias = true)
    y = norm(y) |> relu
    y = conv(y, filters, kernel_size, padding = same, bias = true) |> norm
    return relu(y + x)
  }

  x = conv(image, 64, 7, padding = same, bias = true) |> norm |> relu
  x = max_pool(x, 3)
  x = residual_block(x, 64, 3)
  x = residual_block(x, 64, 3)
  return global_avg_pool(x) |> dense(classes, activation = softmax)
}

train {
  data mnist {
    validation_split 0.2
  }
  batch 32
  epochs 5
  optimizer adam(lr = 1e-3, epsilon = 1e-7, keras_epsilon = true)
}
