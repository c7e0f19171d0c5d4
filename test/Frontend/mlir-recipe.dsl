# RUN: resnetc %s --emit=mlir | FileCheck %s
# RUN: resnetc %s --emit=mlir --batch=8 | FileCheck %s --check-prefix=BATCH
# The train block becomes the module attribute rn.recipe: every setting,
# with defaults for those left out, in alphabetical order. central_crop's
# fraction is resolved against the data set (tf.image.central_crop: 0.75 of
# 32 is 24), a single normalize value is repeated for every channel, and the
# batch sizes the graph unless --batch overrides it.

# CHECK: module @recipe attributes {rn.classes = 10 : i64, rn.recipe = {
# CHECK-SAME: augment = [{kind = "central_crop", size = array<i64: 24, 24>}, {kind = "flip_horizontal"}, {kind = "normalize", mean = array<f64: 5.000000e-01, 5.000000e-01, 5.000000e-01>, std = array<f64: 2.500000e-01, 2.500000e-01, 2.500000e-01>}]
# CHECK-SAME: batch = 64 : i64, beta1 = 9.000000e-01 : f64, beta2 = 0.98999999999999999 : f64
# CHECK-SAME: dataset = "cifar10", epochs = 10 : i64, epsilon = 1.000000e-08 : f64
# CHECK-SAME: label_smoothing = 1.000000e-01 : f64, lr = 3.000000e-03 : f64
# CHECK-SAME: max_lr = 1.000000e-02 : f64, momentum = 0.000000e+00 : f64, nesterov = false
# CHECK-SAME: optimizer = "adamw", pct_start = 2.500000e-01 : f64, schedule = "one_cycle", seed = 42 : i64
# CHECK-SAME: steps = 5850 : i64, validation_split = 1.000000e-01 : f64, warmup_epochs = 0.000000e+00 : f64, weight_decay = 5.000000e-02 : f64}}
# CHECK: func.func @forward(%arg0: tensor<64x3x24x24xf32>) -> tensor<64x10xf32>

# BATCH: rn.recipe = {{{.*}} batch = 8 : i64,
# BATCH: func.func @forward(%arg0: tensor<8x3x24x24xf32>) -> tensor<8x10xf32>
model recipe {
  input image[3, 24, 24]
  classes 10
  return global_avg_pool(image) |> dense(classes)
}

train {
  data cifar10 {
    augment central_crop(0.75), flip_horizontal, normalize(mean = 0.5, std = 0.25)
    validation_split 0.1
  }
  batch 64
  steps 5850
  seed 42
  optimizer adamw(lr = 3e-3, beta2 = 0.99, weight_decay = 0.05)
  schedule one_cycle(max_lr = 0.01, pct_start = 0.25)
  loss cross_entropy(label_smoothing = 0.1)
}
