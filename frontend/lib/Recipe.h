//===- Recipe.h - the train block, checked --------------------*- C++ -*-===//
//
// Turns `train { ... }` into the module attribute `rn.recipe` (one entry per
// setting, defaults filled in) after checking every value's type and range
// at its location, and checks the data against the model.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_RECIPE_H
#define RESNETC_FRONTEND_RECIPE_H

#include "ElaboratorImpl.h"

namespace resnetc {

/// A transform of the input pipeline, as the recipe wrote it.
struct Transform {
  std::string kind;          ///< random_crop, central_crop, flip_horizontal, normalize
  std::array<int64_t, 2> size{0, 0};
  int64_t pad = 0;
  double fraction = 0;       ///< central_crop given as a fraction
  std::vector<double> mean, std;
  SourceLoc loc;
};

struct Recipe {
  mlir::DictionaryAttr attr;
  int64_t batch = kDefaultBatch;
  std::string dataset; ///< Empty when the recipe names no data set.
  SourceLoc dataLoc;
  std::vector<Transform> transforms;
};

/// Checks the train block (null: none) and builds the recipe attribute.
mlir::FailureOr<Recipe> elaborateRecipe(const ast::TrainDecl *train,
                                        Elaborator &el);

/// Checks that the recipe's data fits the model: the image shape after the
/// transforms equals the input, and the class counts agree. Resolves
/// fractional central crops against the data set and stores the final
/// transform list in the recipe attribute.
mlir::LogicalResult checkRecipeAgainstModel(Recipe &recipe, Elaborator &el,
                                            mlir::RankedTensorType input,
                                            int64_t classes);

} // namespace resnetc

#endif // RESNETC_FRONTEND_RECIPE_H
