# ResNet-18 for CIFAR-10 as the widely used kuangliu/pytorch-cifar builds it
# (models/resnet.py, ResNet18): the ImageNet ResNet-18 (He et al. 2016) made
# for 32x32 images by a 3x3/1 stem conv (BN, ReLU) and no max pooling. Four
# stages of two basic blocks with 64, 128, 256 and 512 filters on 32x32,
# 16x16, 8x8 and 4x4 maps; the first block of stages 2-4 has stride 2 and a
# 1x1 conv + BN projection shortcut; global average pooling (the repo's
# avg_pool2d(4) on the 4x4 map) and a 10-way dense layer with a bias. Convs
# have no bias. Layer names follow the repo's (layer2.0.shortcut.0, linear).
#
# Parameters: 11,173,962 trainable, the count of the repo's ResNet18();
# 11,183,562 with the BN running statistics.
#
# Recipe: the repo's main.py: SGD (rate 0.1, momentum 0.9, weight decay
# 5e-4), batch 128, 200 epochs of cosine annealing, 4-pixel padding with
# random 32x32 crops, horizontal flips, and normalisation with the repo's
# mean and std. The repo's README reports 93.02% test accuracy for it.
model resnet18_cifar10 {
  input image[3, 32, 32]
  classes 10
  # PyTorch's default conv init is kaiming_uniform(a = sqrt(5)); we use the
  # He et al. initialisation, as torchvision does.
  init he_normal(mode = fan_out)

  block basic(x, filters, stride, name) {
    y = conv(x, filters, 3, stride = stride, padding = 1,
             name = name + ".conv1")
    y = bn(y, name = name + ".bn1") |> relu(name = name + ".relu1")
    y = conv(y, filters, 3, padding = 1, name = name + ".conv2")
    y = bn(y, name = name + ".bn2")
    if stride != 1 or channels(x) != filters {
      x = conv(x, filters, 1, stride = stride, padding = 0,
               name = name + ".shortcut.0")
      x = bn(x, name = name + ".shortcut.1")
    }
    return add(y, x, name = name + ".add") |> relu(name = name + ".relu2")
  }

  x = conv(image, 64, 3, padding = 1, name = "conv1")
  x = bn(x, name = "bn1") |> relu(name = "relu")
  filters = [64, 128, 256, 512]
  for s in range(4) {
    repeat 2 as i {
      x = basic(x, filters[s], (i == 0 and s > 0) ? 2 : 1,
                "layer" + str(s + 1) + "." + str(i))
    }
  }
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
