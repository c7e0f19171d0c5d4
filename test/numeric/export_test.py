#!/usr/bin/python3
"""Weights out of resnetc into PyTorch, and weights from elsewhere back in.

  export_test.py --resnetc RESNETC --model M.dsl --workdir DIR [--steps N]

Builds M.dsl (a Fashion-MNIST model) as ./train and ./classify, trains N
steps with --export and --checkpoint, and checks:
- the export, read by a plain reader (the format's JSON header and raw
  little-endian floats; no safetensors package), loaded into the rn graph
  interpreter (rn_torch.py) and run by PyTorch on the 10,000 test images,
  counts the same correct images as classify on the checkpoint, with the
  same mean loss (1e-4 relative);
- `classify --export` of the checkpoint writes the same bytes;
- `train --eval-only --init-from` of the export counts them too;
- weights written here by a plain writer (other weights: the export plus
  noise; tensors in another order, no metadata, no padding) go in with
  --init-from and give the count PyTorch gives them;
- a missing tensor, a wrong shape and an extra tensor are each refused with
  exit status 1 and a message that names the tensor;
- `classify --image` on PNGs of test images (made here) gives the classes
  and probabilities PyTorch gives (eval_step's logits, read from the slot
  the program table names).
"""

import argparse
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rn_torch  # noqa: E402

DATA = '/usr/share/datasets/fashion-mnist'


def read_safetensors(path):
    data = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        assert entry['dtype'] == 'F32', entry
        begin, end = entry['data_offsets']
        tensors[name] = torch.frombuffer(
            bytearray(body[begin:end]), dtype=torch.float32).reshape(
                entry['shape'])
    return header.get('__metadata__', {}), tensors


def write_safetensors(path, tensors):
    """The other way round from resnetc's writer: reversed order, no
    metadata, no padding."""
    header, blobs, offset = {}, [], 0
    for name, tensor in reversed(list(tensors.items())):
        blob = tensor.contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape),
                        'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def write_gray_png(path, pixels):
    """An 8-bit grayscale PNG, by hand: zlib-compressed rows, each with
    filter byte 0."""
    height, width = pixels.shape
    rows = b''.join(b'\0' + bytes(pixels[y].tolist()) for y in range(height))

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' +
                chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0,
                                           0, 0, 0)) +
                chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def read_idx(name):
    data = gzip.open(os.path.join(DATA, name)).read()
    dims = data[3]
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]),
                            dtype=torch.uint8).reshape(shape)


def torch_eval(graph, params, images, labels, mean, std):
    """Correct count and mean loss of PyTorch on the rn graph."""
    x = (images.float() / 255.0 - mean) / std
    x = x.reshape(-1, 1, 28, 28)
    correct, loss = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(x), 500):
            logits = graph.forward(x[start:start + 500], params,
                                   training=False)
            y = labels[start:start + 500].long()
            correct += int((logits.argmax(1) == y).sum())
            loss += float(F.cross_entropy(logits.double(), y,
                                          reduction='sum'))
    return correct, loss / len(x)


def run(command, expect=0, show=True):
    print(' '.join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    print((result.stdout[-2000:] if show else '') + result.stderr[-2000:])
    if result.returncode != expect:
        raise SystemExit(f'exit {result.returncode}, not {expect}: '
                         + ' '.join(command))
    return result


def last_json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resnetc', required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--steps', type=int, default=100)
    args = parser.parse_args()
    args.resnetc = os.path.abspath(args.resnetc)
    args.model = os.path.abspath(args.model)
    if not os.path.isdir(DATA):
        print('skipped: no Fashion-MNIST in ' + DATA)
        return 77
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    os.chdir(args.workdir)
    torch.set_num_threads(2)

    run([args.resnetc, args.model, '-o', 'train'])
    run([args.resnetc, args.model, '--mode=infer', '-o', 'classify'])
    mlir = run([args.resnetc, args.model, '--emit=mlir'], show=False).stdout
    graph = rn_torch.Graph(mlir)
    norm = re.search(r'kind = "normalize", mean = array<f64: ([^>]*)>, '
                     r'std = array<f64: ([^>]*)>', mlir)
    mean, std = (float(norm.group(1)), float(norm.group(2)))

    run(['./train', f'--steps={args.steps}', '--progress=none',
         '--checkpoint=run.ckpt', '--export=run.safetensors'])
    classified = last_json(run(['./classify', '--checkpoint=run.ckpt',
                                '--progress=none']))
    failures = []

    metadata, params = read_safetensors('run.safetensors')
    expected = {name for name, (shape, _) in graph.variables.items()}
    if set(params) != expected:
        failures.append(f'the export holds {sorted(params)}, the model '
                        f'{sorted(expected)}')
    for name, (shape, _) in graph.variables.items():
        if name in params and list(params[name].shape) != shape:
            failures.append(f'{name}: shape {list(params[name].shape)}, '
                            f'not {shape}')
    if metadata.get('model') != graph_name(mlir):
        failures.append(f'metadata {metadata}')
    images, labels = read_idx('t10k-images-idx3-ubyte.gz'), \
        read_idx('t10k-labels-idx1-ubyte.gz')
    correct, loss = torch_eval(graph, params, images, labels, mean, std)
    print(f'PyTorch on the export: {correct} correct, loss {loss:.6f}; '
          f'classify: {classified["correct"]} correct, loss '
          f'{classified["loss"]:.6f}')
    if correct != classified['correct']:
        failures.append(f'PyTorch counts {correct} correct images, classify '
                        f'{classified["correct"]}')
    if abs(loss - classified['loss']) > 1e-4 * abs(loss):
        failures.append(f'PyTorch loss {loss}, classify {classified["loss"]}')

    run(['./classify', '--checkpoint=run.ckpt', '--export=again.safetensors',
         '--progress=none'])
    if open('again.safetensors', 'rb').read() != \
            open('run.safetensors', 'rb').read():
        failures.append('classify --export wrote other bytes than train')

    back = last_json(run(['./train', '--eval-only',
                          '--init-from=run.safetensors', '--progress=none']))
    if back['test_correct'] != classified['correct']:
        failures.append(f'--init-from of the export: {back["test_correct"]} '
                        f'correct, not {classified["correct"]}')

    generator = torch.Generator().manual_seed(1)
    other = {name: t + 0.05 * t.std() * torch.randn(t.shape,
                                                    generator=generator)
             if t.dim() >= 2 else t.clone() for name, t in params.items()}
    write_safetensors('other.safetensors', other)
    other_correct, _ = torch_eval(graph, other, images, labels, mean, std)
    got = last_json(run(['./train', '--eval-only',
                         '--init-from=other.safetensors', '--progress=none']))
    print(f'weights written here: PyTorch {other_correct} correct, train '
          f'{got["test_correct"]}')
    if got['test_correct'] != other_correct:
        failures.append(f'weights written here: train counts '
                        f'{got["test_correct"]}, PyTorch {other_correct}')

    files = []
    for i in range(4):
        files.append(f'test{i}.png')
        write_gray_png(files[-1], images[i])
    predicted = last_json(run(['./classify', '--checkpoint=run.ckpt',
                               '--progress=none', '--top=2', '--image',
                               *files]))
    # classify reads a gray PNG as RGB and weighs it back to gray
    # (0.2989 + 0.5870 + 0.1140 = 0.9999), as tf.image.rgb_to_grayscale.
    x = (images[:4].float() * 0.9999 / 255.0 - mean) / std
    with torch.no_grad():
        probabilities = torch.softmax(
            graph.forward(x.reshape(-1, 1, 28, 28), params,
                          training=False).double(), dim=1)
    for i, entry in enumerate(predicted['predictions']):
        for rank, choice in enumerate(entry['top']):
            expected = torch.argsort(probabilities[i], descending=True)[rank]
            if choice['class'] != int(expected) or abs(
                    choice['probability'] -
                    float(probabilities[i, expected])) > 1e-4:
                failures.append(f'{entry["file"]}: classify says {choice}, '
                                f'PyTorch class {int(expected)} at '
                                f'{float(probabilities[i, expected]):.6f}')
    print(f'classify --image agrees with PyTorch on {len(files)} images')

    some = next(iter(params))
    broken = {
        'missing': ({k: v for k, v in params.items() if k != some}, some),
        'shape': ({**params, some: params[some].reshape(-1)[:-1]}, some),
        'extra': ({**params, 'head.weight': torch.zeros(2, 2)},
                  'head.weight'),
    }
    for kind, (tensors, name) in broken.items():
        write_safetensors(kind + '.safetensors', tensors)
        result = run(['./train', '--steps=1', '--progress=none',
                      f'--init-from={kind}.safetensors'], expect=1)
        if name not in result.stderr or 'does not fit model' not in \
                result.stderr:
            failures.append(f'{kind} tensor: the message does not name '
                            f'{name}: {result.stderr.strip()}')

    for failure in failures:
        print('FAIL: ' + failure)
    print('export: ' + ('FAILED' if failures else 'ok'))
    return 1 if failures else 0


def graph_name(mlir):
    return re.search(r'module @([\w$.-]+)', mlir).group(1)


if __name__ == '__main__':
    sys.exit(main())
