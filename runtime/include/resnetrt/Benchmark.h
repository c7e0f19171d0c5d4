//===- Benchmark.h - timing a compiled step on synthetic data ---*- C++ -*-===//
//
// train --benchmark times train_step and classify --benchmark eval_step, the
// same way: uniform random images and labels, staged outside the arena and
// copied into its slots before every call as real batches are (a step may
// use the input slots as scratch), --warmup untimed calls, then --steps
// timed ones (0: 20), each timed with its copy.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_BENCHMARK_H
#define RESNETRT_BENCHMARK_H

#include "resnetrt/Flags.h"
#include "resnetrt/Metrics.h"
#include "resnetrt/Program.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace resnetrt {

class Arena;
class KernelProfile;
class Progress;

/// Times `step` (step number, 1-based, in; 0 or a Halide error code out)
/// on batches of `callBatch` images (this rank's part of options.batch, the
/// batch the images per second count), shows the times, and returns the result
/// line: {"model","batch","threads","warmup","steps","step_ms_median",
/// "step_ms_p10","step_ms_p90","images_per_s","kernels_per_step"}.
/// `stepName` names the step in messages. With a `profile` (--profile), the
/// timed steps' kernels are timed too. Nothing if interrupted.
std::optional<JsonObject>
benchmarkSteps(const rn_program &program, const Options &options, Arena &arena,
               Progress &progress, std::string_view stepName,
               int32_t kernelsPerStep, int32_t callBatch,
               const std::function<int32_t(int64_t step)> &step,
               KernelProfile *profile = nullptr);

} // namespace resnetrt

#endif // RESNETRT_BENCHMARK_H
