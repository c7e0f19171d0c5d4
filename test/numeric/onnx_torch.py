"""Runs an ONNX model in PyTorch, node by node.

ONNX 1.12 (python3-onnx, Debian 12) has no reference evaluator, so the ONNX
test evaluates `resnetc --emit=onnx`'s graphs here: one function per
operator the export writes, each following the ONNX operator spec (opset 17)
with torch.nn.functional, never resnetc's own conventions. An operator or
an attribute value it does not know is an error, not a guess.
"""

import math

import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F


def _pads_hw(pads):
    """ONNX pads [top, left, bottom, right] as F.pad's (left, right, top,
    bottom)."""
    top, left, bottom, right = pads
    return (left, right, top, bottom)


def _symmetric(pads):
    top, left, bottom, right = pads
    return (top, left) if (top, left) == (bottom, right) else None


def conv(x, w, b=None, *, kernel_shape=None, strides=(1, 1),
         pads=(0, 0, 0, 0), dilations=(1, 1), group=1, auto_pad=b'NOTSET'):
    assert auto_pad == b'NOTSET'
    assert kernel_shape is None or list(kernel_shape) == list(w.shape[2:])
    return F.conv2d(F.pad(x, _pads_hw(pads)), w, b, tuple(strides), 0,
                    tuple(dilations), group)


def gemm(a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0):
    a = a.t() if transA else a
    b = b.t() if transB else b
    y = alpha * (a @ b)
    return y if c is None else y + beta * c


def batch_normalization(x, scale, bias, mean, var, *, epsilon=1e-5,
                        momentum=0.9, training_mode=0):
    assert training_mode == 0
    shape = [1, -1] + [1] * (x.dim() - 2)
    return ((x - mean.reshape(shape)) /
            torch.sqrt(var.reshape(shape) + epsilon) * scale.reshape(shape) +
            bias.reshape(shape))


def max_pool(x, *, kernel_shape, strides=(1, 1), pads=(0, 0, 0, 0),
             dilations=(1, 1), ceil_mode=0, storage_order=0,
             auto_pad=b'NOTSET'):
    assert auto_pad == b'NOTSET' and not ceil_mode
    assert list(dilations) == [1, 1]
    return F.max_pool2d(F.pad(x, _pads_hw(pads), value=-math.inf),
                        tuple(kernel_shape), tuple(strides))


def average_pool(x, *, kernel_shape, strides=(1, 1), pads=(0, 0, 0, 0),
                 count_include_pad=0, ceil_mode=0, auto_pad=b'NOTSET'):
    assert auto_pad == b'NOTSET' and not ceil_mode
    symmetric = _symmetric(pads)
    if symmetric is not None and all(2 * p <= k for p, k in
                                     zip(symmetric, kernel_shape)):
        return F.avg_pool2d(x, tuple(kernel_shape), tuple(strides), symmetric,
                            count_include_pad=bool(count_include_pad))
    # Asymmetric pads: sum over the zero-padded input, divided by the whole
    # window or by the window's pixels inside the input.
    total = F.avg_pool2d(F.pad(x, _pads_hw(pads)), tuple(kernel_shape),
                         tuple(strides), divisor_override=1)
    if count_include_pad:
        return total / (kernel_shape[0] * kernel_shape[1])
    inside = F.pad(torch.ones_like(x[:1, :1]), _pads_hw(pads))
    return total / F.avg_pool2d(inside, tuple(kernel_shape), tuple(strides),
                                divisor_override=1)


def pad(x, pads, constant_value=None, axes=None, *, mode=b'constant'):
    assert mode == b'constant' and axes is None
    value = 0.0 if constant_value is None else float(constant_value)
    rank = x.dim()
    begins, ends = pads.tolist()[:rank], pads.tolist()[rank:]
    torch_pads = []
    for axis in reversed(range(rank)):
        torch_pads += [begins[axis], ends[axis]]
    return F.pad(x, torch_pads, value=value)


def slice_(x, starts, ends, axes=None, steps=None):
    axes = range(x.dim()) if axes is None else axes.tolist()
    steps = [1] * len(axes) if steps is None else steps.tolist()
    index = [slice(None)] * x.dim()
    for axis, start, end, step in zip(axes, starts.tolist(), ends.tolist(),
                                      steps):
        assert step > 0
        index[axis] = slice(start, min(end, x.shape[axis]), step)
    return x[tuple(index)]


def flatten(x, *, axis=1):
    return x.reshape(math.prod(x.shape[:axis]), -1)


OPS = {
    'Conv': conv,
    'Gemm': gemm,
    'BatchNormalization': batch_normalization,
    'Relu': lambda x: F.relu(x),
    'LeakyRelu': lambda x, *, alpha=0.01: F.leaky_relu(x, alpha),
    'Sigmoid': lambda x: torch.sigmoid(x),
    'Tanh': lambda x: torch.tanh(x),
    'Erf': lambda x: torch.erf(x),
    'Add': lambda a, b: a + b,
    'Mul': lambda a, b: a * b,
    'Div': lambda a, b: a / b,
    'Softmax': lambda x, *, axis=-1: F.softmax(x, dim=axis),
    'Concat': lambda *xs, axis: torch.cat(xs, dim=axis),
    'MaxPool': max_pool,
    'AveragePool': average_pool,
    'GlobalAveragePool': lambda x: x.mean(dim=(2, 3), keepdim=True),
    'GlobalMaxPool': lambda x: x.amax(dim=(2, 3), keepdim=True),
    'Flatten': flatten,
    'Transpose': lambda x, *, perm: x.permute(*perm),
    'Pad': pad,
    'Slice': slice_,
    'Identity': lambda x: x,
}


class Model:
    """An ONNX model: its initializers as tensors, its nodes in order."""

    def __init__(self, path):
        self.proto = onnx.load(path)
        graph = self.proto.graph
        self.initializers = {
            t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
            for t in graph.initializer}
        self.inputs = [i.name for i in graph.input
                       if i.name not in self.initializers]
        self.outputs = [o.name for o in graph.output]
        self.op_types = sorted({n.op_type for n in graph.node})

    def run(self, feeds, dtype=torch.float64):
        """The graph's outputs (name -> tensor) for `feeds` (name ->
        tensor), computed in `dtype`."""
        values = {name: t.to(dtype) if t.is_floating_point() else t
                  for name, t in self.initializers.items()}
        values.update({name: t.to(dtype) for name, t in feeds.items()})
        for node in self.proto.graph.node:
            if node.domain not in ('', 'ai.onnx') or node.op_type not in OPS:
                raise ValueError(f'onnx_torch does not know {node.op_type}')
            attrs = {a.name: onnx.helper.get_attribute_value(a)
                     for a in node.attribute}
            args = [values[name] if name else None for name in node.input]
            result = OPS[node.op_type](*args, **attrs)
            values[node.output[0]] = result
        return {name: values[name] for name in self.outputs}
