"""Runs an rn forward graph (the output of `resnetc --emit=mlir`) in PyTorch.

The numeric tests compare resnetc's compiled training step with PyTorch's
autograd on the same graph: this module reads the printed rn dialect, keeps
its variables as named torch tensors and evaluates its ops with
torch.nn.functional, following the semantics documented in RNOps.td (NCHW,
padding as [top, left, bottom, right], flatten in channels-last order,
BatchNorm momentum as the weight of the old running value).
"""

import math
import re

import torch
import torch.nn.functional as F

_VARIABLE = re.compile(
    r'rn\.variable @("[^"]+"|[\w.$-]+) : tensor<([\dx]+)xf32> \{(.*)\}$')
_OP = re.compile(r'^(%[\w#]+(?:, %[\w#]+)*) = rn\.(\w+) (.*)$')
_ARG = re.compile(r'func\.func @forward\((%\w+): tensor<([\dx]+)xf32>\)')
_ATTR = re.compile(
    r'(\w+) = (array<i64(?:: ([-\d, ]*))?>|true|false|'
    r'[-\d.eE+]+(?: : \w+)?)')


def _shape(text):
    return [int(d) for d in text.split('x')]


def _name(symbol):
    return symbol.strip('"')


def _attrs(text):
    attrs = {}
    for key, value, array in _ATTR.findall(text):
        if value.startswith('array'):
            attrs[key] = [int(v) for v in array.split(',')] if array else []
        elif value in ('true', 'false'):
            attrs[key] = value == 'true'
        else:
            number = value.split(' : ')[0]
            attrs[key] = float(number) if any(c in number for c in '.eE') \
                else int(number)
    return attrs


def _recipe(text):
    """The rn.recipe dictionary's scalar entries."""
    match = re.search(r'rn\.recipe = \{(.*)\}\}', text)
    entries = {}
    if not match:
        return entries
    # MLIR prints some doubles with a capital E: 9.9999999999999995E-8.
    for key, value in re.findall(r'(\w+) = ("[^"]*"|[-\d.eE+]+|true|false)',
                                 match.group(1)):
        if value.startswith('"'):
            entries[key] = value.strip('"')
        elif value in ('true', 'false'):
            entries[key] = value == 'true'
        else:
            entries[key] = float(value)
    return entries


class Graph:
    """The variables and forward ops of one model."""

    def __init__(self, mlir_text):
        self.variables = {}   # name -> (shape, trainable)
        self.ops = []         # (results, op, operands, attrs)
        self.recipe = _recipe(mlir_text)
        self.classes = int(re.search(r'rn\.classes = (\d+)',
                                     mlir_text).group(1))
        self.input = None
        self.output = None
        for line in mlir_text.splitlines():
            line = line.strip()
            if m := _VARIABLE.match(line):
                self.variables[_name(m.group(1))] = (
                    _shape(m.group(2)), 'trainable' in m.group(3))
            elif m := _ARG.search(line):
                self.input = m.group(1)
                self.input_shape = _shape(m.group(2))
            elif m := _OP.match(line):
                results = [r.strip() for r in m.group(1).split(',')]
                body = m.group(3)
                if m.group(2) == 'load':
                    operands = [_name(body.split()[0][1:])]
                    attrs = {}
                else:
                    # operands [{attrs}] : types; types hold no braces.
                    brace = body.find('{')
                    if brace >= 0:
                        operand_text = body[:brace]
                        attrs = _attrs(body[brace:body.rindex('}') + 1])
                    else:
                        operand_text = body.split(' : ')[0]
                        attrs = {}
                    operands = [o.strip() for o in operand_text.split(',')
                                if o.strip()]
                self.ops.append((results, m.group(2), operands, attrs))
            elif line.startswith('return '):
                self.output = line.split()[1]

    def initial_values(self, generator):
        """The model's own kind of start: He-normal weights (by fan-in),
        BatchNorm scales one and shifts zero, running statistics zero and
        one, biases zero. (Random scales and shifts make the gradients
        ill-conditioned: a 1e-7 change of the weights then moves them by
        1e-3, more than any two float32 implementations can agree on.)"""
        values = {}
        for name, (shape, _) in self.variables.items():
            if name.endswith(('gamma', 'running_var')):
                values[name] = torch.ones(shape)
            elif len(shape) >= 2:
                fan_in = math.prod(shape[1:])
                values[name] = (torch.randn(shape, generator=generator) *
                                (2.0 / fan_in) ** 0.5)
            else:  # biases, shifts, running means
                values[name] = torch.zeros(shape)
        return values

    def forward(self, images, params, training, decisions=None,
                inputs=None):
        """The logits (a final softmax is left out, as the loss folds it).

        decisions: op kind -> a list; the k-th op of that kind repeats the
        decision decisions[kind][k] of another implementation instead of
        deciding for itself (see follow()): where a ReLU's input or the
        two largest elements of a max pool's window lie within rounding of
        each other, or which elements a dropout drops (rn's draw their own
        masks). inputs: op kind -> a list that receives the input of each op
        of that kind."""
        decisions = decisions or {}
        inputs = inputs or {}
        values = {self.input: images}
        softmax_input = {}
        seen = {}  # op kind -> ops of that kind so far
        for results, op, operands, attrs in self.ops:
            if op == 'load':
                values[results[0]] = params[operands[0]]
                continue
            args = [values[o] for o in operands]
            k = seen.get(op, 0)
            seen[op] = k + 1
            if op == 'softmax':
                softmax_input[results[0]] = operands[0]
            if op in inputs:
                inputs[op].append(args[0].detach())
            if op in decisions:
                values[results[0]] = follow(op, args[0], attrs,
                                            decisions[op][k])
            else:
                values[results[0]] = _apply(op, args, attrs, training)
        output = self.output
        while output in softmax_input:
            output = softmax_input[output]
        return values[output]

    def attributes(self, kind):
        """The attributes of each op of `kind`, in graph order."""
        return [attrs for _, op, _, attrs in self.ops if op == kind]


MAX_POOLS = ('max_pool2d', 'global_max_pool')


def _pooled(op, x, attrs):
    """x as max pooling's windows see it: padded with -inf (max_pool2d)."""
    return _pad_hw(x, attrs['padding'], float('-inf')) \
        if op == 'max_pool2d' else x


def argmax(op, x, attrs):
    """Which element each window of a max pool picks: the first maximum in
    row-major order, as rn's kernels and PyTorch's max pooling; a flat
    index into each map of _pooled(x), F.max_pool2d's return_indices."""
    pooled = _pooled(op, x, attrs)
    if op == 'global_max_pool':
        return F.max_pool2d(pooled, pooled.shape[2:], return_indices=True)[1]
    return F.max_pool2d(pooled, attrs['kernel'], attrs['strides'],
                        return_indices=True)[1]


def follow(op, x, attrs, decision):
    """op's output on x when it repeats `decision`: for a max pool, the
    element each window picks (argmax()'s indices); for an elementwise op
    (relu, leaky_relu, dropout, dropblock), the multiplier of each input
    element."""
    if op not in MAX_POOLS:
        return x * decision.to(x.dtype)
    pooled = _pooled(op, x, attrs).flatten(2)
    picked = pooled.gather(2, decision.flatten(2)).view(decision.shape)
    return picked.flatten(1) if op == 'global_max_pool' else picked


def _pad_hw(x, padding, value=0.0):
    top, left, bottom, right = padding
    return F.pad(x, (left, right, top, bottom), value=value)


def _apply(op, args, attrs, training):
    x = args[0]
    if op == 'conv2d':
        bias = args[2] if len(args) > 2 else None
        return F.conv2d(_pad_hw(x, attrs['padding']), args[1], bias,
                        attrs['strides'], 0, attrs['dilations'],
                        attrs['groups'])
    if op == 'dense':
        return F.linear(x, args[1], args[2] if len(args) > 2 else None)
    if op == 'batch_norm':
        # running = momentum * running + (1 - momentum) * batch
        return F.batch_norm(x, args[3], args[4], args[1], args[2],
                            training=training,
                            momentum=1.0 - attrs['momentum'],
                            eps=attrs['epsilon'])
    if op == 'relu':
        return F.relu(x)
    if op == 'leaky_relu':
        return F.leaky_relu(x, attrs['alpha'])
    if op == 'sigmoid':
        return torch.sigmoid(x)
    if op == 'tanh':
        return torch.tanh(x)
    if op == 'gelu':
        return F.gelu(x)
    if op == 'elu':
        return F.elu(x, attrs['alpha'])
    if op == 'softmax':
        return F.softmax(x, dim=1)
    if op == 'add':
        return x + args[1]
    if op == 'concat':
        return torch.cat(args, dim=1)
    if op == 'max_pool2d':
        return F.max_pool2d(_pad_hw(x, attrs['padding'], float('-inf')),
                            attrs['kernel'], attrs['strides'])
    if op == 'avg_pool2d':
        padded = _pad_hw(x, attrs['padding'])
        total = F.avg_pool2d(padded, attrs['kernel'], attrs['strides'],
                             divisor_override=1)
        if attrs['count_include_pad']:
            return total / (attrs['kernel'][0] * attrs['kernel'][1])
        ones = _pad_hw(torch.ones_like(x[:1, :1]), attrs['padding'])
        count = F.avg_pool2d(ones, attrs['kernel'], attrs['strides'],
                             divisor_override=1)
        return total / count
    if op == 'global_avg_pool':
        return x.mean(dim=(2, 3))
    if op == 'global_max_pool':
        # A window over the whole map: the gradient goes to the first
        # maximum (row-major), as rn's kernel and PyTorch's max pooling
        # route it; amax would split it between equal maxima, which real
        # images make (saturated pixels give equal activations).
        return F.max_pool2d(x, x.shape[2:]).flatten(1)
    if op == 'zero_pad':
        (cl, hl, wl), (ch, hh, wh) = attrs['low'], attrs['high']
        return F.pad(x, (wl, wh, hl, hh, cl, ch))
    if op == 'subsample':
        sh, sw = attrs['strides']
        return x[:, :, ::sh, ::sw]
    if op == 'flatten':
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
    if op in ('dropout', 'dropblock'):
        if training:
            raise ValueError(op + ' draws its own masks: give the ones to '
                             'follow as Graph.forward\'s decisions')
        return x
    raise ValueError('rn_torch does not know rn.' + op)


class KerasAdam(torch.optim.Optimizer):
    """Adam as Keras computes it, with epsilon added to sqrt(v) before the
    bias correction (tf.keras.optimizers.Adam):
        m += (1 - beta1) (g - m);  v += (1 - beta2) (g^2 - v)
        w -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m / (sqrt(v) + eps)
    what the recipe's `keras_epsilon = true` promises (docs/dsl.md), written
    from that definition rather than from how train implements it. Weight
    decay as torch.optim's: added to the gradient (Adam), or the weights
    shrunk by lr * weight_decay before the update (AdamW)."""

    def __init__(self, params, lr, betas, eps, weight_decay, decoupled):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled=decoupled))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            for w in group['params']:
                state = self.state[w]
                if not state:
                    state['t'] = 0
                    state['m'] = torch.zeros_like(w)
                    state['v'] = torch.zeros_like(w)
                state['t'] += 1
                t, m, v = state['t'], state['m'], state['v']
                g = w.grad
                if group['decoupled']:
                    w.mul_(1 - group['lr'] * group['weight_decay'])
                else:
                    g = g + group['weight_decay'] * w
                m.add_((g - m) * (1 - beta1))
                v.add_((g * g - v) * (1 - beta2))
                rate = (group['lr'] * math.sqrt(1 - beta2 ** t) /
                        (1 - beta1 ** t))
                w.sub_(m * rate / (v.sqrt() + group['eps']))


def optimizer(graph, parameters, lr=None):
    """The recipe's optimizer over `parameters` (name -> tensor)."""
    r = graph.recipe
    kind = r.get('optimizer', 'adam')
    tensors = list(parameters.values())
    lr = r['lr'] if lr is None else lr
    if kind == 'sgd':
        return torch.optim.SGD(tensors, lr=lr, momentum=r['momentum'],
                               nesterov=r['nesterov'],
                               weight_decay=r['weight_decay'])
    betas = (r['beta1'], r['beta2'])
    if r.get('keras_epsilon', False):
        return KerasAdam(tensors, lr=lr, betas=betas, eps=r['epsilon'],
                         weight_decay=r['weight_decay'],
                         decoupled=kind == 'adamw')
    cls = torch.optim.AdamW if kind == 'adamw' else torch.optim.Adam
    return cls(tensors, lr=lr, betas=betas, eps=r['epsilon'],
               weight_decay=r['weight_decay'])
