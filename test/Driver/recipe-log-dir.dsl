# RUN: resnetc %s --emit=llvm -o - | FileCheck %s
# The train block's `log` and the data set's `path` become train's defaults
# for --log-dir and --data, among the recipe's flags in rn_program_info.

# CHECK: c"--dataset=fashion_mnist --data=data/fashion {{.*}} --log-dir=runs/logistic {{.*}}\00"
model logistic {
  input image[1, 28, 28]
  classes 10
  return flatten(image) |> dense(classes)
}

train {
  data fashion_mnist { path "data/fashion" }
  log "runs/logistic"
}
