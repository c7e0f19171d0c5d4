//===- Evaluate.h - running a model on a data set's images ------*- C++ -*-===//
//
// What train's evaluation, train --eval-only and classify share, so that
// they find the same files, prepare the same inputs and count the same
// correct images: the data set the flags name, checked against the model,
// and the evaluation loop (prepare_eval once, then eval_step over batches).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_EVALUATE_H
#define RESNETRT_EVALUATE_H

#include "resnetrt/Augment.h"
#include "resnetrt/Data.h"
#include "resnetrt/Flags.h"
#include "resnetrt/Program.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace resnetrt {

class Arena;
class Batcher;

/// The data set of --data and --dataset: --data's files, else the
/// --dataset's usual place; both given, they must agree.
DataSource findDataSource(const Options &options);

/// Loads one split of `source` and resizes it as --resize says (image
/// folders: to --resize, else to the model's input).
Dataset loadImages(const rn_program &program, const Options &options,
                   const DataSource &source, Split split);

/// The transform of `data`'s images into the model's inputs (--augment,
/// --normalize), checked against the model's input shape and classes.
Augmenter makeAugmenter(const rn_program &program, const Options &options,
                        const DataSource &source, const Dataset &data);

struct EvalResult {
  double loss = 0;     ///< mean over the images
  double accuracy = 0; ///< correct / images
  int64_t correct = 0, images = 0;
};

/// Calls the program's prepare_eval, if it has one, which recomputes the
/// derived variables from the arena's parameters and state.
void prepareEval(const rn_program &program, Arena &arena);

/// Evaluates the model on `order` of `data` in batches of arena.maxBatch()
/// (a smaller last one): prepare_eval, then eval_step on each batch. Nothing
/// if interrupted.
std::optional<EvalResult> evaluate(const rn_program &program, Arena &arena,
                                   Batcher &batcher, const Dataset &data,
                                   std::vector<int64_t> order);

/// Weights' result on one split of the options' data set.
struct WeightsEvaluation {
  DataSource source;
  EvalResult result;
  double seconds = 0; ///< of the evaluation, data loading excluded
};

/// Loads `split`, then the weights that `load` puts into the arena (a
/// checkpoint, a safetensors file), and evaluates them on every image of
/// the split, in order, in batches of options.batch. Nothing if
/// interrupted.
std::optional<WeightsEvaluation>
evaluateWeights(const rn_program &program, const Options &options, Split split,
                const std::function<void(Arena &)> &load);

} // namespace resnetrt

#endif // RESNETRT_EVALUATE_H
