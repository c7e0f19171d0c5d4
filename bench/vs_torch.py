#!/usr/bin/python3
"""resnetc against PyTorch on the CPU: training and inference images/s of
the same models, batch and thread count, in one alternating run (issue 13).

What it measures. For each model, the training images/s of resnetc's
`train --benchmark` (synthetic data of the model's input shape) and of the
same model written as a plain PyTorch nn.Module (bench/torch_resnets.py)
doing the same training step (forward, cross-entropy loss, backward, the
recipe's optimizer), in NCHW and in channels_last; the better PyTorch layout
is "PyTorch best" and the ratio is ours / PyTorch best. Likewise the
inference images/s of resnetc's `classify --benchmark` (BatchNorm folded
into the convs) against the PyTorch module in eval mode under
torch.inference_mode(). Our effective GFLOP/s count 2 FLOPs per forward
multiply-add of `resnetc --summary`, 3 times over for training (forward,
data gradient, filter gradient); their share is of this machine's FMA peak,
the larger of two runs of bench/peak/fma_peak.cpp (compiled here with g++
-march=native unless --peak-gflops is given), one at the start and one at
the end, with the same thread count. The FLOPs are those of direct
convolution, whatever algorithm runs: a kernel that does fewer (Winograd)
can show more than 100% of the peak.

How to run. With Debian's python3-torch (run the script with
/usr/bin/python3, not the pyenv python on PATH), from the repository root:

  /usr/bin/python3 bench/vs_torch.py                      # the four models below
  /usr/bin/python3 bench/vs_torch.py --threads=2 --rounds=3 --steps=30 \\
      examples/resnet20_cifar10.dsl examples/resnet18_cifar10.dsl:64

Models are given as MODEL.dsl or MODEL.dsl:BATCH (default batch --batch,
128); the default list is ResNet-20 and ResNet-18 for CIFAR, the default
Fashion-MNIST ResNet-8 and seed 000's Keras residual net. A model needs a
PyTorch peer in bench/torch_resnets.py (see PEERS); at start-up every
peer's trainable parameters, BatchNorm statistics and forward
multiply-adds must equal what `resnetc --summary` prints for its DSL, or
the script stops. It prints one line per timing as it happens, then a
training and an inference table, then one JSON line with every median
(prefixed "JSON ").

Fairness rules. PyTorch is Debian's python3-torch for /usr/bin/python3,
float32, on a fixed random batch of the model's input shape, with
torch.set_num_threads(--threads), the thread count our programs get; its
model is a plain nn.Module (nn.Conv2d, nn.BatchNorm2d, in-place ReLU) so
that it runs its own best kernels (oneDNN), trained with the optimizer of
the DSL's train block (SGD with its momentum, Nesterov and weight decay,
or Adam/AdamW), read from the built train program's --help defaults. Both
NCHW and channels_last (model and input) are timed and the better counts.
Every PyTorch timing runs in a fresh subprocess (this script with
--torch-worker) started with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=
33554432:glibc.malloc.trim_threshold=4294967296 in its environment (a
tunable is read when the process starts, so it cannot be set from inside),
and our train and classify run with the same environment. Runs alternate:
each round times, per model, ours train, PyTorch NCHW train, PyTorch
channels_last train, ours classify, PyTorch NCHW eval, PyTorch channels_last
eval; a timing is the median step time of --steps timed steps after
--warmup untimed ones, and the tables give the median over --rounds rounds
of each configuration. The figures mean something only on an otherwise
idle machine: the script measures, at the start and at the end, how many
cores other processes keep busy, and warns when they are not idle.
"""

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = '/usr/bin/python3'
TUNABLES = ('glibc.malloc.mmap_threshold=33554432:'
            'glibc.malloc.trim_threshold=4294967296')
DEFAULT_MODELS = ['resnet20_cifar10', 'resnet18_cifar10',
                  'fashion_mnist_resnet', 'keras_cifar10_resblocks']
# DSL file stem -> bench/torch_resnets.py MODELS key.
PEERS = {'resnet20_cifar10': 'resnet20',
         'resnet18_cifar10': 'resnet18',
         'fashion_mnist_resnet': 'fashion_mnist_resnet',
         'keras_cifar10_resblocks': 'keras_cifar10_resblocks'}
LAYOUTS = ('nchw', 'channels_last')


def env():
    return dict(os.environ, GLIBC_TUNABLES=TUNABLES)


def retried(command, attempts=4, **kwargs):
    """subprocess.run, tried again after a pause if it fails: the binaries
    under build/bin may be relinked while this runs."""
    for attempt in range(attempts):
        try:
            return subprocess.run([str(c) for c in command], check=True,
                                  capture_output=True, text=True, env=env(),
                                  **kwargs)
        except (subprocess.CalledProcessError, OSError) as error:
            if attempt + 1 == attempts:
                if isinstance(error, subprocess.CalledProcessError):
                    sys.stderr.write(error.stdout + error.stderr)
                raise
            print(f'  ({pathlib.Path(str(command[0])).name} failed: {error};'
                  f' retrying)', flush=True)
            time.sleep(5)


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- PyTorch


def torch_model(peer):
    sys.path.insert(0, str(HERE))
    import torch_resnets
    return torch_resnets.MODELS[peer]()


def torch_counts(peer, shape):
    """Trainable parameters, BatchNorm running statistics and forward
    multiply-adds per image (convs and dense layers) of a peer."""
    import torch
    import torch.nn as nn
    model = torch_model(peer).eval()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    statistics_ = sum(b.numel() for name, b in model.named_buffers()
                      if name.endswith(('running_mean', 'running_var')))
    macs = [0]

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            macs[0] += (output.numel() * module.weight[0].numel())
        elif isinstance(module, nn.Linear):
            macs[0] += output.numel() * module.in_features

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(count)
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    return trainable, statistics_, macs[0]


def make_optimizer(torch, params, recipe):
    name = recipe['optimizer']
    if name == 'sgd':
        return torch.optim.SGD(params, lr=recipe['lr'],
                               momentum=recipe['momentum'],
                               nesterov=recipe['nesterov'] and
                               recipe['momentum'] > 0,
                               weight_decay=recipe['weight_decay'])
    adam = {'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW}[name]
    return adam(params, lr=recipe['lr'],
                betas=(recipe['beta1'], recipe['beta2']), eps=recipe['eps'],
                weight_decay=recipe['weight_decay'])


def torch_worker(spec):
    """Times one PyTorch configuration; prints a JSON line."""
    if os.environ.get('GLIBC_TUNABLES') != TUNABLES:
        sys.exit('vs_torch.py --torch-worker: GLIBC_TUNABLES must be set '
                 'when the process starts (run it from vs_torch.py)')
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(spec['threads'])
    assert torch.get_num_threads() == spec['threads']
    torch.manual_seed(0)
    memory = (torch.channels_last if spec['layout'] == 'channels_last'
              else torch.contiguous_format)
    batch = spec['batch']
    model = torch_model(spec['peer']).to(memory_format=memory)
    images = torch.randn(batch, *spec['shape']).to(memory_format=memory)
    labels = torch.randint(0, spec['classes'], (batch,))
    if spec['mode'] == 'train':
        model.train()
        optimizer = make_optimizer(torch, model.parameters(), spec['recipe'])

        def step():
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model(images)
    for _ in range(spec['warmup']):
        step()
    times = []
    for _ in range(spec['steps']):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({'images_per_s': batch / median,
                      'step_ms_median': median * 1e3,
                      'threads': torch.get_num_threads(),
                      'torch': torch.__version__}))


def torch_run(args, model, mode, layout):
    spec = {'peer': model['peer'], 'shape': model['shape'],
            'classes': model['classes'], 'recipe': model['recipe'],
            'batch': model['batch'], 'mode': mode, 'layout': layout,
            'threads': args.threads, 'steps': args.steps,
            'warmup': args.warmup}
    out = retried([PYTHON, pathlib.Path(__file__).resolve(),
                   '--torch-worker', json.dumps(spec)], attempts=1)
    return last_json(out.stdout)


# ---------------------------------------------------------------- resnetc


def summary(args, dsl, batch):
    """Trainable and all parameters and forward multiply-adds per image,
    from `resnetc --summary`."""
    out = retried([args.resnetc, dsl, '--summary', f'--batch={batch}']).stdout

    def number(pattern):
        match = re.search(pattern + r'\s*([\d,]+)', out)
        if not match:
            sys.exit(f'vs_torch.py: no "{pattern}" in resnetc --summary of '
                     f'{dsl}')
        return int(match.group(1).replace(',', ''))
    return (number(r'Trainable params:'), number(r'Total params:'),
            number(r'Forward multiply-adds per image:'))


def recipe(program):
    """The input shape, classes and optimizer a train program was built
    with, from its --help (whose defaults are the DSL's train block)."""
    text = retried([program, '--help']).stdout
    shape = re.search(r'input (\d+)x(\d+)x(\d+) \(HxWxC\), (\d+) classes',
                      text)
    if not shape:
        sys.exit(f'vs_torch.py: no input shape in {program} --help')
    h, w, c, classes = map(int, shape.groups())

    def default(flag):
        match = re.search(r'--' + flag + r'(?:=\S+)?\s.*?\[default: ([^\]]*)\]',
                          text)
        if not match:
            sys.exit(f'vs_torch.py: no --{flag} in {program} --help')
        return match.group(1)
    return [c, h, w], classes, {
        'optimizer': default('optimizer'), 'lr': float(default('lr')),
        'momentum': float(default('momentum')),
        'nesterov': default('nesterov') == 'true',
        'weight_decay': float(default('weight-decay')),
        'beta1': float(default('beta1')), 'beta2': float(default('beta2')),
        'eps': float(default('eps'))}


def ours_run(args, program, batch):
    out = retried([program, '--benchmark', f'--steps={args.steps}',
                   f'--warmup={args.warmup}', f'--batch={batch}',
                   f'--threads={args.threads}'])
    return last_json(out.stdout)


def busy_cores(seconds=1.0):
    """Cores other processes keep busy: /proc/stat's non-idle time over
    `seconds` while this script waits (0 where there is no /proc/stat)."""
    def sample():
        try:
            with open('/proc/stat') as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except OSError:
            return None
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait
    before = sample()
    time.sleep(seconds)
    after = sample()
    if not before or not after or after[0] == before[0]:
        return 0.0
    total, idle = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * (total - idle) / total


def fma_peak(args, work):
    """This machine's FMA peak in GFLOP/s with --threads threads."""
    if args.peak_gflops:
        return args.peak_gflops
    binary = pathlib.Path(work) / 'fma-peak'
    if not binary.exists():
        subprocess.run(['g++', '-O2', '-march=native', '-ffp-contract=fast',
                        '-pthread', str(HERE / 'peak' / 'fma_peak.cpp'), '-o',
                        str(binary)], check=True)
    out = retried([binary, f'--threads={args.threads}'])
    return last_json(out.stdout)['gflops']


# ---------------------------------------------------------------- main


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('models', nargs='*', metavar='MODEL.dsl[:BATCH]',
                        help='models to time (default: examples/ ' +
                        ', '.join(f'{m}.dsl' for m in DEFAULT_MODELS) + ')')
    parser.add_argument('--resnetc', default=str(ROOT / 'build' / 'bin' /
                                                 'resnetc'),
                        help='the compiler (default: build/bin/resnetc)')
    parser.add_argument('--batch', type=int, default=128,
                        help='batch of models given without :BATCH '
                        '(default: 128)')
    parser.add_argument('--threads', type=int, default=2,
                        help='threads of ours, of PyTorch and of the FMA peak '
                        '(default: 2)')
    parser.add_argument('--steps', type=int, default=30,
                        help='timed steps per timing (default: 30)')
    parser.add_argument('--warmup', type=int, default=5,
                        help='untimed steps before them (default: 5)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='alternating rounds; tables give medians '
                        '(default: 3)')
    parser.add_argument('--peak-gflops', type=float,
                        help='the FMA peak in GFLOP/s (default: measure it '
                        'with bench/peak/fma_peak.cpp, compiled with g++)')
    parser.add_argument('--torch-worker', metavar='JSON',
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.torch_worker:
        torch_worker(json.loads(args.torch_worker))
        return
    if not os.path.exists(PYTHON):
        sys.exit(f'vs_torch.py: PyTorch is {PYTHON}\'s python3-torch; no '
                 f'{PYTHON} here')
    models = []
    for spec in args.models or [str(ROOT / 'examples' / f'{m}.dsl')
                                for m in DEFAULT_MODELS]:
        dsl, batch = spec, args.batch
        if re.search(r':\d+$', spec):
            dsl, batch = spec.rsplit(':', 1)
            batch = int(batch)
        name = pathlib.Path(dsl).stem
        if name not in PEERS:
            sys.exit(f'vs_torch.py: no PyTorch peer for {name} (PEERS: '
                     f'{", ".join(PEERS)})')
        models.append({'name': name, 'dsl': dsl, 'batch': batch,
                       'peer': PEERS[name]})

    with tempfile.TemporaryDirectory(prefix='vs_torch.') as work:
        # Build, and check each peer against the DSL.
        for m in models:
            base = pathlib.Path(work) / f'{m["name"]}-{m["batch"]}'
            m['train'], m['classify'] = base.with_suffix('.train'), \
                base.with_suffix('.classify')
            retried([args.resnetc, m['dsl'], f'--batch={m["batch"]}', '-o',
                     m['train']])
            retried([args.resnetc, '--mode=infer', m['dsl'],
                     f'--batch={m["batch"]}', '-o', m['classify']])
            m['shape'], m['classes'], m['recipe'] = recipe(m['train'])
            trainable, total, macs = summary(args, m['dsl'], m['batch'])
            theirs = torch_counts(m['peer'], m['shape'])
            print(f'{m["name"]}: resnetc --summary {trainable:,} trainable '
                  f'parameters, {total - trainable:,} BatchNorm statistics, '
                  f'{macs:,} forward multiply-adds; PyTorch peer '
                  f'{m["peer"]}: {theirs[0]:,}, {theirs[1]:,}, {theirs[2]:,}'
                  f'; optimizer {m["recipe"]["optimizer"]}', flush=True)
            assert theirs == (trainable, total - trainable, macs), \
                f'{m["name"]}: the PyTorch peer {m["peer"]} differs from ' \
                f'the DSL model'
            m['macs'] = macs

        busy = [busy_cores()]
        peaks = [fma_peak(args, work)]
        import torch
        print(f'PyTorch {torch.__version__} ({PYTHON}), {args.threads} '
              f'threads, {args.steps} timed steps after {args.warmup}, '
              f'{args.rounds} alternating rounds; FMA peak {peaks[0]:.1f} '
              f'GFLOP/s; other processes keep {busy[0]:.2f} of '
              f'{os.cpu_count()} cores busy', flush=True)

        runs = {}  # (model, kind) -> list of images/s, one per round
        for r in range(1, args.rounds + 1):
            for m in models:
                for mode, program in (('train', m['train']),
                                      ('infer', m['classify'])):
                    result = ours_run(args, program, m['batch'])
                    timings = [('ours', result)]
                    print(f'round {r} {m["name"]} batch {m["batch"]} {mode}: '
                          f'resnetc {result["images_per_s"]:.0f} img/s '
                          f'({result["step_ms_median"]:.2f} ms)', end='',
                          flush=True)
                    for layout in LAYOUTS:
                        result = torch_run(args, m,
                                           'train' if mode == 'train'
                                           else 'eval', layout)
                        timings.append((layout, result))
                        print(f', PyTorch {layout} '
                              f'{result["images_per_s"]:.0f} img/s '
                              f'({result["step_ms_median"]:.2f} ms)', end='',
                              flush=True)
                    print(flush=True)
                    for who, result in timings:
                        runs.setdefault((m['name'], m['batch'], mode, who),
                                        []).append(result['images_per_s'])
        peaks.append(fma_peak(args, work))
        busy.append(busy_cores())
    peak = max(peaks)
    print(f'\nFMA peak, {args.threads} threads: {peaks[0]:.1f} and '
          f'{peaks[1]:.1f} GFLOP/s, using {peak:.1f}; other processes keep '
          f'{busy[0]:.2f} and {busy[1]:.2f} cores busy before and after')
    if max(busy) > 0.1:
        print('WARNING: the machine is not idle; other work slows both sides, '
              'unevenly (PyTorch\'s multi-threaded steps have been seen to '
              'take 10-50x longer): time on an idle machine')

    results = []
    for mode, title, flops in (('train', 'training (train --benchmark)', 6),
                               ('infer', 'inference (classify --benchmark '
                                'vs eval mode, inference_mode)', 2)):
        print(f'\n{title}: images/s, medians of {args.rounds} rounds')
        print(f'{"model":<24} {"batch":>5} {"ours":>8} {"NCHW":>8} '
              f'{"CL":>8} {"ratio":>6} {"GFLOP/s":>8} {"% peak":>7}')
        for m in models:
            key = (m['name'], m['batch'], mode)
            med = {who: statistics.median(runs[key + (who,)])
                   for who in ('ours',) + LAYOUTS}
            best = max(med[layout] for layout in LAYOUTS)
            gflops = flops * m['macs'] * med['ours'] / 1e9
            print(f'{m["name"]:<24} {m["batch"]:>5} {med["ours"]:>8.0f} '
                  f'{med["nchw"]:>8.0f} {med["channels_last"]:>8.0f} '
                  f'{med["ours"] / best:>6.2f} {gflops:>8.1f} '
                  f'{100 * gflops / peak:>6.1f}%')
            results.append({
                'model': m['name'], 'batch': m['batch'], 'mode': mode,
                'ours_images_per_s': med['ours'],
                'torch_nchw_images_per_s': med['nchw'],
                'torch_channels_last_images_per_s': med['channels_last'],
                'torch_best_images_per_s': best,
                'ratio': med['ours'] / best,
                'flops_per_image': flops * m['macs'],
                'ours_gflops': gflops, 'peak_share': gflops / peak,
                'rounds': {who: runs[key + (who,)]
                           for who in ('ours',) + LAYOUTS}})
    print('\nJSON ' + json.dumps({
        'threads': args.threads, 'steps': args.steps, 'warmup': args.warmup,
        'rounds': args.rounds, 'fma_peak_gflops': peak,
        'fma_peak_runs': peaks, 'busy_cores_before_after': busy,
        'results': results}))


if __name__ == '__main__':
    main()
