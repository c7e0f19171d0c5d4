# A residual network without BatchNorm, for test/e2e/distributed_test.py:
# nothing in it depends on which images share a call, so K ranks must train
# it as one process does (the shards, the gradient scaling and the
# all-reduce are all that differ). Odd widths make parameter sizes that are
# not multiples of 16 floats.
model no_batch_norm {
  input image[1, 28, 28]
  classes 10

  block basic(x, filters, stride = 1) {
    y = conv(x, filters, 3, stride = stride, padding = 1) |> relu
    y = conv(y, filters, 3, padding = 1)
    if stride != 1 or channels(x) != filters {
      x = conv(x, filters, 1, stride = stride, padding = 0)
    }
    return relu(y + x)
  }

  x = conv(image, 12, 3, padding = 1) |> relu
  x = basic(x, 12)
  x = basic(x, 20, stride = 2)
  return global_avg_pool(x) |> dense(classes)
}

train {
  data fashion_mnist {
    augment random_crop(28, pad = 2), flip_horizontal
  }
  batch 32
  epochs 1
  optimizer sgd(lr = 0.01, momentum = 0.9, nesterov = true, weight_decay = 5e-4)
}
