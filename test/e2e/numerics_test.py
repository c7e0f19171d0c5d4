#!/usr/bin/env python3
"""train --check-numerics names the kernel and the DSL layer that first
produce a non-finite value; without it, a non-finite loss or gradient norm
stops the run and points to the flag.

  numerics_test.py --train TRAIN --model M.dsl

Runs TRAIN (built from M.dsl for the CPU or a GPU) at a learning rate of 1e30, which
overflows within a few steps, both ways, and checks exit status 3 and the
messages.
"""

import argparse
import re
import subprocess
import sys


def run(args, *flags):
    command = [args.train, '--steps=6', '--lr=1e30', '--progress=none',
               *flags]
    print(' '.join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout + result.stderr)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--train', required=True)
    parser.add_argument('--model', required=True)
    args = parser.parse_args()
    failures = []
    checked = run(args, '--check-numerics')
    pattern = (r'train: error: kernel rn_\w+ of (train|eval)_step \(layer '
               r'[^)]+ at [^)]*' + re.escape(args.model.split('/')[-1]) +
               r':\d+:\d+\) wrote -?(inf|nan) to element \d+ of its output '
               r'\d+ of \d+ at step \d+: training diverged and stopped')
    if checked.returncode != 3:
        failures.append(f'--check-numerics: exit {checked.returncode}, not 3')
    if not re.search(pattern, checked.stderr):
        failures.append('--check-numerics did not name the kernel and layer')
    plain = run(args)
    if plain.returncode != 3:
        failures.append(f'without the flag: exit {plain.returncode}, not 3')
    if not re.search(r"(the loss is|the gradients' norm is) -?(nan|inf) at "
                     r'step \d+: training diverged and stopped\..*rerun with '
                     r'--check-numerics', plain.stderr):
        failures.append('without the flag: no advice to use --check-numerics')
    for failure in failures:
        print('FAIL: ' + failure)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
