# resnetc --emit=onnx refuses, with exit status 1 and a message that says
# what to do, to export without weights or with weights that do not fit
# the model (the same check as train --init-from).

# RUN: %exit 1 resnetc %s --emit=onnx 2>&1 | FileCheck %s --check-prefix=NONE
# NONE: resnetc: error: --emit=onnx needs the trained weights: add --weights=FILE.safetensors (from ./train --export=FILE, or ./classify --checkpoint=C --export=FILE)

# RUN: %exit 1 resnetc %s --weights=w.safetensors -o %t.train 2>&1 | FileCheck %s --check-prefix=UNUSED
# UNUSED: resnetc: error: --weights is read by --emit=onnx only

# RUN: %exit 1 resnetc %s --emit=onnx --weights=%t.absent.safetensors 2>&1 | FileCheck %s --check-prefix=ABSENT
# ABSENT: resnetc: error: cannot open weights {{.*}}absent.safetensors: No such file or directory

# RUN: %exit 1 resnetc %s --emit=onnx --weights=%s 2>&1 | FileCheck %s --check-prefix=NOT-SAFETENSORS
# NOT-SAFETENSORS: resnetc: error: {{.*}}onnx-errors.dsl is not a safetensors file

# RUN: resnetc %s --emit=mlir -o %t.mlir
# RUN: python3 %S/Inputs/weights.py %t.mlir %t.missing.safetensors --drop bn.running_var
# RUN: %exit 1 resnetc %s --emit=onnx --weights=%t.missing.safetensors -o %t.onnx 2>&1 | FileCheck %s --check-prefix=MISSING
# MISSING: resnetc: error: {{.*}}missing.safetensors does not fit model tiny: bn.running_var [4] is missing{{$}}

# RUN: python3 %S/Inputs/weights.py %t.mlir %t.shape.safetensors --reshape dense.weight
# RUN: %exit 1 resnetc %s --emit=onnx --weights=%t.shape.safetensors -o %t.onnx 2>&1 | FileCheck %s --check-prefix=SHAPE
# SHAPE: resnetc: error: {{.*}}shape.safetensors does not fit model tiny: dense.weight has shape [7] there but [2,4] here{{$}}

# RUN: python3 %S/Inputs/weights.py %t.mlir %t.extra.safetensors --extra head.weight
# RUN: %exit 1 resnetc %s --emit=onnx --weights=%t.extra.safetensors -o %t.onnx 2>&1 | FileCheck %s --check-prefix=EXTRA
# EXTRA: resnetc: error: {{.*}}extra.safetensors does not fit model tiny: head.weight is not a parameter or state of this model{{$}}

# Nothing is written when the weights are refused; with the right ones, the
# model goes to model.onnx beside the working directory by default.
# RUN: not test -e %t.onnx
# RUN: python3 %S/Inputs/weights.py %t.mlir %t.safetensors
# RUN: rm -rf %t.dir && mkdir %t.dir && cd %t.dir
# RUN: resnetc %s --emit=onnx --weights=%t.safetensors
# RUN: test -s %t.dir/onnx-errors.onnx

model tiny {
  input image[1, 4, 4]
  classes 2
  x = conv(image, 4, 3) |> bn |> relu
  return global_avg_pool(x) |> dense(classes)
}
