//===- Callbacks.h - early stopping and reduce-on-plateau -------*- C++ -*-===//
//
// What Keras's EarlyStopping and ReduceLROnPlateau do at the end of each
// epoch, with their defaults and their rules, so a Keras recipe stops and
// slows down at the same epochs here:
// - a monitored metric is the epoch's training loss or accuracy, or its
//   validation loss or accuracy; losses improve downwards, accuracies
//   upwards, and only by more than min_delta;
// - early stopping counts the epochs since the last improvement and stops
//   when that count reaches `patience` (patience 0 and 1 both stop at the
//   first epoch that does not improve), optionally going back to the weights
//   of the best epoch;
// - reduce-on-plateau multiplies the learning rate by `factor` when the
//   metric has not improved for `patience` epochs (never below min_lr), then
//   waits `cooldown` epochs before it counts again.
// Their state is part of the run's state (Checkpoint.h), so a resumed run
// stops and slows down where the uninterrupted one does.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_CALLBACKS_H
#define RESNETRT_CALLBACKS_H

#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

namespace resnetrt {

enum class Metric { None, Loss, Accuracy, ValLoss, ValAccuracy };

/// none, loss, accuracy, val_loss or val_accuracy; throws a usage Error
/// otherwise.
Metric parseMetric(std::string_view text);
std::string_view metricName(Metric metric);
/// Whether the metric needs a validation split.
bool isValidationMetric(Metric metric);

/// An epoch's results, as the callbacks see them.
struct EpochMetrics {
  double loss = NAN, accuracy = NAN;
  std::optional<double> valLoss, valAccuracy;
};

struct EarlyStopping {
  Metric metric = Metric::None; ///< None: off
  int64_t patience = 0;
  double minDelta = 0;
  bool restoreBest = false; ///< go back to the best epoch's weights
};

struct ReduceOnPlateau {
  Metric metric = Metric::None; ///< None: off
  double factor = 0.1;          ///< in (0, 1)
  int64_t patience = 10;
  double minDelta = 1e-4;
  double minLr = 0;
  int64_t cooldown = 0;
};

/// What the callbacks remember from one epoch to the next. NaN: no epoch
/// seen yet.
struct CallbackState {
  double stopBest = NAN;
  int64_t stopWait = 0;
  int64_t bestEpoch = 0; ///< 1-based epoch of stopBest (0: none)
  bool stopped = false;  ///< early stopping ended the run
  double plateauBest = NAN;
  int64_t plateauWait = 0, cooldown = 0;
  double lrScale = 1; ///< multiplies the schedule's rate
};

/// The learning rate `scheduled` as reduce-on-plateau has scaled it: never
/// below min_lr once reduced.
double scaledRate(const ReduceOnPlateau &plateau, const CallbackState &state,
                  double scheduled);

/// What the end of an epoch decided.
struct EpochDecision {
  bool improved = false; ///< early stopping's metric is the best so far
  bool stop = false;     ///< early stopping ends the run here
  bool reduced = false;  ///< reduce-on-plateau lowered the rate
};

/// Updates `state` with 1-based `epoch`'s `metrics`; `lr` is the rate the
/// epoch ended with (reduce-on-plateau acts only while it is above min_lr).
EpochDecision endEpoch(const EarlyStopping &stopping,
                       const ReduceOnPlateau &plateau, CallbackState &state,
                       int64_t epoch, const EpochMetrics &metrics, double lr);

/// The value of `metric` in `metrics`.
double metricValue(Metric metric, const EpochMetrics &metrics);

} // namespace resnetrt

#endif // RESNETRT_CALLBACKS_H
