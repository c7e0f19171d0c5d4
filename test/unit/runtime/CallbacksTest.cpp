//===- CallbacksTest.cpp - Keras's EarlyStopping and ReduceLROnPlateau ----===//
//
// Each case feeds a sequence of epoch results and checks the epochs at which
// Keras's callbacks (keras/callbacks.py, 2.x) would stop or lower the rate.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Callbacks.h"
#include "resnetrt/Error.h"

#include <gtest/gtest.h>

#include <vector>

using namespace resnetrt;

namespace {

EpochMetrics withValLoss(double value) {
  EpochMetrics metrics;
  metrics.loss = 10; // not monitored
  metrics.accuracy = 0;
  metrics.valLoss = value;
  metrics.valAccuracy = 0;
  return metrics;
}

EpochMetrics withAccuracy(double value) {
  EpochMetrics metrics;
  metrics.loss = 10;
  metrics.accuracy = value;
  return metrics;
}

/// The 1-based epoch at which early stopping stops on `values` (0: never).
int64_t stoppingEpoch(const EarlyStopping &stopping,
                      const std::vector<EpochMetrics> &epochs,
                      CallbackState *end = nullptr) {
  CallbackState state;
  for (size_t i = 0; i < epochs.size(); ++i)
    if (endEpoch(stopping, {}, state, int64_t(i + 1), epochs[i], 0.1).stop) {
      if (end)
        *end = state;
      return int64_t(i + 1);
    }
  if (end)
    *end = state;
  return 0;
}

} // namespace

TEST(CallbacksTest, MetricsByName) {
  EXPECT_EQ(parseMetric("val_loss"), Metric::ValLoss);
  EXPECT_EQ(parseMetric("accuracy"), Metric::Accuracy);
  EXPECT_EQ(metricName(parseMetric("val_accuracy")), "val_accuracy");
  EXPECT_TRUE(isValidationMetric(Metric::ValLoss));
  EXPECT_FALSE(isValidationMetric(Metric::Loss));
  EXPECT_THROW(parseMetric("val_acc"), Error);
}

TEST(CallbacksTest, EarlyStoppingWaitsPatienceEpochsAfterTheBest) {
  EarlyStopping stopping;
  stopping.metric = Metric::ValLoss;
  stopping.patience = 2;
  CallbackState state;
  // Best at epoch 2; epochs 3 and 4 do not improve on it.
  EXPECT_EQ(stoppingEpoch(stopping,
                          {withValLoss(1.0), withValLoss(0.9),
                           withValLoss(0.95), withValLoss(0.91),
                           withValLoss(0.5)},
                          &state),
            4);
  EXPECT_EQ(state.bestEpoch, 2);
  EXPECT_DOUBLE_EQ(state.stopBest, 0.9);
  EXPECT_TRUE(state.stopped);
  // An improvement resets the count.
  EXPECT_EQ(stoppingEpoch(stopping,
                          {withValLoss(1.0), withValLoss(1.1),
                           withValLoss(0.8), withValLoss(0.9),
                           withValLoss(0.9)}),
            5);
}

TEST(CallbacksTest, PatienceZeroAndOneStopAtTheFirstEpochWithoutProgress) {
  for (int64_t patience : {0, 1}) {
    EarlyStopping stopping;
    stopping.metric = Metric::ValLoss;
    stopping.patience = patience;
    EXPECT_EQ(stoppingEpoch(stopping, {withValLoss(1.0), withValLoss(0.5),
                                       withValLoss(0.5)}),
              3)
        << patience;
  }
}

TEST(CallbacksTest, AccuracyMustRiseByMoreThanMinDelta) {
  EarlyStopping stopping;
  stopping.metric = Metric::Accuracy;
  stopping.patience = 1;
  stopping.minDelta = 0.05;
  // 0.54 is not above 0.5 + 0.05.
  EXPECT_EQ(stoppingEpoch(stopping, {withAccuracy(0.5), withAccuracy(0.54)}),
            2);
  EXPECT_EQ(stoppingEpoch(stopping, {withAccuracy(0.5), withAccuracy(0.56),
                                     withAccuracy(0.62)}),
            0);
}

TEST(CallbacksTest, ReduceOnPlateauScalesTheRateWithCooldownAndFloor) {
  ReduceOnPlateau plateau;
  plateau.metric = Metric::Loss;
  plateau.factor = 0.5;
  plateau.patience = 2;
  plateau.cooldown = 1;
  plateau.minLr = 0.02;
  CallbackState state;
  EpochMetrics flat;
  flat.loss = 1;
  flat.accuracy = 0;
  std::vector<int64_t> reducedAt;
  for (int64_t epoch = 1; epoch <= 12; ++epoch) {
    double lr = scaledRate(plateau, state, 0.1);
    if (endEpoch({}, plateau, state, epoch, flat, lr).reduced)
      reducedAt.push_back(epoch);
  }
  // Epoch 1 sets the best; 2 and 3 wait, 3 halves. Epoch 4 ends the
  // cooldown and, in Keras's order, counts too; 5 halves, and 7. The rate
  // would be 0.0125 but is floored at 0.02, and from then on at min_lr
  // it stays.
  EXPECT_EQ(reducedAt, (std::vector<int64_t>{3, 5, 7}));
  EXPECT_DOUBLE_EQ(scaledRate(plateau, state, 0.1), 0.02);
  EXPECT_DOUBLE_EQ(state.lrScale, 0.125);
}

TEST(CallbacksTest, AnImprovementResetsThePlateau) {
  ReduceOnPlateau plateau;
  plateau.metric = Metric::ValLoss;
  plateau.patience = 2;
  CallbackState state;
  int reductions = 0;
  for (double loss : {1.0, 0.99995, 0.9, 0.9, 0.85, 0.85, 0.85})
    reductions += endEpoch({}, plateau, state, 1, withValLoss(loss), 0.1)
                      .reduced;
  // 0.99995 is within min_delta (1e-4) of 1.0, so epoch 2 waits; 0.9
  // improves at epoch 3, 4 waits, 0.85 improves at 5, 6 and 7 wait and 7
  // reduces.
  EXPECT_EQ(reductions, 1);
  EXPECT_DOUBLE_EQ(state.lrScale, 0.1);
}
