//===- Evaluate.cpp - running a model on a data set's images --------------===//

#include "resnetrt/Evaluate.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Batcher.h"
#include "resnetrt/Error.h"
#include "resnetrt/Interrupt.h"
#include "resnetrt/Numerics.h"
#include "resnetrt/Progress.h"

namespace resnetrt {

DataSource findDataSource(const Options &options) {
  if (options.data.empty() && options.dataset.empty())
    usageError("no data set: pass --data=DIR (a directory with MNIST, "
               "Fashion-MNIST, CIFAR-10 or CIFAR-100 files) or --dataset=NAME");
  std::string dir =
      options.data.empty() ? defaultDataDir(options.dataset) : options.data;
  DataSource source = findData(dir);
  if (!options.dataset.empty() &&
      datasetFormat(options.dataset) != source.format)
    fail("--dataset={} expects {} files, but {} holds {} files; pass the "
         "--dataset that matches, or another --data",
         options.dataset, formatName(datasetFormat(options.dataset)), dir,
         formatName(source.format));
  return source;
}

Dataset loadImages(const rn_program &program, const Options &options,
                   const DataSource &source, Split split) {
  const bool resize = options.resizeHeight > 0;
  ImageShape folderShape{resize ? options.resizeHeight : program.input_height,
                         resize ? options.resizeWidth : program.input_width,
                         program.input_channels};
  Dataset data = loadSplit(source, split, folderShape);
  if (resize)
    resizeDataset(data, options.resizeHeight, options.resizeWidth);
  return data;
}

Augmenter makeAugmenter(const rn_program &program, const Options &options,
                        const DataSource &source, const Dataset &data) {
  ImageShape expected{program.input_height, program.input_width,
                      program.input_channels};
  auto mismatch = [&](const std::string &after) {
    fail("{} holds {} images of {} (HxWxC){}{}, but model {} takes {}; use "
         "a data set of the model's input shape or change the model's input",
         source.dir, formatName(source.format), data.shape.str(),
         options.resizeHeight > 0
             ? fmt::format(" after --resize={}x{}", options.resizeHeight,
                           options.resizeWidth)
             : "",
         after, program.model_name, expected.str());
  };
  // No augmentation changes the channels; checked first, as the
  // normalisation constants depend on them.
  if (data.shape.channels != expected.channels)
    mismatch("");
  Augmenter augmenter(options.augment, options.normalize, data.shape);
  if (!(augmenter.outputShape() == expected))
    mismatch(fmt::format(" (--augment={} makes them {})", options.augmentText,
                         augmenter.outputShape().str()));
  if (data.numClasses != program.num_classes)
    fail("{} holds {} with {} classes, but model {} was compiled for {} "
         "classes",
         source.dir, formatName(source.format), data.numClasses,
         program.model_name, program.num_classes);
  return augmenter;
}

void prepareEval(const rn_program &program, Arena &arena) {
  if (!program.prepare_eval)
    return;
  if (int32_t status = arena.prepareEval())
    failedStep(RN_PREPARE_EVAL, status);
}

std::optional<EvalResult> evaluate(const rn_program &program, Arena &arena,
                                   Batcher &batcher, const Dataset &data,
                                   std::vector<int64_t> order) {
  // The parameters may have changed since the derived variables were
  // computed (a training step, a checkpoint loaded): recompute them.
  prepareEval(program, arena);
  Pass pass;
  pass.data = &data;
  pass.order = std::move(order);
  pass.batch = arena.maxBatch();
  batcher.start(std::move(pass));
  double lossSum = 0;
  EvalResult result;
  while (int32_t count = batcher.next(arena)) {
    if (int32_t status = arena.evalStep(count))
      failedStep(RN_EVAL_STEP, status);
    lossSum += double(arena.loss()) * count;
    result.correct += arena.correct();
    result.images += count;
    if (interruptRequested())
      return std::nullopt;
  }
  result.loss = lossSum / double(result.images);
  result.accuracy = double(result.correct) / double(result.images);
  return result;
}

std::optional<WeightsEvaluation>
evaluateWeights(const rn_program &program, const Options &options, Split split,
                const std::function<void(Arena &)> &load) {
  WeightsEvaluation evaluation;
  evaluation.source = findDataSource(options);
  Dataset data = loadImages(program, options, evaluation.source, split);
  Augmenter augmenter =
      makeAugmenter(program, options, evaluation.source, data);
  Arena arena(program, options.batch, options.gpu);
  load(arena);
  Batcher batcher(augmenter, options.batch);
  Clock::time_point start = Clock::now();
  std::optional<EvalResult> result =
      evaluate(program, arena, batcher, data, allIndices(data.size()));
  if (!result)
    return std::nullopt;
  evaluation.result = *result;
  evaluation.seconds = secondsSince(start);
  return evaluation;
}

} // namespace resnetrt
