# RUN: resnetc %s --summary | FileCheck %s
# range() near the ends of the 64-bit integers stops where Python's would
# (it used to wrap around and run for ever).

# CHECK: last_9223372036854775805_of_2 (relu)
# CHECK: first_-9223372036854775808_of_2 (relu)
model range_overflow {
  input image[1, 8, 8]
  classes 10
  up = range(9223372036854775800, 9223372036854775807, 5)
  x = relu(image, name = "last_" + str(up[-1]) + "_of_" + str(len(up)))
  down = range(-9223372036854775807 - 1, -9223372036854775807 + 5, 3)
  x = relu(x, name = "first_" + str(down[0]) + "_of_" + str(len(down)))
  return global_avg_pool(x) |> dense(classes)
}
