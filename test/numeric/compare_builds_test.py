#!/usr/bin/env python3
"""A model's training step built two ways, on identical weights and batch:
with rn-fuse-conv-bn-relu against --no-fusion, or for a GPU target
(--target=opencl) against the CPU.

Builds both with the step driver (test/numeric/StepDriver.cpp) and
--no-memory-reuse (so every tensor is still in the arena after the step)
and checks, in relative norm ||tested - reference|| / ||reference||, within
--tolerance: every ReLU's output, the loss of one step, every parameter's
gradient, every variable after the step (parameters and BatchNorm running
statistics); then the evaluation after it (BatchNorm folded into the convs
by prepare_eval where the build fuses): its loss within the tolerance and
the count of correct predictions equal.
The two builds round differently (they sum in other orders), so a ReLU
input within rounding of zero may fall on either side, or a max pool's two
largest elements swap, and one such element moves the gradients of every
layer below it by about 1e-5 to 1e-4. So the test takes batches in turn
until both builds make every ReLU decision and every max-pool pick alike
(checking on the way that each ReLU decision that differs is at an output
within the tolerance of its layer's RMS of zero, a tie), and compares the
gradients on that batch.
Prints one line per check and a closing `N passed, M failed` line.
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / 'Utils'))
import cuda_device  # noqa: E402
import rn_torch  # noqa: E402
from torch_step_test import Plan, batches, read, relative, run_driver, write_inputs  # noqa: E402


# The ops whose output is a ReLU's, in either build: rn.relu, and the fused
# ops with relu = true. Each is printed on one line; its first result is the
# ReLU's output.
RELU_OUTPUT = re.compile(
    r'= rn\.(relu %|batch_norm_apply .*relu = true|conv2d_stats .*relu = true)'
    r'.*?rn\.slots = \[#rn\.slot<per_sample, (\d+)>.*?'
    r'(?:-> \(|: )tensor<([\dx]+)xf32>')


def relu_outputs(resnetc, flags, model, batch, arena_file):
    """Each ReLU's output after the first step, in graph order, from the
    arena of a --no-memory-reuse build with `flags` (in its NHWC layout:
    every build lays activations out alike, at the offsets of its plan)."""
    planned = subprocess.run(
        [resnetc, model, '--emit=train', '--no-memory-reuse',
         f'--batch={batch}'] + flags,
        check=True, capture_output=True, text=True).stdout
    fixed = int(re.search(r'fixed_bytes = (\d+)', planned).group(1))
    train = planned[planned.index('@train_step'):].split('func.func')[0]
    arena = np.fromfile(arena_file, dtype=np.uint8)
    outputs = []
    for line in train.splitlines():
        match = RELU_OUTPUT.search(line)
        if not match:
            continue
        shape = [int(d) for d in match.group(3).split('x')]
        start = fixed + int(match.group(2)) * shape[0]
        outputs.append(arena[start:start + 4 * int(np.prod(shape))]
                       .view(np.float32).astype(np.float64))
    return outputs


def max_pool_picks_that_differ(graph, plans, outputs):
    """Windows of the step's max pools whose maximum the two builds find at
    different elements (a near-tie), from their arenas after the step."""
    tensors = {build: {op: plans[build].op_tensors(
        np.fromfile(outputs[build] / 'arena.bin', dtype=np.uint8), op)
        for op in rn_torch.MAX_POOLS} for build in plans}
    differ = 0
    for op in rn_torch.MAX_POOLS:
        for attrs, (tested, _), (reference, _) in zip(
                graph.attributes(op), tensors['tested'][op],
                tensors['reference'][op]):
            differ += int((rn_torch.argmax(op, tested, attrs) !=
                           rn_torch.argmax(op, reference, attrs)).sum())
    return differ


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--driver', required=True, help='libstepdriver.a')
    parser.add_argument('--model', required=True)
    parser.add_argument('--tested', default='',
                        help='resnetc flags of the build under test')
    parser.add_argument('--reference', default='',
                        help='resnetc flags of the reference build')
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--tolerance', type=float, default=1e-5)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--cifar10', default='',
                        help='CIFAR-10 binary directory (optional)')
    # The pre-activation ResNet-18 at batch 16 ties 1-5 ReLUs on most
    # batches (each within 4e-6 of its layer's RMS of zero); with the
    # Winograd kernels reading through the padding, batch 10 was the first
    # without a tie.
    parser.add_argument('--max-batches', type=int, default=16,
                        help='batches to try for one without ReLU ties')
    parser.add_argument('--requires-cuda', action='store_true',
                        help='skip (exit 77) where no NVIDIA GPU can run')
    args = parser.parse_args()
    if args.requires_cuda and not cuda_device.available():
        print('skipped: no NVIDIA GPU and driver here')
        return 77
    args.steps = args.max_batches
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    mlir = subprocess.run([args.resnetc, args.model, '--emit=mlir',
                           f'--batch={args.batch}'], check=True,
                          capture_output=True, text=True).stdout
    graph = rn_torch.Graph(mlir)
    values = graph.initial_values(torch.Generator().manual_seed(0))
    images, labels = batches(args, graph.classes, graph.input_shape)

    env = dict(os.environ, RESNETC_RUNTIME=args.driver)
    builds = {'tested': args.tested.split(),
              'reference': args.reference.split()}
    for build, flags in builds.items():
        subprocess.run([args.resnetc, args.model, f'--batch={args.batch}',
                        '--no-memory-reuse', '-o',
                        str(work / f'stepdriver-{build}')] + flags,
                       check=True, env=env)

    plans = {build: Plan(args.resnetc, args.model, args.batch, flags)
             for build, flags in builds.items()}
    checks = []  # (what, error, tolerance)
    for attempt in range(args.max_batches):
        inputs = work / f'in-{attempt}'
        write_inputs(inputs, graph, values, images[attempt:attempt + 1],
                     labels[attempt:attempt + 1], graph.recipe['lr'], 0.1)
        outputs, relus = {}, {}
        for build, flags in builds.items():
            outputs[build] = work / f'out-{attempt}-{build}'
            outputs[build].mkdir(parents=True, exist_ok=True)
            subprocess.run([str(work / f'stepdriver-{build}'), str(inputs),
                            str(outputs[build]), '1'], check=True,
                           env=dict(os.environ, STEPDRIVER_DUMP_ARENA='1'))
            relus[build] = relu_outputs(args.resnetc, flags, args.model,
                                        args.batch,
                                        outputs[build] / 'arena.bin')
        if len(relus['tested']) != len(relus['reference']):
            raise SystemExit(f'{len(relus["tested"])} ReLUs in the tested '
                             f'step, {len(relus["reference"])} in the '
                             'reference')
        ties, worst = 0, 0.0
        for layer, (ours, theirs) in enumerate(zip(relus['tested'],
                                                   relus['reference'])):
            checks.append((f'batch {attempt}: ReLU {layer} output',
                           relative(ours, theirs), args.tolerance))
            rms = np.sqrt(np.mean(theirs ** 2))
            differ = (ours > 0) != (theirs > 0)
            ties += int(differ.sum())
            if differ.any():
                worst = max(worst, np.maximum(np.abs(ours), np.abs(theirs))
                            [differ].max() / rms)
        checks.append((f'batch {attempt}: largest |ReLU output| / layer RMS '
                       f'where the builds decide differently', worst,
                       args.tolerance))
        picks = max_pool_picks_that_differ(graph, plans, outputs)
        print(f'batch {attempt}: {ties} ReLU decisions and {picks} max-pool '
              'picks differ')
        if ties == 0 and picks == 0:
            break
    else:
        checks.append(('a batch on which both builds decide every ReLU '
                       'and max pool alike', 1, 0))
    tested, reference = outputs['tested'], outputs['reference']

    loss = [float((d / 'losses.txt').read_text().split()[0])
            for d in (tested, reference)]
    checks.append(('loss of one step', relative([loss[0]], [loss[1]]),
                   args.tolerance))
    for kind in ('gradients', 'variables'):
        for path in sorted((reference / 'step1' / kind).glob('*.bin')):
            theirs = read(path, (-1,))
            ours = read(tested / 'step1' / kind / path.name, (-1,))
            checks.append((f'{kind}: {path.stem}', relative(ours, theirs),
                           args.tolerance))
    evals = [(d / 'eval.txt').read_text().split()
             for d in (tested, reference)]
    checks.append(('evaluation loss after the step',
                   relative([float(evals[0][0])], [float(evals[1][0])]),
                   args.tolerance))
    checks.append(('evaluation: correct predictions that differ',
                   abs(int(evals[0][1]) - int(evals[1][1])), 0))

    failed = 0
    for what, error, tolerance in checks:
        ok = error <= tolerance
        failed += not ok
        print(f'{"ok  " if ok else "FAIL"} {what}: {error:.3g} '
              f'(tolerance {tolerance:g})')
    print(f'{len(checks) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
