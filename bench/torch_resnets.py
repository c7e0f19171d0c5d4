"""The CIFAR ResNets of examples/ as plain PyTorch modules, the peer the
benchmarks time resnetc against: written the way torchvision and
kuangliu/pytorch-cifar write them (nn.Conv2d, nn.BatchNorm2d, in-place
ReLU), so PyTorch runs its own best kernels (cuDNN, oneDNN) and nothing of
ours.

  resnet20()  He et al.'s ResNet-20 (examples/resnet20_cifar10.dsl):
              option A shortcuts (subsample, zero-pad the new channels)
  resnet18()  the CIFAR ResNet-18 (examples/resnet18_cifar10.dsl): 1x1
              conv + BN projection shortcuts
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
    def __init__(self, stages, blocks, stem, projection, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 3, 1, 1, bias=False)
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


MODELS = {'resnet20': resnet20, 'resnet18': resnet18}
