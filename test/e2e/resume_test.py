#!/usr/bin/env python3
"""Exact resume of a compiled model, and checkpoints that survive kill -9.

  resume_test.py --resnetc RESNETC --model M.dsl --workdir DIR
                 [--shrink] [--kill-trials N] [--seed S] [-- train flags...]

On a small synthetic data set in the model's own format (CIFAR-10 or
CIFAR-100 binaries, written here), with the model's recipe:
  1. trains --steps uninterrupted, saving a checkpoint at the end;
  2. trains again, sends SIGTERM after a random step inside an epoch, and
     expects exit status 143 and a checkpoint;
  3. resumes from that checkpoint to the same end;
and requires the two final checkpoints to be the same bytes: every
variable (weights, BatchNorm running statistics, optimizer slots) and the
run's position, bit for bit. Then (--kill-trials) it starts runs that
checkpoint after every step and kills them with SIGKILL at random moments,
most inside a checkpoint write, and requires the checkpoint file to be
whole (magic, version, CRC-32, structure) after every kill, and the last
one to resume.

--shrink divides the model's widths (the seed 002 model's 128..1024
filters and 4096-unit dense layers) so that CI trains it in seconds; its
structure (DropBlock, dropout, BatchNorm, Adam, the step schedule) stays.
"""

import argparse
import os
import pathlib
import random
import re
import signal
import struct
import subprocess
import sys
import time
import zlib

IMAGES_TRAIN, IMAGES_TEST = 640, 128


def write_cifar(directory, classes):
    """Random CIFAR-10 or CIFAR-100 binaries whose labels depend on the
    images' mean colour (so the model has something to learn)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1)

    def records(count):
        out = bytearray()
        for _ in range(count):
            label = rng.randrange(classes)
            base = 40 + (200 * label) // classes
            pixels = bytes(min(255, max(0, base + rng.randrange(-40, 41)))
                           for _ in range(3072))
            # CIFAR-100 records carry a coarse label before the fine one.
            out += bytes([label] if classes == 10 else [label // 5, label])
            out += pixels
        return bytes(out)

    if classes == 10:
        per_file = IMAGES_TRAIN // 5
        for i in range(1, 6):
            (directory / f'data_batch_{i}.bin').write_bytes(records(per_file))
        (directory / 'test_batch.bin').write_bytes(records(IMAGES_TEST))
    else:
        (directory / 'train.bin').write_bytes(records(IMAGES_TRAIN))
        (directory / 'test.bin').write_bytes(records(IMAGES_TEST))


def read_checkpoint(path):
    """Parses a checkpoint (runtime/include/resnetrt/Checkpoint.h, version
    3) independently of the runtime; raises ValueError if it is not whole."""
    data = pathlib.Path(path).read_bytes()
    if len(data) < 16 or data[:8] != b'RNCKPT\0\0':
        raise ValueError('bad magic')
    body, (crc,) = data[:-4], struct.unpack('<I', data[-4:])
    if zlib.crc32(body) != crc:
        raise ValueError('checksum mismatch')
    pos = 8

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from('<' + fmt, body, pos)
        pos += struct.calcsize('<' + fmt)
        return values

    def text():
        nonlocal pos
        (size,) = take('I')
        value = body[pos:pos + size].decode()
        pos += size
        return value

    (version,) = take('I')
    if version != 3:
        raise ValueError(f'version {version}')
    header = {'model': text(), 'optimizer': text(), 'target': text(),
              'fingerprint': text()}
    (flags,) = take('I')
    header['flags'] = dict((text(), text()) for _ in range(flags))
    header['step'], header['epoch'], header['batch_in_epoch'] = take('qqq')
    take('dqqd')
    # The callbacks' state, as bytes: equal runs have equal bytes (a NaN
    # "no best yet" included).
    callbacks = struct.calcsize('<dqqBdqqd')
    header['callbacks'] = body[pos:pos + callbacks]
    pos += callbacks
    (count,) = take('I')
    variables = {}
    for _ in range(count):
        name = text()
        _, rank = take('ii')
        shape = take('q' * rank)
        size = 4
        for extent in shape:
            size *= extent
        variables[name] = body[pos:pos + size]
        pos += size
    (best,) = take('I')  # early stopping's best weights
    for _ in range(best):
        name = text()
        variables['best:' + name] = body[pos:pos + len(variables[name])]
        pos += len(variables[name])
    if pos != len(body):
        raise ValueError(f'{len(body) - pos} bytes left over')
    return header, variables


def differences(left, right):
    """What differs between two checkpoints, for the failure message."""
    (head_a, vars_a), (head_b, vars_b) = left, right
    found = [f'{key}: {head_a[key]} vs {head_b[key]}' for key in head_a
             if head_a[key] != head_b[key]]
    for name in vars_a:
        a, b = vars_a[name], vars_b.get(name)
        if a != b:
            count = len(a) // 4
            xs = struct.unpack(f'<{count}f', a)
            ys = struct.unpack(f'<{count}f', b) if b else ()
            worst = max((abs(x - y) for x, y in zip(xs, ys)), default=None)
            found.append(f'{name} differs (largest difference {worst})')
    return found


def train(program, args, flags, **kwargs):
    command = [str(program), f'--data={args.data}', '--progress=plain',
               '--log-every=1', *args.train_flags, *flags]
    print(' '.join(command), flush=True)
    return subprocess.Popen(command, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def step_lines(process):
    """Yields the count of step lines train has printed so far."""
    steps = 0
    for line in process.stdout:
        sys.stdout.write('  | ' + line)
        if re.match(r'epoch \d+/\d+ step \d+/\d+ ', line):
            steps += 1
            yield steps


def exact_resume(program, args, rng):
    work = pathlib.Path(args.workdir)
    straight, resumed = work / 'straight.ckpt', work / 'resumed.ckpt'
    for path in (straight, resumed):
        path.unlink(missing_ok=True)
    run = train(program, args, [f'--checkpoint={straight}'])
    for _ in step_lines(run):
        pass
    if run.wait() != 0:
        return [f'the uninterrupted run exited with {run.returncode}']

    steps = int(re.search(r'--steps=(\d+)', ' '.join(args.train_flags))[1])
    batch = int(re.search(r'--batch=(\d+)', ' '.join(args.train_flags))[1])
    per_epoch = IMAGES_TRAIN // batch
    # The signal lands in the step after the line read, or a little later
    # on a busy machine: keep the next three steps inside the epoch.
    inside = [s for s in range(2, steps - 4)
              if all((s + k) % per_epoch != 0 for k in (1, 2, 3))]
    stop_after = rng.choice(inside)
    print(f'resume: SIGTERM after step {stop_after} ({per_epoch} steps per '
          f'epoch)', flush=True)
    run = train(program, args, [f'--checkpoint={resumed}'])
    for seen in step_lines(run):
        if seen == stop_after:
            run.send_signal(signal.SIGTERM)
    if run.wait() != 128 + signal.SIGTERM:
        return [f'SIGTERM: train exited with {run.returncode}, not 143']
    header, _ = read_checkpoint(resumed)
    print(f'resume: stopped at step {header["step"]} (epoch '
          f'{header["epoch"] + 1}, batch {header["batch_in_epoch"]})')
    if header['batch_in_epoch'] == 0:
        print('resume: (the stop came late, at an epoch boundary: still a '
              'valid test of resuming, not of resuming inside an epoch)')

    run = train(program, args, [f'--checkpoint={resumed}',
                                f'--resume={resumed}'])
    for _ in step_lines(run):
        pass
    if run.wait() != 0:
        return [f'the resumed run exited with {run.returncode}']
    found = differences(read_checkpoint(straight), read_checkpoint(resumed))
    if straight.read_bytes() != resumed.read_bytes() and not found:
        found = ['the files differ in bytes the parser does not show']
    if found:
        return ['resumed run differs from the uninterrupted one: ' + s
                for s in found]
    print(f'resume: identical to the uninterrupted run after {steps} steps '
          f'({len(read_checkpoint(straight)[1])} variables)')
    return []


def kill_during_writes(program, args, rng):
    work = pathlib.Path(args.workdir)
    path = work / 'killed.ckpt'
    path.unlink(missing_ok=True)
    failures, mid_write, kills = [], 0, 0
    for trial in range(args.kill_trials):
        run = train(program, args, [f'--checkpoint={path}',
                                    '--checkpoint-every=1', '--keep=2'],
                    bufsize=1)
        after = rng.randrange(1, 4)
        for seen in step_lines(run):
            if seen == after:
                # The checkpoint write starts as the step's line is out.
                time.sleep(rng.uniform(0, 0.03))
                run.kill()
                break
        run.wait()
        run.stdout.close()
        kills += run.returncode == -signal.SIGKILL
        mid_write += any(name.name.startswith('killed.ckpt.tmp.')
                         for name in work.iterdir())
        for kept in (path, pathlib.Path(f'{path}.1')):
            if kept.exists():
                try:
                    read_checkpoint(kept)
                except ValueError as error:
                    failures.append(f'trial {trial}: {kept} is unreadable '
                                    f'after kill -9: {error}')
    print(f'kill -9: {kills} of {args.kill_trials} runs killed, '
          f'{mid_write} left a partial temporary file (killed mid-write); '
          f'every checkpoint readable: {not failures}', flush=True)
    if not path.exists():
        failures.append('no checkpoint survived the kills')
        return failures
    run = train(program, args, [f'--resume={path}', f'--checkpoint={path}'])
    for _ in step_lines(run):
        pass
    if run.wait() != 0:
        failures.append(f'resuming the last checkpoint exited with '
                        f'{run.returncode}')
    if any(name.name.startswith('killed.ckpt.tmp.') for name in
           work.iterdir()):
        failures.append('temporaries of killed runs were not cleaned up')
    return failures


def shrink(source):
    """The seed 002 model with its widths divided by 16."""
    text = source.replace('[128, 256, 512, 1024]', '[8, 16, 32, 64]')
    return text.replace('4096', '64')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--shrink', action='store_true')
    parser.add_argument('--kill-trials', type=int, default=0)
    parser.add_argument('--seed', type=int,
                        default=int(os.environ.get('RESUME_TEST_SEED',
                                                   time.time_ns() % 100000)))
    parser.add_argument('train_flags', nargs='*')
    args = parser.parse_args()
    print(f'resume_test: seed {args.seed} (RESUME_TEST_SEED={args.seed} '
          f'repeats this run)', flush=True)
    rng = random.Random(args.seed)
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    model = pathlib.Path(args.model)
    if args.shrink:
        model = work / model.name
        model.write_text(shrink(pathlib.Path(args.model).read_text()))
    classes = 100 if 'classes 100' in model.read_text() else 10
    args.data = work / 'data'
    write_cifar(args.data, classes)
    program = work / 'train'
    subprocess.run([args.resnetc, str(model), '-o', str(program)], check=True)

    failures = exact_resume(program, args, rng)
    if args.kill_trials:
        failures += kill_during_writes(program, args, rng)
    for failure in failures:
        print('FAIL: ' + failure)
    print(f'resume_test: {"failed" if failures else "passed"}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
