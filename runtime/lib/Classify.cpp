//===- Classify.cpp - a trained model on a data set -----------------------===//

#include "resnetrt/Classify.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Benchmark.h"
#include "resnetrt/Checkpoint.h"
#include "resnetrt/Error.h"
#include "resnetrt/Evaluate.h"
#include "resnetrt/File.h"
#include "resnetrt/Flags.h"
#include "resnetrt/Image.h"
#include "resnetrt/Init.h"
#include "resnetrt/Interrupt.h"
#include "resnetrt/Progress.h"
#include "resnetrt/Numerics.h"
#include "resnetrt/Profile.h"
#include "resnetrt/Weights.h"
#include "resnetrt/Text.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

namespace resnetrt {

namespace fs = std::filesystem;

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

/// The names of the model's classes: the DSL's `classes [...]`, else the
/// data set's own where it has them (image folders' names, CIFAR's
/// batches.meta.txt, fine_label_names.txt), the published names of
/// Fashion-MNIST and MNIST, else "class K".
static std::vector<std::string> classNames(const rn_program &program,
                                           const Options &options) {
  const int32_t classes = program.num_classes;
  if (program.class_names) {
    std::vector<std::string> names;
    std::string_view all = program.class_names;
    for (size_t start = 0, end; start <= all.size(); start = end + 1) {
      end = std::min(all.find('\n', start), all.size());
      names.emplace_back(all.substr(start, end - start));
    }
    return names;
  }
  std::string dir = !options.data.empty() ? options.data
                    : !options.dataset.empty() && options.dataset != "folder"
                        ? defaultDataDir(options.dataset)
                        : "";
  if (!dir.empty() && fs::is_directory(fs::path(dir) / "train")) {
    DataSource source = findData(dir);
    if (int32_t(source.classNames.size()) == classes)
      return source.classNames;
  }
  for (const char *file : {"batches.meta.txt", "fine_label_names.txt"}) {
    std::ifstream list(fs::path(dir) / file);
    std::vector<std::string> names;
    for (std::string line; std::getline(list, line);)
      if (!std::string(trim(line)).empty())
        names.emplace_back(trim(line));
    if (!dir.empty() && int32_t(names.size()) == classes)
      return names;
  }
  if (options.dataset == "fashion_mnist" && classes == 10)
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  std::vector<std::string> names;
  for (int32_t k = 0; k < classes; ++k)
    names.push_back(options.dataset == "mnist" ? std::to_string(k)
                                               : fmt::format("class {}", k));
  return names;
}

/// classify --image: each file's likeliest classes.
static int predict(const rn_program &program, const Options &options,
                   Progress &progress, FILE *out) {
  // Every file is read before any is classified: a bad one stops the run
  // before it prints anything.
  const int32_t h = program.input_height, w = program.input_width,
                c = program.input_channels;
  const int64_t imageFloats = int64_t(h) * w * c;
  std::vector<float> inputs;
  inputs.reserve(size_t(imageFloats * int64_t(options.images.size())));
  for (const std::string &path : options.images) {
    std::vector<float> image =
        resizeImage(decodeImage(path, readWholeFile(path, "image")), h, w, c);
    normalizeImage(options.normalize, image.data(), int64_t(h) * w, c);
    inputs.insert(inputs.end(), image.begin(), image.end());
  }
  std::vector<std::string> names = classNames(program, options);

  Arena arena(program, options.batch, options.gpu);
  loadCheckpoint(options.checkpoint, program, arena);
  prepareEval(program, arena);
  std::string results;
  const int32_t count = int32_t(options.images.size());
  for (int32_t first = 0; first < count; first += options.batch) {
    if (interruptRequested())
      return interruptedStatus();
    int32_t batch = std::min(options.batch, count - first);
    std::copy_n(inputs.begin() + first * imageFloats, batch * imageFloats,
                arena.images(batch));
    std::fill_n(arena.labels(batch), batch, 0);
    arena.uploadBatch(batch);
    if (int32_t status = arena.evalStep(batch))
      failedStep(RN_EVAL_STEP, status, "");
    const float *logits = arena.logits(batch);
    for (int32_t n = 0; n < batch; ++n) {
      const float *z = logits + int64_t(n) * program.num_classes;
      float top = *std::max_element(z, z + program.num_classes);
      double sum = 0;
      for (int32_t k = 0; k < program.num_classes; ++k)
        sum += std::exp(double(z[k] - top));
      std::vector<int32_t> order(size_t(program.num_classes));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int32_t a, int32_t b) { return z[a] > z[b]; });
      const std::string &path = options.images[size_t(first + n)];
      std::string line, classes;
      for (int32_t i = 0; i < options.top; ++i) {
        int32_t k = order[size_t(i)];
        double probability = std::exp(double(z[k] - top)) / sum;
        line += fmt::format("{}{} {:.2f}%", i ? ", " : "", names[size_t(k)],
                            100 * probability);
        classes += (i ? "," : "") + JsonObject()
                                        .add("class", k)
                                        .add("name", names[size_t(k)])
                                        .add("probability", probability)
                                        .str();
      }
      progress.line("{}: {}", path, line);
      results += (results.empty() ? "" : ",") +
                 JsonObject()
                     .add("file", path)
                     .addJson("top", "[" + classes + "]")
                     .str();
    }
  }
  printResult(out, progress,
              JsonObject()
                  .add("model", program.model_name)
                  .add("checkpoint", options.checkpoint)
                  .add("images", count)
                  .addJson("predictions", "[" + results + "]"));
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
  std::optional<KernelProfile> profile;
  if (options.profile)
    profile.emplace(program, RN_EVAL_STEP);
  std::optional<JsonObject> result = benchmarkSteps(
      program, options, arena, progress, RN_EVAL_STEP, program.eval_kernels,
      options.batch, [&](int64_t) { return arena.evalStep(options.batch); },
      profile ? &*profile : nullptr);
  if (!result)
    return interruptedStatus();
  if (profile)
    profile->print(out);
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
                 : !options.images.empty()
                     ? predict(program, options, progress, out)
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
