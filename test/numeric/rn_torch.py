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
    r'[-\d.e+]+(?: : \w+)?)')


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
            attrs[key] = float(number) if ('.' in number or 'e' in number) \
                else int(number)
    return attrs


def _recipe(text):
    """The rn.recipe dictionary's scalar entries."""
    match = re.search(r'rn\.recipe = \{(.*)\}\}', text)
    entries = {}
    if not match:
        return entries
    for key, value in re.findall(r'(\w+) = ("[^"]*"|[-\d.e+]+|true|false)',
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

    def forward(self, images, params, training, relu_masks=None,
                relu_inputs=None):
        """The logits (a final softmax is left out, as the loss folds it).

        relu_masks: the k-th ReLU multiplies its input by relu_masks[k]
        instead of testing its sign, to follow another implementation's
        decisions where an input lies within rounding of zero. relu_inputs:
        a list that receives each ReLU's input."""
        values = {self.input: images}
        softmax_input = {}
        relus = 0
        for results, op, operands, attrs in self.ops:
            if op == 'load':
                values[results[0]] = params[operands[0]]
                continue
            args = [values[o] for o in operands]
            if op == 'softmax':
                softmax_input[results[0]] = operands[0]
            if op == 'relu' and relu_inputs is not None:
                relu_inputs.append(args[0].detach())
            if op == 'relu' and relu_masks is not None:
                values[results[0]] = args[0] * relu_masks[relus].to(
                    args[0].dtype)
            else:
                values[results[0]] = _apply(op, args, attrs, training)
            relus += op == 'relu'
        output = self.output
        while output in softmax_input:
            output = softmax_input[output]
        return values[output]


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
        return x.amax(dim=(2, 3))
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
            raise ValueError(op + ' draws its own masks; the PyTorch '
                             'comparison cannot follow them')
        return x
    raise ValueError('rn_torch does not know rn.' + op)


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
    cls = torch.optim.AdamW if kind == 'adamw' else torch.optim.Adam
    return cls(tensors, lr=lr, betas=betas, eps=r['epsilon'],
               weight_decay=r['weight_decay'])
