//===- Schedule.cpp - the learning rate of each optimizer step ------------===//

#include "resnetrt/Schedule.h"

#include "resnetrt/Error.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace resnetrt {

static constexpr std::string_view kScheduleNames[] = {"constant", "step",
                                                      "cosine", "one_cycle"};

ScheduleKind parseScheduleKind(std::string_view text) {
  for (size_t kind = 0; kind < std::size(kScheduleNames); ++kind)
    if (text == kScheduleNames[kind])
      return ScheduleKind(kind);
  usageError("expected constant, step, cosine or one_cycle");
}

std::string_view scheduleName(ScheduleKind kind) {
  return kScheduleNames[size_t(kind)];
}

/// Cosine interpolation from `start` (pct 0) to `end` (pct 1).
static double cosineAnneal(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(M_PI * pct) + 1.0);
}

/// PyTorch's OneCycleLR, two phases, indexed by the 0-based step.
static double oneCycle(const Schedule &schedule, int64_t index,
                       int64_t totalSteps) {
  double peak = schedule.maxLr > 0 ? schedule.maxLr : schedule.lr;
  double initial = peak / 25.0;
  double final = initial / 1e4;
  double peakStep = schedule.pctStart * double(totalSteps) - 1.0;
  double lastStep = double(totalSteps) - 1.0;
  if (peakStep > 0 && double(index) <= peakStep)
    return cosineAnneal(initial, peak, double(index) / peakStep);
  return cosineAnneal(peak, final,
                      (double(index) - peakStep) / (lastStep - peakStep));
}

double learningRate(const Schedule &schedule, int64_t step,
                    int64_t stepsPerEpoch, int64_t totalSteps) {
  if (schedule.kind == ScheduleKind::OneCycle)
    return oneCycle(schedule, step - 1, totalSteps);

  auto warmupSteps =
      int64_t(std::llround(schedule.warmupEpochs * double(stepsPerEpoch)));
  double scheduled = schedule.lr;
  switch (schedule.kind) {
  case ScheduleKind::Step: {
    int64_t epoch = (step - 1) / stepsPerEpoch;
    auto passed = std::count_if(schedule.at.begin(), schedule.at.end(),
                                [&](int64_t at) { return at <= epoch; });
    scheduled = schedule.lr * std::pow(schedule.factor, double(passed));
    break;
  }
  case ScheduleKind::Cosine: {
    // The annealing starts where the warm-up ends; `index` steps later
    // `cycle` steps into a cycle of `span` steps.
    int64_t index = std::max<int64_t>(step - 1 - warmupSteps, 0);
    int64_t cycle = index;
    int64_t span = std::max<int64_t>(totalSteps - warmupSteps, 1);
    if (schedule.period > 0) {
      span = schedule.period * stepsPerEpoch;
      for (; cycle >= span; span *= schedule.periodMult)
        cycle -= span;
    }
    scheduled = cosineAnneal(schedule.lr, schedule.minLr,
                             double(cycle) / double(span));
    break;
  }
  default:
    break;
  }
  // The warm-up ramps up to the scheduled rate, milestones it outlasts
  // included (as PyTorch's LinearLR chained with the schedule).
  if (step <= warmupSteps)
    return scheduled * double(step) / double(warmupSteps);
  return scheduled;
}

double adamEpsilon(double eps, double beta2, int64_t step, bool keras) {
  return keras ? eps / std::sqrt(1 - std::pow(beta2, double(step))) : eps;
}

} // namespace resnetrt
