# resnetc --target=cuda: every kernel's GPU schedule compiled to PTX for
# compute capability 8.0, here, with no GPU and no CUDA toolkit.
#
# The conv forward: each thread block stages the input tile its pixels read
# in shared memory (.shared, then a barrier), and each thread keeps its 4x4
# pixels' sums in registers (no .local array) as a chain of FMAs.
# RUN: resnetc %s --target=cuda --emit=ptx --no-fusion | FileCheck %s --check-prefix=CONV
# CONV-LABEL: // rn_conv2d_{{[0-9a-f]+}}: conv2d|
# CONV: .target sm_80
# CONV-NOT: .local
# CONV: .shared
# CONV: bar.sync
# CONV: fma.rn.f32
# CONV: // rn_
#
# The BatchNorm statistics: per-image sums in double, a thread per channel,
# the pixels in order, then the sums over the batch; never an atomic, so
# every run adds in the same order.
# RUN: resnetc %s --target=cuda --emit=ptx --no-fusion | FileCheck %s --check-prefix=BN
# BN-LABEL: // rn_batch_norm_train_{{[0-9a-f]+}}: batch_norm_train|
# BN: .target sm_80
# BN-NOT: atom.
# BN: add.f64
# BN-NOT: atom.
# BN: // rn_
#
# Each of the 19 distinct kernels of the fused steps is a GPU kernel (the
# program's host code only launches them).
# RUN: resnetc %s --target=cuda --emit=ptx | FileCheck %s --check-prefix=ALL
# ALL-NOT: error:
# ALL-COUNT-19: .target sm_80
# ALL-NOT: .target
# RUN: resnetc %s --target=cuda --emit=ptx | grep -c "^// rn_" | FileCheck %s --check-prefix=KERNELS
# KERNELS: 19
#
# ResNet-20: 63 distinct kernels, each with its PTX.
# RUN: resnetc %examples/resnet20_cifar10.dsl --target=cuda --emit=ptx | grep -c "^\.target sm_80" | FileCheck %s --check-prefix=RESNET20
# RESNET20: 63
#
# Other targets have no PTX to print; a GPU target takes no autoscheduler.
# RUN: %exit 1 resnetc %s --emit=ptx 2>&1 | FileCheck %s --check-prefix=CPU
# CPU: resnetc: error: --emit=ptx prints CUDA kernels; add --target=cuda
# RUN: %exit 1 resnetc %s --target=opencl --scheduler=li2018 2>&1 | FileCheck %s --check-prefix=AUTO
# AUTO: resnetc: error: Halide's autoschedulers build CPU kernels only; use --scheduler=hand (the default) with --target=opencl
# RUN: %exit 1 resnetc %s --target=nonsense 2>&1 | FileCheck %s --check-prefix=BAD
# BAD: resnetc: error: unknown --target 'nonsense'; use cpu, cuda, opencl, avx512, avx2 or a Halide target string

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
