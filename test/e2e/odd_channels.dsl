# Channel counts that are not multiples of the AVX-512 vector (16 floats):
# 24 fills 8-lane vectors, 5 fills none. Parameter sizes that are not
# multiples of 16 floats pack the variables at 4-byte (not 64-byte) offsets.
model odd_channels {
  input image[3, 12, 12]
  classes 10

  block basic(x, filters, stride = 1) {
    y = conv(x, filters, 3, stride = stride, padding = 1) |> bn |> relu
    y = conv(y, filters, 3, padding = 1) |> bn
    if stride != 1 or channels(x) != filters {
      x = conv(x, filters, 1, stride = stride, padding = 0) |> bn
    }
    return relu(y + x)
  }

  x = conv(image, 24, 3, padding = 1) |> bn |> relu
  x = basic(x, 24)
  x = basic(x, 40, stride = 2)
  x = basic(x, 5)
  return global_avg_pool(x) |> dense(classes)
}

train {
  data cifar10 {
    augment central_crop(12)
  }
  batch 16
  epochs 1
  optimizer adam(lr = 1e-3)
}
