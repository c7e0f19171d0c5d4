"""The CIFAR ResNets of examples/ as plain PyTorch modules, the peer the
benchmarks time resnetc against: written the way torchvision and
kuangliu/pytorch-cifar write them (nn.Conv2d, nn.BatchNorm2d, in-place
ReLU), so PyTorch runs its own best kernels (cuDNN, oneDNN) and nothing of
ours.

  resnet20()  He et al.'s ResNet-20 (examples/resnet20_cifar10.dsl):
              option A shortcuts (subsample, zero-pad the new channels)
  resnet18()  the CIFAR ResNet-18 (examples/resnet18_cifar10.dsl): 1x1
              conv + BN projection shortcuts
  fashion_mnist_resnet()
              the default example's ResNet-8 (examples/fashion_mnist_resnet.dsl):
              1x28x28 input, stem 16, one basic block each of 16, 32/s2 and
              64/s2 filters, 1x1 conv + BN projection shortcuts
  keras_cifar10_resblocks()
              seed 000's Keras net (examples/keras_cifar10_resblocks.dsl):
              3x24x24 input, biased convs, conv-ReLU-BN blocks, Keras's
              BatchNormalization defaults, dense 256 and dropout 0.5
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, inputs, filters, stride, projection):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, filters, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(filters)
        self.conv2 = nn.Conv2d(filters, filters, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(filters)
        self.stride, self.pad = stride, filters - inputs
        self.shortcut = None
        if projection and (stride != 1 or inputs != filters):
            self.shortcut = nn.Sequential(
                nn.Conv2d(inputs, filters, 1, stride, bias=False),
                nn.BatchNorm2d(filters))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        if self.shortcut is not None:
            x = self.shortcut(x)
        elif self.stride != 1 or self.pad:
            # Option A: subsample, then zero channels for the new filters.
            x = F.pad(x[:, :, ::self.stride, ::self.stride],
                      (0, 0, 0, 0, 0, self.pad))
        return F.relu(y + x, inplace=True)


class CifarResNet(nn.Module):
    def __init__(self, stages, blocks, stem, projection, classes=10,
                 channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, stem, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        layers, inputs = [], stem
        for s, filters in enumerate(stages):
            for i in range(blocks):
                stride = 2 if i == 0 and s > 0 else 1
                layers.append(BasicBlock(inputs, filters, stride, projection))
                inputs = filters
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(inputs, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        x = self.layers(x)
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def resnet20():
    return CifarResNet([16, 32, 64], 3, 16, projection=False)


def resnet18():
    return CifarResNet([64, 128, 256, 512], 2, 64, projection=True)


def fashion_mnist_resnet():
    """One basic block per stage; a projection wherever the shape changes."""
    return CifarResNet([16, 32, 64], 1, 16, projection=True, channels=1)


class KerasResBlock(nn.Module):
    """res_net_block: conv-ReLU-BN, conv-BN, add the input, ReLU."""

    def __init__(self, filters):
        super().__init__()
        self.conv1 = nn.Conv2d(filters, filters, 3, 1, 1)
        # Keras's momentum 0.99 is PyTorch's 0.01.
        self.bn1 = nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01)
        self.conv2 = nn.Conv2d(filters, filters, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01)

    def forward(self, x):
        y = self.bn1(F.relu(self.conv1(x), inplace=True))
        y = self.bn2(self.conv2(y))
        return F.relu(y + x, inplace=True)


class KerasResBlocks(nn.Module):
    """Seed 000's residual net: conv 32 and 64 (3x3, valid, ReLU), 3x3 max
    pooling (stride 3), ten blocks of 64, conv 64 (valid, ReLU), global
    average pooling, dense 256 (ReLU), dropout 0.5, dense 10. Convs and
    dense layers have a bias. The final softmax is in the loss
    (F.cross_entropy takes the logits)."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.pool = nn.MaxPool2d(3)
        self.blocks = nn.Sequential(*[KerasResBlock(64) for _ in range(10)])
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.dense1 = nn.Linear(64, 256)
        self.dropout = nn.Dropout(0.5)
        self.dense2 = nn.Linear(256, classes)

    def forward(self, x):
        x = F.relu(self.conv1(x), inplace=True)
        x = self.pool(F.relu(self.conv2(x), inplace=True))
        x = self.blocks(x)
        x = F.relu(self.conv3(x), inplace=True)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        x = self.dropout(F.relu(self.dense1(x), inplace=True))
        return self.dense2(x)


def keras_cifar10_resblocks():
    return KerasResBlocks()


MODELS = {'resnet20': resnet20, 'resnet18': resnet18,
          'fashion_mnist_resnet': fashion_mnist_resnet,
          'keras_cifar10_resblocks': keras_cifar10_resblocks}
