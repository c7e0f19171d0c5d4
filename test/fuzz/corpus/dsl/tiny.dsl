model tiny {
  input image[1, 28, 28]
  classes 10
  x = conv(image, 4, 3, padding = 1) |> bn |> relu
  return global_avg_pool(x) |> dense(classes)
}

train {
  data mnist
  batch 4
  epochs 1
  optimizer sgd(lr = 0.1)
}
