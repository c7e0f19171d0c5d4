//===- Flags.h - the command lines of train and classify --------*- C++ -*-===//
//
// Every value of a run comes from one flag. A flag's value is, in order of
// precedence: the command line, the recipe compiled into the program
// (rn_program_info.recipe), the fallback in the table in Flags.cpp.
//
// The recipe (rn_recipe, what resnetc makes of the DSL's train block) has
// one field per flag it sets, listed with the flag's name once in
// RN_RECIPE_FIELDS (Program.h), which both the compiler and the runtime
// expand; its values go through the same checks as the command line's, and
// an error names the recipe as their origin.

// The flags (see --help or flagTable() for each one's fallback):
//   data        --data=DIR --dataset=fashion_mnist|mnist|cifar10|cifar100|
//               folder --resize=HxW|none --augment=LIST
//               --normalize=MEANS/STDS|none
//               --validation-split=FRACTION --validation-steps=N
//   length      --epochs=N --steps=N --steps-per-epoch=N --batch=N
//   optimizer   --optimizer=sgd|adam|adamw --lr=X --momentum=X
//               --nesterov[=BOOL] --weight-decay=X --beta1=X --beta2=X
//               --eps=X --keras-epsilon[=BOOL] --label-smoothing=X
//   schedule    --schedule=constant|step|cosine|one_cycle --schedule-at=E,E
//               --schedule-factor=X --warmup-epochs=X --min-lr=X
//               --cosine-period=N --cosine-period-mult=N --max-lr=X
//               --pct-start=X
//   callbacks   --early-stopping=METRIC --early-stopping-patience=N
//               --early-stopping-min-delta=X --restore-best[=BOOL]
//               --reduce-lr-on-plateau=METRIC --plateau-factor=X
//               --plateau-patience=N --plateau-min-delta=X --plateau-min-lr=X
//               --plateau-cooldown=N
//   run         --seed=N --threads=N --gpu=N --device --checkpoint=PATH
//               --checkpoint-every=N --checkpoint-minutes=X --keep=K
//               --save-best=PATH --resume=PATH --init-from=FILE
//               --check-numerics[=BOOL] --eval-only[=BOOL]
//   output      --progress=auto|bar|plain|none --log-dir=DIR --log-every=N
//               --export=FILE
//   benchmark   --benchmark[=BOOL] --warmup=N (with --steps, --batch)
//   --help
// On the command line `--name value` works as `--name=value` does, and a
// bare boolean flag means true.
//
// classify (Classify.h) has flags of its own, a few of train's with the same
// meaning and its own defaults from the same recipe (it ignores the recipe's
// training flags):
//   data        --data=DIR --dataset=NAME --split=test|train --resize=HxW
//               --augment=LIST
//               --normalize=MEANS/STDS|none --image=FILE...
//   run         --checkpoint=PATH (the weights) --batch=N --threads=N
//   output      --progress=auto|bar|plain|none --top=K --export=FILE
//   benchmark   --benchmark[=BOOL] --steps=N --warmup=N --seed=N
//   --help
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_FLAGS_H
#define RESNETRT_FLAGS_H

#include "resnetrt/Augment.h"
#include "resnetrt/Callbacks.h"
#include "resnetrt/Checkpoint.h"
#include "resnetrt/Data.h"
#include "resnetrt/Program.h"
#include "resnetrt/Schedule.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resnetrt {

enum class ProgressMode { Auto, Bar, Plain, None };

/// The checked, typed values of every flag.
struct Options {
  // Data
  std::string data;    ///< empty: defaultDataDir(dataset)
  std::string dataset; ///< empty: whatever --data holds
  /// Every image resized to this once, when loaded; 0: not resized (image
  /// folders: to the model's input).
  int32_t resizeHeight = 0, resizeWidth = 0;
  std::vector<AugmentOp> augment;
  std::string augmentText; ///< as given, for messages
  Normalize normalize;
  std::string normalizeText; ///< as given
  double validationSplit = 0;
  int64_t validationSteps = 0; ///< batches evaluated per epoch; 0: all
  // Length
  int64_t epochs = 1;
  int64_t steps = 0;         ///< 0: epochs decide
  int64_t stepsPerEpoch = 0; ///< 0: one pass over the training images
  int32_t batch = 1;
  int32_t accumulate = 1; ///< micro-batches per batch (Distributed.h)
  // Optimizer
  std::string optimizer;
  double momentum = 0, weightDecay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool kerasEpsilon = false; ///< eps added before the bias correction
  double labelSmoothing = 0;
  Schedule schedule; ///< holds --lr
  // Callbacks
  EarlyStopping earlyStopping;
  ReduceOnPlateau plateau;
  // Run
  uint64_t seed = 0;
  int32_t threads = 1;    ///< resolved: never 0
  int32_t gpu = 0;        ///< which GPU a GPU program uses
  double bucketMib = 0;   ///< all-reduce bucket cap (Distributed.h); 0: auto
  bool device = false;    ///< print the device and exit
  std::string checkpoint; ///< train: where to save; classify: what to load
  int64_t checkpointEvery = 0;  ///< steps between saves; 0: epochs only
  double checkpointMinutes = 0; ///< minutes between saves; 0: no limit
  int32_t keep = 1;             ///< checkpoints kept (rotation)
  std::string saveBest;         ///< where the best one goes; empty: nowhere
  std::string resume;
  std::string initFrom; ///< weights to start from (Safetensors.h)
  bool checkNumerics = false; ///< scan every kernel's outputs (Numerics.h)
  bool evalOnly = false;
  Split split = Split::Test; ///< classify: the split it classifies
  std::vector<std::string> images; ///< classify: files instead of a split
  int32_t top = 5;                 ///< classify --image: classes shown
  // Output
  ProgressMode progress = ProgressMode::Auto;
  std::string logDir; ///< empty: no metrics file
  int64_t logEvery = 100;
  std::string exportPath; ///< weights written at the end; empty: none
  // Benchmark
  bool benchmark = false;
  bool profile = false; ///< time every kernel of train_step (Profile.h)
  int64_t warmup = 5;

  bool help = false;
};

/// One flag: its name (without "--"), what its value looks like (empty for
/// booleans), its value when neither the recipe nor the command line gives
/// one, and the line --help shows.
struct FlagInfo {
  std::string_view group, name, metavar, fallback, help;
};

/// Every flag of train, in --help's order.
const std::vector<FlagInfo> &flagTable();
/// Every flag of classify, in --help's order.
const std::vector<FlagInfo> &classifyFlagTable();

/// Reads the recipe of `program` and then `args` (argv without argv[0]).
/// Throws a usage Error naming the flag and what it accepts.
Options parseFlags(const rn_program &program,
                   const std::vector<std::string> &args);
/// The same for classify: sets the Options of classifyFlagTable()'s flags
/// and leaves the others at their initial values.
Options parseClassifyFlags(const rn_program &program,
                           const std::vector<std::string> &args);

/// The flags whose values shape a run's trajectory (its weights after every
/// step), with their values as text: what a checkpoint records and what
/// --resume must match. Only those that matter for the run's optimizer and
/// schedule are listed; --epochs and --steps only for the schedules whose
/// rates depend on the run's length (one_cycle, cosine without a period).
/// Every other flag (threads, GPU, data directory, output, checkpointing)
/// may change on resume.
std::vector<FlagValue> trajectoryFlags(const Options &options);

/// What --help prints: every flag with its default for this program.
std::string helpText(const rn_program &program);
std::string classifyHelpText(const rn_program &program);

} // namespace resnetrt

#endif // RESNETRT_FLAGS_H
