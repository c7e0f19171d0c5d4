#!/usr/bin/env python3
"""End-to-end: compile a model with resnetc, train it with `train` on real
data, and check what its closing JSON line reports.

  train_test.py --resnetc RESNETC --model M.dsl --workdir DIR
                --min-accuracy 0.8 [--data DIR] [-- train flags...]

Checks that train exits 0, that its last line is a JSON object with the
documented keys, that the test accuracy reaches --min-accuracy and that
the mean training loss of the last logged steps is below that of the first
(read from metrics.jsonl). Exits 77 (skipped) when --data names a
directory that does not exist: data sets other than Fashion-MNIST are
optional.
"""

import argparse
import json
import pathlib
import subprocess
import sys

SKIPPED = 77


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--min-accuracy', type=float, required=True)
    parser.add_argument('--data', default='')
    parser.add_argument('train_flags', nargs='*')
    args = parser.parse_args()
    if args.data and not pathlib.Path(args.data).is_dir():
        print(f'skipped: no data set at {args.data}')
        return SKIPPED
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    program = work / 'train'
    subprocess.run([args.resnetc, args.model, '-o', str(program)], check=True)
    command = [str(program), '--progress=plain', f'--log-dir={work}',
               *args.train_flags]
    if args.data:
        command.append(f'--data={args.data}')
    print(' '.join(command), flush=True)
    run = subprocess.run(command, capture_output=True, text=True)
    print(run.stdout, run.stderr, sep='\n')
    failures = []
    if run.returncode != 0:
        failures.append(f'train exited with {run.returncode}')
    else:
        result = json.loads(run.stdout.strip().splitlines()[-1])
        for key in ('test_accuracy', 'test_loss', 'epochs', 'steps',
                    'images_per_s', 'train_seconds'):
            if key not in result:
                failures.append(f'the closing JSON line has no {key}')
        accuracy = result.get('test_accuracy', 0)
        if accuracy < args.min_accuracy:
            failures.append(f'test accuracy {accuracy:.4f} < '
                            f'{args.min_accuracy}')
        steps = [json.loads(line) for line in
                 (work / 'metrics.jsonl').read_text().splitlines()]
        losses = [s['loss'] for s in steps if s.get('type') == 'step']
        if len(losses) < 4:
            failures.append(f'metrics.jsonl has {len(losses)} step records')
        else:
            quarter = len(losses) // 4
            first = sum(losses[:quarter]) / quarter
            last = sum(losses[-quarter:]) / quarter
            print(f'mean step loss: first quarter {first:.4f}, last '
                  f'quarter {last:.4f}')
            if not last < first:
                failures.append('the training loss did not fall')
    for failure in failures:
        print('FAIL: ' + failure)
    print(f'train-e2e: {"failed" if failures else "passed"}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
