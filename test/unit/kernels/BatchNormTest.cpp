//===- BatchNormTest.cpp - batch norm families against references ---------===//
//
// The training forward (output, batch statistics, running statistics), the
// inference forward, and the backward, whose gradients are checked against
// finite differences of the training forward: through the batch statistics.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

const double epsilon = 1e-5;
const double momentum = 0.9;

/// 4-D and 2-D inputs; odd extents, batch 1 and > 1, channels below and
/// past one vector.
const std::vector<Shape> shapes = {
    {2, 16, 5, 7}, {1, 3, 4, 5}, {3, 20, 3, 3}, {4, 20}, {6, 3}};

/// Logical element i of x[N, C, H, W] or x[N, C] belongs to this channel.
int64_t channelOf(const Shape &shape, size_t i) {
  int64_t pixels = shape.size() == 4 ? shape[2] * shape[3] : 1;
  return int64_t(i) / pixels % shape[1];
}

struct Statistics {
  HostTensor mean, var; // biased batch variance
};

Statistics batchStatistics(const HostTensor &x) {
  int64_t channels = x.shape[1];
  Statistics s{HostTensor({channels}), HostTensor({channels})};
  double count = double(x.size()) / channels;
  for (size_t i = 0; i < x.size(); ++i)
    s.mean[channelOf(x.shape, i)] += x[i] / count;
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t c = channelOf(x.shape, i);
    s.var[c] += (x[i] - s.mean[c]) * (x[i] - s.mean[c]) / count;
  }
  return s;
}

/// y = (x - mean) / sqrt(var + eps) * gamma + beta, per channel.
HostTensor normalize(const HostTensor &x, const HostTensor &mean,
                     const HostTensor &var, const HostTensor &gamma,
                     const HostTensor &beta) {
  HostTensor y(x.shape);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t c = channelOf(x.shape, i);
    y[i] = (x[i] - mean[c]) / std::sqrt(var[c] + epsilon) * gamma[c] + beta[c];
  }
  return y;
}

HostTensor trainForward(const HostTensor &x, const HostTensor &gamma,
                        const HostTensor &beta) {
  Statistics s = batchStatistics(x);
  return normalize(x, s.mean, s.var, gamma, beta);
}


/// Checks every output of batch_norm_train on x against the reference.
void expectTrainMatchesReference(const KernelSpec &spec, const HostTensor &x,
                                 std::mt19937 &rng) {
  int64_t channels = x.shape[1];
  HostTensor gamma = randomTensor({channels}, rng, 0.5, 2);
  HostTensor beta = randomTensor({channels}, rng);
  HostTensor runningMean = randomTensor({channels}, rng);
  HostTensor runningVar = randomTensor({channels}, rng, 0.5, 2);
  auto out = runKernel(spec, {x, gamma, beta, runningMean, runningVar});

  Statistics s = batchStatistics(x);
  double count = double(x.size()) / channels;
  HostTensor invstd({channels}), newMean({channels}), newVar({channels});
  for (int64_t c = 0; c < channels; ++c) {
    invstd[c] = 1 / std::sqrt(s.var[c] + epsilon);
    newMean[c] = momentum * runningMean[c] + (1 - momentum) * s.mean[c];
    // PyTorch's convention: the running variance takes the unbiased one.
    double unbiased = count > 1 ? s.var[c] * count / (count - 1) : s.var[c];
    newVar[c] = momentum * runningVar[c] + (1 - momentum) * unbiased;
  }
  EXPECT_LT(relativeError(out[0], normalize(x, s.mean, s.var, gamma, beta)),
            1e-5);
  EXPECT_LT(relativeError(out[1], s.mean), 1e-5);
  EXPECT_LT(relativeError(out[2], invstd), 1e-5);
  EXPECT_LT(relativeError(out[3], newMean), 1e-5);
  EXPECT_LT(relativeError(out[4], newVar), 1e-5);
}

TEST(BatchNorm, TrainMatchesReference) {
  std::mt19937 rng(1);
  for (const Shape &shape : shapes) {
    SCOPED_TRACE(::testing::PrintToString(shape));
    expectTrainMatchesReference(batchNormTrainSpec(shape, epsilon, momentum),
                                randomTensor(shape, rng, -1, 3), rng);
  }
}

TEST(BatchNorm, TrainReducesOverTheRunTimeBatch) {
  std::mt19937 rng(2);
  KernelSpec spec = batchNormTrainSpec({4, 16, 3, 5}, epsilon, momentum);
  for (int64_t batch : {1, 3, 9}) {
    SCOPED_TRACE(batch);
    expectTrainMatchesReference(spec, randomTensor({batch, 16, 3, 5}, rng),
                                rng);
  }
}

/// A large mean and a small spread: E[x^2] - E[x]^2 in f32 would lose every
/// digit of the variance here; the per-image centred sums keep them.
TEST(BatchNorm, TrainVarianceSurvivesALargeMean) {
  std::mt19937 rng(3);
  Shape shape{3, 16, 8, 8};
  HostTensor x = randomTensor(shape, rng, 999, 1001);
  expectTrainMatchesReference(batchNormTrainSpec(shape, epsilon, momentum), x,
                              rng);
}

TEST(BatchNorm, InferenceMatchesReference) {
  std::mt19937 rng(4);
  for (const Shape &shape : shapes) {
    int64_t channels = shape[1];
    KernelSpec spec = batchNormInferenceSpec(shape, epsilon);
    HostTensor x = randomTensor(shape, rng);
    HostTensor gamma = randomTensor({channels}, rng, 0.5, 2);
    HostTensor beta = randomTensor({channels}, rng);
    HostTensor mean = randomTensor({channels}, rng);
    HostTensor var = randomTensor({channels}, rng, 0.5, 2);
    auto y = runKernel(spec, {x, gamma, beta, mean, var});
    EXPECT_LT(relativeError(y[0], normalize(x, mean, var, gamma, beta)), 1e-6);
  }
}

TEST(BatchNorm, BackwardMatchesFiniteDifferencesThroughBatchStatistics) {
  std::mt19937 rng(5);
  for (Shape shape : {Shape{2, 16, 3, 5}, Shape{1, 3, 4, 3}, Shape{5, 7}}) {
    SCOPED_TRACE(::testing::PrintToString(shape));
    int64_t channels = shape[1];
    HostTensor x = randomTensor(shape, rng, -1, 3);
    HostTensor dy = randomTensor(shape, rng);
    HostTensor gamma = randomTensor({channels}, rng, 0.5, 2);
    HostTensor beta = randomTensor({channels}, rng);

    // The saved statistics, as batch_norm_train outputs them.
    Statistics s = batchStatistics(x);
    HostTensor invstd({channels});
    for (int64_t c = 0; c < channels; ++c)
      invstd[c] = 1 / std::sqrt(s.var[c] + epsilon);

    KernelSpec spec = batchNormBackwardSpec(shape);
    auto grads = runKernel(spec, {dy, x, gamma, s.mean, invstd});

    auto ofX = [&](const HostTensor &in) {
      return trainForward(in, gamma, beta);
    };
    auto ofGamma = [&](const HostTensor &in) {
      return trainForward(x, in, beta);
    };
    auto ofBeta = [&](const HostTensor &in) {
      return trainForward(x, gamma, in);
    };
    EXPECT_LT(relativeError(grads[0], finiteDifferenceGradient(ofX, x, dy)),
              1e-5);
    EXPECT_LT(
        relativeError(grads[1], finiteDifferenceGradient(ofGamma, gamma, dy)),
        1e-5);
    EXPECT_LT(
        relativeError(grads[2], finiteDifferenceGradient(ofBeta, beta, dy)),
        1e-5);
  }
}

} // namespace
