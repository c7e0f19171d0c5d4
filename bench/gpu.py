#!/usr/bin/env python3
"""resnetc on an NVIDIA GPU: (a) the CUDA training step against the CPU
step, (b) ResNet-20 trained on CIFAR-10 for one epoch on both, (c) training
images/s of ResNet-20 and ResNet-18 (CIFAR, batch 256) against PyTorch on
the same GPU, fp32 with TF32 off and with PyTorch's default, in one run.

In two parts, since a GPU machine need not have resnetc's build (LLVM,
Halide): the programs are compiled here, where resnetc is, and carried.

  # here: compile the programs (--target=cuda, and avx2 for the CPU
  # reference) and write the step check's inputs
  /usr/bin/python3 bench/gpu.py build --resnetc build/bin/resnetc --out gpu-bench
  # on the GPU machine (NVIDIA driver, PyTorch with CUDA): run, print a table
  python3 bench/gpu.py run --dir gpu-bench [--cifar10 DIR]

(b) needs the CIFAR-10 binaries on the GPU machine (--cifar10); without
them it is skipped. PyTorch runs bench/torch_resnets.py's modules (cuDNN,
cudnn.benchmark on, NCHW and channels_last: the better is reported).
"""

import argparse
import json
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
MODELS = {'resnet20': ROOT / 'examples' / 'resnet20_cifar10.dsl',
          'resnet18': ROOT / 'examples' / 'resnet18_cifar10.dsl'}
STEP_BATCH, BENCH_BATCH = 32, 256


def resnetc(args, *flags, env=None):
    subprocess.run([args.resnetc, *map(str, flags)], check=True, env=env)


def build(args):
    import os
    import torch
    sys.path.insert(0, str(ROOT / 'test' / 'numeric'))
    import rn_torch
    from torch_step_test import batches, write_inputs

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / 'gpu.py', out)
    shutil.copy(HERE / 'torch_resnets.py', out)
    # (a) the step driver, for the GPU and for the CPU (AVX2: any x86-64
    # host of a GPU), and one step's inputs.
    driver = ROOT / 'build' / 'lib' / 'libstepdriver.a'
    env = dict(os.environ, RESNETC_RUNTIME=str(args.driver or driver))
    for target in ('cuda', 'avx2'):
        resnetc(args, MODELS['resnet20'], f'--target={target}',
                f'--batch={STEP_BATCH}', '-o', out / f'step-{target}', env=env)
    mlir = subprocess.run([args.resnetc, MODELS['resnet20'], '--emit=mlir',
                           f'--batch={STEP_BATCH}'], check=True,
                          capture_output=True, text=True).stdout
    graph = rn_torch.Graph(mlir)
    values = graph.initial_values(torch.Generator().manual_seed(0))
    args.batch, args.steps = STEP_BATCH, 1
    images, labels = batches(args, graph.classes, graph.input_shape)
    write_inputs(out / 'step-inputs', graph, values, images, labels,
                 graph.recipe['lr'], 0.0)
    # (b) ResNet-20 with its recipe, on both; (c) both models at batch 256.
    for target in ('cuda', 'avx2'):
        resnetc(args, MODELS['resnet20'], f'--target={target}', '-o',
                out / f'train-resnet20-{target}')
    for name, model in MODELS.items():
        resnetc(args, model, '--target=cuda', f'--batch={BENCH_BATCH}', '-o',
                out / f'bench-{name}-cuda')
    size = sum(f.stat().st_size for f in out.rglob('*') if f.is_file())
    print(f'wrote {out} ({size / 2**20:.1f} MiB)')


def relative(ours, theirs):
    import numpy as np
    norm = np.linalg.norm(theirs)
    diff = np.linalg.norm(ours - theirs)
    return diff / norm if norm > 0 else diff


def step_check(dir):
    """One CUDA step against one CPU step on the same inputs: the largest
    relative error over the loss, every gradient and every variable."""
    import numpy as np
    results = {}
    for target in ('cuda', 'avx2'):
        results[target] = dir / f'step-out-{target}'
        results[target].mkdir(exist_ok=True)
        subprocess.run([str(dir / f'step-{target}'), str(dir / 'step-inputs'),
                        str(results[target]), '1'], check=True)
    gpu, cpu = results['cuda'], results['avx2']
    worst = {'loss': relative(
        np.loadtxt(gpu / 'losses.txt', ndmin=1),
        np.loadtxt(cpu / 'losses.txt', ndmin=1))}
    for kind in ('gradients', 'variables'):
        worst[kind] = max(
            relative(np.fromfile(gpu / 'step1' / kind / p.name, np.float32)
                     .astype(np.float64),
                     np.fromfile(p, np.float32).astype(np.float64))
            for p in (cpu / 'step1' / kind).glob('*.bin'))
    return worst


def last_json(command):
    out = subprocess.run(command, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def torch_images_per_s(name, tf32, channels_last, steps, warmup):
    import torch
    import torch_resnets
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model = torch_resnets.MODELS[name]().cuda().to(memory_format=memory)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                                weight_decay=1e-4)
    images = torch.randn(BENCH_BATCH, 3, 32, 32, device='cuda').to(
        memory_format=memory)
    labels = torch.randint(0, 10, (BENCH_BATCH,), device='cuda')
    times = []
    for i in range(warmup + steps):
        torch.cuda.synchronize()
        start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return BENCH_BATCH / statistics.median(times)


def run(args):
    import torch
    dir = pathlib.Path(args.dir).resolve()
    sys.path.insert(0, str(dir))
    gpu = torch.cuda.get_device_name(0)
    device = subprocess.run([str(dir / 'bench-resnet20-cuda'), '--device'],
                            check=True, capture_output=True,
                            text=True).stdout.strip()
    print(f'PyTorch sees {gpu}; train: {device}')
    rows = []
    worst = step_check(dir)
    print('(a) CUDA step vs CPU step, largest relative error:',
          ', '.join(f'{k} {v:.2e}' for k, v in worst.items()))
    if args.cifar10:
        accuracy = {}
        for target in ('cuda', 'avx2'):
            accuracy[target] = last_json(
                [str(dir / f'train-resnet20-{target}'), '--epochs=1',
                 f'--data={args.cifar10}', '--progress=none'])['test_accuracy']
        print(f'(b) ResNet-20, one epoch of CIFAR-10: test accuracy CUDA '
              f'{100 * accuracy["cuda"]:.2f}%, CPU '
              f'{100 * accuracy["avx2"]:.2f}%')
    else:
        print('(b) skipped: no --cifar10')
    for name in MODELS:
        ours = [last_json([str(dir / f'bench-{name}-cuda'), '--benchmark',
                           f'--steps={args.steps}', f'--warmup={args.warmup}',
                           '--progress=none'])
                for _ in range(args.rounds)]
        images = statistics.median(r['images_per_s'] for r in ours)
        copies = ours[0].get('host_device_copies_per_step')
        peers = {}
        for tf32 in (False, True):
            peers[tf32] = max(
                statistics.median(
                    torch_images_per_s(name, tf32, layout, args.steps,
                                       args.warmup)
                    for _ in range(args.rounds))
                for layout in (False, True))
        rows.append((name, images, peers[False], peers[True], copies))
    print(f'\n(c) training images/s, batch {BENCH_BATCH}, on {gpu}, medians '
          f'of {args.rounds} rounds of {args.steps} steps')
    print('| model | resnetc (fp32) | PyTorch fp32, TF32 off | ratio | '
          'PyTorch default (TF32 convs) | ratio | copies/step |')
    print('|---|---|---|---|---|---|---|')
    for name, images, off, default, copies in rows:
        print(f'| {name} | {images:.0f} | {off:.0f} | {images / off:.2f}x | '
              f'{default:.0f} | {images / default:.2f}x | {copies} |')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='part', required=True)
    b = sub.add_parser('build', help='compile the programs (here)')
    b.add_argument('--resnetc', required=True)
    b.add_argument('--driver', help='libstepdriver.a (default: build/lib)')
    b.add_argument('--out', required=True)
    b.add_argument('--cifar10', default=str(
        ROOT.parent / 'shared' / 'datasets' / 'cifar-10-batches-bin'),
        help='CIFAR-10 for the step check batch (else Fashion-MNIST)')
    r = sub.add_parser('run', help='run them (on the GPU machine)')
    r.add_argument('--dir', required=True)
    r.add_argument('--cifar10', help='CIFAR-10 binary directory, for (b)')
    r.add_argument('--steps', type=int, default=30)
    r.add_argument('--warmup', type=int, default=5)
    r.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    build(args) if args.part == 'build' else run(args)


if __name__ == '__main__':
    main()
