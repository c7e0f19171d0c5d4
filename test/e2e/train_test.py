#!/usr/bin/env python3
"""End-to-end: compile a model with resnetc, train it with `train` on real
data, and check what its closing JSON line reports.

  train_test.py --resnetc RESNETC --model M.dsl --workdir DIR
                --min-accuracy 0.8 [--data DIR] [--target=T]
                [-- train flags...]

Checks that train exits 0, that its last line is a JSON object with the
documented keys, that the test accuracy reaches --min-accuracy and that
the mean training loss of the last logged steps is below that of the first
(read from metrics.jsonl). With --classify, train also saves a checkpoint,
and `classify` (resnetc --mode=infer: BatchNorm folded into the convs)
must count the same correct test images as train's evaluation did. With
--target, both are built for it (resnetc --target: opencl runs the GPU
build on pocl).
Exits 77 (skipped) when --data names a
directory that does not exist: data sets other than Fashion-MNIST are
optional.
"""

import argparse
import json
import pathlib
import subprocess
import sys

SKIPPED = 77


def classify(args, work, checkpoint, trained):
    """Failures of `classify` on train's checkpoint."""
    program = work / 'classify'
    subprocess.run([args.resnetc, '--mode=infer', args.model,
                    f'--target={args.target}', '-o', str(program)], check=True)
    command = [str(program), f'--checkpoint={checkpoint}']
    if args.data:
        command.append(f'--data={args.data}')
    print(' '.join(command), flush=True)
    run = subprocess.run(command, capture_output=True, text=True)
    print(run.stdout, run.stderr, sep='\n')
    if run.returncode != 0:
        return [f'classify exited with {run.returncode}']
    result = json.loads(run.stdout.strip().splitlines()[-1])
    trained_correct = round(trained['test_accuracy'] * result['images'])
    print(f'correct test images: train {trained_correct}, classify '
          f'{result["correct"]} of {result["images"]}')
    if result['correct'] != trained_correct:
        return [f'classify counts {result["correct"]} correct images, '
                f'train\'s evaluation {trained_correct}']
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--min-accuracy', type=float, required=True)
    parser.add_argument('--data', default='')
    parser.add_argument('--classify', action='store_true')
    parser.add_argument('--target', default='cpu',
                        help="resnetc's --target for train and classify")
    parser.add_argument('train_flags', nargs='*')
    args = parser.parse_args()
    if args.data and not pathlib.Path(args.data).is_dir():
        print(f'skipped: no data set at {args.data}')
        return SKIPPED
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    program = work / 'train'
    subprocess.run([args.resnetc, args.model, f'--target={args.target}', '-o',
                    str(program)], check=True)
    checkpoint = work / 'model.ckpt'
    command = [str(program), '--progress=plain', f'--log-dir={work}',
               *args.train_flags]
    if args.classify:
        command.append(f'--checkpoint={checkpoint}')
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
        if args.classify:
            failures += classify(args, work, checkpoint, result)
    for failure in failures:
        print('FAIL: ' + failure)
    print(f'train-e2e: {"failed" if failures else "passed"}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
