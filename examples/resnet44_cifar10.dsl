# ResNet-44 for CIFAR-10 (He et al. 2016, "Deep Residual Learning for Image
# Recognition", section 4.2): n = (44 - 2) / 6 = 7 basic blocks in each of 3
# stages with 16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps, a 3x3 stem,
# the parameter-free "option A" shortcut where the shape changes (subsample
# by 2, zero-pad the new channels), global average pooling and a 10-way
# dense layer.
#
# Parameters: 658,586 trainable, the exact count with option A (the
# paper's table 6 rounds it to 0.66M); 661,754 with the BN running
# statistics.
#
# Recipe: the paper's SGD (rate 0.1, momentum 0.9, weight decay 1e-4, batch
# 128) on the common 160-epoch schedule that divides the rate by 10 at epochs
# 80 and 120 (the paper: at 32k and 48k of 64k iterations on a 45k/5k
# split); 4-pixel padding with random 32x32 crops, horizontal flips, and
# per-channel normalisation with CIFAR-10's mean and std.
model resnet44 {
  input image[3, 32, 32]
  classes 10
  # He init by fan-out for the convolutions (as torchvision); the classifier
  # by fan-in: fan-out (10) would give it a std of 0.45 and logits so large
  # that the first epoch is lost (ResNet-20, 2 epochs: 50.0% test accuracy
  # that way, 63.3% this way).
  init he_normal(mode = fan_out)

  block basic(x, filters, stride = 1) {
    y = conv(x, filters, 3, stride = stride, padding = 1) |> bn |> relu
    y = conv(y, filters, 3, padding = 1) |> bn
    shortcut = zero_pad_shortcut(x, filters, stride = stride)
    return relu(y + shortcut)
  }

  depth = 44
  n = (depth - 2) / 6          # blocks per stage
  x = conv(image, 16, 3, padding = 1) |> bn |> relu
  for filters in [16, 32, 64] {
    repeat n as i {
      x = basic(x, filters, stride = (i == 0 and filters > 16) ? 2 : 1)
    }
  }
  return global_avg_pool(x) |> dense(classes, init = he_normal(mode = fan_in))
}

train {
  data cifar10 {
    augment random_crop(32, pad = 4), flip_horizontal,
            normalize(mean = [0.4914, 0.4822, 0.4465],
                      std = [0.2470, 0.2435, 0.2616])
  }
  batch 128
  epochs 160
  optimizer sgd(lr = 0.1, momentum = 0.9, weight_decay = 1e-4)
  schedule step(at = [80, 120], factor = 0.1)
}
