# RUN: resnetc %s --summary | FileCheck %s
# How expressions evaluate, shown through layer names built with str():
# `/` of integers stays an integer when exact and is a float otherwise; `%`
# takes the divisor's sign (as Python); numbers compare by value (1 == 1.0);
# lists join with `+` and compare element-wise; negative indices count from
# the end; `and` / `or` skip their right side when the left decides; int()
# truncates; a whole float prints with ".0". Loop variables outlive their
# loop. A block reads the model's top level, but what it assigns stays its
# own: both widen() calls start from filters = 4.

# CHECK: v0_3.5 (relu)
# CHECK: v1_16 (relu)
# CHECK: v2_1 (relu)
# CHECK: v3_2 (relu)
# CHECK: v4_7 (relu)
# CHECK: v5_1.5 (relu)
# CHECK: v6_-4 (relu)
# CHECK: v7_1 (relu)
# CHECK: v8_9 (relu)
# CHECK: v9_-2 (relu)
# CHECK: v10_3.0 (relu)
# CHECK: v11_0.001 (relu)
# CHECK: v12_3 (relu)
# CHECK: v13_2 (relu)
# CHECK: v14_30 (relu)
# CHECK: v15_true (relu)
# CHECK: v16_true (relu)
# CHECK: v17_true (relu)
# CHECK: v18_true (relu)
# CHECK: v19_false (relu)
# CHECK: v20_true (relu)
# CHECK: v21_1 (relu)
# CHECK: v22_8 (relu)
# CHECK: v23_8 (relu)
# CHECK: range_0_2_3 (relu)
# CHECK: range_2_4_3 (relu)
# CHECK: range_10_2_3 (relu)
# CHECK: res2a (relu)
# CHECK: widen_8 (conv2d)
# CHECK: widen_12 (conv2d)
# CHECK: global_avg_pool (global_avg_pool)
# CHECK: dense (dense)
model evaluation {
  input image[1, 8, 8]
  classes 10

  filters = 4
  block widen(x, factor = 2) {
    # A block reads the model's top level; its own assignments stay local.
    filters = filters * factor
    return conv(x, filters, 1, name = "widen_" + str(filters))
  }

  vals = [7 / 2, 64 / 4, 7 % 3, -7 % 3, 2 * 3 + 1, 1 + 0.5, 2 - 2 * 3,
          min(3, 1, 2), max([4, 9, 2]), int(-2.7), float(3), 1e-3,
          len("abc"), len([1, [2, 3]]), [10, 20, 30][-1],
          1 == 1.0, [1, 2] + [3] == [1, 2, 3], 3 >= 3, not (2 < 1),
          false and undefined_name, true or undefined_name,
          channels(image), height(image), width(image)]
  x = image
  for i in range(len(vals)) {
    x = relu(x, name = "v" + str(i) + "_" + str(vals[i]))
  }
  for r in [range(3), range(2, 5), range(10, 0, -4)] {
    x = relu(x, name = "range_" + str(r[0]) + "_" + str(r[-1]) + "_" + str(len(r)))
  }
  for i in range(3) { last = i }
  x = relu(x, name = "res" + str(last) + "a")
  x = widen(x)
  x = widen(x, factor = 3)
  return global_avg_pool(x) |> dense(classes)
}
