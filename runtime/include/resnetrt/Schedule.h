//===- Schedule.h - the learning rate of each optimizer step ----*- C++ -*-===//
//
// The schedule is a pure function of the 1-based optimizer step, so a resumed
// run recomputes the same rates. Epoch-based settings (milestones, warm-up)
// are converted with the run's steps per epoch; a run shortened with --steps
// keeps those epoch boundaries and ends where it is told to.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_SCHEDULE_H
#define RESNETRT_SCHEDULE_H

#include <cstdint>
#include <string_view>
#include <vector>

namespace resnetrt {

enum class ScheduleKind { Constant, Step, Cosine, OneCycle };

/// Parses constant|step|cosine|one_cycle; throws a usage Error otherwise.
ScheduleKind parseScheduleKind(std::string_view text);
/// The flag value of `kind`.
std::string_view scheduleName(ScheduleKind kind);

struct Schedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double lr = 0.1;         ///< base rate (peak of one_cycle: maxLr)
  std::vector<int64_t> at; ///< step: epochs where the rate is multiplied
  double factor = 0.1;     ///< step: the multiplier
  double warmupEpochs = 0; ///< constant/step/cosine: linear ramp from 0
  double minLr = 0;        ///< cosine: the rate it anneals to
  int64_t period = 0;      ///< cosine: epochs of the first cycle (0: the run)
  int64_t periodMult = 1;  ///< cosine: each cycle this many times the last
  double maxLr = 0;        ///< one_cycle: peak; 0 means `lr`
  double pctStart = 0.3;   ///< one_cycle: share of steps spent rising
};

/// The rate of 1-based `step` of a run of `totalSteps` steps.
///  constant:  lr
///  step:      lr * factor^(milestones <= the step's 0-based epoch), as
///             PyTorch's MultiStepLR stepped once per epoch
///  cosine:    min_lr + (lr - min_lr) * (1 + cos(pi * t)) / 2, t going from 0
///             at the first step after warm-up to (T-1)/T at the last; with
///             a period, over cycles of period, period * period_mult, ...
///             epochs, each starting again at lr (warm restarts, SGDR: as
///             PyTorch's CosineAnnealingWarmRestarts stepped every step)
///  one_cycle: PyTorch's OneCycleLR (cos annealing, div_factor 25,
///             final_div_factor 1e4, momentum not cycled)
/// Warm-up (all but one_cycle) scales the first W = warmupEpochs *
/// stepsPerEpoch steps by step / W: a ramp to the scheduled rate (for step,
/// the milestones the warm-up outlasts included; cosine starts after it).
double learningRate(const Schedule &schedule, int64_t step,
                    int64_t stepsPerEpoch, int64_t totalSteps);

/// The epsilon the Adam kernels add to the bias-corrected sqrt(v) at
/// 1-based `step`: `eps`, as PyTorch; with `keras`, Keras's epsilon, which
/// Keras adds before the correction: its update
///   lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)
/// is PyTorch's with eps / sqrt(1 - beta2^t) in place of eps.
double adamEpsilon(double eps, double beta2, int64_t step, bool keras);

} // namespace resnetrt

#endif // RESNETRT_SCHEDULE_H
