#!/usr/bin/env python3
"""rn-fuse-conv-bn-relu measured: each model fused against --no-fusion, in
one alternating run.

For each MODEL:BATCH, prints per step, unfused and fused:
  - kernel calls and bytes moved (every tensor each kernel call reads or
    writes, from the memory plan: `resnetc --fusion-report`), for the
    training step and the evaluation step;
  - training images/s: `train --benchmark` (synthetic data), ROUNDS times,
    the two builds one after the other so both see the same machine;
  - inference images/s: `classify --benchmark` of --mode=infer builds
    (BatchNorm folded), the same way.
and the ratios fused / unfused of the medians.

  python3 bench/fusion.py --resnetc build/bin/resnetc \\
      examples/resnet20_cifar10.dsl:128 examples/resnet18_cifar10.dsl:128
"""

import argparse
import json
import pathlib
import re
import statistics
import subprocess
import tempfile


def fusion_report(resnetc, model, batch):
    """{step: (kernels unfused, kernels fused, MiB unfused, MiB fused)}."""
    out = subprocess.run([resnetc, model, '--fusion-report',
                          f'--batch={batch}'], check=True,
                         capture_output=True, text=True).stdout
    rows = {}
    for name, *numbers in re.findall(
            r'^\s+(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)$', out, re.M):
        rows[name] = (int(numbers[0]), int(numbers[1]), float(numbers[2]),
                      float(numbers[3]))
    return rows


def images_per_second(program, args, batch):
    out = subprocess.run([str(program), '--benchmark', f'--steps={args.steps}',
                          f'--warmup={args.warmup}', f'--batch={batch}',
                          f'--threads={args.threads}'], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])['images_per_s']


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('models', nargs='+', metavar='MODEL.dsl:BATCH')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        work = pathlib.Path(scratch)
        results = []
        for spec in args.models:
            model, batch = spec.rsplit(':', 1)
            name = pathlib.Path(model).stem
            report = fusion_report(args.resnetc, model, batch)
            programs = {}
            for mode in ('train', 'infer'):
                for fused in (False, True):
                    path = work / f'{name}-{mode}-{"fused" if fused else "unfused"}'
                    subprocess.run(
                        [args.resnetc, model, f'--mode={mode}',
                         f'--batch={batch}', '-o', str(path)] +
                        ([] if fused else ['--no-fusion']),
                        check=True, capture_output=True)
                    programs[mode, fused] = path
            speed = {key: [] for key in programs}
            for round in range(args.rounds):
                for key, program in programs.items():
                    speed[key].append(images_per_second(program, args,
                                                        int(batch)))
                print(f'{name} round {round + 1}: ' + ', '.join(
                    f'{mode} {"fused" if fused else "unfused"} '
                    f'{speed[mode, fused][-1]:.0f}'
                    for mode, fused in programs), flush=True)
            results.append((name, batch, report,
                            {k: statistics.median(v) for k, v in speed.items()}))

    print()
    print(f'{"model":18} {"batch":>5}  {"":10} {"unfused":>9} {"fused":>9}'
          f' {"fused/unfused":>14}')
    for name, batch, report, median in results:
        rows = [
            ('train kernels', *report['train_step'][:2]),
            ('train MiB', *report['train_step'][2:]),
            ('train img/s', median['train', False], median['train', True]),
            ('eval kernels', *report['eval_step'][:2]),
            ('eval MiB', *report['eval_step'][2:]),
            ('infer img/s', median['infer', False], median['infer', True]),
        ]
        for what, unfused, fused in rows:
            print(f'{name:18} {batch:>5}  {what:14} {unfused:>9.0f} '
                  f'{fused:>9.0f} {fused / unfused:>10.2f}x')
    print(f'(prepare_eval, once per evaluation: {report["prepare_eval"][1]} '
          f'kernels, {report["prepare_eval"][3]:.0f} MiB, last model)')


if __name__ == '__main__':
    main()
