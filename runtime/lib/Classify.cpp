//===- Classify.cpp - a trained model on a data set -----------------------===//

#include "resnetrt/Classify.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Benchmark.h"
#include "resnetrt/Checkpoint.h"
#include "resnetrt/Error.h"
#include "resnetrt/Evaluate.h"
#include "resnetrt/Flags.h"
#include "resnetrt/Init.h"
#include "resnetrt/Interrupt.h"
#include "resnetrt/Progress.h"
#include "resnetrt/Safetensors.h"

#include "HalideRuntime.h"

namespace resnetrt {

static int classify(const rn_program &program, const Options &options,
                    Progress &progress, FILE *out) {
  std::optional<WeightsEvaluation> evaluation =
      evaluateWeights(program, options, options.split, [&](Arena &arena) {
        loadCheckpoint(options.checkpoint, program, arena);
      });
  if (!evaluation)
    return interruptedStatus();
  const EvalResult &result = evaluation->result;
  const char *split = options.split == Split::Test ? "test" : "train";
  progress.line("classify: {} on {} {} images of {}: loss {:.4f}, accuracy "
                "{:.2f}% ({} correct)",
                options.checkpoint, result.images, split,
                evaluation->source.dir, result.loss, 100 * result.accuracy,
                result.correct);
  double imagesPerSecond =
      evaluation->seconds > 0 ? double(result.images) / evaluation->seconds : 0;
  printResult(out, progress,
              JsonObject()
                  .add("model", program.model_name)
                  .add("checkpoint", options.checkpoint)
                  .add("split", split)
                  .add("images", result.images)
                  .add("correct", result.correct)
                  .add("accuracy", result.accuracy)
                  .add("loss", result.loss)
                  .add("images_per_s", imagesPerSecond));
  return ExitOk;
}

/// Writes the checkpoint's weights in the safetensors format.
static int exportCheckpoint(const rn_program &program, const Options &options,
                            Progress &progress, FILE *out) {
  Arena arena(program, 1, options.gpu);
  loadCheckpoint(options.checkpoint, program, arena);
  int tensors = exportWeights(options.exportPath, program, arena);
  progress.line("classify: exported {} tensors of {} to {}", tensors,
                options.checkpoint, options.exportPath);
  printResult(out, progress,
              JsonObject()
                  .add("model", program.model_name)
                  .add("checkpoint", options.checkpoint)
                  .add("export", options.exportPath)
                  .add("tensors", tensors));
  return ExitOk;
}

/// Times eval_step with the checkpoint's weights, or with initial ones as
/// train --benchmark has them.
static int benchmark(const rn_program &program, const Options &options,
                     Progress &progress, FILE *out) {
  Arena arena(program, options.batch, options.gpu);
  if (options.checkpoint.empty())
    initVariables(program, options.seed, arena);
  else
    loadCheckpoint(options.checkpoint, program, arena);
  prepareEval(program, arena);
  std::optional<JsonObject> result = benchmarkSteps(
      program, options, arena, progress, "eval_step", program.eval_kernels,
      [&](int64_t) { return arena.evalStep(options.batch); });
  if (!result)
    return interruptedStatus();
  printResult(out, progress, *result);
  return ExitOk;
}

int runClassify(const rn_program &program, const std::vector<std::string> &args,
                FILE *out, FILE *err) {
  return reportErrors("classify", err, [&] {
    checkProgram(program);
    Options options = parseClassifyFlags(program, args);
    if (options.help) {
      fmt::print(out, "{}", classifyHelpText(program));
      return int(ExitOk);
    }
    if (options.device) {
      fmt::print(out, "device: {}\n",
                 describeDevice(program, options.gpu, options.threads));
      return int(ExitOk);
    }
    halide_set_num_threads(options.threads);
    InterruptScope interruptScope;
    Progress progress(out, options.progress, options.logEvery);
    int status = options.benchmark ? benchmark(program, options, progress, out)
                 : !options.exportPath.empty()
                     ? exportCheckpoint(program, options, progress, out)
                     : classify(program, options, progress, out);
    progress.clear();
    return status;
  });
}

int classifyMain(const rn_program &program, int argc, char **argv) {
  return runClassify(program, std::vector<std::string>(argv + 1, argv + argc),
                     stdout, stderr);
}

} // namespace resnetrt
