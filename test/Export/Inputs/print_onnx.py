#!/usr/bin/python3
"""Checks an ONNX model (onnx.checker, full check) and prints it for
FileCheck: opset, inputs and outputs with their shapes, initializers, then
one node a line as onnx.helper prints it. Needs python3-onnx (the system
Python's): lit runs it with %system_python, REQUIRES: onnx."""
import sys

import onnx


def shape(value):
    return '[' + ', '.join(d.dim_param or str(d.dim_value)
                           for d in value.type.tensor_type.shape.dim) + ']'


def main():
    model = onnx.load(sys.argv[1])
    onnx.checker.check_model(model, full_check=True)
    print(f'ir {model.ir_version} opset '
          + ', '.join(f'{o.domain or "ai.onnx"} {o.version}'
                      for o in model.opset_import)
          + f' producer {model.producer_name}')
    graph = model.graph
    for value in graph.input:
        print(f'input {value.name} {shape(value)}')
    for value in graph.output:
        print(f'output {value.name} {shape(value)}')
    for tensor in graph.initializer:
        print(f'initializer {tensor.name} '
              f'{onnx.TensorProto.DataType.Name(tensor.data_type)} '
              f'{list(tensor.dims)}')
    for node in graph.node:
        print(f'node {node.name}: ' + onnx.helper.printable_node(node))


if __name__ == '__main__':
    main()
