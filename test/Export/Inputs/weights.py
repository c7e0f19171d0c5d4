#!/usr/bin/env python3
"""Writes a safetensors file for a model's variables, for the lit tests.

    weights.py MODEL.mlir OUT.safetensors [--drop NAME] [--reshape NAME]
               [--extra NAME]

MODEL.mlir is `resnetc --emit=mlir`'s output; every rn.variable becomes an
F32 tensor of its shape (small, deterministic values), as
`./train --export` writes them. --drop leaves NAME out, --reshape stores it
flattened and one element short, --extra adds a tensor NAME of shape [2, 2]:
the files resnetc must refuse. Plain Python (struct, json): no PyTorch.
"""
import argparse
import json
import math
import re
import struct

VARIABLE = re.compile(
    r'rn\.variable @("[^"]+"|[\w.$-]+) : tensor<([\dx]+)xf32>')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('mlir')
    parser.add_argument('out')
    parser.add_argument('--drop')
    parser.add_argument('--reshape')
    parser.add_argument('--extra')
    args = parser.parse_args()
    tensors = {}
    for name, dims in VARIABLE.findall(open(args.mlir).read()):
        name = name.strip('"')
        shape = [int(d) for d in dims.split('x')]
        if name == args.drop:
            continue
        if name == args.reshape:
            shape = [math.prod(shape) - 1]
        tensors[name] = shape
    if args.extra:
        tensors[args.extra] = [2, 2]
    header, blobs, offset = {}, [], 0
    for i, (name, shape) in enumerate(tensors.items()):
        count = math.prod(shape)
        blob = struct.pack(f'<{count}f',
                           *[1.0 + 0.01 * ((i + j) % 7) for j in range(count)])
        header[name] = {'dtype': 'F32', 'shape': shape,
                        'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    with open(args.out, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


if __name__ == '__main__':
    main()
