# Pre-activation ResNet-18 for CIFAR-10 (He et al. 2016, "Identity Mappings
# in Deep Residual Networks"): every residual unit runs BN -> ReLU -> conv
# -> BN -> ReLU -> conv and adds its input unchanged, with no ReLU after
# the add, so the identity path is clean from the first unit to the last.
# The layout is ResNet-18's for 32x32 images, as kuangliu/pytorch-cifar's
# PreActResNet18 (models/preact_resnet.py): a 3x3 stem conv, four stages of
# two units with 64, 128, 256 and 512 filters, stride 2 on the first unit of
# stages 2-4, whose shortcut is a 1x1 conv of the pre-activated input (no
# BN), then global average pooling and a 10-way dense layer. Convs have no
# bias.
#
# One choice: after the last unit we add the final BN -> ReLU that the paper
# prescribes ("an extra activation right after its element-wise addition"),
# which the repo leaves out. That adds 1,024 trainable parameters.
#
# Parameters: 11,172,170 trainable (the repo's count, 11,171,146, plus that
# final BN); 11,179,978 with the BN running statistics.
#
# Recipe: as for resnet18_cifar10.dsl (the repo's main.py): SGD (0.1,
# momentum 0.9, weight decay 5e-4), batch 128, 200 epochs of cosine
# annealing, random crops of the 4-pixel-padded image, flips, normalisation.
model preact_resnet18 {
  input image[3, 32, 32]
  classes 10
  init he_normal(mode = fan_out)

  block preact(x, filters, stride, name) {
    out = bn(x, name = name + ".bn1") |> relu(name = name + ".relu1")
    shortcut = x
    if stride != 1 or channels(x) != filters {
      shortcut = conv(out, filters, 1, stride = stride, padding = 0,
                      name = name + ".shortcut.0")
    }
    y = conv(out, filters, 3, stride = stride, padding = 1,
             name = name + ".conv1")
    y = bn(y, name = name + ".bn2") |> relu(name = name + ".relu2")
    y = conv(y, filters, 3, padding = 1, name = name + ".conv2")
    return add(y, shortcut, name = name + ".add")
  }

  x = conv(image, 64, 3, padding = 1, name = "conv1")
  filters = [64, 128, 256, 512]
  for s in range(4) {
    repeat 2 as i {
      x = preact(x, filters[s], (i == 0 and s > 0) ? 2 : 1,
                 "layer" + str(s + 1) + "." + str(i))
    }
  }
  x = bn(x, name = "bn") |> relu(name = "relu")
  x = global_avg_pool(x, name = "avgpool")
  # nn.Linear's default weights: U(-a, a) with a = 1/sqrt(512).
  return dense(x, classes, init = uniform(limit = 0.0442), name = "linear")
}

train {
  data cifar10 {
    augment random_crop(32, pad = 4), flip_horizontal,
            normalize(mean = [0.4914, 0.4822, 0.4465],
                      std = [0.2023, 0.1994, 0.2010])
  }
  batch 128
  epochs 200
  optimizer sgd(lr = 0.1, momentum = 0.9, weight_decay = 5e-4)
  schedule cosine
}
