//===- Callbacks.cpp - early stopping and reduce-on-plateau ---------------===//

#include "resnetrt/Callbacks.h"

#include "resnetrt/Error.h"

#include <algorithm>

namespace resnetrt {

Metric parseMetric(std::string_view text) {
  for (Metric metric : {Metric::None, Metric::Loss, Metric::Accuracy,
                        Metric::ValLoss, Metric::ValAccuracy})
    if (text == metricName(metric))
      return metric;
  usageError("expected val_loss, val_accuracy, loss, accuracy or none");
}

std::string_view metricName(Metric metric) {
  switch (metric) {
  case Metric::None:
    return "none";
  case Metric::Loss:
    return "loss";
  case Metric::Accuracy:
    return "accuracy";
  case Metric::ValLoss:
    return "val_loss";
  case Metric::ValAccuracy:
    return "val_accuracy";
  }
  return "?";
}

bool isValidationMetric(Metric metric) {
  return metric == Metric::ValLoss || metric == Metric::ValAccuracy;
}

double metricValue(Metric metric, const EpochMetrics &metrics) {
  switch (metric) {
  case Metric::Loss:
    return metrics.loss;
  case Metric::Accuracy:
    return metrics.accuracy;
  case Metric::ValLoss:
    return metrics.valLoss.value_or(NAN);
  case Metric::ValAccuracy:
    return metrics.valAccuracy.value_or(NAN);
  case Metric::None:
    break;
  }
  return NAN;
}

/// Keras's monitor_op with min_delta: a loss must fall below best - delta,
/// an accuracy rise above best + delta. Anything improves on no value yet.
static bool improves(Metric metric, double minDelta, double value,
                     double best) {
  if (std::isnan(best))
    return true;
  bool lower = metric == Metric::Loss || metric == Metric::ValLoss;
  return lower ? value < best - minDelta : value > best + minDelta;
}

double scaledRate(const ReduceOnPlateau &plateau, const CallbackState &state,
                  double scheduled) {
  if (state.lrScale == 1)
    return scheduled;
  return std::max(scheduled * state.lrScale, plateau.minLr);
}

EpochDecision endEpoch(const EarlyStopping &stopping,
                       const ReduceOnPlateau &plateau, CallbackState &state,
                       int64_t epoch, const EpochMetrics &metrics, double lr) {
  EpochDecision decision;
  if (stopping.metric != Metric::None) {
    double value = metricValue(stopping.metric, metrics);
    ++state.stopWait;
    if (improves(stopping.metric, stopping.minDelta, value, state.stopBest)) {
      state.stopBest = value;
      state.bestEpoch = epoch;
      state.stopWait = 0;
      decision.improved = true;
    } else if (state.stopWait >= stopping.patience) {
      state.stopped = decision.stop = true;
    }
  }
  if (plateau.metric != Metric::None) {
    double value = metricValue(plateau.metric, metrics);
    if (state.cooldown > 0) {
      --state.cooldown;
      state.plateauWait = 0;
    }
    if (improves(plateau.metric, plateau.minDelta, value,
                 state.plateauBest)) {
      state.plateauBest = value;
      state.plateauWait = 0;
    } else if (state.cooldown == 0 &&
               ++state.plateauWait >= plateau.patience &&
               lr > plateau.minLr) {
      state.lrScale *= plateau.factor;
      state.cooldown = plateau.cooldown;
      state.plateauWait = 0;
      decision.reduced = true;
    }
  }
  return decision;
}

} // namespace resnetrt
