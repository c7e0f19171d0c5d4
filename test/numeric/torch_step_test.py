#!/usr/bin/env python3
"""resnetc's compiled training step against PyTorch's, on identical weights
and batches.

Builds the model with the step driver (test/numeric/StepDriver.cpp) in place
of the runtime, runs STEPS training steps with both, and checks, in relative
norm ||ours - torch|| / ||torch||:
  - the first step's loss, every parameter's gradient and every variable
    after it (parameters, optimizer state aside, BatchNorm running
    statistics) within --tolerance (1e-4);
  - the losses of all STEPS steps within --loss-tolerance (1e-3);
  - the evaluation loss after the last step within --loss-tolerance.
Prints one line per tensor and a closing `N passed, M failed` line.
"""

import argparse
import os
import pathlib
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


def initial_values(graph, generator):
    """Random, never zero: every value the step depends on is exercised."""
    values = {}
    for name, (shape, trainable) in graph.variables.items():
        if name.endswith('running_mean'):
            v = torch.empty(shape).uniform_(-0.1, 0.1, generator=generator)
        elif name.endswith('running_var'):
            v = torch.empty(shape).uniform_(0.5, 1.5, generator=generator)
        elif name.endswith('gamma'):
            v = torch.empty(shape).uniform_(0.5, 1.5, generator=generator)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            v = torch.randn(shape, generator=generator) * (2.0 / fan_in) ** 0.5
        else:  # biases, beta
            v = torch.empty(shape).uniform_(-0.1, 0.1, generator=generator)
        values[name] = v
    return values


def write(path, tensor, dtype=np.float32):
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor.detach().numpy().astype(dtype).tofile(path)


def read(path, shape):
    return np.fromfile(path, dtype=np.float32).reshape(shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--driver', required=True,
                        help='libstepdriver.a')
    parser.add_argument('--model', required=True)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--label-smoothing', type=float, default=0.1)
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument('--loss-tolerance', type=float, default=1e-3)
    parser.add_argument('--workdir', required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    mlir = subprocess.run([args.resnetc, args.model, '--emit=mlir',
                           f'--batch={args.batch}'], check=True,
                          capture_output=True, text=True).stdout
    graph = rn_torch.Graph(mlir)
    generator = torch.Generator().manual_seed(0)
    values = initial_values(graph, generator)
    n, c, h, w = graph.input_shape
    classes = graph.classes
    images = torch.randn((args.steps, n, c, h, w), generator=generator)
    labels = torch.randint(0, classes, (args.steps, n), generator=generator)

    # The step driver's inputs.
    inputs = work / 'in'
    for name, v in values.items():
        write(inputs / 'variables' / f'{name}.bin', v)
    write(inputs / 'images.bin', images)
    write(inputs / 'labels.bin', labels, np.int32)
    r = graph.recipe
    (inputs / 'params.txt').write_text(' '.join(str(x) for x in [
        r['lr'], r['momentum'], r['weight_decay'], int(r['nesterov']),
        r['beta1'], r['beta2'], r['epsilon'], args.label_smoothing]) + '\n')

    driver = work / 'stepdriver'
    env = dict(os.environ, RESNETC_RUNTIME=args.driver)
    subprocess.run([args.resnetc, args.model, f'--batch={args.batch}', '-o',
                    str(driver)], check=True, env=env)
    outputs = work / 'out'
    outputs.mkdir(exist_ok=True)
    subprocess.run([str(driver), str(inputs), str(outputs), str(args.steps)],
                   check=True)

    # The same steps in PyTorch.
    params = {k: v.clone().requires_grad_(True)
              for k, v in values.items() if graph.variables[k][1]}
    state = {k: v.clone() for k, v in values.items()
             if not graph.variables[k][1]}
    everything = {**params, **state}
    opt = rn_torch.optimizer(graph, params)
    losses, grads, after_first = [], {}, {}
    for s in range(args.steps):
        logits = graph.forward(images[s], everything, training=True)
        loss = F.cross_entropy(logits, labels[s].long(),
                               label_smoothing=args.label_smoothing)
        opt.zero_grad()
        loss.backward()
        losses.append(loss.item())
        if s == 0:
            grads = {k: p.grad.clone() for k, p in params.items()}
        opt.step()
        if s == 0:
            after_first = {k: v.detach().clone() for k, v in everything.items()}
    with torch.no_grad():
        eval_logits = graph.forward(images[0], everything, training=False)
        eval_loss = F.cross_entropy(eval_logits, labels[0].long()).item()

    checks = []  # (what, error, tolerance)
    ours_losses = [float(x) for x in (outputs / 'losses.txt').read_text().split()]
    checks.append(('loss of step 1', relative([ours_losses[0]], [losses[0]]),
                   args.tolerance))
    for name, g in grads.items():
        ours = read(outputs / 'step1' / 'gradients' / f'{name}.bin', g.shape)
        checks.append((f'gradient {name}', relative(ours, g), args.tolerance))
    for name, v in after_first.items():
        ours = read(outputs / 'step1' / 'variables' / f'{name}.bin', v.shape)
        checks.append((f'after step 1: {name}', relative(ours, v),
                       args.tolerance))
    for s, (mine, theirs) in enumerate(zip(ours_losses, losses)):
        checks.append((f'loss of step {s + 1}', relative([mine], [theirs]),
                       args.loss_tolerance))
    ours_eval = float((outputs / 'eval.txt').read_text().split()[0])
    checks.append(('evaluation loss after the last step',
                   relative([ours_eval], [eval_loss]), args.loss_tolerance))

    failed = 0
    for what, error, tolerance in checks:
        ok = error <= tolerance
        failed += not ok
        print(f'{"ok  " if ok else "FAIL"} {error:.2e} <= {tolerance:.0e}  '
              f'{what}')
    print(f'losses (ours / torch): ' + ', '.join(
        f'{a:.4f}/{b:.4f}' for a, b in zip(ours_losses, losses)))
    print(f'torch-step: {len(checks) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
