//===- Trainer.cpp - train's main loop ------------------------------------===//
//
// One Trainer per run. It loads and checks the data, allocates the arena
// once, initialises or restores the variables, and then drives the compiled
// step functions, with the Batcher preparing batches alongside. All
// randomness is keyed by the run's seed and the position in the run, which
// is what lets a checkpoint resume to the same final weights.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Trainer.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Batcher.h"
#include "resnetrt/Checkpoint.h"
#include "resnetrt/Data.h"
#include "resnetrt/Error.h"
#include "resnetrt/Flags.h"
#include "resnetrt/Init.h"
#include "resnetrt/Metrics.h"
#include "resnetrt/Progress.h"
#include "resnetrt/Random.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <optional>

namespace resnetrt {
namespace {

//===----------------------------------------------------------------------===//
// Interruption
//===----------------------------------------------------------------------===//

std::atomic<bool> interruptRequested{false};

extern "C" void onInterrupt(int) { interruptRequested = true; }

/// While alive, the first SIGINT asks the run to stop after the step in
/// progress; the handler then resets itself, so a second one ends the
/// process at once as usual.
class InterruptScope {
public:
  InterruptScope() {
    interruptRequested = false;
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous);
  }
  ~InterruptScope() { sigaction(SIGINT, &previous, nullptr); }

private:
  struct sigaction previous {};
};

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double mebibytes(int64_t bytes) { return double(bytes) / (1 << 20); }

struct EvalResult {
  double loss = 0, accuracy = 0;
  int64_t images = 0;
};

/// What a training run reads, fixed before its first step.
struct TrainingData {
  DataSource source;
  Dataset train, test;
  TrainValidation split;
  int64_t stepsPerEpoch = 0, totalSteps = 0, totalEpochs = 0;
};

/// What a training run writes to, set up once.
struct Workspace {
  Workspace(const rn_program &program, const Options &options,
            const Augmenter &augmenter)
      : arena(program, options.batch), batcher(augmenter, options.batch),
        metrics(options.logDir, !options.resume.empty()) {}
  Arena arena;
  Batcher batcher;
  MetricsLog metrics;
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

/// The steps since the last step record of metrics.jsonl.
struct StepWindow {
  double lossSum = 0;
  int64_t steps = 0, images = 0;
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
  Trainer(const rn_program &program, const Options &options, FILE *out,
          FILE *err)
      : program(program), options(options), out(out), err(err),
        progress(out, options.progress, options.logEvery) {}
  ~Trainer() { progress.clear(); }

  int train();
  int evaluateCheckpoint();
  int benchmark();

private:
  DataSource findDataSource() const;
  Augmenter makeAugmenter(const DataSource &source, const Dataset &data) const;
  TrainingData loadTrainingData();
  void planRun(TrainingData &data);
  void describeModel();
  void startOrResume(Arena &arena, const TrainingData &data);
  rn_step_params stepParams(int64_t step, double lr) const;
  bool trainEpoch(Workspace &work, const TrainingData &data);
  void afterStep(Workspace &work, const TrainingData &data,
                 const rn_step_params &params, float loss, int32_t count,
                 Clock::time_point epochStart, int64_t epochImages);
  bool finishEpoch(Workspace &work, const TrainingData &data,
                   Clock::time_point epochStart, double trainSeconds,
                   int64_t images);
  std::optional<EvalResult> evaluate(Arena &arena, Batcher &batcher,
                                     const Dataset &data,
                                     std::vector<int64_t> order);
  void checkFinite(Arena &arena, int64_t step);
  [[noreturn]] void diverged(const std::string &what, int64_t step);
  void save(Arena &arena);
  void checkResume(const CheckpointInfo &info, int64_t stepsPerEpoch) const;
  void printResult(const JsonObject &result);
  int stopInterrupted(Arena &arena);

  const rn_program &program;
  const Options &options;
  FILE *out, *err;
  Progress progress;

  // Where a training run is.
  TrainingState state;
  Throughput throughput;
  StepWindow window;
  EpochResults last;
};

DataSource Trainer::findDataSource() const {
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

/// The augmentation for `data`, checked against the model's input.
Augmenter Trainer::makeAugmenter(const DataSource &source,
                                 const Dataset &data) const {
  ImageShape expected{program.input_height, program.input_width,
                      program.input_channels};
  auto mismatch = [&](const std::string &after) {
    fail("{} holds {} images of {} (HxWxC){}, but model {} takes {}; use a "
         "data set of the model's input shape or change the model's input",
         source.dir, formatName(source.format), data.shape.str(), after,
         program.model_name, expected.str());
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

/// Loads both splits.
TrainingData Trainer::loadTrainingData() {
  TrainingData data;
  data.source = findDataSource();
  data.train = loadSplit(data.source, Split::Train);
  data.test = loadSplit(data.source, Split::Test);
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
  data.stepsPerEpoch = int64_t(data.split.train.size()) / options.batch;
  if (data.stepsPerEpoch == 0)
    fail("the training set has {} images{}, fewer than one batch of {}; use "
         "a smaller --batch",
         data.split.train.size(), heldOut, options.batch);
  data.totalSteps =
      options.steps > 0 ? options.steps : options.epochs * data.stepsPerEpoch;
  data.totalEpochs =
      (data.totalSteps + data.stepsPerEpoch - 1) / data.stepsPerEpoch;
  progress.line("data: {} in {}: {} training images{}, {} test images",
                formatName(data.source.format), data.source.dir,
                data.split.train.size(), heldOut, data.test.size());
}

/// Initialises the variables, or restores them and the run's position from
/// --resume.
void Trainer::startOrResume(Arena &arena, const TrainingData &data) {
  if (options.resume.empty()) {
    initVariables(program, options.seed, arena);
    return;
  }
  CheckpointInfo info = loadCheckpoint(options.resume, program, arena);
  checkResume(info, data.stepsPerEpoch);
  state = info.state;
  progress.line("resumed from {} at step {} (epoch {}, batch {})",
                options.resume, state.step, state.epoch + 1,
                state.batchInEpoch);
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
  params.epsilon = float(options.eps);
  params.label_smoothing = float(options.labelSmoothing);
  params.step = int32_t(step);
  params.seed =
      uint32_t(streamKey(Stream::StepSeed, {options.seed, uint64_t(step)}));
  return params;
}

/// Evaluates the model on `order` of `data`; nothing if interrupted.
std::optional<EvalResult> Trainer::evaluate(Arena &arena, Batcher &batcher,
                                            const Dataset &data,
                                            std::vector<int64_t> order) {
  Pass pass;
  pass.data = &data;
  pass.order = std::move(order);
  pass.batch = arena.maxBatch();
  batcher.start(std::move(pass));
  double lossSum = 0;
  int64_t correct = 0, images = 0;
  while (int32_t count = batcher.next(arena)) {
    if (int32_t status = program.eval_step(arena.data(), count))
      fail("eval_step failed with Halide error {} (see the message above)",
           status);
    lossSum += double(arena.loss()) * count;
    correct += arena.correct();
    images += count;
    if (interruptRequested)
      return std::nullopt;
  }
  return EvalResult{lossSum / double(images), double(correct) / double(images),
                    images};
}

[[noreturn]] void Trainer::diverged(const std::string &what, int64_t step) {
  progress.clear();
  std::string kept =
      options.checkpoint.empty()
          ? ""
          : fmt::format(" The last good checkpoint, {}, is kept.",
                        options.checkpoint);
  throw Error(ExitDiverged,
              fmt::format("{} at step {}: training diverged and stopped.{} "
                          "Try a lower learning rate, e.g. --lr={:g}.",
                          what, step, kept, options.schedule.lr / 10));
}

/// Refuses to checkpoint variables that are no longer finite: the update of
/// the last step can break them after its loss was still finite.
void Trainer::checkFinite(Arena &arena, int64_t step) {
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    const float *values = arena.variable(variable);
    if (!std::all_of(values, values + elementCount(variable),
                     [](float v) { return std::isfinite(v); }))
      diverged(fmt::format("variable {} is not finite", variable.name), step);
  }
}

/// Saves the run where it is, when --checkpoint asks for it.
void Trainer::save(Arena &arena) {
  if (options.checkpoint.empty())
    return;
  checkFinite(arena, state.step);
  CheckpointInfo info;
  info.model = program.model_name;
  info.optimizer = program.optimizer;
  info.seed = options.seed;
  info.batch = options.batch;
  info.validationSplit = options.validationSplit;
  info.state = state;
  saveCheckpoint(options.checkpoint, program, arena, info);
}

/// A checkpoint continues only the run that made it: the same data order
/// needs the same seed, batch and validation split.
void Trainer::checkResume(const CheckpointInfo &info,
                          int64_t stepsPerEpoch) const {
  auto mismatch = [&](const char *flag, const std::string &then,
                      const std::string &now) {
    if (then != now)
      fail("checkpoint {} was made with --{}={}, this run has --{}={}; "
           "resume with --{}={} (or leave out --resume to start afresh)",
           options.resume, flag, then, flag, now, flag, then);
  };
  mismatch("seed", std::to_string(info.seed), std::to_string(options.seed));
  mismatch("batch", std::to_string(info.batch), std::to_string(options.batch));
  mismatch("validation-split", fmt::format("{}", info.validationSplit),
           fmt::format("{}", options.validationSplit));
  const TrainingState &saved = info.state;
  if (saved.batchInEpoch >= stepsPerEpoch ||
      saved.step != saved.epoch * stepsPerEpoch + saved.batchInEpoch)
    fail("checkpoint {} is at step {} (epoch {}, batch {}), which does not "
         "fit this training set's {} steps per epoch; resume on the data "
         "set the checkpoint was trained on",
         options.resume, saved.step, saved.epoch + 1, saved.batchInEpoch,
         stepsPerEpoch);
}

void Trainer::printResult(const JsonObject &result) {
  progress.clear();
  fmt::print(out, "{}\n", result.str());
  std::fflush(out);
}

/// Ends a run on SIGINT, keeping its progress when --checkpoint is set.
int Trainer::stopInterrupted(Arena &arena) {
  progress.clear();
  std::fflush(out);
  save(arena);
  fmt::print(err, "train: interrupted at step {}; {}\n", state.step,
             options.checkpoint.empty()
                 ? "pass --checkpoint=PATH to keep progress next time"
                 : fmt::format("resume with --resume={}", options.checkpoint));
  return ExitInterrupted;
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

int Trainer::train() {
  Clock::time_point runStart = Clock::now();
  describeModel();
  TrainingData data = loadTrainingData();
  Augmenter augmenter = makeAugmenter(data.source, data.train);
  planRun(data);
  Workspace work(program, options, augmenter);
  progress.line("arena: {:.1f} MiB, allocated once ({:.1f} MiB fixed + "
                "batch {} x {:.3f} MiB per image)",
                mebibytes(work.arena.bytes()), mebibytes(program.fixed_bytes),
                options.batch, mebibytes(program.per_sample_bytes));
  startOrResume(work.arena, data);
  progress.line("training: {} epoch(s) of {} steps ({} steps), batch {}, {} "
                "lr {:g}, schedule {}, {} thread(s)",
                data.totalEpochs, data.stepsPerEpoch, data.totalSteps,
                options.batch, program.optimizer, options.schedule.lr,
                scheduleName(options.schedule.kind), options.threads);

  while (state.step < data.totalSteps)
    if (!trainEpoch(work, data))
      return stopInterrupted(work.arena);
  if (!last.test) {
    // Resumed at (or past) the end: nothing trained, so evaluate here.
    last.test = evaluate(work.arena, work.batcher, data.test,
                         allIndices(data.test.size()));
    if (!last.test)
      return stopInterrupted(work.arena);
  }

  JsonObject result;
  result.add("model", program.model_name)
      .add("test_accuracy", last.test->accuracy)
      .add("test_loss", last.test->loss)
      .add("train_loss", last.trainLoss)
      .add("train_accuracy", last.trainAccuracy);
  if (last.validation)
    result.add("val_accuracy", last.validation->accuracy)
        .add("best_val_accuracy", state.bestValAccuracy);
  result.add("epochs", data.totalEpochs)
      .add("steps", state.step)
      .add("batch", options.batch)
      .add("threads", options.threads)
      .add("images_per_s", throughput.imagesPerSecond())
      .add("train_seconds", throughput.stepSeconds)
      .add("total_seconds", secondsSince(runStart));
  printResult(result);
  return ExitOk;
}

/// Trains the rest of the current epoch (up to the run's last step), then
/// evaluates and saves. False when interrupted.
bool Trainer::trainEpoch(Workspace &work, const TrainingData &data) {
  Pass pass;
  pass.data = &data.train;
  pass.order = epochOrder(data.split.train, options.seed, state.epoch);
  pass.batch = options.batch;
  pass.training = true;
  pass.seed = options.seed;
  pass.epoch = state.epoch;
  pass.firstBatch = state.batchInEpoch;
  work.batcher.start(std::move(pass));
  const int64_t end = std::min(
      data.stepsPerEpoch, state.batchInEpoch + data.totalSteps - state.step);
  Clock::time_point epochStart = Clock::now();
  double trainSeconds = 0;
  int64_t images = 0;

  while (state.batchInEpoch < end) {
    Clock::time_point stepStart = Clock::now();
    int32_t count = work.batcher.next(work.arena);
    int64_t step = state.step + 1;
    rn_step_params params =
        stepParams(step, learningRate(options.schedule, step,
                                      data.stepsPerEpoch, data.totalSteps));
    if (int32_t status = program.train_step(work.arena.data(), count, &params))
      fail("train_step failed at step {} with Halide error {} (see the "
           "message above)",
           step, status);
    float loss = work.arena.loss();
    if (!std::isfinite(loss))
      diverged(fmt::format("the loss is {}", loss), step);

    ++state.step;
    ++state.batchInEpoch;
    state.epochLossSum += loss;
    state.epochCorrect += work.arena.correct();
    state.epochImages += count;
    double seconds = secondsSince(stepStart);
    trainSeconds += seconds;
    images += count;
    throughput.stepSeconds += seconds;
    ++throughput.steps;
    throughput.images += count;
    afterStep(work, data, params, loss, count, epochStart, images);
    if (interruptRequested)
      return false;
  }
  return finishEpoch(work, data, epochStart, trainSeconds, images);
}

/// Shows and logs where the run is after a step.
void Trainer::afterStep(Workspace &work, const TrainingData &data,
                        const rn_step_params &params, float loss, int32_t count,
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
  ++window.steps;
  if (state.step % options.logEvery != 0)
    return;
  work.metrics.write(JsonObject()
                         .add("type", "step")
                         .add("step", state.step)
                         .add("epoch", state.epoch + 1)
                         .add("loss", window.lossSum / double(window.steps))
                         .add("lr", double(params.lr))
                         .add("images_per_s", double(window.images) /
                                                  secondsSince(window.start)));
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
    state = next;
  }

  JsonObject record;
  record.add("type", "epoch")
      .add("epoch", epoch + 1)
      .add("steps", state.step)
      .add("train_loss", last.trainLoss)
      .add("train_accuracy", last.trainAccuracy);
  std::string validationText;
  if (!data.split.validation.empty()) {
    last.validation =
        evaluate(work.arena, work.batcher, data.train, data.split.validation);
    if (!last.validation)
      return false;
    state.bestValAccuracy =
        std::max(state.bestValAccuracy, last.validation->accuracy);
    record.add("val_loss", last.validation->loss)
        .add("val_accuracy", last.validation->accuracy);
    validationText =
        fmt::format(" | val loss {:.4f} acc {:.2f}%", last.validation->loss,
                    100 * last.validation->accuracy);
  }
  last.test = evaluate(work.arena, work.batcher, data.test,
                       allIndices(data.test.size()));
  if (!last.test)
    return false;

  double imagesPerSecond = trainSeconds > 0 ? double(images) / trainSeconds : 0;
  double seconds = secondsSince(epochStart);
  record.add("test_loss", last.test->loss)
      .add("test_accuracy", last.test->accuracy)
      .add("lr", learningRate(options.schedule, state.step, data.stepsPerEpoch,
                              data.totalSteps))
      .add("images_per_s", imagesPerSecond)
      .add("seconds", seconds);
  work.metrics.write(record);
  progress.line("epoch {}/{}: train loss {:.4f} acc {:.2f}%{} | test loss "
                "{:.4f} acc {:.2f}% | {:.0f} img/s, {:.1f} s",
                epoch + 1, data.totalEpochs, last.trainLoss,
                100 * last.trainAccuracy, validationText, last.test->loss,
                100 * last.test->accuracy, imagesPerSecond, seconds);
  save(work.arena);
  return true;
}

//===----------------------------------------------------------------------===//
// Evaluation only
//===----------------------------------------------------------------------===//

int Trainer::evaluateCheckpoint() {
  DataSource source = findDataSource();
  Dataset testSet = loadSplit(source, Split::Test);
  Augmenter augmenter = makeAugmenter(source, testSet);
  Arena arena(program, options.batch);
  CheckpointInfo info = loadCheckpoint(options.resume, program, arena);
  Batcher batcher(augmenter, options.batch);
  std::optional<EvalResult> test =
      evaluate(arena, batcher, testSet, allIndices(testSet.size()));
  if (!test)
    return ExitInterrupted;
  progress.line("{} at step {} on {} test images of {}: loss {:.4f}, "
                "accuracy {:.2f}%",
                options.resume, info.state.step, test->images, source.dir,
                test->loss, 100 * test->accuracy);
  printResult(JsonObject()
                  .add("model", program.model_name)
                  .add("test_accuracy", test->accuracy)
                  .add("test_loss", test->loss)
                  .add("test_images", test->images)
                  .add("step", info.state.step));
  return ExitOk;
}

//===----------------------------------------------------------------------===//
// Benchmark
//===----------------------------------------------------------------------===//

int Trainer::benchmark() {
  const int64_t timed = options.steps > 0 ? options.steps : 20;
  describeModel();
  Arena arena(program, options.batch);
  initVariables(program, options.seed, arena);

  // Synthetic inputs, staged outside the arena and copied in before every
  // step as real batches are: the step may reuse the input slots.
  Rng rng(streamKey(Stream::Synthetic, {options.seed}));
  size_t sampleFloats = size_t(program.input_height) * program.input_width *
                        program.input_channels;
  std::vector<float> images(sampleFloats * options.batch);
  std::vector<int32_t> labels(size_t(options.batch));
  for (float &value : images)
    value = float(rng.uniform());
  for (int32_t &label : labels)
    label = int32_t(rng.below(uint64_t(program.num_classes)));

  progress.line("benchmark: batch {}, {} thread(s), {} warm-up + {} timed "
                "steps on synthetic data, arena {:.1f} MiB",
                options.batch, options.threads, options.warmup, timed,
                mebibytes(arena.bytes()));
  std::vector<double> milliseconds;
  for (int64_t step = 1; step <= options.warmup + timed; ++step) {
    Clock::time_point start = Clock::now();
    std::copy(images.begin(), images.end(), arena.images(options.batch));
    std::copy(labels.begin(), labels.end(), arena.labels(options.batch));
    rn_step_params params = stepParams(step, options.schedule.lr);
    if (int32_t status =
            program.train_step(arena.data(), options.batch, &params))
      fail("train_step failed at step {} with Halide error {}", step, status);
    if (step > options.warmup)
      milliseconds.push_back(1e3 * secondsSince(start));
    if (interruptRequested)
      return ExitInterrupted;
  }

  std::sort(milliseconds.begin(), milliseconds.end());
  auto percentile = [&](double p) {
    return milliseconds[size_t(
        std::lround(p * double(milliseconds.size() - 1)))];
  };
  double median = percentile(0.5);
  double imagesPerSecond = 1e3 * options.batch / median;
  progress.line("step time: median {:.2f} ms (p10 {:.2f}, p90 {:.2f}), "
                "{:.0f} images/s",
                median, percentile(0.1), percentile(0.9), imagesPerSecond);
  printResult(JsonObject()
                  .add("model", program.model_name)
                  .add("batch", options.batch)
                  .add("threads", options.threads)
                  .add("warmup", options.warmup)
                  .add("steps", timed)
                  .add("step_ms_median", median)
                  .add("step_ms_p10", percentile(0.1))
                  .add("step_ms_p90", percentile(0.9))
                  .add("images_per_s", imagesPerSecond)
                  .add("kernels_per_step", program.train_kernels));
  return ExitOk;
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

int runTrain(const rn_program &program, const std::vector<std::string> &args,
             FILE *out, FILE *err) {
  try {
    checkProgram(program);
    Options options = parseFlags(program, args);
    if (options.help) {
      fmt::print(out, "{}", helpText(program));
      return ExitOk;
    }
    halide_set_num_threads(options.threads);
    InterruptScope interruptScope;
    Trainer trainer(program, options, out, err);
    if (options.benchmark)
      return trainer.benchmark();
    if (options.evalOnly)
      return trainer.evaluateCheckpoint();
    return trainer.train();
  } catch (const Error &error) {
    fmt::print(err, "train: error: {}\n", error.what());
    return error.exitCode();
  } catch (const std::bad_alloc &) {
    fmt::print(err, "train: error: out of memory; use a smaller --batch\n");
    return ExitFailure;
  }
}

int trainMain(const rn_program &program, int argc, char **argv) {
  return runTrain(program, std::vector<std::string>(argv + 1, argv + argc),
                  stdout, stderr);
}

} // namespace resnetrt
