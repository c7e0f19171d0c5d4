#!/usr/bin/env python3
"""resnetc's compiled training step against PyTorch's, on identical weights
and batches.

Builds the model with the step driver (test/numeric/StepDriver.cpp) in place
of the runtime and checks, in relative norm ||ours - torch|| / ||torch||:
  1. one step with the recipe's hyperparameters: the loss, every parameter's
     gradient and every variable after the step (parameters and BatchNorm
     running statistics) within --tolerance (1e-4);
  2. a trajectory of STEPS steps: every step's loss, and the evaluation loss
     after the last, within --loss-tolerance (1e-3).
--optimizer 'adam(lr = 1e-3)' checks a copy of the model whose recipe has
that optimizer instead (written into the workdir), so that one model covers
SGD, Adam, Adam with keras_epsilon and AdamW. (For keras_epsilon the step
driver passes epsilon / sqrt(1 - beta2^t), as train does, and the reference
is Keras's update as written: rn_torch.KerasAdam.)
A ReLU (or leaky ReLU) whose input lies within float32 rounding of zero may
fall either way in two correct implementations, and one such element moves
the gradients of every layer below it by about 1e-4; so may a max pool
whose two largest elements lie within rounding of each other (real images
make exact ties too, which both pick the first of). So the one-step
reference follows our decisions, read from a build with --no-memory-reuse,
whose whole arena survives the step (Plan), and a separate check shows that
each decision that differs from float64 PyTorch's is at an input within
1e-4 of the layer's RMS of the tie. That build must also give the same
gradients, to the bit, as the normal one (the memory plan changes no
result).
Dropout and DropBlock draw their own masks (from the step's seed), so the
reference follows them at every step, the trajectory's too: the kept build
dumps its arena after each step (STEPDRIVER_DUMP_ARENA=every), and each
op's input and output there give the mask; the reference multiplies by the
mask and a scale of its own (1 / (1 - rate), or DropBlock's elements / kept
elements). The test checks that every followed op's output is its input
under the decision followed, that about `rate` of the elements were
dropped, that DropBlock dropped whole blocks and that each step drew new
masks. (The masks depend on the seed and the shapes only, so the kept
build's are the normal build's.) A model must place dropout and DropBlock
where their input is never exactly zero, or the mask is ambiguous.
A trajectory amplifies rounding wherever a ReLU changes side, so the test
also runs PyTorch in float64 as a control: if float32 PyTorch itself drifts
past the tolerance, the setup is chaotic and the test says so instead of
blaming either implementation.
The builds are --no-fusion, so each ReLU is an op of its own whose output
the test can read; compare_builds_test.py checks the fused step against this
one.
Prints one line per check and a closing `N passed, M failed` line; exits
with 77 (skipped) when the data it needs is missing.
"""

import argparse
import gzip
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import rn_torch  # noqa: E402


def relative(ours, theirs):
    theirs = np.asarray(theirs, dtype=np.float64)
    ours = np.asarray(ours, dtype=np.float64)
    norm = np.linalg.norm(theirs)
    diff = np.linalg.norm(ours - theirs)
    return diff / norm if norm > 0 else diff


def sensitivity(graph, values, images, labels, smoothing, random):
    """How far float64 gradients move when the weights move by a relative
    1e-7 (about float32 rounding): the best agreement two correct float32
    implementations can be expected to reach. Dropout and DropBlock follow
    `random` (Graph.forward's decisions)."""
    base = None
    worst = 0.0
    for seed in (0, 1, 2):
        generator = torch.Generator().manual_seed(seed)
        params = {}
        for k, v in values.items():
            if not graph.variables[k][1]:
                continue
            noise = torch.randn(v.shape, generator=generator,
                                dtype=torch.float64)
            scale = 1 + (1e-7 * noise if seed else 0 * noise)
            params[k] = (v.double() * scale).requires_grad_(True)
        state = {k: v.double() for k, v in values.items()
                 if not graph.variables[k][1]}
        logits = graph.forward(images.double(), {**params, **state},
                               training=True, decisions=random)
        F.cross_entropy(logits, labels.long(),
                        label_smoothing=smoothing).backward()
        grads = {k: p.grad.numpy() for k, p in params.items()}
        if base is None:
            base = grads
            continue
        worst = max(worst, max(relative(grads[k], base[k]) for k in base))
    return worst


def write(path, tensor, dtype=np.float32):
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor.detach().numpy().astype(dtype).tofile(path)


def read(path, shape):
    return np.fromfile(path, dtype=np.float32).reshape(shape)


def write_inputs(directory, graph, values, images, labels, lr, smoothing):
    for name, v in values.items():
        write(directory / 'variables' / f'{name}.bin', v)
    write(directory / 'images.bin', images)
    write(directory / 'labels.bin', labels, np.int32)
    r = graph.recipe
    (directory / 'params.txt').write_text(' '.join(str(x) for x in [
        lr, r['momentum'], r['weight_decay'], int(r['nesterov']),
        r['beta1'], r['beta2'], r['epsilon'], smoothing,
        int(r.get('keras_epsilon', False))]) + '\n')


def run_driver(driver, inputs, outputs, steps, dump_arena=None):
    """Runs `steps` steps; dump_arena: StepDriver's STEPDRIVER_DUMP_ARENA."""
    outputs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if dump_arena:
        env['STEPDRIVER_DUMP_ARENA'] = dump_arena
    subprocess.run([str(driver), str(inputs), str(outputs), str(steps)],
                   check=True, env=env)


def torch_steps(graph, values, images, labels, lr, smoothing, dtype,
                follow=()):
    """PyTorch's losses, first-step gradients and first-step variables, and
    the evaluation loss on the first batch after the last step; step s
    follows the decisions follow[s] (Graph.forward's) where given."""
    params = {k: v.clone().to(dtype).requires_grad_(True)
              for k, v in values.items() if graph.variables[k][1]}
    state = {k: v.clone().to(dtype) for k, v in values.items()
             if not graph.variables[k][1]}
    everything = {**params, **state}
    opt = rn_torch.optimizer(graph, params, lr=lr)
    losses, grads, after_first = [], {}, {}
    for s in range(images.shape[0]):
        logits = graph.forward(images[s].to(dtype), everything, training=True,
                               decisions=follow[s] if s < len(follow)
                               else None)
        loss = F.cross_entropy(logits, labels[s].long(),
                               label_smoothing=smoothing)
        opt.zero_grad()
        loss.backward()
        losses.append(loss.item())
        if s == 0:
            grads = {k: p.grad.clone() for k, p in params.items()}
        opt.step()
        if s == 0:
            after_first = {k: v.detach().clone() for k, v in everything.items()}
    with torch.no_grad():
        logits = graph.forward(images[0].to(dtype), everything, training=False)
        eval_loss = F.cross_entropy(logits, labels[0].long()).item()
    return losses, grads, after_first, eval_loss


_PLANNED_OP = re.compile(r'^\s*(%[^=]+) = rn\.(\w+) (.*)$')
_SLOT = re.compile(r'#rn\.slot<(fixed|per_sample), (\d+)>')
_ARGUMENT = re.compile(r'(%arg\d+): tensor<([^>]*)> '
                       r'\{rn\.slot = #rn\.slot<(fixed|per_sample), (\d+)>\}')


class Plan:
    """Where our training step keeps each of its tensors: the memory plan
    (resnetc --emit=train) of a --no-memory-reuse build with `flags`, whose
    arena still holds every tensor after a step (StepDriver's
    STEPDRIVER_DUMP_ARENA)."""

    def __init__(self, resnetc, model, batch, flags=('--no-fusion',)):
        planned = subprocess.run(
            [resnetc, model, '--emit=train', '--no-memory-reuse',
             f'--batch={batch}', *flags],
            check=True, capture_output=True, text=True).stdout
        self.fixed = int(re.search(r'fixed_bytes = (\d+)', planned).group(1))
        train = planned[planned.index('@train_step'):].split('func.func')[0]
        self.slots = {}  # SSA value -> (fixed?, byte offset, shape)
        for value, dims, kind, offset in _ARGUMENT.findall(
                train.split('\n')[0]):
            self.slots[value] = (kind == 'fixed', int(offset),
                                 [int(d) for d in dims.split('x')[:-1]])
        self.ops = []    # (op, operands, results), in step order
        for line in train.splitlines():
            match = _PLANNED_OP.match(line)
            if not match or 'rn.slots' not in line:
                continue
            results = []
            for name in match.group(1).split(', '):
                name, _, count = name.partition(':')  # %50:3 is %50#0..2
                results += ([f'{name}#{i}' for i in range(int(count))]
                            if count else [name])
            operands = re.split(r' \{| : ', match.group(3))[0].split(', ')
            types = line.rsplit(' : ', 1)[1].split('->')[-1]
            shapes = [[int(d) for d in t.split('x')[:-1]]
                      for t in re.findall(r'tensor<([^>]*)>', types)]
            for result, (kind, offset), shape in zip(results,
                                                     _SLOT.findall(line),
                                                     shapes):
                self.slots[result] = (kind == 'fixed', int(offset), shape)
            self.ops.append((match.group(2), operands, results))

    def tensor(self, arena, value):
        """The tensor `value` (an SSA name) in `arena` (the bytes of a
        dump), in PyTorch's layout."""
        fixed, offset, shape = self.slots[value]
        start = offset if fixed else self.fixed + offset * shape[0]
        data = arena[start:start + 4 * int(np.prod(shape))].view(np.float32)
        if len(shape) == 4:  # the arena holds NHWC
            n, c, h, w = shape
            data = data.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return torch.from_numpy(data.reshape(shape).copy())

    def op_tensors(self, arena, op):
        """(first input, first output) of each rn.`op` of the step, in
        order, from `arena`."""
        return [(self.tensor(arena, operands[0]),
                 self.tensor(arena, results[0]))
                for kind, operands, results in self.ops if kind == op]


# The forward ops whose decisions the reference follows: the op of our
# training step that makes them, and the decision (rn_torch.follow()) that
# repeats them, from our input x and output y and the op's attributes.
# Dropout keeps x / (1 - rate), DropBlock x * elements / kept elements
# (docs/dsl.md; Ghiasi et al. 2018), both computed here in float32; a max
# pool picks the first maximum of our x in each window, as our kernels do.
def _dropblock_multiplier(attrs, x, y):
    kept = y != 0
    return kept * (torch.tensor(float(y.numel())) / kept.sum().float())


def _first_maximum(kind):
    return lambda attrs, x, y: rn_torch.argmax(kind, x, attrs)


DECISIONS = {
    'relu': ('relu', lambda attrs, x, y: (y > 0).float()),
    'leaky_relu': ('leaky_relu', lambda attrs, x, y: torch.where(
        y > 0, torch.tensor(1.0), torch.tensor(float(attrs['alpha'])))),
    **{kind: (kind, _first_maximum(kind)) for kind in rn_torch.MAX_POOLS},
    'dropout': ('dropout_train', lambda attrs, x, y: (y != 0) * torch.tensor(
        1 / (1 - attrs['rate']), dtype=torch.float32)),
    'dropblock': ('dropblock_train', _dropblock_multiplier),
}
RANDOM = ('dropout', 'dropblock')


def our_decisions(plan, graph, arena_file, kinds):
    """kind -> [(our input, our output, the decision that repeats them)]
    for each op of `kinds` that the graph has, in graph order."""
    arena = np.fromfile(arena_file, dtype=np.uint8)
    decisions = {}
    for kind in kinds:
        attrs = graph.attributes(kind)
        if not attrs:
            continue
        step_op, decide = DECISIONS[kind]
        tensors = plan.op_tensors(arena, step_op)
        if len(tensors) != len(attrs):
            raise SystemExit(f'{len(attrs)} {kind} ops in the graph, '
                             f'{len(tensors)} {step_op} in our step')
        decisions[kind] = [(x, y, decide(a, x, y))
                           for a, (x, y) in zip(attrs, tensors)]
    return decisions


def followed(decisions, kinds=None):
    """Graph.forward's decisions from our_decisions() (of `kinds`)."""
    return {kind: [d for _, _, d in found]
            for kind, found in decisions.items()
            if kinds is None or kind in kinds}


def expected_dropped(kind, attrs, shape):
    """The expected fraction of elements dropout or DropBlock drops: rate,
    or for DropBlock 1 - (1 - gamma)^k averaged over the map, where a block
    origin is drawn with probability gamma (the paper's eq. 1) wherever a
    whole block fits and k origins cover the element."""
    if kind == 'dropout':
        return attrs['rate']
    size, (h, w) = attrs['block_size'], shape[-2:]
    gamma = min(1.0, attrs['rate'] / size ** 2 * h * w /
                ((h - size + 1) * (w - size + 1)))

    def covering(n):  # origins in [i - size + 1, i] that fit, per index i
        return torch.tensor([min(i, n - size) - max(0, i - size + 1) + 1
                             for i in range(n)], dtype=torch.float64)
    k = torch.outer(covering(h), covering(w))
    return float((1 - (1 - gamma) ** k).mean())


def whole_blocks(dropped, size):
    """Whether the dropped elements of each map are a union of size x size
    blocks that lie inside the map."""
    full = F.avg_pool2d(dropped.double(), size, stride=1,
                        divisor_override=1) == size * size
    covered = F.max_pool2d(F.pad(full.double(), (size - 1,) * 4), size,
                           stride=1)
    return bool((covered.bool() == dropped).all())


def decision_checks(decisions, graph):
    """(what, error, tolerance): for each kind of op the reference follows,
    the largest relative difference between our output and our input under
    the decision the reference takes from them (so that it follows what our
    step computed); for dropout and DropBlock also that we dropped about
    `rate` of the elements (within 5 standard errors over the feature maps)
    and, for DropBlock, whole blocks."""
    checks = []
    for kind, found in decisions.items():
        attrs = graph.attributes(kind)
        checks.append((f'our {kind} outputs against their inputs under the '
                       'decisions followed', max(
                           relative(y, rn_torch.follow(kind, x, a, d))
                           for a, (x, y, d) in zip(attrs, found)), 1e-6))
        if kind not in RANDOM:
            continue
        for k, (a, (_, y, _)) in enumerate(zip(attrs, found)):
            dropped = y == 0
            fraction = dropped.reshape(y.shape[0] * y.shape[1], -1).double() \
                .mean(dim=1)
            expected = expected_dropped(kind, a, y.shape)
            standard_error = float(fraction.std()) / len(fraction) ** 0.5
            checks.append((f'{kind} {k}: dropped {float(fraction.mean()):.4f} '
                           f'of the elements, expected {expected:.4f}; off '
                           'by standard errors over the maps',
                           abs(float(fraction.mean()) - expected) /
                           max(standard_error, 1e-12), 5))
            if kind == 'dropblock':
                checks.append((f'{kind} {k}: maps whose dropped elements are '
                               'not whole blocks',
                               int(not whole_blocks(dropped,
                                                    a['block_size'])), 0))
    return checks


def unlike_float64(decisions, graph, values, images):
    """kind -> (our decisions unlike float64 PyTorch's, decisions, the
    largest margin / layer RMS at one that differs) for ReLUs, leaky ReLUs
    and max pools, where PyTorch's dropout and DropBlock follow ours. The
    margin is how far the input lies from the tie: |input| for a ReLU, the
    gap between the window's maximum and the element we picked for a max
    pool."""
    kinds = ('relu', 'leaky_relu') + rn_torch.MAX_POOLS
    inputs = {kind: [] for kind in kinds}
    params = {k: v.double() for k, v in values.items()}
    with torch.no_grad():
        graph.forward(images.double(), params, training=True,
                      decisions=followed(decisions, RANDOM), inputs=inputs)
    found = {}
    for kind in kinds:
        differing, total, worst = 0, 0, 0.0
        for attrs, (_, out, ours), pre in zip(graph.attributes(kind),
                                              decisions.get(kind, []),
                                              inputs[kind]):
            rms = pre.pow(2).mean().sqrt()
            if kind in rn_torch.MAX_POOLS:
                theirs = rn_torch.argmax(kind, pre, attrs)
                flips = theirs != ours
                margin = (rn_torch.follow(kind, pre, attrs, theirs) -
                          rn_torch.follow(kind, pre, attrs, ours))
                total += theirs.numel()
            else:
                flips = (out > 0) != (pre > 0)
                margin = pre.abs()
                total += pre.numel()
            differing += int(flips.sum())
            if flips.any():
                worst = max(worst, float(margin.reshape(flips.shape)[flips]
                                         .abs().max() / rms))
        if total:
            found[kind] = differing, total, worst
    return found


FASHION_MNIST = pathlib.Path('/usr/share/datasets/fashion-mnist')


def batches(args, classes, shape):
    """STEPS batches of real images: CIFAR-10 when the model reads 3x32x32
    images and the data set is at --cifar10, else Fashion-MNIST (Debian's
    dataset-fashion-mnist, which scripts/setup.sh installs), centred in the
    model's input and repeated over its channels; exits with 77 (skipped)
    without either. (Random images make the gradients ill-conditioned: they
    leave so many activations near zero that a 1e-7 change of the weights
    moves them by 1e-3.)"""
    n, c, h, w = shape
    count = args.steps * n
    cifar = pathlib.Path(args.cifar10) / 'data_batch_1.bin'
    if (c, h, w) == (3, 32, 32) and classes == 10 and cifar.exists():
        raw = np.fromfile(cifar, dtype=np.uint8).reshape(-1, 3073)[:count]
        images = torch.from_numpy(raw[:, 1:].astype(np.float32) / 255.0)
        images = images.reshape(count, 3, 32, 32)
        mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
        std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
        labels = torch.from_numpy(raw[:, 0].astype(np.int32))
        print(f'data: CIFAR-10 ({cifar})')
    else:
        if not (FASHION_MNIST / 'train-images-idx3-ubyte.gz').exists():
            print(f'skipped: no CIFAR-10 at --cifar10 for this model, and no '
                  f'Fashion-MNIST in {FASHION_MNIST}')
            sys.exit(77)
        with gzip.open(FASHION_MNIST / 'train-images-idx3-ubyte.gz') as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        with gzip.open(FASHION_MNIST / 'train-labels-idx1-ubyte.gz') as f:
            digits = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
        fashion = torch.from_numpy(
            raw[:count * 784].astype(np.float32) / 255.0).view(count, 1, 28, 28)
        if h < 28 or w < 28:
            raise SystemExit(f'Fashion-MNIST images do not fit a {h}x{w} input')
        top, left = (h - 28) // 2, (w - 28) // 2
        fashion = F.pad(fashion, (left, w - 28 - left, top, h - 28 - top))
        images = fashion.expand(count, c, h, w).contiguous()
        mean, std = 0.2860, 0.3530
        labels = torch.from_numpy(digits[:count].astype(np.int32) % classes)
        print(f'data: Fashion-MNIST ({FASHION_MNIST})')
    images = ((images - mean) / std).reshape(args.steps, n, c, h, w)
    return images, labels.reshape(args.steps, n)


def with_optimizer(model, optimizer, work):
    """A copy of `model` in `work` whose train block's `optimizer` line
    says `optimizer` instead."""
    text = pathlib.Path(model).read_text()
    line = re.compile(r'^([ \t]*)optimizer\b.*$', re.MULTILINE)
    if len(line.findall(text)) != 1:
        raise SystemExit(f'{model}: --optimizer needs one `optimizer` line '
                         'in the train block to replace')
    copy = work / f'{pathlib.Path(model).stem}-optimizer.dsl'
    copy.write_text(line.sub(lambda m: f'{m.group(1)}optimizer {optimizer}',
                             text))
    return str(copy)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--driver', required=True,
                        help='libstepdriver.a')
    parser.add_argument('--model', required=True)
    parser.add_argument('--optimizer', default='',
                        help="the recipe's optimizer instead, as the DSL "
                             "writes it: 'adam(lr = 1e-3)'")
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--label-smoothing', type=float, default=0.1)
    parser.add_argument('--trajectory-lr', type=float, default=0.0005)
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument('--loss-tolerance', type=float, default=1e-3)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--cifar10', default='',
                        help='CIFAR-10 binary directory (optional)')
    args = parser.parse_args()
    torch.set_num_threads(2)
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    smoothing = args.label_smoothing
    model = (with_optimizer(args.model, args.optimizer, work)
             if args.optimizer else args.model)

    mlir = subprocess.run([args.resnetc, model, '--emit=mlir',
                           f'--batch={args.batch}'], check=True,
                          capture_output=True, text=True).stdout
    graph = rn_torch.Graph(mlir)
    generator = torch.Generator().manual_seed(0)
    values = graph.initial_values(generator)
    n, c, h, w = graph.input_shape
    images, labels = batches(args, graph.classes, (n, c, h, w))
    r = graph.recipe
    options = (('lr', 'momentum', 'nesterov', 'weight_decay')
               if r['optimizer'] == 'sgd' else
               ('lr', 'beta1', 'beta2', 'epsilon', 'keras_epsilon',
                'weight_decay'))
    print(f'optimizer: {r["optimizer"]}(' + ', '.join(
        f'{k} = {r.get(k, False)}' for k in options) + ')')

    driver = work / 'stepdriver'
    env = dict(os.environ, RESNETC_RUNTIME=args.driver)
    subprocess.run([args.resnetc, model, f'--batch={args.batch}',
                    '--no-fusion', '-o', str(driver)], check=True, env=env)

    # 1. One step with the recipe's hyperparameters, by a normal build and
    # by one whose arena keeps every tensor.
    kept = work / 'stepdriver-no-reuse'
    subprocess.run([args.resnetc, model, f'--batch={args.batch}',
                    '--no-fusion', '--no-memory-reuse', '-o', str(kept)],
                   check=True, env=env)
    plan = Plan(args.resnetc, model, args.batch)
    lr = r['lr']
    write_inputs(work / 'step-in', graph, values, images[:1], labels[:1], lr,
                 smoothing)
    run_driver(driver, work / 'step-in', work / 'step-out', 1)
    run_driver(kept, work / 'step-in', work / 'step-kept', 1, dump_arena='1')
    decisions = our_decisions(plan, graph, work / 'step-kept' / 'arena.bin',
                              DECISIONS)
    losses, grads, after_first, _ = torch_steps(
        graph, values, images[:1], labels[:1], lr, smoothing, torch.float32,
        follow=[followed(decisions)])
    out = work / 'step-out'
    checks = []  # (what, error, tolerance)
    ours_loss = float((out / 'losses.txt').read_text().split()[0])
    checks.append(('loss of one step', relative([ours_loss], [losses[0]]),
                   args.tolerance))
    for name, g in grads.items():
        ours = read(out / 'step1' / 'gradients' / f'{name}.bin', g.shape)
        checks.append((f'gradient {name}', relative(ours, g), args.tolerance))
    for name, v in after_first.items():
        ours = read(out / 'step1' / 'variables' / f'{name}.bin', v.shape)
        checks.append((f'after the step: {name}', relative(ours, v),
                       args.tolerance))
    changed = sum(
        (out / 'step1' / 'gradients' / f'{name}.bin').read_bytes() !=
        (work / 'step-kept' / 'step1' / 'gradients' / f'{name}.bin')
        .read_bytes() for name in grads)
    checks.append(('gradients that memory reuse changes (none may)',
                   changed, 0))
    checks += decision_checks(decisions, graph)
    for kind, (differing, total, worst) in unlike_float64(
            decisions, graph, values, images[0]).items():
        print(f'{kind} decisions unlike float64 PyTorch\'s: {differing} of '
              f'{total}')
        checks.append((f'largest margin / layer RMS where our {kind} '
                       'decides unlike float64 PyTorch', worst, 1e-4))
    checks.append(('control: float64 gradients under a 1e-7 change of the '
                   'weights (a larger change means the input is '
                   'ill-conditioned)',
                   sensitivity(graph, values, images[0], labels[0], smoothing,
                               followed(decisions, RANDOM)),
                   args.tolerance / 4))

    # 2. A trajectory of --steps steps; dropout and DropBlock follow the
    # masks of the kept build's run, dumped after every step.
    lr = args.trajectory_lr
    write_inputs(work / 'run-in', graph, values, images, labels, lr, smoothing)
    run_driver(driver, work / 'run-in', work / 'run-out', args.steps)
    follow = []
    if any(graph.attributes(kind) for kind in RANDOM):
        run_driver(kept, work / 'run-in', work / 'run-kept', args.steps,
                   dump_arena='every')
        for s in range(1, args.steps + 1):
            dump = work / 'run-kept' / f'arena-{s}.bin'
            follow.append(followed(our_decisions(plan, graph, dump,
                                                 RANDOM)))
            dump.unlink()
        repeated = sum(
            all(torch.equal(a != 0, b != 0) for kind in RANDOM
                for a, b in zip(before.get(kind, []), after.get(kind, [])))
            for before, after in zip(follow, follow[1:]))
        checks.append(('trajectory steps that draw the masks of the step '
                       'before (none may: each step has its own seed)',
                       repeated, 0))
    losses, _, _, eval_loss = torch_steps(graph, values, images, labels, lr,
                                          smoothing, torch.float32, follow)
    control, _, _, control_eval = torch_steps(graph, values, images, labels,
                                              lr, smoothing, torch.float64,
                                              follow)
    ours_losses = [float(x) for x in
                   (work / 'run-out' / 'losses.txt').read_text().split()]
    for s, (mine, theirs) in enumerate(zip(ours_losses, losses)):
        checks.append((f'loss of step {s + 1}', relative([mine], [theirs]),
                       args.loss_tolerance))
    ours_eval = float((work / 'run-out' / 'eval.txt').read_text().split()[0])
    checks.append(('evaluation loss after the last step',
                   relative([ours_eval], [eval_loss]), args.loss_tolerance))
    drift = max(relative([a], [b]) for a, b in zip(losses + [eval_loss],
                                                    control + [control_eval]))
    checks.append(('control: PyTorch float32 vs float64 on the trajectory '
                   '(a larger drift means the setup is chaotic)', drift,
                   args.loss_tolerance))

    failed = 0
    for what, error, tolerance in checks:
        ok = error <= tolerance
        failed += not ok
        print(f'{"ok  " if ok else "FAIL"} {error:.2e} <= {tolerance:.0e}  '
              f'{what}')
    print('trajectory losses (ours / torch): ' + ', '.join(
        f'{a:.4f}/{b:.4f}' for a, b in zip(ours_losses, losses)))
    print(f'torch-step: {len(checks) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
