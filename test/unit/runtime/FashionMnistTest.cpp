//===- FashionMnistTest.cpp - one real epoch on Fashion-MNIST -------------===//
//
// The whole runtime on the real data set from Debian's dataset-fashion-mnist
// package: gzip IDX loading, shuffling, batching, the loop and evaluation.
// Logistic regression reaches 83-84% test accuracy after one epoch (seeds
// 0-3); under 80% means the runtime feeds the model wrong data.
//
//===----------------------------------------------------------------------===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace resnetrt::test;

TEST(FashionMnistTest, OneEpochLearns) {
  const char *dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(std::string(dir) +
                               "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << dir << " is absent (apt-get install dataset-fashion-mnist)";
  RunResult result =
      runTrain(mnistLogistic(), {"--epochs=1", "--progress=plain"});
  ASSERT_EQ(result.status, 0) << result.err;
  std::string last = result.lastLine();
  std::optional<double> accuracy = jsonNumber(last, "test_accuracy");
  ASSERT_TRUE(accuracy) << last;
  EXPECT_GT(*accuracy, 0.80) << result.out;
  EXPECT_EQ(*jsonNumber(last, "steps"), 60000 / 64);
}
