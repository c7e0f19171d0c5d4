//===- Flags.cpp - the command lines of train and classify ----------------===//

#include "resnetrt/Flags.h"

#include "resnetrt/Data.h"
#include "resnetrt/Error.h"
#include "resnetrt/Text.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <thread>

namespace resnetrt {

const std::vector<FlagInfo> &flagTable() {
  static const std::vector<FlagInfo> table = {
      {"Data", "data", "DIR", "",
       "directory with the data set's files (empty: the --dataset's usual "
       "place)"},
      {"Data", "dataset", "NAME", "",
       "fashion_mnist, mnist, cifar10, cifar100 or folder (image folders: "
       "DIR/train/CLASS/*.png|jpg, DIR/test/CLASS/...); picks the default "
       "--data and must match its files"},
      {"Data", "resize", "HxW", "none",
       "resize every image to HxW once, when loaded (bilinear, as "
       "tf.image.resize), before --augment; none: as stored (image folders: "
       "to the model's input)"},
      {"Data", "augment", "LIST", "none",
       "training augmentation: random_crop(SIZE,pad=P), central_crop(SIZE), "
       "flip_horizontal, or none"},
      {"Data", "normalize", "MEANS/STDS", "none",
       "per-channel mean/std on the [0,1] scale, e.g. "
       "0.4914,0.4822,0.4465/0.247,0.2435,0.2616, or none"},
      {"Data", "validation-split", "FRACTION", "0",
       "share of the training set held out (fixed split) and evaluated each "
       "epoch"},
      {"Data", "validation-steps", "N", "0",
       "evaluate only the first N batches of the validation split each epoch "
       "(0: all of it)"},
      {"Length", "epochs", "N", "1", "passes over the training set"},
      {"Length", "steps", "N", "0",
       "total optimizer steps, overriding --epochs (0: --epochs decides); "
       "with --benchmark, the timed steps (0: 20)"},
      {"Length", "steps-per-epoch", "N", "0",
       "steps that make an epoch (its evaluation, checkpoint and schedule "
       "epoch); the data keeps its order across epochs, as Keras's "
       "steps_per_epoch on a repeated data set (0: one pass over the "
       "training images)"},
      {"Length", "batch", "N", "",
       "images per optimizer step (over all ranks under mpirun); evaluation "
       "uses batches of this size too"},
      {"Length", "accumulate", "M", "1",
       "run each batch as M micro-batches, one after another, and sum their "
       "gradients into one update: the memory of batch/M images, BatchNorm "
       "over each micro-batch (as gradient accumulation in PyTorch); M must "
       "divide --batch"},
      {"Optimizer", "optimizer", "NAME", "",
       "sgd, adam or adamw; must be the one the program was compiled for"},
      {"Optimizer", "lr", "X", "0.01", "learning rate"},
      {"Optimizer", "momentum", "X", "0", "SGD momentum"},
      {"Optimizer", "nesterov", "", "false", "Nesterov momentum (SGD)"},
      {"Optimizer", "weight-decay", "X", "0",
       "weight decay (L2 for sgd and adam, decoupled for adamw)"},
      {"Optimizer", "beta1", "X", "0.9", "Adam's first-moment decay"},
      {"Optimizer", "beta2", "X", "0.999", "Adam's second-moment decay"},
      {"Optimizer", "eps", "X", "1e-08", "Adam's epsilon"},
      {"Optimizer", "keras-epsilon", "", "false",
       "add Adam's epsilon to sqrt(v) before its bias correction, as Keras "
       "does, not after it, as PyTorch does"},
      {"Optimizer", "label-smoothing", "X", "0",
       "share of the target spread evenly over all classes"},
      {"Schedule", "schedule", "NAME", "constant",
       "learning-rate schedule: constant, step, cosine or one_cycle"},
      {"Schedule", "schedule-at", "EPOCHS", "",
       "step: multiply the rate by --schedule-factor after each of these "
       "epochs, e.g. 80,120"},
      {"Schedule", "schedule-factor", "X", "0.1",
       "step: the multiplier at each milestone"},
      {"Schedule", "warmup-epochs", "X", "0",
       "linear warm-up from 0 over this many epochs (constant, step, cosine)"},
      {"Schedule", "min-lr", "X", "0", "cosine: the rate at the last step"},
      {"Schedule", "cosine-period", "N", "0",
       "cosine: epochs of the first cycle, after which the rate starts again "
       "at --lr (warm restarts, PyTorch's CosineAnnealingWarmRestarts T_0); "
       "0: one cycle over the run"},
      {"Schedule", "cosine-period-mult", "N", "1",
       "cosine: each cycle this many times as long as the one before "
       "(T_mult)"},
      {"Schedule", "max-lr", "X", "0", "one_cycle: the peak rate (0: --lr)"},
      {"Schedule", "pct-start", "X", "0.3",
       "one_cycle: share of the steps spent rising to the peak"},
      {"Callbacks", "early-stopping", "METRIC", "none",
       "stop when this metric stops improving: val_loss, val_accuracy, loss, "
       "accuracy or none (Keras's EarlyStopping)"},
      {"Callbacks", "early-stopping-patience", "N", "0",
       "epochs without improvement before stopping (0 and 1: the first)"},
      {"Callbacks", "early-stopping-min-delta", "X", "0",
       "smallest change that counts as an improvement"},
      {"Callbacks", "restore-best", "", "false",
       "when early stopping stops, go back to the weights of the best epoch"},
      {"Callbacks", "reduce-lr-on-plateau", "METRIC", "none",
       "multiply the learning rate by --plateau-factor when this metric "
       "stops improving: val_loss, val_accuracy, loss, accuracy or none "
       "(Keras's ReduceLROnPlateau)"},
      {"Callbacks", "plateau-factor", "X", "0.1",
       "the multiplier, in (0, 1)"},
      {"Callbacks", "plateau-patience", "N", "10",
       "epochs without improvement before the rate drops"},
      {"Callbacks", "plateau-min-delta", "X", "0.0001",
       "smallest change that counts as an improvement"},
      {"Callbacks", "plateau-min-lr", "X", "0",
       "the rate never drops below this"},
      {"Callbacks", "plateau-cooldown", "N", "0",
       "epochs after a drop before epochs count again"},
      {"Run", "seed", "N", "0",
       "seed of the initial weights, shuffling, augmentation and dropout "
       "(the validation split is fixed)"},
      {"Run", "threads", "N", "0",
       "CPU threads of the kernels of a CPU build (0: one per core)"},
      {"Run", "gpu", "N", "0",
       "the GPU a build for one (resnetc --target=cuda or opencl) runs on: "
       "0 is the first; under mpirun the machine's ranks take N, N+1, ... "
       "modulo its GPUs"},
      {"Run", "device", "", "false",
       "print the device the kernels run on (the CPU, or the GPU: name, API, "
       "memory) and exit"},
      {"Run", "bucket-mib", "X", "0",
       "on several ranks (mpirun): gradients all-reduced in buckets of at "
       "most X MiB, started as the backward pass completes each (0: a "
       "quarter of the gradients, at most 25 MiB)"},
      {"Run", "checkpoint", "PATH", "",
       "save a checkpoint here after every epoch, at the end, and when "
       "SIGINT, SIGTERM or SIGHUP stops the run"},
      {"Run", "checkpoint-every", "N", "0",
       "also save every N steps (0: only at the times above)"},
      {"Run", "checkpoint-minutes", "X", "0",
       "also save when X minutes have passed since the last save (0: never)"},
      {"Run", "keep", "K", "1",
       "checkpoints kept: PATH and the K-1 before it, as PATH.1 (newest) .. "
       "PATH.(K-1)"},
      {"Run", "save-best", "PATH", "",
       "also save the checkpoint of the best validation accuracy so far here "
       "(needs --validation-split)"},
      {"Run", "resume", "PATH", "",
       "continue from this checkpoint; the result equals an uninterrupted "
       "run's. Its build and every flag that shapes the run (data, batch, "
       "seed, optimizer, schedule; the length for one_cycle and a cosine "
       "without a period) must match; threads, paths, output and "
       "checkpoint flags may change"},
      {"Run", "init-from", "FILE", "",
       "start from these weights (a safetensors file, e.g. of --export): "
       "every parameter and BatchNorm statistic, by name and shape; the "
       "optimizer starts afresh"},
      {"Run", "check-numerics", "", "false",
       "after every kernel, stop at the first NaN or infinity, naming the "
       "kernel and the DSL layer (slower steps; on a GPU, much slower: "
       "every output is copied to host memory)"},
      {"Run", "eval-only", "", "false",
       "evaluate the --resume checkpoint (or the --init-from weights) on the "
       "test split and exit"},
      {"Output", "progress", "MODE", "auto",
       "auto (a bar on a terminal, lines otherwise), bar, plain or none"},
      {"Output", "log-dir", "DIR", "",
       "write metrics.jsonl, TensorBoard event files and curves.svg here "
       "(empty: none)"},
      {"Output", "log-every", "N", "100",
       "steps between progress lines and step metrics"},
      {"Output", "export", "FILE", "",
       "at the end, write the weights and BatchNorm statistics here in the "
       "safetensors format, PyTorch's layouts, named as in the DSL"},
      {"Benchmark", "benchmark", "", "false",
       "time --steps training steps on synthetic data instead of training"},
      {"Benchmark", "warmup", "N", "5", "untimed steps before the timed ones"},
      {"Benchmark", "profile", "", "false",
       "time every kernel call of train_step (the timed steps with "
       "--benchmark) and print them slowest first: share of the step, time, "
       "GFLOP/s, bytes moved, bandwidth and the DSL layer (CPU builds)"},
      {"", "help", "", "false", "print this help and exit"},
  };
  return table;
}

namespace {

const FlagInfo *findFlag(const std::vector<FlagInfo> &table,
                         std::string_view name) {
  for (const FlagInfo &flag : table)
    if (flag.name == name)
      return &flag;
  return nullptr;
}

/// Train's entry for a flag that means the same to classify.
FlagInfo trainFlag(std::string_view name) {
  return *findFlag(flagTable(), name);
}

} // namespace

const std::vector<FlagInfo> &classifyFlagTable() {
  static const std::vector<FlagInfo> table = {
      trainFlag("data"),
      trainFlag("dataset"),
      {"Data", "split", "NAME", "test", "the split to classify: test or train"},
      trainFlag("resize"),
      {"Data", "augment", "LIST", "none",
       "train's --augment; its deterministic part (crops) applies, as in "
       "train's evaluation"},
      trainFlag("normalize"),
      {"Data", "image", "FILE...", "",
       "instead of a split, classify these PNG or JPEG files (each resized "
       "to the model's input) and print each one's likeliest classes"},
      {"Run", "checkpoint", "PATH", "",
       "the checkpoint to classify with, written by this model's train"},
      {"Run", "batch", "N", "", "images per eval_step call"},
      trainFlag("threads"),
      trainFlag("gpu"),
      trainFlag("device"),
      trainFlag("progress"),
      {"Output", "top", "K", "5", "with --image, the classes shown per file"},
      {"Output", "export", "FILE", "",
       "write the checkpoint's weights and BatchNorm statistics here in the "
       "safetensors format (as train --export) and exit"},
      {"Benchmark", "benchmark", "", "false",
       "time --steps eval_step calls on synthetic data instead of "
       "classifying (with --checkpoint's weights if given, else initial ones)"},
      {"Benchmark", "steps", "N", "0",
       "with --benchmark, the timed calls (0: 20)"},
      trainFlag("warmup"),
      {"Benchmark", "profile", "", "false",
       "with --benchmark, time every kernel call of eval_step and print "
       "them slowest first: share of the batch, time, GFLOP/s, bytes moved, "
       "bandwidth and the DSL layer (CPU builds)"},
      {"Benchmark", "seed", "N", "0",
       "with --benchmark, the seed of the initial weights and the synthetic "
       "data"},
      trainFlag("help"),
  };
  return table;
}

namespace {

/// Levenshtein distance, to suggest the flag a typo meant.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::vector<FlagInfo> &table,
                       std::string_view name) {
  const FlagInfo *best = nullptr;
  size_t bestDistance = 3; // farther than this is no suggestion
  for (const FlagInfo &flag : table) {
    size_t distance = editDistance(name, flag.name);
    if (distance < bestDistance) {
      best = &flag;
      bestDistance = distance;
    }
  }
  if (best)
    return fmt::format("; did you mean --{}?", best->name);
  // classify is asked for one of train's flags, most likely out of habit.
  if (&table != &flagTable() && findFlag(flagTable(), name))
    return fmt::format("; --{} is one of train's flags", name);
  return "";
}

enum class Origin { Fallback, Recipe, CommandLine };

struct RawValue {
  std::string text;
  Origin origin = Origin::Fallback;
};

/// The values of the flags of `table` as text: fallback, then recipe, then
/// command line.
class RawFlags {
public:
  RawFlags(const rn_program &program, const std::vector<FlagInfo> &table)
      : table(table) {
    for (const FlagInfo &flag : table)
      values[std::string(flag.name)] = {std::string(flag.fallback)};
    setFallback("batch", std::to_string(program.compiled_batch));
    setFallback("optimizer", program.optimizer);
    if (program.recipe)
      readRecipe(*program.recipe);
  }

  void readArgs(const std::vector<std::string> &args) {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string_view arg = args[i];
      if (arg == "-h")
        arg = "--help";
      if (arg.substr(0, 2) != "--" || arg.size() == 2)
        usageError("unexpected argument '{}': flags look like --name=value; "
                   "see --help",
                   arg);
      size_t equals = arg.find('=');
      std::string_view name = arg.substr(2, equals - 2);
      const FlagInfo *flag = findFlag(table, name);
      if (!flag)
        usageError("unknown flag --{}{}; see --help for every flag", name,
                   suggestion(table, name));
      std::string text;
      if (equals != std::string_view::npos)
        text = arg.substr(equals + 1);
      else if (flag->metavar.empty())
        text = "true";
      else if (i + 1 < args.size())
        text = args[++i];
      else
        usageError("--{} needs a value: --{}={}", name, name, flag->metavar);
      if (flag->metavar.size() > 3 &&
          flag->metavar.substr(flag->metavar.size() - 3) == "...") {
        // A list: the arguments after it up to the next flag belong to it
        // (`--image photos/*.jpg`), and a second use adds to the first.
        while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0)
          text += '\n' + args[++i];
        RawValue &list = values[std::string(name)];
        if (list.origin == Origin::CommandLine)
          text = list.text + '\n' + text;
      }
      values[std::string(name)] = {text, Origin::CommandLine};
    }
  }

  const RawValue &operator[](std::string_view name) const {
    auto found = values.find(name);
    if (found == values.end()) // a flag read by a tool whose table lacks it
      throw std::logic_error("flag --" + std::string(name) +
                             " is not in this tool's flag table");
    return found->second;
  }

private:
  void setFallback(std::string_view name, std::string text) {
    if (auto found = values.find(name); found != values.end())
      found->second.text = std::move(text);
  }

  /// The recipe's fields as the values of their flags; a tool with fewer
  /// flags (classify) takes those it has.
  void readRecipe(const rn_recipe &recipe) {
    auto text = [](const char *value) -> std::optional<std::string> {
      if (!value)
        return std::nullopt;
      return value;
    };
    auto real = [](double value) -> std::optional<std::string> {
      if (std::isnan(value))
        return std::nullopt;
      return fmt::format("{}", value);
    };
    auto integer = [](int64_t value) -> std::optional<std::string> {
      if (value == RN_RECIPE_UNSET)
        return std::nullopt;
      return std::to_string(value);
    };
    auto boolean = [](int64_t value) -> std::optional<std::string> {
      if (value == RN_RECIPE_UNSET)
        return std::nullopt;
      return value ? "true" : "false";
    };
    auto set = [&](std::string_view flag, std::optional<std::string> value) {
      if (value && findFlag(table, flag))
        values[std::string(flag)] = {std::move(*value), Origin::Recipe};
    };
#define RN_RECIPE_READ_TEXT text
#define RN_RECIPE_READ_REAL real
#define RN_RECIPE_READ_INT integer
#define RN_RECIPE_READ_BOOL boolean
#define RN_RECIPE_FIELD(kind, field, flag)                                     \
  set(flag, RN_RECIPE_READ_##kind(recipe.field));
    RN_RECIPE_FIELDS(RN_RECIPE_FIELD)
#undef RN_RECIPE_FIELD
#undef RN_RECIPE_READ_TEXT
#undef RN_RECIPE_READ_REAL
#undef RN_RECIPE_READ_INT
#undef RN_RECIPE_READ_BOOL
  }

  const std::vector<FlagInfo> &table;
  std::map<std::string, RawValue, std::less<>> values;
};

/// Converts flag values, naming the flag (and the recipe, when the bad value
/// came from it) in every message.
class Converter {
public:
  explicit Converter(const RawFlags &raw) : raw(raw) {}

  [[noreturn]] void invalid(std::string_view name,
                            std::string_view expected) const {
    const RawValue &value = raw[name];
    usageError("--{}={}{}: {}", name, value.text,
               value.origin == Origin::Recipe ? " (from the compiled recipe)"
                                              : "",
               expected);
  }

  const std::string &text(std::string_view name) const {
    return raw[name].text;
  }

  int64_t integer(std::string_view name, int64_t lo, int64_t hi) const {
    std::optional<int64_t> value = parseInteger(text(name));
    if (!value || *value < lo || *value > hi)
      invalid(name,
              hi >= INT32_MAX
                  ? fmt::format("expected an integer >= {}", lo)
                  : fmt::format("expected an integer from {} to {}", lo, hi));
    return *value;
  }

  template <typename Valid>
  double number(std::string_view name, Valid valid,
                std::string_view range) const {
    std::optional<double> value = parseNumber(text(name));
    if (!value || !valid(*value))
      invalid(name, fmt::format("expected a number {}", range));
    return *value;
  }
  double nonNegative(std::string_view name) const {
    return number(
        name, [](double v) { return v >= 0; }, ">= 0");
  }
  double positive(std::string_view name) const {
    return number(
        name, [](double v) { return v > 0; }, "> 0");
  }
  double fraction(std::string_view name) const {
    return number(
        name, [](double v) { return v >= 0 && v < 1; }, "in [0, 1)");
  }

  bool boolean(std::string_view name) const {
    const std::string &value = text(name);
    if (value == "true" || value == "1" || value == "yes")
      return true;
    if (value == "false" || value == "0" || value == "no")
      return false;
    invalid(name, "expected true or false");
  }

  /// Runs a parser of the flag's text; its usage Error gets the flag's name.
  template <typename Parse>
  auto parsed(std::string_view name, Parse parse) const {
    try {
      return parse(text(name));
    } catch (const Error &error) {
      invalid(name, error.what());
    }
  }

private:
  const RawFlags &raw;
};

ProgressMode parseProgress(std::string_view text) {
  if (text == "auto")
    return ProgressMode::Auto;
  if (text == "bar")
    return ProgressMode::Bar;
  if (text == "plain")
    return ProgressMode::Plain;
  if (text == "none")
    return ProgressMode::None;
  usageError("expected auto, bar, plain or none");
}

Split parseSplit(std::string_view text) {
  if (text == "test")
    return Split::Test;
  if (text == "train")
    return Split::Train;
  usageError("expected test or train");
}

/// HxW, e.g. 64x64, or none (0x0).
std::pair<int32_t, int32_t> parseResize(std::string_view text) {
  if (text == "none")
    return {0, 0};
  size_t x = text.find('x');
  std::optional<int64_t> height, width;
  if (x != std::string_view::npos) {
    height = parseInteger(text.substr(0, x));
    width = parseInteger(text.substr(x + 1));
  }
  if (!height || !width || *height < 1 || *width < 1 || *height > 65536 ||
      *width > 65536)
    usageError("expected HEIGHTxWIDTH in pixels, e.g. 64x64, or none");
  return {int32_t(*height), int32_t(*width)};
}

std::vector<int64_t> parseMilestones(std::string_view text) {
  std::vector<int64_t> epochs;
  for (std::string_view piece : splitList(text)) {
    std::optional<int64_t> epoch = parseInteger(piece);
    if (!epoch || *epoch < 0 || (!epochs.empty() && *epoch <= epochs.back()))
      usageError("expected increasing epoch numbers >= 0, e.g. 80,120");
    epochs.push_back(*epoch);
  }
  return epochs;
}

/// The flags train and classify share, which mean the same to both: how
/// the images are found and prepared, the batch, the threads, the output
/// and the benchmark.
void readSharedFlags(const Converter &flags, Options &options) {
  options.data = flags.text("data");
  options.dataset = flags.text("dataset");
  if (!options.dataset.empty())
    flags.parsed("dataset", datasetFormat);
  std::tie(options.resizeHeight, options.resizeWidth) =
      flags.parsed("resize", parseResize);
  options.augmentText = flags.text("augment");
  options.augment = flags.parsed("augment", parseAugment);
  options.normalizeText = flags.text("normalize");
  options.normalize = flags.parsed("normalize", parseNormalize);
  options.steps = flags.integer("steps", 0, INT64_MAX / 2);
  options.batch = int32_t(flags.integer("batch", 1, 1 << 20));
  options.seed = uint64_t(flags.integer("seed", 0, INT64_MAX));
  options.threads = int32_t(flags.integer("threads", 0, 1024));
  if (options.threads == 0)
    options.threads =
        int32_t(std::max(1u, std::thread::hardware_concurrency()));
  options.gpu = int32_t(flags.integer("gpu", 0, 1023));
  try {
    options.device = flags.boolean("device");
  } catch (const Error &) {
    // --device=cuda reads as asking for a device: the build decides it.
    flags.invalid("device", "the device is chosen when resnetc builds the "
                            "program (--target=cpu, cuda or opencl); "
                            "--device alone prints the one this program runs "
                            "on, and --gpu=N picks among several GPUs");
  }
  options.progress = flags.parsed("progress", parseProgress);
  options.benchmark = flags.boolean("benchmark");
  options.warmup = flags.integer("warmup", 0, INT32_MAX);
}

/// --profile (Profile.h), which a GPU build cannot honour.
void readProfileFlag(const Converter &flags, const rn_program &program,
                     Options &options) {
  options.profile = flags.boolean("profile");
  if (options.profile && program.device_api)
    flags.invalid("profile", "it times each kernel on the CPU; a GPU build "
                             "queues its kernels without waiting for them "
                             "(build with resnetc --target=cpu to profile)");
}

/// Early stopping and reduce-on-plateau, after --validation-split.
void readCallbackFlags(const Converter &flags, Options &options) {
  auto metric = [&](std::string_view name) {
    Metric metric = flags.parsed(name, parseMetric);
    if (isValidationMetric(metric) && options.validationSplit == 0)
      flags.invalid(name, "a validation metric needs a validation split; "
                          "add --validation-split, e.g. 0.1, or monitor "
                          "loss or accuracy");
    return metric;
  };
  EarlyStopping &stopping = options.earlyStopping;
  stopping.metric = metric("early-stopping");
  stopping.patience = flags.integer("early-stopping-patience", 0, INT32_MAX);
  stopping.minDelta = flags.nonNegative("early-stopping-min-delta");
  stopping.restoreBest = flags.boolean("restore-best");
  if (stopping.restoreBest && stopping.metric == Metric::None)
    flags.invalid("restore-best", "needs --early-stopping=METRIC, which "
                                  "picks the best epoch");
  ReduceOnPlateau &plateau = options.plateau;
  plateau.metric = metric("reduce-lr-on-plateau");
  plateau.factor = flags.number(
      "plateau-factor", [](double v) { return v > 0 && v < 1; }, "in (0, 1)");
  plateau.patience = flags.integer("plateau-patience", 0, INT32_MAX);
  plateau.minDelta = flags.nonNegative("plateau-min-delta");
  plateau.minLr = flags.nonNegative("plateau-min-lr");
  plateau.cooldown = flags.integer("plateau-cooldown", 0, INT32_MAX);
}

/// What --help prints for the flags of `table`, grouped, with the defaults
/// of `program`.
std::string flagHelp(const rn_program &program,
                     const std::vector<FlagInfo> &table) {
  RawFlags raw(program, table);
  std::string text;
  std::string_view group;
  for (const FlagInfo &flag : table) {
    if (flag.group != group) {
      group = flag.group;
      text += fmt::format("\n{}:\n", group.empty() ? "Other" : group);
    }
    std::string usage = flag.metavar.empty()
                            ? fmt::format("--{}", flag.name)
                            : fmt::format("--{}={}", flag.name, flag.metavar);
    const std::string &value = raw[flag.name].text;
    text += fmt::format("  {:<28} {} [default: {}]\n", usage, flag.help,
                        value.empty() ? "none" : value);
  }
  return text;
}

} // namespace

Options parseFlags(const rn_program &program,
                   const std::vector<std::string> &args) {
  RawFlags raw(program, flagTable());
  raw.readArgs(args);
  Converter flags(raw);
  Options options;
  options.help = flags.boolean("help");
  if (options.help)
    return options;

  readSharedFlags(flags, options);
  options.validationSplit = flags.fraction("validation-split");
  options.validationSteps = flags.integer("validation-steps", 0, INT32_MAX);
  if (options.validationSteps > 0 && options.validationSplit == 0)
    flags.invalid("validation-steps", "it limits the validation split's "
                                      "evaluation; add --validation-split, "
                                      "e.g. 0.1");
  options.epochs = flags.integer("epochs", 1, INT32_MAX);
  options.stepsPerEpoch = flags.integer("steps-per-epoch", 0, INT32_MAX);
  options.accumulate = int32_t(flags.integer("accumulate", 1, 1 << 20));
  options.bucketMib = flags.nonNegative("bucket-mib");
  if (options.batch % options.accumulate != 0)
    usageError("--accumulate={} does not divide --batch={}: the micro-batches "
               "must be equal; pick a divisor of the batch",
               options.accumulate, options.batch);
  readCallbackFlags(flags, options);

  options.optimizer = flags.text("optimizer");
  if (options.optimizer != program.optimizer)
    flags.invalid("optimizer",
                  fmt::format("this program was compiled for {0}, and the "
                              "optimizer is part of the compiled step; change "
                              "`optimizer` in the DSL's train block and "
                              "recompile (or leave --optimizer out)",
                              program.optimizer));
  options.momentum = flags.fraction("momentum");
  options.nesterov = flags.boolean("nesterov");
  if (options.nesterov && options.momentum == 0)
    flags.invalid("nesterov", "Nesterov momentum needs --momentum > 0");
  options.weightDecay = flags.nonNegative("weight-decay");
  options.beta1 = flags.fraction("beta1");
  options.beta2 = flags.fraction("beta2");
  options.eps = flags.positive("eps");
  options.kerasEpsilon = flags.boolean("keras-epsilon");
  options.labelSmoothing = flags.fraction("label-smoothing");

  Schedule &schedule = options.schedule;
  schedule.kind = flags.parsed("schedule", parseScheduleKind);
  schedule.lr = flags.positive("lr");
  schedule.at = flags.parsed("schedule-at", parseMilestones);
  schedule.factor = flags.positive("schedule-factor");
  schedule.warmupEpochs = flags.nonNegative("warmup-epochs");
  schedule.minLr = flags.nonNegative("min-lr");
  schedule.period = flags.integer("cosine-period", 0, 1'000'000);
  schedule.periodMult = flags.integer("cosine-period-mult", 1, 1000);
  schedule.maxLr = flags.nonNegative("max-lr");
  // 0: no rise, annealing from the first step, as OneCycleLR's pct_start=0.
  schedule.pctStart = flags.fraction("pct-start");

  options.checkpoint = flags.text("checkpoint");
  options.checkpointEvery = flags.integer("checkpoint-every", 0, INT32_MAX);
  options.checkpointMinutes = flags.nonNegative("checkpoint-minutes");
  options.keep = int32_t(flags.integer("keep", 1, 1000));
  for (const char *name :
       {"checkpoint-every", "checkpoint-minutes", "keep"})
    if (raw[name].origin == Origin::CommandLine && options.checkpoint.empty())
      flags.invalid(name, "needs --checkpoint=PATH, where the checkpoints "
                          "go");
  options.saveBest = flags.text("save-best");
  if (!options.saveBest.empty() && options.validationSplit == 0)
    flags.invalid("save-best", "the best checkpoint is chosen by validation "
                               "accuracy; add --validation-split, e.g. 0.1");
  if (!options.saveBest.empty() && options.saveBest == options.checkpoint)
    flags.invalid("save-best", "it must be another file than --checkpoint, "
                               "which the latest state overwrites");
  options.resume = flags.text("resume");
  options.checkNumerics = flags.boolean("check-numerics");
  options.initFrom = flags.text("init-from");
  if (!options.initFrom.empty() && !options.resume.empty())
    flags.invalid("init-from", "--resume continues a run, weights and "
                               "optimizer; --init-from starts a new one from "
                               "weights: give one of them");
  options.evalOnly = flags.boolean("eval-only");
  if (options.evalOnly && options.resume.empty() && options.initFrom.empty())
    flags.invalid("eval-only", "needs --resume=PATH, the checkpoint to "
                               "evaluate, or --init-from=FILE, weights");
  options.exportPath = flags.text("export");

  options.logDir = flags.text("log-dir");
  options.logEvery = flags.integer("log-every", 1, INT32_MAX);
  readProfileFlag(flags, program, options);
  if (options.profile && options.evalOnly)
    flags.invalid("profile", "it times the training step; --eval-only runs "
                             "none");
  if (options.benchmark && options.evalOnly)
    flags.invalid("benchmark", "--benchmark and --eval-only exclude each "
                               "other");
  return options;
}

std::vector<FlagValue> trajectoryFlags(const Options &options) {
  std::vector<FlagValue> flags;
  auto add = [&](std::string_view name, const auto &value) {
    flags.push_back({std::string(name), fmt::format("{}", value)});
  };
  const Schedule &schedule = options.schedule;
  add("dataset", options.dataset);
  add("augment", options.augmentText);
  add("normalize", options.normalizeText);
  add("validation-split", options.validationSplit);
  add("batch", options.batch);
  add("accumulate", options.accumulate);
  add("steps-per-epoch", options.stepsPerEpoch);
  // The callbacks change the rate and the length; what they monitor
  // depends on how much of the validation split is evaluated.
  const EarlyStopping &stopping = options.earlyStopping;
  add("early-stopping", metricName(stopping.metric));
  if (stopping.metric != Metric::None) {
    add("early-stopping-patience", stopping.patience);
    add("early-stopping-min-delta", stopping.minDelta);
    add("restore-best", stopping.restoreBest);
  }
  const ReduceOnPlateau &plateau = options.plateau;
  add("reduce-lr-on-plateau", metricName(plateau.metric));
  if (plateau.metric != Metric::None) {
    add("plateau-factor", plateau.factor);
    add("plateau-patience", plateau.patience);
    add("plateau-min-delta", plateau.minDelta);
    add("plateau-min-lr", plateau.minLr);
    add("plateau-cooldown", plateau.cooldown);
  }
  if (isValidationMetric(stopping.metric) || isValidationMetric(plateau.metric))
    add("validation-steps", options.validationSteps);
  add("seed", options.seed);
  if ((schedule.kind == ScheduleKind::Cosine && schedule.period == 0) ||
      schedule.kind == ScheduleKind::OneCycle) {
    // Their rates depend on the run's length; the others' (cosine with a
    // period included) do not.
    add("epochs", options.epochs);
    add("steps", options.steps);
  }
  add("optimizer", options.optimizer);
  add("lr", schedule.lr);
  add("weight-decay", options.weightDecay);
  add("label-smoothing", options.labelSmoothing);
  if (options.optimizer == "sgd") {
    add("momentum", options.momentum);
    add("nesterov", options.nesterov);
  } else {
    add("beta1", options.beta1);
    add("beta2", options.beta2);
    add("eps", options.eps);
    add("keras-epsilon", options.kerasEpsilon);
  }
  add("schedule", scheduleName(schedule.kind));
  switch (schedule.kind) {
  case ScheduleKind::Step:
    add("schedule-at", fmt::format("{}", fmt::join(schedule.at, ",")));
    add("schedule-factor", schedule.factor);
    add("warmup-epochs", schedule.warmupEpochs);
    break;
  case ScheduleKind::Cosine:
    add("min-lr", schedule.minLr);
    add("cosine-period", schedule.period);
    add("cosine-period-mult", schedule.periodMult);
    add("warmup-epochs", schedule.warmupEpochs);
    break;
  case ScheduleKind::Constant:
    add("warmup-epochs", schedule.warmupEpochs);
    break;
  case ScheduleKind::OneCycle:
    add("max-lr", schedule.maxLr);
    add("pct-start", schedule.pctStart);
    break;
  }
  return flags;
}

std::string helpText(const rn_program &program) {
  return fmt::format(
             "Usage: train [--flag=value ...]\n\n"
             "Trains {}: input {}x{}x{} (HxWxC), {} classes, {} optimizer, "
             "built for {}.\nDefaults come from the model's train block; "
             "every flag overrides one.\n",
             program.model_name, program.input_height, program.input_width,
             program.input_channels, program.num_classes, program.optimizer,
             program.target) +
         flagHelp(program, flagTable()) +
         "\nOn several ranks: mpirun -np K ./train [flags] trains one model "
         "with K processes;\n--batch stays the global batch, rank 0 prints "
         "and saves (README: Training on several\nmachines).\n"
         "\nExit status: 0 done, 1 bad data/checkpoint/IO, 2 bad flag, 3 "
         "loss diverged, 128 + the signal when one stopped it (130 SIGINT, "
         "143 SIGTERM, 129 SIGHUP).\n";
}

Options parseClassifyFlags(const rn_program &program,
                           const std::vector<std::string> &args) {
  RawFlags raw(program, classifyFlagTable());
  raw.readArgs(args);
  Converter flags(raw);
  Options options;
  options.help = flags.boolean("help");
  if (options.help)
    return options;

  readSharedFlags(flags, options);
  options.split = flags.parsed("split", parseSplit);
  options.checkpoint = flags.text("checkpoint");
  std::string files = flags.text("image");
  for (size_t start = 0, end; start < files.size(); start = end + 1) {
    end = std::min(files.find('\n', start), files.size());
    if (end > start)
      options.images.push_back(files.substr(start, end - start));
  }
  options.top = int32_t(flags.integer("top", 1, program.num_classes));
  options.exportPath = flags.text("export");
  if (!options.exportPath.empty() && options.checkpoint.empty())
    flags.invalid("export", "needs --checkpoint=PATH, whose weights it "
                            "writes");
  readProfileFlag(flags, program, options);
  if (options.profile && !options.benchmark)
    flags.invalid("profile", "it times the eval_step calls of --benchmark; "
                             "add --benchmark");
  if (options.checkpoint.empty() && !options.benchmark)
    usageError("no checkpoint: pass --checkpoint=PATH, a checkpoint this "
               "model's train wrote (or --benchmark to time eval_step on "
               "synthetic data); see --help");
  return options;
}

std::string classifyHelpText(const rn_program &program) {
  return fmt::format(
             "Usage: classify --checkpoint=PATH [--flag=value ...]\n"
             "       classify --benchmark [--flag=value ...]\n\n"
             "Classifies a data set's images with {} (input {}x{}x{} "
             "(HxWxC), {} classes, built for {}) and the weights of a "
             "checkpoint its train wrote, and reports the loss and accuracy "
             "exactly as train's evaluation does.\nDefaults come from the "
             "model's train block, as train's do.\n",
             program.model_name, program.input_height, program.input_width,
             program.input_channels, program.num_classes, program.target) +
         flagHelp(program, classifyFlagTable()) +
         "\nExit status: 0 done, 1 bad data/checkpoint/IO, 2 bad flag, 128 + "
         "the signal when one stopped it (130 SIGINT, 143 SIGTERM, 129 "
         "SIGHUP).\n";
}

} // namespace resnetrt
