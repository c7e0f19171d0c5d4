#!/usr/bin/env python3
"""GPU programs where their device cannot be had: each fails at start with
one line that names the cause and what to do, and exit status 1.

  device_errors_test.py --resnetc RESNETC --model M.dsl --workdir DIR

Cases: a --target=cuda train on this machine (no NVIDIA driver), a
--target=opencl train with no OpenCL platform (OCL_ICD_VENDORS pointed at
an empty directory), one whose arena exceeds what the OpenCL device
allocates at once, and --gpu naming a device that does not exist. Then
`--device` of the OpenCL build names the device and exits 0.
"""

import argparse
import os
import pathlib
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--workdir', required=True)
    args = parser.parse_args()
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    (work / 'no-vendors').mkdir(exist_ok=True)
    programs = {}
    for target in ('cuda', 'opencl'):
        programs[target] = str(work / f'train-{target}')
        subprocess.run([args.resnetc, args.model, f'--target={target}', '-o',
                        programs[target]], check=True)

    cases = [
        ('no NVIDIA driver', [programs['cuda'], '--benchmark'], {},
         'no NVIDIA driver (libcuda.so.1 is missing)'),
        ('--device without an NVIDIA driver', [programs['cuda'], '--device'],
         {}, 'rebuild it with resnetc --target=cpu'),
        ('no OpenCL platform', [programs['opencl'], '--benchmark'],
         {'OCL_ICD_VENDORS': str(work / 'no-vendors')},
         'no OpenCL platform is installed; install pocl-opencl-icd'),
        ('an arena larger than the device allocates',
         [programs['opencl'], '--benchmark', '--batch=1000000'], {},
         'use a smaller --batch'),
        ('a GPU that does not exist', [programs['opencl'], '--benchmark',
                                       '--gpu=7'], {},
         '--gpu=7, but the OpenCL platform has'),
    ]
    failures = 0
    for name, command, env, expected in cases:
        run = subprocess.run(command, capture_output=True, text=True,
                             env=dict(os.environ, **env))
        lines = run.stderr.strip().splitlines()
        ok = (run.returncode == 1 and len(lines) == 1 and
              lines[0].startswith('train: error: ') and expected in lines[0])
        failures += not ok
        print(f'{"ok  " if ok else "FAIL"} {name}: exit {run.returncode}, '
              f'{run.stderr.strip()!r}')
    run = subprocess.run([programs['opencl'], '--device'],
                         capture_output=True, text=True)
    ok = run.returncode == 0 and run.stdout.startswith('device: ') and \
        '(OpenCL, ' in run.stdout
    failures += not ok
    print(f'{"ok  " if ok else "FAIL"} --device: {run.stdout.strip()!r}')
    print(f'{len(cases) + 1 - failures} passed, {failures} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
