# RUN: resnetc %s --emit=llvm -o - | FileCheck %s
# Keras's callbacks in the train block become train's default flags:
# steps_per_epoch, the data block's validation_steps, early_stopping and
# reduce_lr_on_plateau with every option, defaults filled in.

# CHECK: c"--dataset=fashion_mnist {{.*}} --validation-split=0.1 --validation-steps=3 --steps-per-epoch=195 --early-stopping=val_loss --early-stopping-patience=5 --early-stopping-min-delta=0.001 --restore-best=true --reduce-lr-on-plateau=accuracy --plateau-factor=0.5 --plateau-patience=10 --plateau-min-delta=0.0001 --plateau-min-lr=1e-05 --plateau-cooldown=2 {{.*}}\00"
model logistic {
  input image[1, 28, 28]
  classes 10
  return flatten(image) |> dense(classes)
}

train {
  data fashion_mnist {
    validation_split 0.1
    validation_steps 3
  }
  steps_per_epoch 195
  early_stopping val_loss(patience = 5, min_delta = 1e-3, restore_best = true)
  reduce_lr_on_plateau accuracy(factor = 0.5, min_lr = 1e-5, cooldown = 2)
}
