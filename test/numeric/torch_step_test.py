#!/usr/bin/env python3
"""resnetc's compiled training step against PyTorch's, on identical weights
and batches.

Builds the model with the step driver (test/numeric/StepDriver.cpp) in place
of the runtime and checks, in relative norm ||ours - torch|| / ||torch||:
  1. one step with the recipe's hyperparameters: the loss, every parameter's
     gradient and every variable after the step (parameters and BatchNorm
     running statistics) within --tolerance (1e-4);
  2. a trajectory of STEPS steps: every step's loss, and the evaluation loss
     after the last, within --loss-tolerance (1e-3).
A ReLU whose input lies within float32 rounding of zero may fall either way
in two correct implementations, and one such element moves the gradients
of every layer below it by about 1e-4. So the one-step reference follows
our ReLU decisions (read from a build with --no-memory-reuse, whose whole
arena survives the step), and a separate check shows that each decision
that differs from float64 PyTorch's is at an input within 1e-4 of the
layer's RMS of zero. That build must also give the same gradients, to the
bit, as the normal one (the memory plan changes no result).
A trajectory amplifies rounding wherever a ReLU changes side, so the test
also runs PyTorch in float64 as a control: if float32 PyTorch itself drifts
past the tolerance, the setup is chaotic and the test says so instead of
blaming either implementation.
The builds are --no-fusion, so each ReLU is an op of its own whose output
the test can read; compare_builds_test.py checks the fused step against this
one.
Prints one line per check and a closing `N passed, M failed` line.
"""

import argparse
import gzip
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import rn_torch  # noqa: E402


def relative(ours, theirs):
    theirs = np.asarray(theirs, dtype=np.float64)
    ours = np.asarray(ours, dtype=np.float64)
    norm = np.linalg.norm(theirs)
    diff = np.linalg.norm(ours - theirs)
    return diff / norm if norm > 0 else diff


def sensitivity(graph, values, images, labels, smoothing):
    """How far float64 gradients move when the weights move by a relative
    1e-7 (about float32 rounding): the best agreement two correct float32
    implementations can be expected to reach."""
    base = None
    worst = 0.0
    for seed in (0, 1, 2):
        generator = torch.Generator().manual_seed(seed)
        params = {}
        for k, v in values.items():
            if not graph.variables[k][1]:
                continue
            noise = torch.randn(v.shape, generator=generator,
                                dtype=torch.float64)
            scale = 1 + (1e-7 * noise if seed else 0 * noise)
            params[k] = (v.double() * scale).requires_grad_(True)
        state = {k: v.double() for k, v in values.items()
                 if not graph.variables[k][1]}
        logits = graph.forward(images.double(), {**params, **state},
                               training=True)
        F.cross_entropy(logits, labels.long(),
                        label_smoothing=smoothing).backward()
        grads = {k: p.grad.numpy() for k, p in params.items()}
        if base is None:
            base = grads
            continue
        worst = max(worst, max(relative(grads[k], base[k]) for k in base))
    return worst


def write(path, tensor, dtype=np.float32):
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor.detach().numpy().astype(dtype).tofile(path)


def read(path, shape):
    return np.fromfile(path, dtype=np.float32).reshape(shape)


def write_inputs(directory, graph, values, images, labels, lr, smoothing):
    for name, v in values.items():
        write(directory / 'variables' / f'{name}.bin', v)
    write(directory / 'images.bin', images)
    write(directory / 'labels.bin', labels, np.int32)
    r = graph.recipe
    (directory / 'params.txt').write_text(' '.join(str(x) for x in [
        lr, r['momentum'], r['weight_decay'], int(r['nesterov']),
        r['beta1'], r['beta2'], r['epsilon'], smoothing]) + '\n')


def run_driver(driver, inputs, outputs, steps):
    outputs.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(driver), str(inputs), str(outputs), str(steps)],
                   check=True)


def torch_steps(graph, values, images, labels, lr, smoothing, dtype,
                relu_masks=None):
    """PyTorch's losses, first-step gradients and first-step variables, and
    the evaluation loss on the first batch after the last step; the first
    step's ReLUs follow `relu_masks` when given."""
    params = {k: v.clone().to(dtype).requires_grad_(True)
              for k, v in values.items() if graph.variables[k][1]}
    state = {k: v.clone().to(dtype) for k, v in values.items()
             if not graph.variables[k][1]}
    everything = {**params, **state}
    opt = rn_torch.optimizer(graph, params, lr=lr)
    losses, grads, after_first = [], {}, {}
    for s in range(images.shape[0]):
        logits = graph.forward(images[s].to(dtype), everything, training=True,
                               relu_masks=relu_masks if s == 0 else None)
        loss = F.cross_entropy(logits, labels[s].long(),
                               label_smoothing=smoothing)
        opt.zero_grad()
        loss.backward()
        losses.append(loss.item())
        if s == 0:
            grads = {k: p.grad.clone() for k, p in params.items()}
        opt.step()
        if s == 0:
            after_first = {k: v.detach().clone() for k, v in everything.items()}
    with torch.no_grad():
        logits = graph.forward(images[0].to(dtype), everything, training=False)
        eval_loss = F.cross_entropy(logits, labels[0].long()).item()
    return losses, grads, after_first, eval_loss


def our_relu_outputs(resnetc, model, batch, arena_file):
    """The output of each ReLU of our training step, in graph order, read
    from the arena of a --no-memory-reuse build after its first step."""
    planned = subprocess.run([resnetc, model, '--emit=train', '--no-fusion',
                              '--no-memory-reuse', f'--batch={batch}'],
                             check=True, capture_output=True, text=True).stdout
    fixed = int(re.search(r'fixed_bytes = (\d+)', planned).group(1))
    train = planned[planned.index('@train_step'):].split('func.func')[0]
    arena = np.fromfile(arena_file, dtype=np.uint8)
    outputs = []
    for offset, dims in re.findall(
            r'= rn\.relu %\S+ \{rn\.slots = \[#rn\.slot<per_sample, (\d+)>\]\}'
            r' : tensor<([\dx]+)xf32>', train):
        shape = [int(d) for d in dims.split('x')]
        start = fixed + int(offset) * shape[0]
        data = arena[start:start + 4 * int(np.prod(shape))].view(np.float32)
        if len(shape) == 4:  # the arena holds NHWC
            n, c, h, w = shape
            data = data.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        outputs.append(torch.from_numpy(data.reshape(shape).copy()))
    return outputs


def relu_decisions(ours, graph, values, images):
    """(differing decisions, elements, the largest |input| / layer RMS at a
    differing decision) between our ReLUs and float64 PyTorch's."""
    inputs = []
    params = {k: v.double() for k, v in values.items()}
    with torch.no_grad():
        graph.forward(images.double(), params, training=True,
                      relu_inputs=inputs)
    differing, total, worst = 0, 0, 0.0
    for out, pre in zip(ours, inputs):
        flips = (out > 0) != (pre > 0)
        differing += int(flips.sum())
        total += pre.numel()
        if flips.any():
            rms = pre.pow(2).mean().sqrt()
            worst = max(worst, float(pre[flips].abs().max() / rms))
    return differing, total, worst


FASHION_MNIST = pathlib.Path('/usr/share/datasets/fashion-mnist')


def batches(args, classes, shape):
    """STEPS batches of real images: CIFAR-10 when the model reads 3x32x32
    images and the data set is at --cifar10, else Fashion-MNIST (Debian's
    dataset-fashion-mnist, which scripts/setup.sh installs), centred in the
    model's input and repeated over its channels. (Random images make the
    gradients ill-conditioned: they leave so many activations near zero
    that a 1e-7 change of the weights moves them by 1e-3.)"""
    n, c, h, w = shape
    count = args.steps * n
    cifar = pathlib.Path(args.cifar10) / 'data_batch_1.bin'
    if (c, h, w) == (3, 32, 32) and classes == 10 and cifar.exists():
        raw = np.fromfile(cifar, dtype=np.uint8).reshape(-1, 3073)[:count]
        images = torch.from_numpy(raw[:, 1:].astype(np.float32) / 255.0)
        images = images.reshape(count, 3, 32, 32)
        mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
        std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
        labels = torch.from_numpy(raw[:, 0].astype(np.int32))
        print(f'data: CIFAR-10 ({cifar})')
    else:
        with gzip.open(FASHION_MNIST / 'train-images-idx3-ubyte.gz') as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        with gzip.open(FASHION_MNIST / 'train-labels-idx1-ubyte.gz') as f:
            digits = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
        fashion = torch.from_numpy(
            raw[:count * 784].astype(np.float32) / 255.0).view(count, 1, 28, 28)
        if h < 28 or w < 28:
            raise SystemExit(f'Fashion-MNIST images do not fit a {h}x{w} input')
        top, left = (h - 28) // 2, (w - 28) // 2
        fashion = F.pad(fashion, (left, w - 28 - left, top, h - 28 - top))
        images = fashion.expand(count, c, h, w).contiguous()
        mean, std = 0.2860, 0.3530
        labels = torch.from_numpy(digits[:count].astype(np.int32) % classes)
        print(f'data: Fashion-MNIST ({FASHION_MNIST})')
    images = ((images - mean) / std).reshape(args.steps, n, c, h, w)
    return images, labels.reshape(args.steps, n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--driver', required=True,
                        help='libstepdriver.a')
    parser.add_argument('--model', required=True)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--label-smoothing', type=float, default=0.1)
    parser.add_argument('--trajectory-lr', type=float, default=0.0005)
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument('--loss-tolerance', type=float, default=1e-3)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--cifar10', default='',
                        help='CIFAR-10 binary directory (optional)')
    args = parser.parse_args()
    torch.set_num_threads(2)
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    smoothing = args.label_smoothing

    mlir = subprocess.run([args.resnetc, args.model, '--emit=mlir',
                           f'--batch={args.batch}'], check=True,
                          capture_output=True, text=True).stdout
    graph = rn_torch.Graph(mlir)
    generator = torch.Generator().manual_seed(0)
    values = graph.initial_values(generator)
    n, c, h, w = graph.input_shape
    images, labels = batches(args, graph.classes, (n, c, h, w))

    driver = work / 'stepdriver'
    env = dict(os.environ, RESNETC_RUNTIME=args.driver)
    subprocess.run([args.resnetc, args.model, f'--batch={args.batch}',
                    '--no-fusion', '-o', str(driver)], check=True, env=env)

    # 1. One step with the recipe's hyperparameters, by a normal build and
    # by one whose arena keeps every tensor.
    kept = work / 'stepdriver-no-reuse'
    subprocess.run([args.resnetc, args.model, f'--batch={args.batch}',
                    '--no-fusion', '--no-memory-reuse', '-o', str(kept)],
                   check=True, env=env)
    lr = graph.recipe['lr']
    write_inputs(work / 'step-in', graph, values, images[:1], labels[:1], lr,
                 smoothing)
    run_driver(driver, work / 'step-in', work / 'step-out', 1)
    subprocess.run([str(kept), str(work / 'step-in'),
                    str(work / 'step-kept'), '1'], check=True,
                   env=dict(os.environ, STEPDRIVER_DUMP_ARENA='1'))
    ours_relus = our_relu_outputs(args.resnetc, args.model, args.batch,
                                  work / 'step-kept' / 'arena.bin')
    masks = [out > 0 for out in ours_relus]
    losses, grads, after_first, _ = torch_steps(
        graph, values, images[:1], labels[:1], lr, smoothing, torch.float32,
        relu_masks=masks)
    out = work / 'step-out'
    checks = []  # (what, error, tolerance)
    ours_loss = float((out / 'losses.txt').read_text().split()[0])
    checks.append(('loss of one step', relative([ours_loss], [losses[0]]),
                   args.tolerance))
    for name, g in grads.items():
        ours = read(out / 'step1' / 'gradients' / f'{name}.bin', g.shape)
        checks.append((f'gradient {name}', relative(ours, g), args.tolerance))
    for name, v in after_first.items():
        ours = read(out / 'step1' / 'variables' / f'{name}.bin', v.shape)
        checks.append((f'after the step: {name}', relative(ours, v),
                       args.tolerance))
    changed = sum(
        (out / 'step1' / 'gradients' / f'{name}.bin').read_bytes() !=
        (work / 'step-kept' / 'step1' / 'gradients' / f'{name}.bin')
        .read_bytes() for name in grads)
    checks.append(('gradients that memory reuse changes (none may)',
                   changed, 0))
    differing, total, worst = relu_decisions(ours_relus, graph, values,
                                             images[0])
    print(f'ReLU decisions unlike float64 PyTorch\'s: {differing} of '
          f'{total}')
    checks.append(('largest |ReLU input| / layer RMS where our decision '
                   'differs from float64 PyTorch\'s', worst, 1e-4))
    checks.append(('control: float64 gradients under a 1e-7 change of the '
                   'weights (a larger change means the input is '
                   'ill-conditioned)',
                   sensitivity(graph, values, images[0], labels[0], smoothing),
                   args.tolerance / 4))

    # 2. A trajectory of --steps steps.
    lr = args.trajectory_lr
    write_inputs(work / 'run-in', graph, values, images, labels, lr, smoothing)
    run_driver(driver, work / 'run-in', work / 'run-out', args.steps)
    losses, _, _, eval_loss = torch_steps(graph, values, images, labels, lr,
                                          smoothing, torch.float32)
    control, _, _, control_eval = torch_steps(graph, values, images, labels,
                                              lr, smoothing, torch.float64)
    ours_losses = [float(x) for x in
                   (work / 'run-out' / 'losses.txt').read_text().split()]
    for s, (mine, theirs) in enumerate(zip(ours_losses, losses)):
        checks.append((f'loss of step {s + 1}', relative([mine], [theirs]),
                       args.loss_tolerance))
    ours_eval = float((work / 'run-out' / 'eval.txt').read_text().split()[0])
    checks.append(('evaluation loss after the last step',
                   relative([ours_eval], [eval_loss]), args.loss_tolerance))
    drift = max(relative([a], [b]) for a, b in zip(losses + [eval_loss],
                                                    control + [control_eval]))
    checks.append(('control: PyTorch float32 vs float64 on the trajectory '
                   '(a larger drift means the setup is chaotic)', drift,
                   args.loss_tolerance))

    failed = 0
    for what, error, tolerance in checks:
        ok = error <= tolerance
        failed += not ok
        print(f'{"ok  " if ok else "FAIL"} {error:.2e} <= {tolerance:.0e}  '
              f'{what}')
    print('trajectory losses (ours / torch): ' + ', '.join(
        f'{a:.4f}/{b:.4f}' for a, b in zip(ours_losses, losses)))
    print(f'torch-step: {len(checks) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
