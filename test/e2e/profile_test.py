#!/usr/bin/env python3
"""train --profile: every kernel call of train_step, timed.

  profile_test.py --resnetc RESNETC --model M.dsl --workdir DIR

Builds the model for the CPU and checks that `train --benchmark --profile`
prints, before its JSON line, a table by kernel family and one row per
kernel call of train_step (as many as the program's kernels per training
step), each with its kernel and DSL layer, GFLOP/s for the convolutions and
dense layers only, shares that add up to the time the step spends in
kernels, and times that add up to the step's; that a training run prints
it too, and `classify --benchmark --profile` one of eval_step; and that a
GPU build (OpenCL) refuses the flag, saying why.
Prints one line per check and exits 1 if any failed.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys

HEADER = re.compile(r'profile of \w+: (\d+) calls of [\d.]+ images on '
                    r'average, ([\d.]+) ms per call, ([\d.]+)% of it in its '
                    r'(\d+) kernel calls')
FAMILY = re.compile(r'^\s+([\d.]+)% +([\d.]+) +(\S+) +(\d+)  (\w+)$')
CALL = re.compile(r'^\s+([\d.]+)% +([\d.]+) +(\S+) +([\d.]+) +([\d.]+)  '
                  r'(rn_\w+) \((.+) at (.+)\)$')


def profile(lines):
    """The header's numbers, the family rows and the call rows."""
    for i, line in enumerate(lines):
        if match := HEADER.match(line):
            families = [FAMILY.match(l) for l in lines[i + 2:]]
            families = families[:families.index(None)]
            start = i + 3 + len(families)
            calls = [CALL.match(l) for l in lines[start:]]
            calls = calls[:calls.index(None)] if None in calls else calls
            return match, families, calls
    return None, [], []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--workdir', required=True)
    args = parser.parse_args()
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    checks = []

    def check(what, ok):
        checks.append(ok)
        print(f'{"ok  " if ok else "FAIL"} {what}')

    train = work / 'train'
    subprocess.run([args.resnetc, args.model, '-o', str(train)], check=True)
    run = subprocess.run([str(train), '--benchmark', '--profile', '--steps=3',
                          '--warmup=1', '--batch=16', '--progress=none'],
                         capture_output=True, text=True)
    print(run.stdout, run.stderr, sep='\n')
    check('train --benchmark --profile exits 0', run.returncode == 0)
    lines = run.stdout.splitlines()
    result = json.loads(lines[-1]) if lines else {}
    kernels = result.get('kernels_per_step', -1)
    header, families, calls = profile(lines)
    check('a profile of train_step is printed', header is not None)
    if header:
        check('it covers the 3 timed steps', int(header.group(1)) == 3)
        check(f'one row per kernel call ({kernels})',
              len(calls) == kernels == int(header.group(4)))
        check('the families count every call once',
              sum(int(f.group(4)) for f in families) == kernels)
        total = sum(float(c.group(1)) for c in calls)
        check(f'the calls\' shares ({total:.1f}%) add up to the share in '
              f'kernels ({header.group(3)}%)',
              abs(total - float(header.group(3))) < 0.05 * len(calls) + 1)
        per_call = sum(float(c.group(2)) for c in calls)
        check(f'their times ({per_call:.2f} ms) are within the step\'s '
              f'({header.group(2)} ms)',
              per_call <= float(header.group(2)) * 1.001 + 0.01 * len(calls))
        arithmetic = ('conv2d', 'dense')
        check('GFLOP/s for the convolutions and dense layers, not for the '
              'others', all((c.group(3) != '-') ==
                            any(a in c.group(6) for a in arithmetic)
                            for c in calls))
        check('every row names its layer and where it is written',
              all(c.group(7) != '?' and re.search(r':\d+:\d+$', c.group(8))
                  for c in calls))
        check('slowest first', [float(c.group(2)) for c in calls] ==
              sorted((float(c.group(2)) for c in calls), reverse=True))
    check('the JSON result is still the last line',
          result.get('images_per_s', 0) > 0)

    run = subprocess.run([str(train), '--profile', '--steps=4',
                          '--progress=none', '--batch=32'],
                         capture_output=True, text=True)
    check('a training run prints it too', run.returncode == 0 and
          profile(run.stdout.splitlines())[0] is not None)

    classify = work / 'classify'
    subprocess.run([args.resnetc, '--mode=infer', args.model, '-o',
                    str(classify)], check=True)
    run = subprocess.run([str(classify), '--benchmark', '--profile',
                          '--steps=3', '--warmup=1', '--batch=16',
                          '--progress=none'], capture_output=True, text=True)
    lines = run.stdout.splitlines()
    header, _, calls = profile(lines)
    evals = json.loads(lines[-1]).get('kernels_per_step', -1) if lines else -1
    check(f'classify --benchmark --profile: one row per kernel call of '
          f'eval_step ({evals})', run.returncode == 0 and header is not None
          and 'eval_step' in header.group(0) and len(calls) == evals)
    run = subprocess.run([str(classify), '--profile'], capture_output=True,
                         text=True)
    check('classify --profile without --benchmark is refused',
          run.returncode == 2 and 'add --benchmark' in run.stderr)

    gpu = work / 'train-opencl'
    subprocess.run([args.resnetc, args.model, '--target=opencl', '-o',
                    str(gpu)], check=True)
    run = subprocess.run([str(gpu), '--profile', '--steps=1'],
                         capture_output=True, text=True)
    print(run.stderr)
    check('a GPU build refuses --profile, saying why',
          run.returncode == 2 and 'a GPU build queues its kernels' in
          run.stderr)

    failed = checks.count(False)
    print(f'profile: {len(checks) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
