# RUN: resnetc %s --emit=llvm -o - | FileCheck %s
# The train block becomes rn_recipe in rn_program_info (Program.h's
# RN_RECIPE_FIELDS, in order), the defaults of train's flags: the data
# set's `path` is data_path (--data), `log` is log_dir (--log-dir), Adam's
# keras_epsilon a BOOL; what the block leaves to the runtime is unset (null
# text, NaN, INT64_MIN).

# CHECK-DAG: @rn.recipe.dataset = private constant {{.*}} c"fashion_mnist\00"
# CHECK-DAG: @rn.recipe.data_path = private constant {{.*}} c"data/fashion\00"
# CHECK-DAG: @rn.recipe.augment = private constant {{.*}} c"none\00"
# CHECK-DAG: @rn.recipe.optimizer = private constant {{.*}} c"adam\00"
# CHECK-DAG: @rn.recipe.log_dir = private constant {{.*}} c"runs/logistic\00"
# dataset, data_path, resize (unset), augment, normalize (unset), then
# validation_split 0, validation_steps unset, batch 128, ...
# CHECK: @rn.recipe = private constant {{.*}} { ptr @rn.recipe.dataset, ptr @rn.recipe.data_path, ptr null, ptr @rn.recipe.augment, ptr null, double 0.000000e+00, i64 -9223372036854775808, i64 128,
# ... Adam's lr 1e-3, then epsilon 1e-7 and keras_epsilon true, ...
# CHECK-SAME: ptr @rn.recipe.optimizer, double 1.000000e-03,
# CHECK-SAME: double 0x3E7AD7F29ABCAF48, i64 1,
# ... and log_dir last.
# CHECK-SAME: ptr @rn.recipe.log_dir }
# CHECK: @rn_program_info = {{.*}} ptr @rn.optimizer, ptr @rn.recipe,
model logistic {
  input image[1, 28, 28]
  classes 10
  return flatten(image) |> dense(classes)
}

train {
  data fashion_mnist { path "data/fashion" }
  optimizer adam(epsilon = 1e-7, keras_epsilon = true)
  log "runs/logistic"
}
