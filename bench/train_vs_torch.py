#!/usr/bin/env python3
"""Training throughput of a resnetc program against PyTorch on the same
model, recipe, batch and thread count, in one alternating run.

For each model: builds it with resnetc, then ROUNDS times runs
`train --benchmark` (synthetic data of the model's input shape) and the
same training step in PyTorch (the graph of `resnetc --emit=mlir`, run by
test/numeric/rn_torch.py, with the recipe's optimizer, float32, CPU), one
after the other so both see the same machine state. Prints each round and,
per model, the median images/s of both and their ratio (ours / PyTorch).

  /usr/bin/python3 bench/train_vs_torch.py --resnetc build/bin/resnetc \\
      examples/resnet20_cifar10.dsl:128 examples/fashion_mnist_resnet.dsl:128

PyTorch is python3-torch from Debian (for /usr/bin/python3), the test
oracle; it is never part of a resnetc program.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent /
                       'test' / 'numeric'))
import rn_torch  # noqa: E402


def ours(program, steps, warmup, batch, threads):
    out = subprocess.run([str(program), '--benchmark', f'--steps={steps}',
                          f'--warmup={warmup}', f'--batch={batch}',
                          f'--threads={threads}'], check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result['images_per_s'], result['step_ms_median']


class TorchStep:
    """One training step of the model in PyTorch, on a fixed random batch."""

    def __init__(self, mlir, batch):
        self.graph = rn_torch.Graph(mlir)
        generator = torch.Generator().manual_seed(0)
        values = self.graph.initial_values(generator)
        self.params = {k: v.requires_grad_(True) for k, v in values.items()
                       if self.graph.variables[k][1]}
        self.state = {k: v for k, v in values.items()
                      if not self.graph.variables[k][1]}
        _, c, h, w = self.graph.input_shape
        self.images = torch.randn((batch, c, h, w), generator=generator)
        self.labels = torch.randint(0, self.graph.classes, (batch,),
                                    generator=generator)
        self.optimizer = rn_torch.optimizer(self.graph, self.params)
        self.smoothing = self.graph.recipe.get('label_smoothing', 0.0)

    def step(self):
        logits = self.graph.forward(self.images, {**self.params, **self.state},
                                    training=True)
        loss = F.cross_entropy(logits, self.labels,
                               label_smoothing=self.smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


def theirs(step, steps, warmup, batch):
    for _ in range(warmup):
        step.step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step.step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return batch / median, median * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('models', nargs='+', metavar='MODEL.dsl:BATCH')
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f'PyTorch {torch.__version__}, {args.threads} threads, '
          f'{args.steps} timed steps after {args.warmup}, '
          f'{args.rounds} alternating rounds')
    summary = []
    with tempfile.TemporaryDirectory() as work:
        for spec in args.models:
            model, batch = spec.rsplit(':', 1)
            batch = int(batch)
            name = pathlib.Path(model).stem
            program = pathlib.Path(work) / name
            subprocess.run([args.resnetc, model, f'--batch={batch}', '-o',
                            str(program)], check=True)
            mlir = subprocess.run([args.resnetc, model, '--emit=mlir',
                                   f'--batch={batch}'], check=True,
                                  capture_output=True, text=True).stdout
            step = TorchStep(mlir, batch)
            mine, yours = [], []
            for r in range(args.rounds):
                a, a_ms = ours(program, args.steps, args.warmup, batch,
                               args.threads)
                b, b_ms = theirs(step, args.steps, args.warmup, batch)
                mine.append(a)
                yours.append(b)
                print(f'{name} batch {batch} round {r + 1}: resnetc '
                      f'{a:.0f} img/s ({a_ms:.1f} ms/step), PyTorch '
                      f'{b:.0f} img/s ({b_ms:.1f} ms/step)', flush=True)
            a, b = statistics.median(mine), statistics.median(yours)
            summary.append((name, batch, a, b))
    print()
    print(f'{"model":<28} {"batch":>5} {"resnetc img/s":>14} '
          f'{"PyTorch img/s":>14} {"ratio":>6}')
    for name, batch, a, b in summary:
        print(f'{name:<28} {batch:>5} {a:>14.0f} {b:>14.0f} {a / b:>6.2f}')


if __name__ == '__main__':
    main()
