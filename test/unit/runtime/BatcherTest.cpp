//===- BatcherTest.cpp - batches in order, whatever the timing ------------===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

/// 100 synthetic 28x28 images, as loaded.
Dataset smallDataset() {
  Images images = syntheticImages(100, 28, 28, 1, 10, 3);
  Dataset data;
  data.shape = {28, 28, 1};
  data.numClasses = 10;
  data.pixels = images.pixels;
  data.labels.assign(images.labels.begin(), images.labels.end());
  return data;
}

struct Batch {
  std::vector<float> images;
  std::vector<int32_t> labels;
  bool operator==(const Batch &other) const {
    return images == other.images && labels == other.labels;
  }
};

/// Every batch of `pass`, read from the arena's slots; `pause` slows the
/// consumer so the producer runs ahead as far as it can.
std::vector<Batch> collect(Batcher &batcher, Arena &arena, Pass pass,
                           bool pause) {
  batcher.start(std::move(pass));
  std::vector<Batch> batches;
  while (int32_t count = batcher.next(arena)) {
    if (pause)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const float *images = arena.images(count);
    const int32_t *labels = arena.labels(count);
    batches.push_back({std::vector<float>(images, images + count * 784),
                       std::vector<int32_t>(labels, labels + count)});
  }
  return batches;
}

Pass trainingPass(const Dataset &data, int64_t epoch, int64_t firstBatch = 0) {
  Pass pass;
  pass.data = &data;
  pass.order = epochOrder(allIndices(data.size()), 7, epoch);
  pass.batch = 16;
  pass.training = true;
  pass.seed = 7;
  pass.epoch = epoch;
  pass.firstBatch = firstBatch;
  return pass;
}

} // namespace

TEST(BatcherTest, TrainingBatchesDependOnlyOnThePass) {
  Dataset data = smallDataset();
  Augmenter augmenter(parseAugment("random_crop(28,pad=2),flip_horizontal"), {},
                      data.shape);
  Arena arena(mnistLogistic(), 16);
  Batcher batcher(augmenter, 16);
  std::vector<Batch> fast =
      collect(batcher, arena, trainingPass(data, 1), false);
  std::vector<Batch> slow =
      collect(batcher, arena, trainingPass(data, 1), true);
  ASSERT_EQ(fast.size(), 6u); // 100 / 16: the partial batch is dropped
  EXPECT_TRUE(fast == slow);
  // Another epoch: another order and other crops.
  EXPECT_FALSE(fast == collect(batcher, arena, trainingPass(data, 2), false));
  // Resuming at batch 4 yields the same last two batches.
  std::vector<Batch> tail =
      collect(batcher, arena, trainingPass(data, 1, 4), false);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_TRUE(tail[0] == fast[4] && tail[1] == fast[5]);
}

TEST(BatcherTest, EvaluationCoversEveryImageInOrder) {
  Dataset data = smallDataset();
  Augmenter augmenter({}, {}, data.shape);
  Arena arena(mnistLogistic(), 16);
  Batcher batcher(augmenter, 16);
  Pass pass;
  pass.data = &data;
  pass.order = allIndices(data.size());
  pass.batch = 16;
  std::vector<Batch> batches = collect(batcher, arena, pass, false);
  ASSERT_EQ(batches.size(), 7u);
  EXPECT_EQ(batches.back().labels.size(), 4u); // the smaller last batch
  std::vector<int32_t> labels;
  for (const Batch &batch : batches)
    labels.insert(labels.end(), batch.labels.begin(), batch.labels.end());
  EXPECT_EQ(labels, data.labels);
  EXPECT_EQ(batches[6].images[0], data.image(96)[0] / 255.0f);
}

TEST(BatcherTest, AbandonsAPassHalfWay) {
  Dataset data = smallDataset();
  Augmenter augmenter({}, {}, data.shape);
  Arena arena(mnistLogistic(), 16);
  Batcher batcher(augmenter, 16);
  batcher.start(trainingPass(data, 0));
  EXPECT_EQ(batcher.next(arena), 16);
  // A new pass (or the destructor) stops the producer waiting on full slots.
  batcher.start(trainingPass(data, 1));
  EXPECT_EQ(batcher.next(arena), 16);
}

TEST(BatcherTest, ValidationSplitIsFixedAndDisjoint) {
  TrainValidation split = splitValidation(1000, 0.1);
  EXPECT_EQ(split.validation.size(), 100u);
  EXPECT_EQ(split.train.size(), 900u);
  std::vector<int64_t> all = split.train;
  all.insert(all.end(), split.validation.begin(), split.validation.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, allIndices(1000));
  EXPECT_EQ(splitValidation(1000, 0.1).validation, split.validation);
  EXPECT_TRUE(splitValidation(1000, 0).validation.empty());
}
