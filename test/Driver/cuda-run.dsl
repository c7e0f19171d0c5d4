# REQUIRES: cuda
# A --target=cuda build on an NVIDIA GPU: it names the GPU, and a training
# step moves its batch up and its loss down, nothing else.
# RUN: rm -rf %t && mkdir -p %t
# RUN: resnetc %s --target=cuda -o %t/train
# RUN: %t/train --device | FileCheck %s --check-prefix=DEVICE
# DEVICE: device: {{.+}} (CUDA, {{[0-9.]+}} GiB)
# RUN: %t/train --benchmark --steps=3 --warmup=1 --progress=none | FileCheck %s
# CHECK: "device":"{{.+}}","host_device_copies_per_step":2

model tiny {
  input image[3, 16, 16]
  classes 10
  x = conv(image, 16, 3) |> bn |> relu
  x = conv(x, 16, 3) |> bn |> relu
  return global_avg_pool(x) |> dense(classes)
}

train {
  batch 8
  epochs 1
  optimizer sgd(lr = 0.1, momentum = 0.9)
}
