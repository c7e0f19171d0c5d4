//===- RegularizationTest.cpp - dropout and DropBlock ---------------------===//
//
// Statistical and structural checks of the masks (kept fraction, scale,
// seeds, square blocks), and that each backward applies exactly its
// forward's mask and scale.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

KernelSpec dropSpec(const std::string &family, const Shape &shape, double rate,
                    int64_t blockSize = 0, int64_t salt = 1) {
  KernelSpec spec;
  spec.family = family;
  spec.inputs = {{shape}};
  spec.outputs = {{shape}};
  spec.floats = {{"rate", rate}};
  spec.ints = {{"salt", {salt}}};
  if (blockSize)
    spec.ints["block_size"] = {blockSize};
  return spec;
}

/// Inputs away from zero, so y == 0 means "dropped".
HostTensor nonZeroTensor(const Shape &shape, std::mt19937 &rng) {
  return randomTensor(shape, rng, 0.5, 1.5);
}

double keptFraction(const HostTensor &y) {
  size_t kept = 0;
  for (double v : y.data)
    kept += v != 0;
  return double(kept) / double(y.size());
}

/// The fraction of elements on which two masks disagree.
double maskDifference(const HostTensor &a, const HostTensor &b) {
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i)
    differ += (a[i] == 0) != (b[i] == 0);
  return double(differ) / double(a.size());
}

/// Checks that the kept elements of y are x times one common scale, and
/// returns it.
double commonScale(const HostTensor &x, const HostTensor &y) {
  double scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (y[i] == 0)
      continue;
    if (scale == 0)
      scale = y[i] / x[i];
    EXPECT_NEAR(y[i] / x[i], scale, 1e-6 * scale);
  }
  return scale;
}

/// The backward kernel of a mask-and-scale forward (`layer`_train) must
/// give dy * y / x.
void expectBackwardUsesForwardMask(const std::string &layer,
                                   const Shape &shape, double rate,
                                   int64_t blockSize, std::mt19937 &rng) {
  const std::map<std::string, double> seed = {{"seed", 77}};
  HostTensor x = nonZeroTensor(shape, rng), dy = randomTensor(shape, rng);
  HostTensor y =
      runKernel(dropSpec(layer + "_train", shape, rate, blockSize), {x},
                seed)[0];
  HostTensor dx = runKernel(
      dropSpec(layer + "_backward", shape, rate, blockSize), {dy}, seed)[0];
  HostTensor expected(shape);
  for (size_t i = 0; i < x.size(); ++i)
    expected[i] = dy[i] * y[i] / x[i];
  EXPECT_LT(relativeError(dx, expected), 1e-6);
  EXPECT_LT(keptFraction(y), 1.0); // something was dropped
}

//===----------------------------------------------------------------------===//
// dropout
//===----------------------------------------------------------------------===//

TEST(Dropout, KeepsAboutOneMinusRateScaledByItsInverse) {
  std::mt19937 rng(1);
  const double rate = 0.3;
  Shape shape{8, 32, 16, 16}; // 65536 elements: the fraction's sd is 0.0018
  HostTensor x = nonZeroTensor(shape, rng);
  auto y = runKernel(dropSpec("dropout_train", shape, rate), {x}, {{"seed", 1}});
  EXPECT_NEAR(keptFraction(y[0]), 1 - rate, 0.01);
  EXPECT_NEAR(commonScale(x, y[0]), 1 / (1 - rate), 1e-6);
}

TEST(Dropout, LayersOfOneShapeDrawDifferentMasks) {
  std::mt19937 rng(5);
  const double rate = 0.5;
  Shape shape{4, 20, 8, 8};
  HostTensor x = nonZeroTensor(shape, rng);
  auto a = runKernel(dropSpec("dropout_train", shape, rate, 0, 1), {x}, {{"seed", 5}});
  auto b = runKernel(dropSpec("dropout_train", shape, rate, 0, 2), {x}, {{"seed", 5}});
  EXPECT_NEAR(maskDifference(a[0], b[0]), 2 * rate * (1 - rate), 0.02);
}

TEST(Dropout, MaskDependsOnTheSeedOnly) {
  std::mt19937 rng(2);
  const double rate = 0.5;
  Shape shape{4, 20, 8, 8};
  KernelSpec spec = dropSpec("dropout_train", shape, rate);
  HostTensor x1 = nonZeroTensor(shape, rng), x2 = nonZeroTensor(shape, rng);
  auto a = runKernel(spec, {x1}, {{"seed", 5}});
  auto b = runKernel(spec, {x2}, {{"seed", 5}});
  auto c = runKernel(spec, {x1}, {{"seed", 6}});
  EXPECT_EQ(maskDifference(a[0], b[0]), 0.0);
  // Independent masks disagree on 2 rate (1 - rate) of the elements.
  EXPECT_NEAR(maskDifference(a[0], c[0]), 2 * rate * (1 - rate), 0.02);
}

TEST(Dropout, BackwardAppliesTheForwardMask) {
  std::mt19937 rng(3);
  for (Shape shape : {Shape{2, 16, 5, 7}, Shape{1, 3, 4, 5}, Shape{3, 10}})
    expectBackwardUsesForwardMask("dropout", shape, 0.4, 0, rng);
}

TEST(Dropout, RateZeroIsTheIdentity) {
  std::mt19937 rng(4);
  Shape shape{2, 17};
  HostTensor x = nonZeroTensor(shape, rng);
  auto y = runKernel(dropSpec("dropout_train", shape, 0.0), {x}, {{"seed", 3}});
  EXPECT_EQ(relativeError(y[0], x), 0.0);
}

//===----------------------------------------------------------------------===//
// dropblock
//===----------------------------------------------------------------------===//

/// The expected kept fraction under the documented sampling: element (x, y)
/// survives when none of the valid block origins covering it is drawn.
double expectedDropBlockKept(const Shape &shape, double rate, int64_t block) {
  const int64_t height = shape[2], width = shape[3];
  const int64_t originsY = height - block + 1, originsX = width - block + 1;
  double gamma = rate / double(block * block) * double(height * width) /
                 double(originsX * originsY);
  double kept = 0;
  for (int64_t iy = 0; iy < height; ++iy)
    for (int64_t ix = 0; ix < width; ++ix) {
      auto covering = [&](int64_t i, int64_t origins) {
        return std::min(i, origins - 1) - std::max(i - block + 1, int64_t(0)) +
               1;
      };
      kept += std::pow(1 - gamma,
                       double(covering(iy, originsY) * covering(ix, originsX)));
    }
  return kept / double(height * width);
}

TEST(DropBlock, KeepsAboutOneMinusRateAndPreservesTheSum) {
  std::mt19937 rng(5);
  const double rate = 0.1;
  const int64_t block = 3;
  Shape shape{4, 16, 32, 32}; // 65536 elements in ~700 blocks
  HostTensor x = nonZeroTensor(shape, rng);
  auto y =
      runKernel(dropSpec("dropblock_train", shape, rate, block), {x}, {{"seed", 9}});
  double kept = keptFraction(y[0]);
  EXPECT_NEAR(kept, 1 - rate, 0.02);
  // Blocks drop ~9 elements together: the sd of the fraction is ~0.004.
  EXPECT_NEAR(kept, expectedDropBlockKept(shape, rate, block), 0.015);
  // Rescaled by count / kept, so the expected value is preserved.
  EXPECT_NEAR(commonScale(x, y[0]), 1 / kept, 1e-6 / kept);
}

TEST(DropBlock, MasksConsistOfWholeSquareBlocks) {
  std::mt19937 rng(6);
  for (int64_t block : {1, 3, 4}) {
    Shape shape{2, 5, 11, 9};
    HostTensor x = nonZeroTensor(shape, rng);
    auto y = runKernel(dropSpec("dropblock_train", shape, 0.2, block), {x},
                       {{"seed", 4}})[0];
    auto dropped = [&](int64_t n, int64_t c, int64_t iy, int64_t ix) {
      return y.at({n, c, iy, ix}) == 0;
    };
    // Every dropped element lies in a dropped block x block square whose
    // top-left corner is a valid origin (the square fits in the map).
    auto inDroppedSquare = [&](int64_t n, int64_t c, int64_t iy, int64_t ix) {
      for (int64_t oy = std::max<int64_t>(iy - block + 1, 0);
           oy <= std::min(iy, shape[2] - block); ++oy)
        for (int64_t ox = std::max<int64_t>(ix - block + 1, 0);
             ox <= std::min(ix, shape[3] - block); ++ox) {
          bool whole = true;
          for (int64_t dy = 0; dy < block && whole; ++dy)
            for (int64_t dx = 0; dx < block && whole; ++dx)
              whole = dropped(n, c, oy + dy, ox + dx);
          if (whole)
            return true;
        }
      return false;
    };
    size_t droppedCount = 0;
    for (int64_t n = 0; n < shape[0]; ++n)
      for (int64_t c = 0; c < shape[1]; ++c)
        for (int64_t iy = 0; iy < shape[2]; ++iy)
          for (int64_t ix = 0; ix < shape[3]; ++ix)
            if (dropped(n, c, iy, ix)) {
              ++droppedCount;
              EXPECT_TRUE(inDroppedSquare(n, c, iy, ix))
                  << "block " << block << " at " << n << "," << c << "," << iy
                  << "," << ix;
            }
    EXPECT_GT(droppedCount, 0u) << "block " << block;
  }
}

TEST(DropBlock, MaskDependsOnTheSeedOnly) {
  std::mt19937 rng(7);
  Shape shape{2, 8, 12, 12};
  KernelSpec spec = dropSpec("dropblock_train", shape, 0.3, 3);
  HostTensor x1 = nonZeroTensor(shape, rng), x2 = nonZeroTensor(shape, rng);
  auto a = runKernel(spec, {x1}, {{"seed", 5}});
  auto b = runKernel(spec, {x2}, {{"seed", 5}});
  auto c = runKernel(spec, {x1}, {{"seed", 6}});
  EXPECT_EQ(maskDifference(a[0], b[0]), 0.0);
  EXPECT_GT(maskDifference(a[0], c[0]), 0.1);
}

TEST(DropBlock, BackwardAppliesTheForwardMaskAndScale) {
  std::mt19937 rng(8);
  expectBackwardUsesForwardMask("dropblock", {3, 20, 9, 7}, 0.2, 3, rng);
  expectBackwardUsesForwardMask("dropblock", {1, 3, 6, 6}, 0.3, 2, rng);
}

TEST(DropBlock, NothingDropsWhereNoBlockFits) {
  std::mt19937 rng(9);
  Shape shape{2, 4, 3, 5};
  HostTensor x = nonZeroTensor(shape, rng);
  auto y = runKernel(dropSpec("dropblock_train", shape, 0.5, 4), {x}, {{"seed", 1}});
  EXPECT_EQ(relativeError(y[0], x), 0.0);
}

} // namespace
