#!/usr/bin/python3
"""What train writes to --log-dir, read back by tools that are not ours.

  log_dir_test.py --train TRAIN --workdir DIR [--data DIR]

Trains TRAIN (any CPU train; CI uses the logistic test program on
Fashion-MNIST) for 2 epochs with a validation split and a checkpoint, then
resumes it for a third epoch in the same log directory, and checks:
- every TFRecord of every TensorBoard event file: the masked CRC-32C of its
  length and of its data, computed by crcmod (python3-crcmod);
- every Event, decoded by the protobuf library (python3-protobuf) against
  the published tensorflow.Event schema, re-encodes to the same bytes, and
  its scalars equal the records of metrics.jsonl (to float32 rounding);
- curves.svg is XML with one line per split and quantity, a point per
  epoch (the resumed run's included), and rsvg-convert renders it to a PNG.
"""

import argparse
import glob
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import crcmod.predefined
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

crc32c = crcmod.predefined.mkCrcFun('crc-32c')


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xa282ead8) & 0xffffffff


def event_class():
    """tensorflow.Event and Summary as tensorflow/core/util/event.proto and
    framework/summary.proto declare the fields train writes."""
    F = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name='event.proto', package='tensorflow', syntax='proto3')
    summary = file.message_type.add(name='Summary')
    value = summary.nested_type.add(name='Value')
    value.field.add(name='tag', number=1, type=F.TYPE_STRING,
                    label=F.LABEL_OPTIONAL)
    value.field.add(name='simple_value', number=2, type=F.TYPE_FLOAT,
                    label=F.LABEL_OPTIONAL, oneof_index=0)
    value.oneof_decl.add(name='value')
    summary.field.add(name='value', number=1, type=F.TYPE_MESSAGE,
                      type_name='.tensorflow.Summary.Value',
                      label=F.LABEL_REPEATED)
    event = file.message_type.add(name='Event')
    event.field.add(name='wall_time', number=1, type=F.TYPE_DOUBLE,
                    label=F.LABEL_OPTIONAL)
    event.field.add(name='step', number=2, type=F.TYPE_INT64,
                    label=F.LABEL_OPTIONAL)
    event.field.add(name='file_version', number=3, type=F.TYPE_STRING,
                    label=F.LABEL_OPTIONAL, oneof_index=0)
    event.field.add(name='summary', number=5, type=F.TYPE_MESSAGE,
                    type_name='.tensorflow.Summary', label=F.LABEL_OPTIONAL,
                    oneof_index=0)
    event.oneof_decl.add(name='what')
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.MessageFactory(pool).GetPrototype(
        pool.FindMessageTypeByName('tensorflow.Event'))


Event = event_class()


def read_events(path, failures):
    """{(tag, step): value} of one event file, checking every record."""
    data = open(path, 'rb').read()
    scalars, offset, index = {}, 0, 0
    while offset < len(data):
        where = f'{path} record {index}'
        if offset + 12 > len(data):
            failures.append(f'{where}: truncated header')
            break
        header = data[offset:offset + 8]
        (length,) = struct.unpack('<Q', header)
        (header_crc,) = struct.unpack('<I', data[offset + 8:offset + 12])
        if header_crc != masked(header):
            failures.append(f'{where}: length CRC differs')
        body = data[offset + 12:offset + 12 + length]
        if len(body) != length or offset + 16 + length > len(data):
            failures.append(f'{where}: truncated data')
            break
        (body_crc,) = struct.unpack(
            '<I', data[offset + 12 + length:offset + 16 + length])
        if body_crc != masked(body):
            failures.append(f'{where}: data CRC differs')
        event = Event()
        event.ParseFromString(body)
        if event.SerializeToString() != body:
            failures.append(f'{where}: fields other than the schema\'s')
        if abs(event.wall_time - time.time()) > 3600:
            failures.append(f'{where}: wall_time {event.wall_time}')
        if index == 0:
            if event.file_version != 'brain.Event:2':
                failures.append(f'{where}: first event is not the version')
        else:
            for value in event.summary.value:
                scalars[(value.tag, event.step)] = value.simple_value
        offset += 16 + length
        index += 1
    return scalars


def events_of(log_dir, split, failures):
    scalars = {}
    for path in sorted(glob.glob(os.path.join(log_dir, 'tensorboard', split,
                                              'events.out.tfevents.*'))):
        scalars.update(read_events(path, failures))
    return scalars


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)


def check_scalars(log_dir, records, failures):
    train = events_of(log_dir, 'train', failures)
    validation = events_of(log_dir, 'validation', failures)
    test = events_of(log_dir, 'test', failures)
    expected = []
    for r in records:
        if r['type'] == 'step':
            for tag, key in [('batch_loss', 'loss'),
                             ('batch_accuracy', 'accuracy'),
                             ('batch_learning_rate', 'lr'),
                             ('batch_images_per_s', 'images_per_s')]:
                expected.append((train, 'train', tag, r['step'], r[key]))
        else:
            e = r['epoch']
            for tag, key in [('epoch_loss', 'train_loss'),
                             ('epoch_accuracy', 'train_accuracy'),
                             ('epoch_learning_rate', 'lr'),
                             ('epoch_images_per_s', 'images_per_s')]:
                expected.append((train, 'train', tag, e, r[key]))
            for scalars, split in [(validation, 'val'), (test, 'test')]:
                name = 'validation' if split == 'val' else split
                expected.append((scalars, name, 'epoch_loss', e,
                                 r[split + '_loss']))
                expected.append((scalars, name, 'epoch_accuracy', e,
                                 r[split + '_accuracy']))
    for scalars, split, tag, step, value in expected:
        got = scalars.get((tag, step))
        if got is None:
            failures.append(f'{split}/{tag} at step {step}: missing')
        elif not close(got, struct.unpack('<f', struct.pack('<f', value))[0]):
            failures.append(f'{split}/{tag} at step {step}: {got} in the '
                            f'event file, {value} in metrics.jsonl')
    print(f'{len(expected)} scalars checked against metrics.jsonl')


def check_curves(log_dir, epochs, workdir, failures):
    svg_path = os.path.join(log_dir, 'curves.svg')
    root = ET.parse(svg_path).getroot()
    ns = '{http://www.w3.org/2000/svg}'
    lines = {}
    for chart in root.iter(ns + 'g'):
        for line in chart.iter(ns + 'polyline'):
            points = [tuple(map(float, p.split(',')))
                      for p in line.get('points').split()]
            lines[(chart.get('id'), line.get('class'))] = points
    for chart in ['loss', 'accuracy']:
        for split in ['train', 'validation', 'test']:
            points = lines.get((chart, split))
            if points is None:
                failures.append(f'curves.svg: no {split} {chart} line')
            elif len(points) != epochs:
                failures.append(f'curves.svg: {split} {chart} has '
                                f'{len(points)} points, not {epochs}')
            elif any(b[0] <= a[0] for a, b in zip(points, points[1:])):
                failures.append(f'curves.svg: {split} {chart} goes back')
    png = os.path.join(workdir, 'curves.png')
    subprocess.run(['rsvg-convert', svg_path, '-o', png], check=True)
    head = open(png, 'rb').read(24)
    if head[:8] != b'\x89PNG\r\n\x1a\n' or head[12:16] != b'IHDR':
        failures.append('rsvg-convert did not make a PNG')
    else:
        width, height = struct.unpack('>II', head[16:24])
        print(f'curves.svg rendered to a {width}x{height} PNG')
        if (width, height) != (960, 380):
            failures.append(f'curves.png is {width}x{height}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--train', required=True)
    parser.add_argument('--workdir', required=True)
    parser.add_argument('--data', default='')
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    # The log directory is where the program is, as in the e2e runs: a file
    # named `train` beside the event folders.
    log_dir = args.workdir
    shutil.copy(args.train, os.path.join(args.workdir, 'train'))
    checkpoint = os.path.join(args.workdir, 'run.ckpt')
    common = [args.train, '--validation-split=0.1', '--log-every=300',
              '--progress=none', '--schedule=constant',
              '--log-dir=' + log_dir, '--checkpoint=' + checkpoint]
    if args.data:
        common.append('--data=' + args.data)
    for flags in [['--epochs=2'], ['--epochs=3', '--resume=' + checkpoint]]:
        print(' '.join(common + flags), flush=True)
        subprocess.run(common + flags, check=True)

    failures = []
    records = [json.loads(line)
               for line in open(os.path.join(log_dir, 'metrics.jsonl'))]
    epochs = [r['epoch'] for r in records if r['type'] == 'epoch']
    if epochs != [1, 2, 3]:
        failures.append(f'metrics.jsonl has epochs {epochs}, not 1, 2, 3')
    for split, files in [('train', 2), ('validation', 2), ('test', 2)]:
        found = glob.glob(os.path.join(log_dir, 'tensorboard', split,
                                       'events.out.tfevents.*'))
        if len(found) != files:
            failures.append(f'{split}/ has {len(found)} event files, not '
                            f'{files} (one per run)')
    check_scalars(log_dir, records, failures)
    check_curves(log_dir, 3, args.workdir, failures)
    for failure in failures:
        print('FAIL: ' + failure)
    print('log directory: ' + ('FAILED' if failures else 'ok'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
