# RUN: resnetc %s --emit=mlir | FileCheck %s
# RUN: resnetc %s --emit=llvm -o - | FileCheck %s --check-prefix=TABLE
# `classes` as a list names the classes (classify --image prints them) and
# counts them; `classes` is still the count in the model's body. `resize`
# comes first among the transforms: it becomes rn_recipe's resize (train's
# --resize), apart from its augment (--augment).

# CHECK: module @named attributes {rn.class_names = ["T-shirt/top", "Trouser", "Pullover"], rn.classes = 3 : i64
# CHECK-SAME: augment = [{kind = "resize", size = array<i64: 64, 48>}, {kind = "random_crop", pad = 0 : i64, size = array<i64: 40, 40>}]
# TABLE-DAG: @rn.recipe.dataset = {{.*}} c"folder\00"
# TABLE-DAG: @rn.recipe.data_path = {{.*}} c"photos\00"
# TABLE-DAG: @rn.recipe.resize = {{.*}} c"64x48\00"
# TABLE-DAG: @rn.recipe.augment = {{.*}} c"random_crop(40,pad=0)\00"
# TABLE: @rn.class_names = {{.*}} c"T-shirt/top\0ATrouser\0APullover\00"
model named {
  input image[3, 40, 40]
  classes ["T-shirt/top", "Trouser", "Pullover"]
  return global_avg_pool(image) |> dense(classes)
}

train {
  data folder {
    path "photos"
    augment resize(64, 48), random_crop(40)
  }
}
