#!/usr/bin/env python3
"""resnetc's compile time for each model: the wall time of the whole
command, cold (an empty kernel cache) and again from the cache (the model
unchanged). `resnetc --time-report` says where one compile's time goes.

  python3 bench/compile_times.py                  # every examples/*.dsl
  python3 bench/compile_times.py examples/resnet20_cifar10.dsl

Issue 13's targets: a cold compile of ResNet-20 within 60 s on a 2-core
machine, a recompile from the cache within 3 s. Each cold compile gets a
fresh --cache-dir; the programs go to a temporary directory.
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def compile_once(resnetc, model, cache, out):
    """(wall seconds, the kernels line resnetc printed)."""
    start = time.monotonic()
    run = subprocess.run([resnetc, str(model), '-o', str(out),
                          f'--cache-dir={cache}'],
                         capture_output=True, text=True)
    wall = time.monotonic() - start
    if run.returncode != 0:
        sys.exit(f'{model}: resnetc failed:\n{run.stderr}')
    kernels = re.search(r'\d+ kernels \(\d+ cached\)', run.stderr)
    return wall, kernels.group(0) if kernels else ''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('models', nargs='*', metavar='MODEL.dsl',
                        help='models to compile (default: examples/*.dsl)')
    parser.add_argument('--resnetc', default=str(ROOT / 'build' / 'bin' /
                                                 'resnetc'),
                        help='the compiler (default: build/bin/resnetc)')
    args = parser.parse_args()
    models = [pathlib.Path(m) for m in args.models] or sorted(
        (ROOT / 'examples').glob('*.dsl'))
    print(f'{"model":34} {"cold s":>7} {"cached s":>9}  kernels')
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            cache = pathlib.Path(tmp) / f'cache-{model.stem}'
            out = pathlib.Path(tmp) / model.stem
            cold, kernels = compile_once(args.resnetc, model, cache, out)
            cached, again = compile_once(args.resnetc, model, cache, out)
            print(f'{model.stem:34} {cold:7.1f} {cached:9.2f}  {kernels}; '
                  f'then {again}', flush=True)


if __name__ == '__main__':
    main()
