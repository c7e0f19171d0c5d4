//===- Benchmark.cpp - timing a compiled step on synthetic data -----------===//

#include "resnetrt/Benchmark.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Error.h"
#include "resnetrt/Interrupt.h"
#include "resnetrt/Numerics.h"
#include "resnetrt/Profile.h"
#include "resnetrt/Progress.h"
#include "resnetrt/Random.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace resnetrt {

std::optional<JsonObject>
benchmarkSteps(const rn_program &program, const Options &options, Arena &arena,
               Progress &progress, std::string_view stepName,
               int32_t kernelsPerStep, int32_t callBatch,
               const std::function<int32_t(int64_t step)> &step,
               KernelProfile *profile) {
  const int64_t timed = options.steps > 0 ? options.steps : 20;
  Rng rng(streamKey(Stream::Synthetic, {options.seed}));
  size_t sampleFloats = size_t(program.input_height) * program.input_width *
                        program.input_channels;
  std::vector<float> images(sampleFloats * callBatch);
  std::vector<int32_t> labels(static_cast<size_t>(callBatch));
  for (float &value : images)
    value = float(rng.uniform());
  for (int32_t &label : labels)
    label = int32_t(rng.below(uint64_t(program.num_classes)));

  progress.line("benchmark: batch {}, {} thread(s), {} warm-up + {} timed "
                "steps on synthetic data, arena {:.1f} MiB",
                options.batch, options.threads, options.warmup, timed,
                mebibytes(arena.bytes()));
  std::vector<double> milliseconds;
  Transfers before;
  for (int64_t number = 1; number <= options.warmup + timed; ++number) {
    if (number == options.warmup + 1)
      before = transfers();
    Clock::time_point start = Clock::now();
    std::copy(images.begin(), images.end(), arena.images(callBatch));
    std::copy(labels.begin(), labels.end(), arena.labels(callBatch));
    arena.uploadBatch(callBatch);
    const bool timed = number > options.warmup;
    if (profile && timed)
      profile->beginCall();
    int32_t status = step(number);
    if (profile && timed)
      profile->endCall(callBatch);
    if (status)
      failedStep(stepName, status, fmt::format(" at step {}", number));
    if (timed)
      milliseconds.push_back(1e3 * secondsSince(start));
    if (interruptRequested())
      return std::nullopt;
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
  JsonObject result;
  result.add("model", program.model_name)
      .add("batch", options.batch)
      .add("threads", options.threads)
      .add("warmup", options.warmup)
      .add("steps", timed)
      .add("step_ms_median", median)
      .add("step_ms_p10", percentile(0.1))
      .add("step_ms_p90", percentile(0.9))
      .add("images_per_s", imagesPerSecond)
      .add("kernels_per_step", kernelsPerStep)
      .add("device", deviceName(arena));
  if (arena.device()) {
    // Every copy between host and device memory, Halide's own included
    // (Device.h): a step should make two, its batch up and its loss down.
    Transfers after = transfers();
    result.add("host_device_copies_per_step",
               double(after.toDevice + after.toHost - before.toDevice -
                      before.toHost) /
                   double(timed));
  }
  return result;
}

} // namespace resnetrt
