//===- Trainer.cpp - train's main loop ------------------------------------===//
//
// One Trainer per run. It loads and checks the data, allocates the arena
// once, initialises or restores the variables, and then drives the compiled
// step functions, with the Batcher preparing batches alongside. All
// randomness is keyed by the run's seed and the position in the run, which
// is what lets a checkpoint resume to the same final weights.
//
// Under mpirun every rank runs a Trainer (Distributed.h): each steps on its
// shard of every batch and evaluates its shard of every split, and what
// decides the run's course (the loss, the counts, a signal, a due
// checkpoint) is summed over the ranks after each step, so all take the
// same decisions at the same step. Rank 0 alone prints, logs and saves.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Trainer.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Batcher.h"
#include "resnetrt/Benchmark.h"
#include "resnetrt/Profile.h"
#include "resnetrt/Checkpoint.h"
#include "resnetrt/Data.h"
#include "resnetrt/Distributed.h"
#include "resnetrt/Error.h"
#include "resnetrt/Evaluate.h"
#include "resnetrt/Flags.h"
#include "resnetrt/Init.h"
#include "resnetrt/Interrupt.h"
#include "resnetrt/Metrics.h"
#include "resnetrt/Numerics.h"
#include "resnetrt/Progress.h"
#include "resnetrt/Random.h"
#include "resnetrt/RunLog.h"
#include "resnetrt/Weights.h"

#include "HalideRuntime.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace resnetrt {
namespace {

//===----------------------------------------------------------------------===//
// Run state
//===----------------------------------------------------------------------===//

/// What a training run reads, fixed before its first step.
struct TrainingData {
  DataSource source;
  Dataset train, test;
  TrainValidation split;
  /// Full batches in one shuffled pass over the training images; an epoch
  /// is stepsPerEpoch steps, one pass unless --steps-per-epoch says more
  /// or fewer.
  int64_t batchesPerPass = 0;
  int64_t stepsPerEpoch = 0, totalSteps = 0, totalEpochs = 0;
};

/// What a training run writes to, set up once.
struct Workspace {
  /// An arena and batcher for calls of up to `maxBatch` images: this
  /// rank's part of the batch.
  Workspace(const rn_program &program, const Options &options,
            const Augmenter &augmenter, int32_t maxBatch, bool primary)
      : arena(program, maxBatch, options.gpu), batcher(augmenter, maxBatch),
        log(primary ? options.logDir : "", program.model_name,
            !options.resume.empty()) {}
  Arena arena;
  Batcher batcher;
  RunLog log;
};

/// Totals of this process, which checkpoints do not carry: they measure
/// the machine, not the training.
struct Throughput {
  double stepSeconds = 0;
  int64_t steps = 0, images = 0;
  double imagesPerSecond() const {
    return stepSeconds > 0 ? double(images) / stepSeconds : 0;
  }
};

/// The steps since the last step record of the log.
struct StepWindow {
  double lossSum = 0;
  int64_t steps = 0, images = 0, correct = 0;
  Clock::time_point start = Clock::now();
};

/// The latest epoch's results, for the final line.
struct EpochResults {
  double trainLoss = NAN, trainAccuracy = NAN;
  std::optional<EvalResult> validation, test;
};

//===----------------------------------------------------------------------===//
// Trainer
//===----------------------------------------------------------------------===//

class Trainer {
public:
  Trainer(const rn_program &program, const Options &options,
          const Ranks &ranks, FILE *out, FILE *err)
      : program(program), options(options), ranks(ranks), out(out),
        err(err), progress(out, options.progress, options.logEvery),
        batchShard(ranks.shard(options.batch)) {
    if (options.profile)
      profile.emplace(program, RN_TRAIN_STEP);
  }
  ~Trainer() { progress.clear(); }

  int train();
  int evaluateWeights();
  int benchmark();

private:
  TrainingData loadTrainingData();
  void planRun(TrainingData &data);
  void describeModel();
  void startOrResume(Arena &arena, const TrainingData &data);
  void describeRanks(const GradientReducer &reducer);
  std::optional<EvalResult> evaluateShards(Workspace &work,
                                           const Dataset &data,
                                           std::vector<int64_t> order);
  void syncState(Arena &arena);
  bool sumOverRanks(std::vector<double> &totals) const;
  rn_step_params stepParams(int64_t step, double lr) const;
  bool trainEpoch(Workspace &work, const TrainingData &data);
  void afterStep(Workspace &work, const TrainingData &data,
                 const rn_step_params &params, double loss, int64_t count,
                 int64_t correct, Clock::time_point epochStart,
                 int64_t epochImages);
  bool finishEpoch(Workspace &work, const TrainingData &data,
                   Clock::time_point epochStart, double trainSeconds,
                   int64_t images);
  double rateAt(const TrainingData &data, int64_t step) const;
  void startPass(Workspace &work, const TrainingData &data);
  std::optional<EvalResult> validate(Workspace &work,
                                     const TrainingData &data);
  bool applyCallbacks(Workspace &work, const TrainingData &data,
                      int64_t epoch, double lr);
  void keepBestWeights(Arena &arena);
  void restoreBestWeights(Workspace &work, const TrainingData &data);
  void checkFinite(Arena &arena, int64_t step);
  [[noreturn]] void diverged(const std::string &what, int64_t step,
                             bool everyRank = true);
  CheckpointInfo checkpointInfo() const;
  void saveTo(Arena &arena, const std::string &path, int keep);
  void save(Arena &arena);
  bool checkpointDue() const;
  void checkResume(const CheckpointInfo &info, int64_t stepsPerEpoch) const;
  int stopInterrupted(Arena &arena);

  const rn_program &program;
  const Options &options;
  const Ranks &ranks;
  FILE *out, *err;
  Progress progress;
  /// This rank's images of every training batch.
  const Shard batchShard;
  std::optional<GradientReducer> reducer;
  std::optional<GradientAccumulator> accumulator;
  /// train --profile: kernel times of the training steps.
  std::optional<KernelProfile> profile;
  /// Whether the ranks' state variables agree (averaged since the last
  /// step).
  bool stateSynced = true;

  // Where a training run is.
  TrainingState state;
  Throughput throughput;
  StepWindow window;
  EpochResults last;
  /// Early stopping's best epoch's weights, with --restore-best.
  std::vector<StoredVariable> bestWeights;
  Clock::time_point lastSave = Clock::now();
};

/// Loads both splits.
TrainingData Trainer::loadTrainingData() {
  TrainingData data;
  data.source = findDataSource(options);
  data.train = loadImages(program, options, data.source, Split::Train);
  data.test = loadImages(program, options, data.source, Split::Test);
  if (!(data.test.shape == data.train.shape))
    fail("{}: the test images are {} but the training images {}",
         data.source.dir, data.test.shape.str(), data.train.shape.str());
  return data;
}

/// Holds out the validation images and fixes the run's length.
void Trainer::planRun(TrainingData &data) {
  data.split = splitValidation(data.train.size(), options.validationSplit);
  std::string heldOut =
      data.split.validation.empty()
          ? ""
          : fmt::format(" after holding out {} for validation",
                        data.split.validation.size());
  data.batchesPerPass = int64_t(data.split.train.size()) / options.batch;
  if (data.batchesPerPass == 0)
    fail("the training set has {} images{}, fewer than one batch of {}; use "
         "a smaller --batch",
         data.split.train.size(), heldOut, options.batch);
  data.stepsPerEpoch = options.stepsPerEpoch > 0 ? options.stepsPerEpoch
                                                 : data.batchesPerPass;
  data.totalSteps =
      options.steps > 0 ? options.steps : options.epochs * data.stepsPerEpoch;
  data.totalEpochs =
      (data.totalSteps + data.stepsPerEpoch - 1) / data.stepsPerEpoch;
  progress.line("data: {} in {}: {} training images{}, {} test images{}",
                formatName(data.source.format), data.source.dir,
                data.split.train.size(), heldOut, data.test.size(),
                options.resizeHeight > 0
                    ? fmt::format(", resized to {}x{} when loaded",
                                  options.resizeHeight, options.resizeWidth)
                    : "");
}

/// Initialises the variables (then takes --init-from's weights), or
/// restores them and the run's position from --resume.
void Trainer::startOrResume(Arena &arena, const TrainingData &data) {
  if (options.resume.empty()) {
    initVariables(program, options.seed, arena);
    if (!options.initFrom.empty())
      progress.line("weights: {} tensors from {}",
                    importWeights(options.initFrom, program, arena),
                    options.initFrom);
    return;
  }
  CheckpointInfo info = loadCheckpoint(options.resume, program, arena);
  checkResume(info, data.stepsPerEpoch);
  state = info.state;
  bestWeights = std::move(info.bestWeights);
  progress.line("resumed from {} at step {} (epoch {}, batch {})",
                options.resume, state.step, state.epoch + 1,
                state.batchInEpoch);
}

void Trainer::describeRanks(const GradientReducer &reducer) {
  const int K = ranks.size();
  progress.line(
      "ranks: {} MPI processes, batch {} split {} per rank; gradients "
      "({:.2f} MiB) all-reduced in {} bucket(s) {}; {}",
      K, options.batch,
      options.batch % K == 0
          ? fmt::format("{}", options.batch / K)
          : fmt::format("{}-{}", options.batch / K, options.batch / K + 1),
      mebibytes(reducer.gradientBytes()), reducer.buckets(),
      program.device_api
          ? "after the backward pass, through host memory (one copy of each "
            "bucket each way: this MPI does not read GPU memory)"
          : "during the backward pass",
      reducer.synchronisesBatchNorm()
          ? "BatchNorm synchronised (statistics of the global batch)"
          : "BatchNorm on each rank's images, running statistics averaged");
}

void Trainer::describeModel() {
  int64_t parameters = 0, stateBytes = 0;
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    stateBytes += int64_t(sizeof(float)) * elementCount(variable);
    if (variable.role == RN_PARAMETER)
      parameters += elementCount(variable);
  }
  progress.line("model {}: {} parameters, {} variables ({:.1f} MiB with "
                "optimizer state), input {}x{}x{}, {} classes, {} kernels per "
                "training step",
                program.model_name, parameters, program.num_variables,
                mebibytes(stateBytes), program.input_height,
                program.input_width, program.input_channels,
                program.num_classes, program.train_kernels);
}

rn_step_params Trainer::stepParams(int64_t step, double lr) const {
  rn_step_params params{};
  params.lr = float(lr);
  params.momentum = float(options.momentum);
  params.weight_decay = float(options.weightDecay);
  params.nesterov = options.nesterov;
  params.beta1 = float(options.beta1);
  params.beta2 = float(options.beta2);
  params.epsilon = float(
      adamEpsilon(options.eps, options.beta2, step, options.kerasEpsilon));
  params.label_smoothing = float(options.labelSmoothing);
  params.step = int32_t(step);
  params.seed =
      uint32_t(streamKey(Stream::StepSeed, {options.seed, uint64_t(step)}));
  return params;
}

[[noreturn]] void Trainer::diverged(const std::string &what, int64_t step,
                                    bool everyRank) {
  progress.clear();
  std::string kept =
      options.checkpoint.empty()
          ? ""
          : fmt::format(" The last good checkpoint, {}, is kept.",
                        options.checkpoint);
  std::string advice =
      options.checkNumerics
          ? ""
          : " To find the kernel and the layer that first produced a NaN or "
            "infinity, rerun with --check-numerics (from the checkpoint, with "
            "--resume, to get there sooner).";
  throw Error(ExitDiverged,
              fmt::format("{} at step {}: training diverged and stopped.{} "
                          "Try a lower learning rate, e.g. --lr={:g}.{}",
                          what, step, kept, options.schedule.lr / 10, advice),
              everyRank);
}

/// Refuses to checkpoint variables that are no longer finite: the update of
/// the last step can break them after its loss was still finite.
void Trainer::checkFinite(Arena &arena, int64_t step) {
  arena.downloadVariables();
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (variable.role == RN_DERIVED) // not saved
      continue;
    const float *values = arena.variable(variable);
    if (!std::all_of(values, values + elementCount(variable),
                     [](float v) { return std::isfinite(v); }))
      diverged(fmt::format("variable {} is not finite", variable.name), step);
  }
}

CheckpointInfo Trainer::checkpointInfo() const {
  CheckpointInfo info;
  info.model = program.model_name;
  info.optimizer = program.optimizer;
  info.target = program.target;
  info.fingerprint = program.fingerprint ? program.fingerprint : "";
  info.flags = trajectoryFlags(options);
  info.state = state;
  info.bestWeights = bestWeights;
  return info;
}

/// Saves the run where it is to `path`, once its variables are finite
/// (rank 0; every rank takes part in averaging the state).
void Trainer::saveTo(Arena &arena, const std::string &path, int keep) {
  syncState(arena);
  checkFinite(arena, state.step);
  if (ranks.primary())
    saveCheckpoint(path, program, arena, checkpointInfo(), keep);
}

/// Sums `totals` over the ranks together with the signals they got: true
/// when any rank got one, which this rank then takes as its own, so that
/// all stop at the same point.
bool Trainer::sumOverRanks(std::vector<double> &totals) const {
  const size_t count = totals.size();
  std::vector<double> signals = signalCounts();
  totals.insert(totals.end(), signals.begin(), signals.end());
  ranks.sum(totals);
  const bool signalled =
      adoptSignal({totals.begin() + int64_t(count), totals.end()});
  totals.resize(count);
  return signalled;
}

/// Averages the ranks' BatchNorm statistics, once after any steps, before
/// anything reads them.
void Trainer::syncState(Arena &arena) {
  if (stateSynced)
    return;
  ranks.averageState(program, arena);
  stateSynced = true;
}

/// Evaluates `order` of `data`, each rank its shard, summed over the ranks.
/// Nothing if interrupted (on any rank).
std::optional<EvalResult> Trainer::evaluateShards(Workspace &work,
                                                  const Dataset &data,
                                                  std::vector<int64_t> order) {
  syncState(work.arena);
  const Shard shard = ranks.shard(int64_t(order.size()));
  std::optional<EvalResult> mine = EvalResult();
  if (shard.size() > 0)
    mine = evaluate(program, work.arena, work.batcher, data,
                    std::vector<int64_t>(order.begin() + shard.begin,
                                         order.begin() + shard.end));
  std::vector<double> totals{0, 0, 0};
  if (mine)
    totals = {mine->loss * double(mine->images), double(mine->correct),
              double(mine->images)};
  if (sumOverRanks(totals))
    return std::nullopt;
  EvalResult result;
  result.correct = int64_t(totals[1]);
  result.images = int64_t(totals[2]);
  result.loss = totals[0] / totals[2];
  result.accuracy = double(result.correct) / totals[2];
  return result;
}

/// Saves the run where it is, when --checkpoint asks for it.
void Trainer::save(Arena &arena) {
  if (options.checkpoint.empty())
    return;
  saveTo(arena, options.checkpoint, options.keep);
  lastSave = Clock::now();
}

/// Whether --checkpoint-every or --checkpoint-minutes says to save after
/// the step in progress (the end of an epoch saves anyway). On rank 0's
/// clock: the ranks sum it, and save together.
bool Trainer::checkpointDue() const {
  if (options.checkpoint.empty() || !ranks.primary())
    return false;
  return (options.checkpointEvery > 0 &&
          (state.step + 1) % options.checkpointEvery == 0) ||
         (options.checkpointMinutes > 0 &&
          secondsSince(lastSave) >= 60 * options.checkpointMinutes);
}

/// A checkpoint continues only the run that made it: the same build of the
/// model (its fingerprint) and the same values of every flag that shapes
/// the trajectory.
void Trainer::checkResume(const CheckpointInfo &info,
                          int64_t stepsPerEpoch) const {
  const std::string fingerprint =
      program.fingerprint ? program.fingerprint : "";
  if (info.target != program.target)
    fail("checkpoint {} was trained by a build for {}, this program is built "
         "for {}; their kernels round differently, so the run would not be "
         "the one it continues. Resume with a build for the checkpoint's "
         "target (resnetc --target), or leave out --resume to start afresh",
         options.resume, info.target, program.target);
  std::vector<std::string> differences, advice;
  for (const FlagValue &now : trajectoryFlags(options))
    for (const FlagValue &then : info.flags)
      if (then.name == now.name && then.value != now.value) {
        differences.push_back(
            fmt::format("--{}={}, this run has --{}={}", then.name,
                        then.value, now.name, now.value));
        advice.push_back(fmt::format("--{}={}", then.name, then.value));
      }
  if (!differences.empty())
    fail("checkpoint {} was made with {}; resume with {} (or leave out "
         "--resume to start afresh)",
         options.resume, fmt::join(differences, "; "),
         fmt::join(advice, " "));
  // After the flags, which name what a recipe change changed.
  if (info.fingerprint != fingerprint)
    fail("checkpoint {} was made by another build of model {}: its planned "
         "training step (layers, fusion, memory plan, compiled batch, "
         "kernel scheduler) differs (fingerprint {} there, {} here). Resume "
         "with the program that wrote it, or leave out --resume to start "
         "afresh",
         options.resume, program.model_name, info.fingerprint, fingerprint);
  const TrainingState &saved = info.state;
  if (saved.batchInEpoch >= stepsPerEpoch ||
      saved.step != saved.epoch * stepsPerEpoch + saved.batchInEpoch)
    fail("checkpoint {} is at step {} (epoch {}, batch {}), which does not "
         "fit this training set's {} steps per epoch; resume on the data "
         "set the checkpoint was trained on",
         options.resume, saved.step, saved.epoch + 1, saved.batchInEpoch,
         stepsPerEpoch);
}

/// Ends a run on a signal, keeping its progress when --checkpoint is set.
int Trainer::stopInterrupted(Arena &arena) {
  progress.clear();
  std::fflush(out);
  save(arena);
  if (ranks.primary())
    fmt::print(err, "train: interrupted ({}) at step {}; {}\n", interruptName(),
             state.step,
             options.checkpoint.empty()
                 ? "pass --checkpoint=PATH to keep progress next time"
                 : fmt::format("resume with --resume={}", options.checkpoint));
  return interruptedStatus();
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

int Trainer::train() {
  Clock::time_point runStart = Clock::now();
  describeModel();
  TrainingData data = loadTrainingData();
  Augmenter augmenter =
      makeAugmenter(program, options, data.source, data.train);
  planRun(data);
  for (const std::string &path : {options.checkpoint, options.saveBest})
    if (!path.empty() && ranks.primary())
      prepareCheckpointPath(path);
  if (options.accumulate > 1 && ranks.distributed())
    usageError("--accumulate and several ranks do not combine yet: run "
               "{} ranks without --accumulate, or one with it",
               ranks.size());
  const auto maxShard = int32_t(
      (options.batch + ranks.size() - 1) / ranks.size() / options.accumulate);
  Workspace work(program, options, augmenter, maxShard, ranks.primary());
  progress.line("device: {}",
                describeDevice(program, options.gpu, options.threads));
  progress.line("arena: {:.1f} MiB, allocated once ({:.1f} MiB fixed + "
                "batch {} x {:.3f} MiB per image)",
                mebibytes(work.arena.bytes()), mebibytes(program.fixed_bytes),
                maxShard, mebibytes(program.per_sample_bytes));
  startOrResume(work.arena, data);
  if (ranks.distributed()) {
    // Every rank derived the same weights from the seed (or read the same
    // checkpoint); rank 0's are made everyone's all the same, so that a
    // rank that read another file cannot train a different model.
    ranks.broadcastVariables(program, work.arena);
    reducer.emplace(program, work.arena,
                    int64_t(options.bucketMib * (1 << 20)));
    describeRanks(*reducer);
  }
  if (options.accumulate > 1) {
    accumulator.emplace(program, work.arena, options.accumulate);
    progress.line("accumulate: batch {} as {} micro-batches of {}, one update",
                  options.batch, options.accumulate, maxShard);
  }
  progress.line("training: {} epoch(s) of {} steps ({} steps), batch {}, {} "
                "lr {:g}, schedule {}, {} thread(s)",
                data.totalEpochs, data.stepsPerEpoch, data.totalSteps,
                options.batch, program.optimizer, options.schedule.lr,
                scheduleName(options.schedule.kind), options.threads);

  while (state.step < data.totalSteps && !state.callbacks.stopped)
    if (!trainEpoch(work, data))
      return stopInterrupted(work.arena);
  if (state.callbacks.stopped && options.earlyStopping.restoreBest &&
      !bestWeights.empty() && !last.test)
    restoreBestWeights(work, data); // resumed after the stop, before this
  if (!last.test) {
    // Resumed at (or past) the end: nothing trained, so evaluate here.
    last.test = evaluateShards(work, data.test, allIndices(data.test.size()));
    if (!last.test)
      return stopInterrupted(work.arena);
  }
  syncState(work.arena);
  ranks.checkIdentical(program, work.arena);
  if (!options.exportPath.empty() && ranks.primary())
    progress.line("exported {} tensors to {}",
                  exportWeights(options.exportPath, program, work.arena),
                  options.exportPath);

  JsonObject result;
  result.add("model", program.model_name)
      .add("test_accuracy", last.test->accuracy)
      .add("test_loss", last.test->loss)
      .add("train_loss", last.trainLoss)
      .add("train_accuracy", last.trainAccuracy);
  if (last.validation)
    result.add("val_accuracy", last.validation->accuracy)
        .add("best_val_accuracy", state.bestValAccuracy);
  if (state.callbacks.stopped)
    result.add("stopped_early", true)
        .add("best_epoch", state.callbacks.bestEpoch);
  // Epochs run: fewer than planned when early stopping ended the run.
  result.add("epochs",
             state.callbacks.stopped ? state.epoch : data.totalEpochs)
      .add("steps", state.step)
      .add("batch", options.batch)
      .add("threads", options.threads)
      .add("device", deviceName(work.arena));
  if (reducer) {
    const ReduceTimes &times = reducer->times();
    result.add("ranks", ranks.size())
        .add("allreduce_exposed_ms_per_step",
             1e3 * times.exposedSeconds /
                 double(std::max<int64_t>(1, times.steps)));
  }
  result.add("images_per_s", throughput.imagesPerSecond())
      .add("train_seconds", throughput.stepSeconds)
      .add("total_seconds", secondsSince(runStart));
  if (profile)
    profile->print(out);
  printResult(out, progress, result);
  return ExitOk;
}

/// Trains the rest of the current epoch (up to the run's last step), then
/// evaluates and saves. False when interrupted.
bool Trainer::trainEpoch(Workspace &work, const TrainingData &data) {
  const int64_t end = std::min(
      data.stepsPerEpoch, state.batchInEpoch + data.totalSteps - state.step);
  Clock::time_point epochStart = Clock::now();
  double trainSeconds = 0;
  int64_t images = 0;

  while (state.batchInEpoch < end) {
    Clock::time_point stepStart = Clock::now();
    if (images == 0 || state.step % data.batchesPerPass == 0)
      startPass(work, data);
    int64_t step = state.step + 1;
    rn_step_params params = stepParams(step, rateAt(data, step));
    // This rank's images of the batch: one call, or one per micro-batch.
    std::vector<double> totals{0, 0, 0, double(checkpointDue())};
    for (int32_t micro = 0; micro < options.accumulate; ++micro) {
      const int32_t loaded = work.batcher.next(work.arena);
      if (accumulator)
        accumulator->beginMicroBatch(micro, loaded, options.batch);
      if (reducer)
        reducer->beginStep(loaded, options.batch);
      if (profile)
        profile->beginCall();
      int32_t status = work.arena.trainStep(loaded, params);
      if (profile)
        profile->endCall(loaded);
      if (accumulator)
        status = accumulator->endMicroBatch(status);
      if (reducer)
        reducer->endStep(status);
      if (status) {
        if (status == kNonFiniteStatus) // found on this rank only
          diverged(nonFiniteReport(), step, /*everyRank=*/false);
        failedStep(RN_TRAIN_STEP, status, fmt::format(" at step {}", step));
      }
      totals[0] += double(work.arena.loss()) * loaded;
      totals[1] += double(work.arena.correct());
      totals[2] += double(loaded);
    }
    stateSynced = false;
    // Over the ranks: what the step computed, and what the run does next.
    const bool interrupted = sumOverRanks(totals);
    const double loss = totals[0] / totals[2];
    const auto correct = int64_t(totals[1]), count = int64_t(totals[2]);
    if (!std::isfinite(loss))
      diverged(fmt::format("the loss is {}", loss), step);
    if (!program.device_api) {
      double norm = gradientNorm(program, work.arena.data());
      if (!std::isfinite(norm))
        diverged(fmt::format("the gradients' norm is {}", norm), step);
    }

    ++state.step;
    ++state.batchInEpoch;
    state.epochLossSum += loss;
    state.epochCorrect += correct;
    state.epochImages += count;
    double seconds = secondsSince(stepStart);
    trainSeconds += seconds;
    images += count;
    throughput.stepSeconds += seconds;
    ++throughput.steps;
    throughput.images += count;
    afterStep(work, data, params, loss, count, correct, epochStart, images);
    // A signal in an epoch's last step stops the run in finishEpoch, which
    // moves it to the next epoch first: a checkpoint is never at the end of
    // an epoch, which would not resume.
    if (interrupted && state.batchInEpoch < data.stepsPerEpoch)
      return false;
    if (totals[3] > 0 && state.batchInEpoch < data.stepsPerEpoch)
      save(work.arena);
  }
  return finishEpoch(work, data, epochStart, trainSeconds, images);
}

/// The learning rate of 1-based `step`: the schedule's, as reduce-on-plateau
/// has scaled it.
double Trainer::rateAt(const TrainingData &data, int64_t step) const {
  return scaledRate(options.plateau, state.callbacks,
                    learningRate(options.schedule, step, data.stepsPerEpoch,
                                 data.totalSteps));
}

/// Starts the batcher where the run is in its data: pass step / P, batch
/// step % P, P full batches a pass. Passes are shuffled apart from epochs,
/// so --steps-per-epoch changes when the run evaluates, not what it sees.
void Trainer::startPass(Workspace &work, const TrainingData &data) {
  const int64_t index = state.step / data.batchesPerPass;
  Pass pass;
  pass.data = &data.train;
  pass.order = epochOrder(data.split.train, options.seed, index);
  pass.batch = options.batch / options.accumulate;
  pass.training = true;
  pass.seed = options.seed;
  pass.epoch = index;
  pass.firstBatch = state.step % data.batchesPerPass * options.accumulate;
  if (ranks.distributed()) {
    pass.shardBegin = int32_t(batchShard.begin);
    pass.shardEnd = int32_t(batchShard.end);
  }
  work.batcher.start(std::move(pass));
}

/// Shows and logs where the run is after a step of `count` images (over
/// the ranks) with mean loss `loss` and `correct` correct predictions.
void Trainer::afterStep(Workspace &work, const TrainingData &data,
                        const rn_step_params &params, double loss,
                        int64_t count, int64_t correct,
                        Clock::time_point epochStart, int64_t epochImages) {
  double epochSeconds = secondsSince(epochStart);
  progress.step({state.epoch + 1, data.totalEpochs, state.batchInEpoch,
                 data.stepsPerEpoch, state.step, data.totalSteps,
                 state.epochLossSum / double(state.batchInEpoch),
                 double(state.epochCorrect) / double(state.epochImages),
                 params.lr,
                 epochSeconds > 0 ? double(epochImages) / epochSeconds : 0,
                 double(data.totalSteps - state.step) * throughput.stepSeconds /
                     double(throughput.steps)});

  window.lossSum += loss;
  window.images += count;
  window.correct += correct;
  ++window.steps;
  if (state.step % options.logEvery != 0)
    return;
  StepRecord record;
  record.step = state.step;
  record.epoch = state.epoch + 1;
  record.loss = window.lossSum / double(window.steps);
  record.accuracy = double(window.correct) / double(window.images);
  record.lr = params.lr;
  record.imagesPerSecond = double(window.images) / secondsSince(window.start);
  work.log.step(record);
  window = StepWindow();
}

/// Evaluates, reports and saves at the end of an epoch (or of the run, when
/// --steps ends it inside one). False when interrupted.
bool Trainer::finishEpoch(Workspace &work, const TrainingData &data,
                          Clock::time_point epochStart, double trainSeconds,
                          int64_t images) {
  const int64_t epoch = state.epoch;
  last.trainLoss = state.epochLossSum / double(state.batchInEpoch);
  last.trainAccuracy = double(state.epochCorrect) / double(state.epochImages);
  if (state.batchInEpoch == data.stepsPerEpoch) {
    TrainingState next;
    next.step = state.step;
    next.epoch = epoch + 1;
    next.bestValAccuracy = state.bestValAccuracy;
    next.callbacks = state.callbacks;
    state = next;
  }

  EpochRecord record;
  record.epoch = epoch + 1;
  record.steps = state.step;
  record.trainLoss = last.trainLoss;
  record.trainAccuracy = last.trainAccuracy;
  std::string validationText;
  bool best = false;
  if (!data.split.validation.empty()) {
    last.validation = validate(work, data);
    if (!last.validation)
      return false;
    best = last.validation->accuracy > state.bestValAccuracy;
    state.bestValAccuracy =
        std::max(state.bestValAccuracy, last.validation->accuracy);
    record.valLoss = last.validation->loss;
    record.valAccuracy = last.validation->accuracy;
    const int64_t validated = last.validation->images;
    validationText = fmt::format(
        " | val loss {:.4f} acc {:.2f}%{}", last.validation->loss,
        100 * last.validation->accuracy,
        validated < int64_t(data.split.validation.size())
            ? fmt::format(" (first {} images)", validated)
            : "");
  }
  last.test = evaluateShards(work, data.test, allIndices(data.test.size()));
  if (!last.test)
    return false;

  double imagesPerSecond = trainSeconds > 0 ? double(images) / trainSeconds : 0;
  double seconds = secondsSince(epochStart);
  record.testLoss = last.test->loss;
  record.testAccuracy = last.test->accuracy;
  record.lr = rateAt(data, state.step);
  record.imagesPerSecond = imagesPerSecond;
  record.seconds = seconds;
  record.rssMib = mebibytes(residentBytes());
  work.log.epoch(record);
  progress.line("epoch {}/{}: train loss {:.4f} acc {:.2f}%{} | test loss "
                "{:.4f} acc {:.2f}% | {:.0f} img/s, {:.1f} s",
                epoch + 1, data.totalEpochs, last.trainLoss,
                100 * last.trainAccuracy, validationText, last.test->loss,
                100 * last.test->accuracy, imagesPerSecond, seconds);
  // Callbacks act on whole epochs only, as Keras's.
  if (state.batchInEpoch == 0 &&
      !applyCallbacks(work, data, epoch + 1, record.lr))
    return false;
  ranks.checkIdentical(program, work.arena);
  save(work.arena);
  if (best && !options.saveBest.empty()) {
    saveTo(work.arena, options.saveBest, 1);
    progress.line("best validation accuracy so far ({:.2f}%): saved {}",
                  100 * last.validation->accuracy, options.saveBest);
  }
  return true;
}

/// Early stopping and reduce-on-plateau at the end of 1-based `epoch`, which
/// ended with rate `lr`. False when interrupted.
bool Trainer::applyCallbacks(Workspace &work, const TrainingData &data,
                             int64_t epoch, double lr) {
  EpochMetrics metrics;
  metrics.loss = last.trainLoss;
  metrics.accuracy = last.trainAccuracy;
  if (last.validation) {
    metrics.valLoss = last.validation->loss;
    metrics.valAccuracy = last.validation->accuracy;
  }
  CallbackState &callbacks = state.callbacks;
  EpochDecision decision = endEpoch(options.earlyStopping, options.plateau,
                                    callbacks, epoch, metrics, lr);
  if (decision.improved && options.earlyStopping.restoreBest)
    keepBestWeights(work.arena);
  if (decision.reduced)
    progress.line("reduce-lr-on-plateau: {} has not improved for {} "
                  "epoch(s); learning rate {:g} -> {:g}",
                  metricName(options.plateau.metric), options.plateau.patience,
                  lr, rateAt(data, state.step + 1));
  if (!decision.stop)
    return true;
  progress.line("early stopping: {} has not improved for {} epoch(s) (best "
                "{:.4f} at epoch {}); stopping after epoch {}",
                metricName(options.earlyStopping.metric), callbacks.stopWait,
                callbacks.stopBest, callbacks.bestEpoch, epoch);
  if (options.earlyStopping.restoreBest && !bestWeights.empty()) {
    restoreBestWeights(work, data);
    if (!last.test)
      return false;
  }
  return true;
}

/// Keeps the weights and BatchNorm statistics of the arena (not the
/// optimizer's slots, as Keras's get_weights) for --restore-best.
void Trainer::keepBestWeights(Arena &arena) {
  syncState(arena);
  arena.downloadVariables();
  bestWeights.clear();
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (variable.role != RN_PARAMETER && variable.role != RN_STATE)
      continue;
    StoredVariable kept;
    kept.name = variable.name;
    kept.role = variable.role;
    kept.shape.assign(variable.shape, variable.shape + variable.rank);
    const float *values = arena.variable(variable);
    kept.values.assign(values, values + elementCount(variable));
    bestWeights.push_back(std::move(kept));
  }
}

/// Puts the best epoch's weights back and evaluates them on the test split
/// (last.test is empty when interrupted).
void Trainer::restoreBestWeights(Workspace &work, const TrainingData &data) {
  for (const StoredVariable &kept : bestWeights)
    for (int32_t i = 0; i < program.num_variables; ++i)
      if (kept.name == program.variables[i].name)
        std::copy(kept.values.begin(), kept.values.end(),
                  work.arena.variable(program.variables[i]));
  work.arena.uploadVariables();
  progress.line("restored the weights of epoch {}",
                state.callbacks.bestEpoch);
  last.test = evaluateShards(work, data.test, allIndices(data.test.size()));
}

/// The validation split, or its first --validation-steps batches.
std::optional<EvalResult> Trainer::validate(Workspace &work,
                                            const TrainingData &data) {
  std::vector<int64_t> order = data.split.validation;
  if (options.validationSteps > 0)
    order.resize(std::min(order.size(),
                          size_t(options.validationSteps * options.batch)));
  return evaluateShards(work, data.train, std::move(order));
}

//===----------------------------------------------------------------------===//
// Evaluation only
//===----------------------------------------------------------------------===//

int Trainer::evaluateWeights() {
  // --resume's checkpoint, or --init-from's weights.
  const std::string &path =
      options.resume.empty() ? options.initFrom : options.resume;
  std::optional<int64_t> step;
  std::optional<WeightsEvaluation> evaluation = resnetrt::evaluateWeights(
      program, options, Split::Test, [&](Arena &arena) {
        if (options.resume.empty())
          importWeights(path, program, arena);
        else
          step = loadCheckpoint(path, program, arena).state.step;
      });
  if (!evaluation)
    return interruptedStatus();
  const EvalResult &test = evaluation->result;
  progress.line("{}{} on {} test images of {}: loss {:.4f}, accuracy {:.2f}%",
                path, step ? fmt::format(" at step {}", *step) : "",
                test.images, evaluation->source.dir, test.loss,
                100 * test.accuracy);
  JsonObject result;
  result.add("model", program.model_name)
      .add("test_accuracy", test.accuracy)
      .add("test_loss", test.loss)
      .add("test_images", test.images)
      .add("test_correct", test.correct);
  if (step)
    result.add("step", *step);
  printResult(out, progress, result);
  return ExitOk;
}

//===----------------------------------------------------------------------===//
// Benchmark
//===----------------------------------------------------------------------===//

int Trainer::benchmark() {
  describeModel();
  const auto shard = int32_t(batchShard.size());
  Arena arena(program, shard, options.gpu);
  initVariables(program, options.seed, arena);
  if (ranks.distributed()) {
    reducer.emplace(program, arena,
                    int64_t(options.bucketMib * (1 << 20)));
    describeRanks(*reducer);
  }
  std::optional<JsonObject> result = benchmarkSteps(
      program, options, arena, progress, RN_TRAIN_STEP, program.train_kernels,
      shard, [&](int64_t step) {
        rn_step_params params = stepParams(step, options.schedule.lr);
        if (reducer)
          reducer->beginStep(shard, options.batch);
        int32_t status = arena.trainStep(shard, params);
        if (reducer)
          reducer->endStep(status);
        return status;
      },
      profile ? &*profile : nullptr);
  if (!result)
    return interruptedStatus();
  if (reducer) {
    // Over every step, warm-up included: the cost of the all-reduce that
    // the backward pass did not hide, and how long buckets were in flight
    // while kernels ran.
    const ReduceTimes &times = reducer->times();
    const double steps = double(times.steps);
    result->add("ranks", ranks.size())
        .add("allreduce_buckets", reducer->buckets())
        .add("gradient_bytes", reducer->gradientBytes())
        .add("allreduce_exposed_ms_per_step",
             1e3 * times.exposedSeconds / steps)
        .add("allreduce_overlapped_ms_per_step",
             1e3 * times.inFlightSeconds / steps);
    if (reducer->synchronisesBatchNorm())
      result->add("sync_batch_norm_ms_per_step",
                  1e3 * times.batchNormSeconds / steps);
    if (program.device_api)
      result->add("device_copy_ms_per_step",
                  1e3 * times.deviceCopySeconds / steps);
  }
  if (profile)
    profile->print(out);
  printResult(out, progress, *result);
  return ExitOk;
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

namespace {

struct CloseFile {
  void operator()(FILE *file) const { std::fclose(file); }
};
using File = std::unique_ptr<FILE, CloseFile>;

/// Ends every rank of a distributed run after one rank's failure, saying
/// which rank failed.
[[noreturn]] void endEveryRank(const Ranks &ranks, FILE *err, int status,
                               std::string_view what) {
  fmt::print(err, "train: error: rank {} of {}: {}\n", ranks.rank(),
             ranks.size(), what);
  ranks.abort(status);
}

/// Runs what the options ask on this process's rank. A failure on one rank
/// of a distributed run ends every rank (Ranks::abort) after saying which
/// failed; an error that every rank raises together is rank 0's to report.
int runRank(const rn_program &program, Options options, FILE *out,
            FILE *err) {
  Ranks ranks;
  File quiet;
  if (!ranks.primary()) {
    quiet.reset(std::fopen("/dev/null", "w"));
    out = quiet ? quiet.get() : err;
    options.progress = ProgressMode::None;
  }
  try {
    Trainer trainer(program, options, ranks, out, err);
    if (options.benchmark)
      return trainer.benchmark();
    if (options.evalOnly)
      return trainer.evaluateWeights();
    return trainer.train();
  } catch (const Error &error) {
    if (!ranks.distributed() || (error.onEveryRank() && ranks.primary()))
      throw;
    if (error.onEveryRank())
      return error.exitCode();
    endEveryRank(ranks, err, error.exitCode(), error.what());
  } catch (const std::bad_alloc &) {
    if (!ranks.distributed())
      throw;
    endEveryRank(ranks, err, ExitFailure,
                 "out of memory; use a smaller --batch");
  }
}

} // namespace

int runTrain(const rn_program &program, const std::vector<std::string> &args,
             FILE *out, FILE *err) {
  // Under mpirun every rank reads the same flags: rank 0 alone reports
  // what is wrong with them, and alone prints --help.
  File quiet(launcherRank() != 0 ? std::fopen("/dev/null", "w") : nullptr);
  FILE *flagsOut = quiet ? quiet.get() : out;
  Options options;
  if (int status = reportErrors("train", quiet ? quiet.get() : err, [&] {
        checkProgram(program);
        options = parseFlags(program, args);
        return int(ExitOk);
      }))
    return status;
  return reportErrors("train", err, [&] {
    if (options.help) {
      fmt::print(flagsOut, "{}", helpText(program));
      return int(ExitOk);
    }
    if (options.device) {
      fmt::print(flagsOut, "device: {}\n",
                 describeDevice(program, options.gpu, options.threads));
      return int(ExitOk);
    }
    halide_set_num_threads(options.threads);
    InterruptScope interruptScope;
    std::optional<NumericsCheck> numerics;
    if (options.checkNumerics)
      numerics.emplace(program);
    return runRank(program, options, out, err);
  });
}

int trainMain(const rn_program &program, int argc, char **argv) {
  return runTrain(program, std::vector<std::string>(argv + 1, argv + argc),
                  stdout, stderr);
}

} // namespace resnetrt
