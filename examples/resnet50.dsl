# ResNet-50 for ImageNet (He et al. 2016, "Deep Residual Learning for Image
# Recognition", table 1), laid out as torchvision.models.resnet50 builds it
# ("ResNet v1.5"): a 7x7/2 stem conv without bias, BN, ReLU and 3x3/2 max
# pooling (padding 1), four stages of 3, 4, 6 and 3 bottleneck blocks
# (1x1 -> 3x3 -> 1x1 convs with 64, 128, 256 and 512 filters, expanded 4x by
# the last; the stride sits on the 3x3 conv, and the first block of each
# stage has a 1x1 conv + BN projection shortcut), global average pooling and
# a 1000-way dense layer with a bias. Layer names follow torchvision's
# (layer2.0.conv2, layer2.0.downsample.0, fc, ...).
#
# Parameters: 25,557,032 trainable, torchvision's published count (which
# leaves out the BN running statistics; with them, 25,610,152 in all).
#
# There is no ImageNet loader, so the train block names no data set: this
# file is for `resnetc --summary` and for benchmarks. The recipe is the
# standard one (torchvision's reference script): SGD with momentum, batch
# 256, 90 epochs, the rate divided by 10 at epochs 30 and 60.
model resnet50 {
  input image[3, 224, 224]
  classes 1000
  # torchvision: kaiming_normal_(mode = "fan_out", nonlinearity = "relu").
  init he_normal(mode = fan_out)

  block bottleneck(x, width, stride, name, expansion = 4) {
    y = conv(x, width, 1, padding = 0, name = name + ".conv1")
    y = bn(y, name = name + ".bn1") |> relu(name = name + ".relu1")
    y = conv(y, width, 3, stride = stride, padding = 1, name = name + ".conv2")
    y = bn(y, name = name + ".bn2") |> relu(name = name + ".relu2")
    y = conv(y, width * expansion, 1, padding = 0, name = name + ".conv3")
    y = bn(y, name = name + ".bn3")
    if stride != 1 or channels(x) != width * expansion {
      x = conv(x, width * expansion, 1, stride = stride, padding = 0,
               name = name + ".downsample.0")
      x = bn(x, name = name + ".downsample.1")
    }
    return add(y, x, name = name + ".add") |> relu(name = name + ".relu3")
  }

  x = conv(image, 64, 7, stride = 2, padding = 3, name = "conv1")
  x = bn(x, name = "bn1") |> relu(name = "relu")
  x = max_pool(x, 3, stride = 2, padding = 1, name = "maxpool")
  stages = [[64, 3], [128, 4], [256, 6], [512, 3]]   # [width, blocks]
  for s in range(4) {
    repeat stages[s][1] as i {
      x = bottleneck(x, stages[s][0], (i == 0 and s > 0) ? 2 : 1,
                     "layer" + str(s + 1) + "." + str(i))
    }
  }
  x = global_avg_pool(x, name = "avgpool")
  # nn.Linear's default weights: U(-a, a) with a = 1/sqrt(2048).
  return dense(x, classes, init = uniform(limit = 0.0221), name = "fc")
}

train {
  batch 256
  epochs 90
  optimizer sgd(lr = 0.1, momentum = 0.9, weight_decay = 1e-4)
  schedule step(at = [30, 60], factor = 0.1)
}
