# RUN: resnetc %s --emit=llvm -o - | FileCheck %s
# The train block becomes train's default flags in rn_program_info: the
# data set's `path` is --data, `log` is --log-dir, Adam's keras_epsilon is
# --keras-epsilon.

# CHECK: c"--dataset=fashion_mnist --data=data/fashion {{.*}} --optimizer=adam {{.*}} --eps=1e-07 --keras-epsilon=true {{.*}} --log-dir=runs/logistic {{.*}}\00"
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
