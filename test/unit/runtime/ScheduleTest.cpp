//===- ScheduleTest.cpp - learning rates at known steps -------------------===//
//
// Reference values follow PyTorch's MultiStepLR, CosineAnnealingLR,
// CosineAnnealingWarmRestarts and OneCycleLR stepped once per optimizer step
// (per epoch for MultiStepLR).
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Schedule.h"

#include "resnetrt/Error.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace resnetrt;

TEST(ScheduleTest, ConstantIsTheBaseRate) {
  Schedule schedule;
  schedule.lr = 0.05;
  EXPECT_DOUBLE_EQ(learningRate(schedule, 1, 10, 100), 0.05);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 100, 10, 100), 0.05);
}

TEST(ScheduleTest, StepMultipliesAfterEachMilestoneEpoch) {
  Schedule schedule;
  schedule.kind = ScheduleKind::Step;
  schedule.lr = 0.1;
  schedule.at = {2, 4};
  schedule.factor = 0.1;
  // 10 steps per epoch: epochs 0-1 are steps 1-20.
  EXPECT_DOUBLE_EQ(learningRate(schedule, 1, 10, 60), 0.1);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 20, 10, 60), 0.1);
  EXPECT_NEAR(learningRate(schedule, 21, 10, 60), 0.01, 1e-15);
  EXPECT_NEAR(learningRate(schedule, 40, 10, 60), 0.01, 1e-15);
  EXPECT_NEAR(learningRate(schedule, 41, 10, 60), 0.001, 1e-15);
}

TEST(ScheduleTest, WarmupRampsLinearlyToTheRate) {
  Schedule schedule;
  schedule.lr = 0.4;
  schedule.warmupEpochs = 1;
  EXPECT_DOUBLE_EQ(learningRate(schedule, 1, 10, 100), 0.04);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 5, 10, 100), 0.2);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 10, 10, 100), 0.4);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 11, 10, 100), 0.4);
}

TEST(ScheduleTest, CosineMatchesCosineAnnealingLR) {
  Schedule schedule;
  schedule.kind = ScheduleKind::Cosine;
  schedule.lr = 0.1;
  schedule.minLr = 0.001;
  EXPECT_DOUBLE_EQ(learningRate(schedule, 1, 10, 100), 0.1);
  EXPECT_NEAR(learningRate(schedule, 26, 10, 100), 0.0855017857, 1e-10);
  EXPECT_NEAR(learningRate(schedule, 51, 10, 100), 0.0505, 1e-12);
  EXPECT_NEAR(learningRate(schedule, 100, 10, 100), 0.0010244253, 1e-10);
}

TEST(ScheduleTest, CosineStartsAfterWarmup) {
  Schedule schedule;
  schedule.kind = ScheduleKind::Cosine;
  schedule.lr = 0.1;
  schedule.warmupEpochs = 2;
  EXPECT_DOUBLE_EQ(learningRate(schedule, 10, 10, 120), 0.05);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 21, 10, 120), 0.1);
  EXPECT_NEAR(learningRate(schedule, 71, 10, 120), 0.05, 1e-12);
}

TEST(ScheduleTest, CosineRestartsAtTheEndOfEachPeriod) {
  // Periods of 2, 4 and 8 epochs of 10 steps: restarts at steps 21 and 61.
  Schedule schedule;
  schedule.kind = ScheduleKind::Cosine;
  schedule.lr = 0.1;
  schedule.period = 2;
  schedule.periodMult = 2;
  EXPECT_DOUBLE_EQ(learningRate(schedule, 1, 10, 140), 0.1);
  EXPECT_NEAR(learningRate(schedule, 11, 10, 140), 0.05, 1e-12);
  EXPECT_NEAR(learningRate(schedule, 20, 10, 140),
              0.05 * (1 + std::cos(M_PI * 19 / 20)), 1e-12);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 21, 10, 140), 0.1);
  EXPECT_NEAR(learningRate(schedule, 41, 10, 140), 0.05, 1e-12);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 61, 10, 140), 0.1);
  EXPECT_NEAR(learningRate(schedule, 101, 10, 140), 0.05, 1e-12);
  // The run's length does not matter once there is a period.
  EXPECT_DOUBLE_EQ(learningRate(schedule, 41, 10, 50),
                   learningRate(schedule, 41, 10, 140));
}

TEST(ScheduleTest, OneCycleMatchesOneCycleLR) {
  Schedule schedule;
  schedule.kind = ScheduleKind::OneCycle;
  schedule.lr = 0.1;
  schedule.maxLr = 1.0;
  schedule.pctStart = 0.3;
  // OneCycleLR(max_lr=1, total_steps=100): starts at max/25, peaks at
  // index 29, ends at max/25/1e4.
  EXPECT_NEAR(learningRate(schedule, 1, 10, 100), 0.04, 1e-12);
  EXPECT_NEAR(learningRate(schedule, 30, 10, 100), 1.0, 1e-12);
  EXPECT_NEAR(learningRate(schedule, 65, 10, 100), 0.500002, 1e-9);
  EXPECT_NEAR(learningRate(schedule, 100, 10, 100), 4e-6, 1e-15);
  schedule.maxLr = 0; // the peak defaults to --lr
  EXPECT_NEAR(learningRate(schedule, 30, 10, 100), 0.1, 1e-12);
}

TEST(ScheduleTest, ParsesTheFlagValues) {
  EXPECT_EQ(parseScheduleKind("one_cycle"), ScheduleKind::OneCycle);
  EXPECT_EQ(scheduleName(ScheduleKind::Cosine), "cosine");
  EXPECT_THROW(parseScheduleKind("linear"), Error);
}
