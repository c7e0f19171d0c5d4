//===- BatchNormTest.cpp - batch norm families against references ---------===//
//
// The training forward (output, batch statistics, running statistics), the
// inference forward, and the backward, whose gradients are checked against
// finite differences of the training forward: through the batch statistics.
// The synchronised BatchNorm families (--sync-batch-norm) against the same
// references, on the whole batch and split into the parts that ranks hold,
// their sums added as the all-reduce adds them.
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

/// Checks the gradients dx, dgamma, dbeta of the training forward at (x,
/// gamma, beta) for output gradient dy against finite differences: through
/// the batch statistics.
void expectTrainGradients(const HostTensor &x, const HostTensor &gamma,
                          const HostTensor &beta, const HostTensor &dy,
                          const HostTensor &dx, const HostTensor &dgamma,
                          const HostTensor &dbeta) {
  auto ofX = [&](const HostTensor &in) {
    return trainForward(in, gamma, beta);
  };
  auto ofGamma = [&](const HostTensor &in) {
    return trainForward(x, in, beta);
  };
  auto ofBeta = [&](const HostTensor &in) {
    return trainForward(x, gamma, in);
  };
  EXPECT_LT(relativeError(dx, finiteDifferenceGradient(ofX, x, dy)), 1e-5);
  EXPECT_LT(relativeError(dgamma, finiteDifferenceGradient(ofGamma, gamma, dy)),
            1e-5);
  EXPECT_LT(relativeError(dbeta, finiteDifferenceGradient(ofBeta, beta, dy)),
            1e-5);
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
    expectTrainGradients(x, gamma, beta, dy, grads[0], grads[1], grads[2]);
  }
}

//===----------------------------------------------------------------------===//
// Synchronised BatchNorm
//===----------------------------------------------------------------------===//

KernelSpec syncSpec(const std::string &family, const Shape &shape,
                    std::vector<TensorSpec> inputs,
                    std::vector<TensorSpec> outputs) {
  KernelSpec spec;
  spec.family = family;
  spec.inputs = std::move(inputs);
  spec.outputs = std::move(outputs);
  if (family == "batch_norm_global")
    spec.floats = {{"epsilon", epsilon}, {"momentum", momentum}};
  return spec;
}

/// Images [begin, end) of x[N, ...].
HostTensor images(const HostTensor &x, int64_t begin, int64_t end) {
  Shape shape = x.shape;
  shape[0] = end - begin;
  HostTensor part(shape);
  size_t per = x.size() / size_t(x.shape[0]);
  std::copy(x.data.begin() + int64_t(per) * begin,
            x.data.begin() + int64_t(per) * end, part.data.begin());
  return part;
}

HostTensor concatImages(const std::vector<HostTensor> &parts, Shape shape) {
  HostTensor whole(shape);
  size_t next = 0;
  for (const HostTensor &part : parts)
    for (double v : part.data)
      whole[next++] = v;
  return whole;
}

/// Element-wise sum, as MPI_SUM over the ranks.
HostTensor sumOver(const std::vector<HostTensor> &parts) {
  HostTensor total = parts[0];
  for (size_t r = 1; r < parts.size(); ++r)
    for (size_t i = 0; i < total.size(); ++i)
      total[i] += parts[r][i];
  return total;
}

/// The forward and backward of the split BatchNorm with the batch of x in
/// `ranks` parts (the first ones smaller when it does not divide), their
/// sums added between the kernels, against batch_norm_train's reference and
/// finite differences of it.
void expectSyncMatchesReference(const Shape &shape, int ranks,
                                std::mt19937 &rng) {
  const int64_t channels = shape[1];
  TensorSpec c = perChannel(channels), sums{{3, channels}, TensorKind::Weight},
             gradSumsSpec{{4, channels}, TensorKind::Weight};
  HostTensor x = randomTensor(shape, rng, -1, 3);
  HostTensor dy = randomTensor(shape, rng);
  HostTensor gamma = randomTensor({channels}, rng, 0.5, 2);
  HostTensor beta = randomTensor({channels}, rng);
  HostTensor runningMean = randomTensor({channels}, rng);
  HostTensor runningVar = randomTensor({channels}, rng, 0.5, 2);
  std::vector<HostTensor> xs, dys;
  for (int r = 0; r < ranks; ++r) {
    xs.push_back(images(x, shape[0] * r / ranks, shape[0] * (r + 1) / ranks));
    dys.push_back(images(dy, shape[0] * r / ranks, shape[0] * (r + 1) / ranks));
  }
  auto each = [&](const KernelSpec &spec, auto inputsOf) {
    std::vector<std::vector<HostTensor>> outs;
    for (int r = 0; r < ranks; ++r)
      outs.push_back(runKernel(spec, inputsOf(r)));
    return outs;
  };
  auto output = [](const std::vector<std::vector<HostTensor>> &outs,
                   size_t i) {
    std::vector<HostTensor> parts;
    for (const auto &out : outs)
      parts.push_back(out[i]);
    return parts;
  };

  auto partialSums =
      each(syncSpec("batch_norm_sums", shape, {{shape}, c}, {sums}),
           [&](int r) { return std::vector{xs[r], runningMean}; });
  HostTensor batchSums = sumOver(output(partialSums, 0));
  EXPECT_EQ(batchSums.at({2, 0}), double(shape[0]));
  auto partialM2 = each(
      syncSpec("batch_norm_deviations", shape, {{shape}, c, sums}, {c}),
      [&](int r) { return std::vector{xs[r], runningMean, batchSums}; });
  HostTensor m2 = sumOver(output(partialM2, 0));
  auto normalised = each(
      syncSpec("batch_norm_global", shape, {{shape}, c, c, c, c, sums, c},
               {{shape}, c, c, c, c}),
      [&](int r) {
        return std::vector{xs[r], gamma, beta, runningMean, runningVar,
                           batchSums, m2};
      });

  // Every rank's statistics are the whole batch's.
  Statistics s = batchStatistics(x);
  double count = double(x.size()) / double(channels);
  HostTensor invstd({channels}), newMean({channels}), newVar({channels});
  for (int64_t ch = 0; ch < channels; ++ch) {
    invstd[ch] = 1 / std::sqrt(s.var[ch] + epsilon);
    newMean[ch] = momentum * runningMean[ch] + (1 - momentum) * s.mean[ch];
    double unbiased = count > 1 ? s.var[ch] * count / (count - 1) : s.var[ch];
    newVar[ch] = momentum * runningVar[ch] + (1 - momentum) * unbiased;
  }
  EXPECT_LT(relativeError(concatImages(output(normalised, 0), shape),
                          normalize(x, s.mean, s.var, gamma, beta)),
            1e-5);
  for (int r = 0; r < ranks; ++r) {
    EXPECT_LT(relativeError(normalised[r][1], s.mean), 1e-5);
    EXPECT_LT(relativeError(normalised[r][2], invstd), 1e-5);
    EXPECT_LT(relativeError(normalised[r][3], newMean), 1e-5);
    EXPECT_LT(relativeError(normalised[r][4], newVar), 1e-5);
  }

  // Backward: the gradient sums added over the ranks give dx; dgamma and
  // dbeta are each rank's part of the whole batch's.
  HostTensor mean = normalised[0][1];
  auto gradSums = each(
      syncSpec("batch_norm_grad_sums", shape, {{shape}, {shape}, c, c},
               {c, c, gradSumsSpec}),
      [&](int r) { return std::vector{dys[r], xs[r], mean, invstd}; });
  HostTensor totalGradSums = sumOver(output(gradSums, 2));
  auto dx = each(
      syncSpec("batch_norm_global_backward", shape,
               {{shape}, {shape}, c, c, c, gradSumsSpec, sums}, {{shape}}),
      [&](int r) {
        return std::vector{dys[r], xs[r], gamma, mean, invstd, totalGradSums,
                           batchSums};
      });
  expectTrainGradients(x, gamma, beta, dy, concatImages(output(dx, 0), shape),
                       sumOver(output(gradSums, 0)),
                       sumOver(output(gradSums, 1)));
}

TEST(SyncBatchNorm, OneRankMatchesTheReference) {
  std::mt19937 rng(6);
  for (const Shape &shape : shapes) {
    SCOPED_TRACE(::testing::PrintToString(shape));
    expectSyncMatchesReference(shape, 1, rng);
  }
}

TEST(SyncBatchNorm, RanksSummingTheirPartsMatchTheWholeBatch) {
  std::mt19937 rng(7);
  for (auto [shape, ranks] : std::vector<std::pair<Shape, int>>{
           {{4, 16, 5, 7}, 2}, {{7, 20, 3, 3}, 3}, {{6, 20}, 4}}) {
    SCOPED_TRACE(::testing::PrintToString(shape) + " on " +
                 std::to_string(ranks) + " ranks");
    expectSyncMatchesReference(shape, ranks, rng);
  }
}

} // namespace
