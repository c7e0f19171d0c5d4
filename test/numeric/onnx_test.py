#!/usr/bin/python3
"""`resnetc --emit=onnx` against classify and the rn graph interpreter.

  onnx_test.py --resnetc RESNETC --model M.dsl --ops-model OPS.dsl
               --workdir DIR [--steps N]

Every model written here passes onnx.checker's full check (types and
shapes inferred, strictly) and runs in onnx_torch.py, a PyTorch
interpreter of the ONNX nodes; then:
- OPS.dsl (a model with every forward op of the rn dialect), with random
  weights and running statistics, gives the logits and probabilities the
  rn graph interpreter (rn_torch.py) gives, in float64, at a batch other
  than the compiled one (the batch is symbolic);
- M.dsl (the default example), trained N steps with --export, gives the
  probabilities `classify --image` prints for PNGs of test images (1e-4),
  and the logits of the rn graph interpreter. Skipped without
  Fashion-MNIST (after the first part).
"""

import argparse
import os
import re
import shutil
import sys

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_test  # noqa: E402
import onnx_torch  # noqa: E402
import rn_torch  # noqa: E402

from export_test import run, last_json  # noqa: E402


def export(args, model, weights, output, failures):
    """resnetc --emit=onnx, checked; the model in onnx_torch."""
    run([args.resnetc, '--mode=infer', model, '--emit=onnx',
         f'--weights={weights}', '-o', output])
    proto = onnx.load(output)
    onnx.checker.check_model(proto, full_check=True)
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in list(proto.graph.input) + list(proto.graph.output)]
    if [v.name for v in proto.graph.input] != ['image'] or \
            [v.name for v in proto.graph.output] != ['logits',
                                                     'probabilities'] or \
            any(d[0] != 'batch' for d in dims):
        failures.append(f'{output}: inputs and outputs {dims}')
    return onnx_torch.Model(output)


def random_weights(graph, generator):
    """Weights that make every part of each layer count: BatchNorm's
    scales, shifts and running statistics away from 1 and 0."""
    params = {}
    for name, (shape, _) in graph.variables.items():
        if name.endswith(('gamma', 'running_var')):
            params[name] = 0.5 + torch.rand(shape, generator=generator)
        elif len(shape) >= 2:
            fan_in = shape[1] * (shape[2] * shape[3] if len(shape) == 4 else 1)
            params[name] = (torch.randn(shape, generator=generator) *
                            (2.0 / fan_in) ** 0.5)
        else:
            params[name] = 0.3 * torch.randn(shape, generator=generator)
    return params


def max_diff(a, b):
    return float((a.double() - b.double()).abs().max())


def check_every_op(args, failures):
    mlir = run([args.resnetc, args.ops_model, '--emit=mlir'],
               show=False).stdout
    graph = rn_torch.Graph(mlir)
    params = random_weights(graph, torch.Generator().manual_seed(3))
    export_test.write_safetensors('ops.safetensors', params)
    model = export(args, args.ops_model, 'ops.safetensors', 'ops.onnx',
                   failures)
    print('ONNX operators: ' + ', '.join(model.op_types))
    images = torch.randn([5] + graph.input_shape[1:],
                         generator=torch.Generator().manual_seed(4),
                         dtype=torch.float64)
    with torch.no_grad():
        logits = graph.forward(images, {k: v.double()
                                        for k, v in params.items()},
                               training=False)
        out = model.run({'image': images})
    diffs = (max_diff(out['logits'], logits),
             max_diff(out['probabilities'], torch.softmax(logits, 1)))
    print(f'every op (batch {len(images)}, float64): max |logits - rn_torch| '
          f'{diffs[0]:.3g}, max |probabilities - rn_torch| {diffs[1]:.3g}')
    # Float64 on both sides: what differs is the attributes ONNX stores as
    # float32 (epsilon, alpha).
    if max(diffs) > 1e-6:
        failures.append(f'every-op model: ONNX and rn_torch differ by '
                        f'{max(diffs):.3g}')


def check_trained_model(args, failures):
    run([args.resnetc, args.model, '-o', 'train'])
    run([args.resnetc, args.model, '--mode=infer', '-o', 'classify'])
    mlir = run([args.resnetc, args.model, '--emit=mlir'], show=False).stdout
    graph = rn_torch.Graph(mlir)
    norm = re.search(r'kind = "normalize", mean = array<f64: ([^>]*)>, '
                     r'std = array<f64: ([^>]*)>', mlir)
    mean, std = float(norm.group(1)), float(norm.group(2))
    run(['./train', f'--steps={args.steps}', '--progress=none',
         '--checkpoint=run.ckpt', '--export=run.safetensors'])
    model = export(args, args.model, 'run.safetensors', 'model.onnx',
                   failures)

    images = export_test.read_idx('t10k-images-idx3-ubyte.gz')[:8]
    files = []
    for i, image in enumerate(images):
        files.append(f'test{i}.png')
        export_test.write_gray_png(files[-1], image)
    classes = graph.classes
    predicted = last_json(run(['./classify', '--checkpoint=run.ckpt',
                               '--progress=none', f'--top={classes}',
                               '--image', *files]))
    # classify reads a gray PNG as RGB and weighs it back to gray
    # (0.2989 + 0.5870 + 0.1140 = 0.9999), as tf.image.rgb_to_grayscale.
    x = (images.double() * 0.9999 / 255.0 - mean) / std
    x = x.reshape(len(images), 1, *images.shape[1:])
    with torch.no_grad():
        out = model.run({'image': x})
        _, params = export_test.read_safetensors('run.safetensors')
        logits = graph.forward(x, {k: v.double() for k, v in params.items()},
                               training=False)
    classify = torch.zeros(len(images), classes, dtype=torch.float64)
    for i, entry in enumerate(predicted['predictions']):
        for choice in entry['top']:
            classify[i, choice['class']] = choice['probability']
    diffs = (max_diff(out['probabilities'], classify),
             max_diff(out['logits'], logits))
    print(f'{args.steps} steps of {export_test.graph_name(mlir)}, '
          f'{len(files)} images: max |ONNX - classify| probabilities '
          f'{diffs[0]:.3g}; max |ONNX - rn_torch| logits {diffs[1]:.3g}')
    if diffs[0] > 1e-4:
        failures.append(f'ONNX probabilities differ from classify\'s by '
                        f'{diffs[0]:.3g}')
    if diffs[1] > 1e-6:
        failures.append(f'ONNX logits differ from rn_torch\'s by '
                        f'{diffs[1]:.3g}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--ops-model', required=True)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--steps', type=int, default=30)
    args = parser.parse_args()
    args.resnetc = os.path.abspath(args.resnetc)
    args.model = os.path.abspath(args.model)
    args.ops_model = os.path.abspath(args.ops_model)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    os.chdir(args.workdir)
    torch.set_num_threads(2)

    failures = []
    check_every_op(args, failures)
    skipped = not os.path.isdir(export_test.DATA)
    if skipped:
        print('trained model skipped: no Fashion-MNIST in ' + export_test.DATA)
    else:
        check_trained_model(args, failures)
    for failure in failures:
        print('FAIL: ' + failure)
    print('onnx: ' + ('FAILED' if failures else 'ok'))
    return 1 if failures else 77 if skipped else 0


if __name__ == '__main__':
    sys.exit(main())
