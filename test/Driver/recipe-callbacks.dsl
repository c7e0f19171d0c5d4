# RUN: resnetc %s --emit=llvm -o - | FileCheck %s
# Keras's callbacks in the train block become rn_recipe fields, train's
# default flags: steps_per_epoch, the data block's validation_steps,
# early_stopping and reduce_lr_on_plateau with every option, defaults
# filled in. The train block is docs/dsl.md's sample (seed 000's recipe).

# CHECK-DAG: @rn.recipe.early_stopping = private constant {{.*}} c"val_loss\00"
# CHECK-DAG: @rn.recipe.reduce_lr_on_plateau = private constant {{.*}} c"val_loss\00"
# validation_split 0.1, validation_steps 3, batch, epochs, steps,
# steps_per_epoch 195:
# CHECK: @rn.recipe = private constant {{.*}} ptr null, double 1.000000e-01, i64 3, i64 128, i64 10, i64 0, i64 195,
# early_stopping: the metric, patience 5, min_delta 0, restore_best true;
# reduce_lr_on_plateau: the metric, factor 0.5, patience 2, min_delta 1e-4,
# min_lr 1e-5, cooldown 0; then the seed and no log_dir.
# CHECK-SAME: ptr @rn.recipe.early_stopping, i64 5, double 0.000000e+00, i64 1, ptr @rn.recipe.reduce_lr_on_plateau, double 5.000000e-01, i64 2, double 1.000000e-04, double 1.000000e-05, i64 0, i64 0, ptr null }
model logistic {
  input image[3, 32, 32]
  classes 10
  return flatten(image) |> dense(classes)
}

train {
  data cifar10 {
    validation_split 0.1
    validation_steps 3
  }
  steps_per_epoch 195
  early_stopping val_loss(patience = 5, restore_best = true)
  reduce_lr_on_plateau val_loss(factor = 0.5, patience = 2, min_lr = 1e-5)
}
