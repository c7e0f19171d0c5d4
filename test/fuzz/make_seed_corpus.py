#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora
(test/fuzz/corpus/{idx,cifar,checkpoint,safetensors}):
small valid inputs in each target's framing (see the Fuzz*.cpp headers),
gzip variants, and near-misses. The DSL target's seeds are the examples and
corpus/dsl. Run from anywhere; the files are checked in."""

import gzip
import json
import pathlib
import struct
import zlib

HERE = pathlib.Path(__file__).resolve().parent / 'corpus'


def idx(images, rows, cols, labels):
    image_file = struct.pack('>IIII', 0x803, len(labels), rows, cols) + images
    label_file = struct.pack('>II', 0x801, len(labels)) + bytes(labels)
    return image_file, label_file


def framed_idx(image_file, label_file):
    return struct.pack('<H', len(image_file)) + image_file + label_file


def text(value):
    return struct.pack('<I', len(value)) + value.encode()


def checkpoint_body():
    body = b'RNCKPT\0\0' + struct.pack('<I', 2)
    body += text('m') + text('sgd') + text('host') + text('f' * 32)
    body += struct.pack('<I', 2) + text('seed') + text('0')
    body += text('lr') + text('0.1')
    body += struct.pack('<qqqdqqd', 5, 1, 2, 1.5, 40, 64, 0.5)
    body += struct.pack('<I', 2)
    body += text('w') + struct.pack('<ii', 0, 2) + struct.pack('<qq', 2, 2)
    body += struct.pack('<4f', 0.5, -1.0, 2.0, 0.25)
    body += text('w.momentum') + struct.pack('<ii', 2, 1)
    body += struct.pack('<q', 3) + struct.pack('<3f', 0.0, 1.0, -1.0)
    return body


def safetensors(header, data):
    text = json.dumps(header).encode()
    return struct.pack('<Q', len(text)) + text + data


def main():
    for name in ('idx', 'cifar', 'checkpoint', 'safetensors'):
        (HERE / name).mkdir(parents=True, exist_ok=True)
    images, labels = idx(bytes(range(32)), 4, 4, [3, 9])
    (HERE / 'idx/valid').write_bytes(framed_idx(images, labels))
    (HERE / 'idx/valid-gzip').write_bytes(
        framed_idx(gzip.compress(images, mtime=0),
                   gzip.compress(labels, mtime=0)))
    (HERE / 'idx/label-out-of-range').write_bytes(
        framed_idx(*idx(bytes(16), 4, 4, [10])))
    (HERE / 'idx/truncated').write_bytes(framed_idx(images[:-3], labels))

    record10 = bytes([7]) + bytes(i % 251 for i in range(3072))
    record100 = bytes([4, 23]) + bytes(i % 241 for i in range(3072))
    (HERE / 'cifar/cifar10').write_bytes(b'\0' + record10 * 2)
    (HERE / 'cifar/cifar100').write_bytes(b'\1' + record100)
    (HERE / 'cifar/cifar10-gzip').write_bytes(
        b'\0' + gzip.compress(record10, mtime=0))
    (HERE / 'cifar/short').write_bytes(b'\0' + record10[:100])

    body = checkpoint_body()
    crc = struct.pack('<I', zlib.crc32(body))
    (HERE / 'checkpoint/valid-crc-added').write_bytes(b'\1' + body)
    (HERE / 'checkpoint/valid').write_bytes(b'\0' + body + crc)
    (HERE / 'checkpoint/truncated').write_bytes(b'\1' + body[:60])

    weights = {'__metadata__': {'model': 'm', 'format': 'pt'},
               'conv.weight': {'dtype': 'F32', 'shape': [2, 1, 1, 2],
                               'data_offsets': [0, 16]},
               'bn.running_mean': {'dtype': 'F32', 'shape': [],
                                   'data_offsets': [16, 20]},
               'b\u00e9\ud83d\ude00': {'dtype': 'BF16', 'shape': [3],
                                         'data_offsets': [20, 26]}}
    data = struct.pack('<5f', 0.5, -1.0, 2.0, 0.25, 3.0) + bytes(6)
    (HERE / 'safetensors/valid').write_bytes(safetensors(weights, data))
    (HERE / 'safetensors/truncated').write_bytes(
        safetensors(weights, data)[:-5])
    weights['conv.weight']['data_offsets'] = [0, 20]
    (HERE / 'safetensors/overlap').write_bytes(safetensors(weights, data))


if __name__ == '__main__':
    main()
