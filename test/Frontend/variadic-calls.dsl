# RUN: resnetc %s --emit=mlir --batch=2 --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s
# add, concat, min and max take any number of positional arguments; their
# optional parameters (`name`) are given by name only, so a third tensor is
# a third operand, not the layer's name. add(a, b, c) is (a + b) + c, and
# only the last add takes the name.

# CHECK: %[[A:.*]] = rn.conv2d {{.*}} -> tensor<2x8x8x8xf32> loc("a"(
# CHECK: %[[B:.*]] = rn.conv2d {{.*}} loc("b"(
# CHECK: %[[C:.*]] = rn.conv2d {{.*}} loc("c"(
# CHECK: %[[AB:.*]] = rn.add %[[A]], %[[B]] : tensor<2x8x8x8xf32> loc("add"(
# CHECK: %[[SUM:.*]] = rn.add %[[AB]], %[[C]] : tensor<2x8x8x8xf32> loc("sum"(
# CHECK: rn.concat %[[A]], %[[B]], %[[C]], %[[SUM]] : ({{.*}}) -> tensor<2x32x8x8xf32> loc("joined"(
model variadic {
  input image[3, 8, 8]
  classes 10
  a = conv(image, max(2, 8, 4), 3, name = "a")
  b = conv(image, min([16, 8]), 3, name = "b")
  c = conv(image, max(8, 1), 3, name = "c")
  s = add(a, b, c, name = "sum")
  x = concat(a, b, c, s, name = "joined")
  return global_avg_pool(x) |> dense(classes)
}
