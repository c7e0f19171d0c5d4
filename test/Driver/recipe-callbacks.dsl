# RUN: resnetc %s --emit=llvm -o - | FileCheck %s
# Keras's callbacks in the train block become train's default flags:
# steps_per_epoch, the data block's validation_steps, early_stopping and
# reduce_lr_on_plateau with every option, defaults filled in. The train
# block is docs/dsl.md's sample (seed 000's recipe).

# CHECK: c"--dataset=cifar10 {{.*}} --validation-split=0.1 --validation-steps=3 --steps-per-epoch=195 --early-stopping=val_loss --early-stopping-patience=5 --early-stopping-min-delta=0 --restore-best=true --reduce-lr-on-plateau=val_loss --plateau-factor=0.5 --plateau-patience=2 --plateau-min-delta=0.0001 --plateau-min-lr=1e-05 --plateau-cooldown=0 {{.*}}\00"
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
