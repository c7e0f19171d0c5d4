//===- FusedTest.cpp - fused conv/BatchNorm/ReLU kernel families ----------===//
//
// The kernel families of rn-fuse-conv-bn-relu (RNFusedOps.td), each against
// a double-precision reference and against the unfused families it replaces:
//   conv2d_stats              = conv2d (+ ReLU), and per-image moments
//   fused_conv2d              = conv2d + bias + residual, ReLU
//   batch_norm_apply          = batch_norm_train from the moments + add + ReLU
//   batch_norm_apply_backward = ReLU mask, then batch_norm_backward
//   fold_batch_norm           then fused_conv2d = conv2d + batch_norm
// over the shapes the conv schedules treat differently: tiled (16, 32, 64
// output channels), 8-lane vectors under AVX-512 (24), >= 256 output channels
// (groups of images per task), input channels in L1 blocks, the plain
// schedule (3 channels, groups), 1x1 and 3x3 filters, strides 1 and 2.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

// Float accumulation of at most a few hundred products of values in [-1, 1],
// and float normalisation, stay well inside 1e-5 relative error; the
// references are exact doubles of the same float inputs.
constexpr double tolerance = 1e-5;
const double epsilon = 1e-5;
const double momentum = 0.9;

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

/// One convolution x[N,C,H,W] * w[O,C/groups,K,K], symmetric stride and
/// padding, and the epilogue options of the fused families.
struct Conv {
  int64_t N, C, H, W, O, K;
  int64_t stride = 1, pad = 0, groups = 1;
  bool bias = false, residual = false, relu = false;

  int64_t Ho() const { return (H + 2 * pad - K) / stride + 1; }
  int64_t Wo() const { return (W + 2 * pad - K) / stride + 1; }
  Shape xShape() const { return {N, C, H, W}; }
  Shape wShape() const { return {O, C / groups, K, K}; }
  Shape yShape() const { return {N, O, Ho(), Wo()}; }

  std::map<std::string, std::vector<int64_t>> convInts() const {
    return {{"strides", {stride, stride}},
            {"padding", {pad, pad, pad, pad}},
            {"dilations", {1, 1}},
            {"groups", {groups}}};
  }

  /// conv2d on x, w and (if `bias`) b.
  KernelSpec conv2dSpec() const {
    KernelSpec s;
    s.family = "conv2d";
    s.inputs = {{xShape()}, {wShape(), TensorKind::Weight}};
    if (bias)
      s.inputs.push_back(perChannel(O));
    s.outputs = {{yShape()}};
    s.ints = convInts();
    return s;
  }

  /// conv2d_stats on x, w and (if `bias`) b.
  KernelSpec statsSpec() const {
    KernelSpec s = conv2dSpec();
    s.family = "conv2d_stats";
    s.outputs = {{yShape()}, {{N, O}}, {{N, O}}};
    s.ints["relu"] = {relu};
    return s;
  }

  /// fused_conv2d on x, w, (b), (residual).
  KernelSpec fusedSpec() const {
    KernelSpec s = conv2dSpec();
    s.family = "fused_conv2d";
    if (residual)
      s.inputs.push_back({yShape()});
    s.ints["relu"] = {relu};
    s.ints["bias"] = {bias};
    s.ints["residual"] = {residual};
    return s;
  }

  /// conv(x, w) (+ b), in double precision.
  HostTensor forward(const HostTensor &x, const HostTensor &w,
                     const HostTensor *b) const {
    return referenceConv2d(x, w, b, {stride, stride}, {pad, pad, pad, pad},
                           {1, 1}, groups);
  }
};

std::string describe(const Conv &p) {
  std::ostringstream os;
  os << "N" << p.N << " C" << p.C << " " << p.H << "x" << p.W << " -> O" << p.O
     << " k" << p.K << " s" << p.stride << " pad" << p.pad << " g" << p.groups
     << (p.bias ? " bias" : "") << (p.residual ? " residual" : "")
     << (p.relu ? " relu" : "");
  return os.str();
}

Conv conv(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t K,
          int64_t stride, int64_t pad) {
  Conv p{N, C, H, W, O, K};
  p.stride = stride;
  p.pad = pad;
  return p;
}

HostTensor relu(HostTensor t) {
  for (double &v : t.data)
    v = std::max(v, 0.0);
  return t;
}

HostTensor add(HostTensor a, const HostTensor &b) {
  for (size_t i = 0; i < a.size(); ++i)
    a[i] += b[i];
  return a;
}

/// The per-image moments of y[N, C, H, W]: sum[N, C] and the sum of squared
/// deviations from the image's mean, m2[N, C], in double precision.
struct Moments {
  HostTensor sum, m2;
};

Moments imageMoments(const HostTensor &y) {
  const int64_t N = y.shape[0], C = y.shape[1], P = y.shape[2] * y.shape[3];
  Moments m{HostTensor({N, C}), HostTensor({N, C})};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const double *plane = &y.data[(n * C + c) * P];
      double sum = 0, m2 = 0;
      for (int64_t p = 0; p < P; ++p)
        sum += plane[p];
      for (int64_t p = 0; p < P; ++p)
        m2 += (plane[p] - sum / P) * (plane[p] - sum / P);
      m.sum.at({n, c}) = sum;
      m.m2.at({n, c}) = m2;
    }
  return m;
}

/// Shapes for conv2d_stats (the ReLU and bias set below).
std::vector<Conv> statsCases() {
  std::vector<Conv> cases = {
      conv(2, 16, 8, 8, 16, 3, 1, 1),   // 16 channels: tiled, 1 vector
      conv(3, 32, 9, 9, 32, 3, 2, 1),   // 32 channels, stride 2, odd size
      conv(1, 16, 16, 16, 64, 3, 1, 1), // 64 channels, 16x16, batch 1
      conv(2, 16, 8, 8, 32, 1, 2, 0),   // 1x1 stride-2 projection
      conv(2, 3, 16, 16, 16, 3, 1, 1),  // 3x3 stem from 3 channels
      conv(2, 16, 8, 8, 24, 3, 1, 1),   // 24: 8-lane vectors under AVX-512
      conv(2, 8, 5, 5, 3, 3, 1, 1),     // 3 outputs: the plain schedule
      conv(2, 64, 6, 6, 64, 3, 1, 1),   // input channels in L1 blocks
      conv(3, 8, 4, 4, 256, 3, 1, 1),   // 256: images per task, partial
      conv(10, 32, 3, 3, 256, 3, 1, 1), // 256 in L1 blocks, 1 full group + 2
      conv(2, 16, 6, 6, 16, 3, 1, 1),   // depthwise (set below)
      conv(2, 16, 1, 1, 32, 1, 1, 0),   // one pixel: M2 is 0
      conv(2, 16, 7, 7, 16, 3, 1, 1),   // Winograd, odd output: whole tiles
      conv(2, 16, 22, 22, 32, 3, 1, 1), // Winograd, runs overhang the rows
  };
  cases[10].groups = 16;
  for (size_t i = 0; i < cases.size(); ++i) {
    cases[i].relu = i % 2 == 0;
    cases[i].bias = i % 3 == 1;
  }
  return cases;
}

/// conv2d_stats's y is conv2d's (ReLU'd on the host where asked) and its
/// moments are those of its y and of the reference's.
void expectStatsMatch(const Conv &p, std::mt19937 &rng) {
  HostTensor x = randomTensor(p.xShape(), rng);
  HostTensor w = randomTensor(p.wShape(), rng);
  HostTensor b = randomTensor({p.O}, rng);
  std::vector<HostTensor> inputs = {x, w};
  if (p.bias)
    inputs.push_back(b);
  auto out = runKernel(p.statsSpec(), inputs);
  ASSERT_EQ(out.size(), 3u);

  HostTensor plain = runKernel(p.conv2dSpec(), inputs)[0];
  if (p.relu)
    plain = relu(plain);
  EXPECT_LT(relativeError(out[0], plain), tolerance) << "y against conv2d";

  HostTensor reference = p.forward(x, w, p.bias ? &b : nullptr);
  if (p.relu)
    reference = relu(reference);
  EXPECT_LT(relativeError(out[0], reference), tolerance) << "y";

  Moments ofOutput = imageMoments(out[0]);
  Moments ofReference = imageMoments(reference);
  EXPECT_LT(relativeError(out[1], ofOutput.sum), tolerance)
      << "image_sum against the kernel's y";
  EXPECT_LT(relativeError(out[2], ofOutput.m2), tolerance)
      << "image_m2 against the kernel's y";
  EXPECT_LT(relativeError(out[1], ofReference.sum), tolerance) << "image_sum";
  EXPECT_LT(relativeError(out[2], ofReference.m2), tolerance) << "image_m2";
}

TEST(FusedConv, StatsMatchConv2dAndReference) {
  std::mt19937 rng(1);
  for (const Conv &p : statsCases()) {
    SCOPED_TRACE(describe(p));
    expectStatsMatch(p, rng);
  }
}

/// add_stats: the sum of two tensors and its per-image moments, for the
/// residual sum of a pre-activation block; channels below, at and past one
/// vector, batch 1 and more, one pixel and many.
TEST(FusedAdd, StatsMatchReference) {
  std::mt19937 rng(7);
  for (const Shape &shape : std::vector<Shape>{
           {2, 16, 8, 8}, {1, 3, 5, 7}, {3, 24, 4, 4}, {2, 64, 1, 1}}) {
    SCOPED_TRACE(::testing::PrintToString(shape));
    KernelSpec spec;
    spec.family = "add_stats";
    spec.inputs = {{shape}, {shape}};
    spec.outputs = {{shape}, {{shape[0], shape[1]}}, {{shape[0], shape[1]}}};
    HostTensor a = randomTensor(shape, rng), b = randomTensor(shape, rng);
    auto out = runKernel(spec, {a, b});
    ASSERT_EQ(out.size(), 3u);
    HostTensor sum = add(a, b);
    EXPECT_LT(relativeError(out[0], sum), tolerance) << "sum";
    Moments reference = imageMoments(sum);
    EXPECT_LT(relativeError(out[1], reference.sum), tolerance) << "image_sum";
    EXPECT_LT(relativeError(out[2], reference.m2), tolerance) << "image_m2";
  }
}

/// The moments reduce over the run-time batch, whatever the spec's estimate:
/// groups of 8 images per task, full and partial, for >= 256 channels.
TEST(FusedConv, StatsOverTheRunTimeBatch) {
  std::mt19937 rng(2);
  for (Conv p :
       {conv(4, 8, 3, 3, 256, 3, 1, 1), conv(4, 16, 5, 5, 32, 3, 1, 1)}) {
    p.relu = true;
    for (int64_t batch : {1, 3, 9, 17}) {
      Conv actual = p;
      actual.N = batch;
      SCOPED_TRACE(describe(actual));
      HostTensor x = randomTensor(actual.xShape(), rng);
      HostTensor w = randomTensor(actual.wShape(), rng);
      // Compiled for the spec's batch, run on another.
      auto out = runKernel(p.statsSpec(), {x, w});
      HostTensor reference = relu(actual.forward(x, w, nullptr));
      Moments m = imageMoments(reference);
      EXPECT_LT(relativeError(out[0], reference), tolerance);
      EXPECT_LT(relativeError(out[1], m.sum), tolerance);
      EXPECT_LT(relativeError(out[2], m.m2), tolerance);
    }
  }
}

/// fused_conv2d = act(conv2d + b + residual), against the reference and
/// against the conv2d family with the epilogue applied on the host.
TEST(FusedConv, FusedConv2dMatchesConv2dAndEpilogue) {
  std::vector<Conv> cases = {
      conv(2, 16, 8, 8, 16, 3, 1, 1),   // all three
      conv(1, 32, 16, 16, 32, 3, 2, 1), // stride 2, residual and ReLU
      conv(2, 16, 8, 8, 64, 1, 2, 0),   // 1x1 projection with bias
      conv(2, 3, 8, 8, 24, 3, 1, 1),    // 3 -> 24, ReLU
      conv(3, 8, 4, 4, 256, 3, 1, 1),   // images per task, all three
      conv(2, 64, 6, 6, 64, 3, 1, 1),   // input channels in L1 blocks
      conv(2, 5, 7, 6, 3, 3, 1, 1),     // the plain schedule, all three
      conv(1, 16, 4, 4, 16, 3, 1, 1),   // no epilogue: conv2d itself
      conv(2, 16, 6, 6, 16, 3, 1, 1),   // depthwise, all three
      conv(2, 16, 5, 7, 32, 3, 1, 1),   // Winograd, odd output, all three
      conv(2, 16, 22, 22, 32, 3, 1, 1), // Winograd, runs overhang, all three
  };
  auto set = [](Conv &p, bool bias, bool residual, bool relu) {
    p.bias = bias;
    p.residual = residual;
    p.relu = relu;
  };
  set(cases[0], true, true, true);
  set(cases[1], false, true, true);
  set(cases[2], true, false, false);
  set(cases[3], false, false, true);
  set(cases[4], true, true, true);
  set(cases[5], true, true, true);
  set(cases[6], true, true, true);
  set(cases[7], false, false, false);
  set(cases[8], true, true, true);
  set(cases[9], true, true, true);
  set(cases[10], true, true, true);
  cases[8].groups = 16;

  std::mt19937 rng(3);
  for (const Conv &p : cases) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor w = randomTensor(p.wShape(), rng);
    HostTensor b = randomTensor({p.O}, rng);
    HostTensor residual = randomTensor(p.yShape(), rng);
    std::vector<HostTensor> convInputs = {x, w};
    if (p.bias)
      convInputs.push_back(b);
    std::vector<HostTensor> inputs = convInputs;
    if (p.residual)
      inputs.push_back(residual);
    HostTensor y = runKernel(p.fusedSpec(), inputs)[0];

    auto epilogue = [&](HostTensor t) {
      if (p.residual)
        t = add(t, residual);
      return p.relu ? relu(t) : t;
    };
    EXPECT_LT(
        relativeError(y, epilogue(runKernel(p.conv2dSpec(), convInputs)[0])),
        tolerance)
        << "against conv2d";
    EXPECT_LT(
        relativeError(y, epilogue(p.forward(x, w, p.bias ? &b : nullptr))),
        tolerance);
  }
}

//===----------------------------------------------------------------------===//
// BatchNorm
//===----------------------------------------------------------------------===//

int64_t channelOf(const Shape &shape, size_t i) {
  return int64_t(i) / (shape[2] * shape[3]) % shape[1];
}

/// The parameters and running statistics of one BatchNorm.
struct BatchNormParams {
  HostTensor gamma, beta, runningMean, runningVar;

  BatchNormParams(int64_t channels, std::mt19937 &rng)
      : gamma(randomTensor({channels}, rng, 0.5, 2)),
        beta(randomTensor({channels}, rng)),
        runningMean(randomTensor({channels}, rng)),
        runningVar(randomTensor({channels}, rng, 0.5, 2)) {}
};

/// What batch_norm_train followed by add and relu returns: out, mean,
/// invstd, new_running_mean, new_running_var; in double precision, the
/// batch statistics straight from y (not from its moments).
std::vector<HostTensor> applyReference(const HostTensor &y,
                                       const BatchNormParams &bn,
                                       const HostTensor *residual, bool relu) {
  const int64_t C = y.shape[1];
  const double count = double(y.size()) / double(C);
  HostTensor mean({C}), var({C}), invstd({C}), newMean({C}), newVar({C});
  for (size_t i = 0; i < y.size(); ++i)
    mean[channelOf(y.shape, i)] += y[i] / count;
  for (size_t i = 0; i < y.size(); ++i) {
    int64_t c = channelOf(y.shape, i);
    var[c] += (y[i] - mean[c]) * (y[i] - mean[c]) / count;
  }
  for (int64_t c = 0; c < C; ++c) {
    invstd[c] = 1 / std::sqrt(var[c] + epsilon);
    newMean[c] = momentum * bn.runningMean[c] + (1 - momentum) * mean[c];
    double unbiased = count > 1 ? var[c] * count / (count - 1) : var[c];
    newVar[c] = momentum * bn.runningVar[c] + (1 - momentum) * unbiased;
  }
  HostTensor out(y.shape);
  for (size_t i = 0; i < y.size(); ++i) {
    int64_t c = channelOf(y.shape, i);
    double v = (y[i] - mean[c]) * invstd[c] * bn.gamma[c] + bn.beta[c];
    if (residual)
      v += (*residual)[i];
    out[i] = relu ? std::max(v, 0.0) : v;
  }
  return {out, mean, invstd, newMean, newVar};
}

KernelSpec applySpec(const Shape &shape, bool residual, bool relu) {
  KernelSpec spec;
  spec.family = "batch_norm_apply";
  TensorSpec c = perChannel(shape[1]), moments{{shape[0], shape[1]}};
  spec.inputs = {{shape}, moments, moments, c, c, c, c};
  if (residual)
    spec.inputs.push_back({shape});
  spec.outputs = {{shape}, c, c, c, c};
  spec.floats = {{"epsilon", epsilon}, {"momentum", momentum}};
  spec.ints = {{"relu", {relu}}};
  return spec;
}


/// Odd extents, batch 1 and > 1, channels below, at and past one vector,
/// 16x16 images, one-pixel images (a batch of 2 and of 1 value per channel).
const std::vector<Shape> bnShapes = {{2, 16, 5, 7},   {1, 3, 4, 5},
                                     {3, 24, 16, 16}, {4, 32, 2, 2},
                                     {2, 64, 1, 1},   {1, 16, 1, 1}};

/// batch_norm_apply on y and the moments of y (as conv2d_stats returns
/// them, in f32) against the reference, and against the batch_norm_train
/// family followed by add and relu on the host.
void expectApplyMatches(const KernelSpec &spec, const HostTensor &y,
                        bool withResidual, bool relu, std::mt19937 &rng) {
  const Shape &shape = y.shape;
  BatchNormParams bn(shape[1], rng);
  HostTensor residual = randomTensor(shape, rng);
  Moments m = imageMoments(y);
  std::vector<HostTensor> inputs = {
      y, m.sum, m.m2, bn.gamma, bn.beta, bn.runningMean, bn.runningVar};
  if (withResidual)
    inputs.push_back(residual);
  auto out = runKernel(spec, inputs);
  ASSERT_EQ(out.size(), 5u);

  auto expected =
      applyReference(y, bn, withResidual ? &residual : nullptr, relu);
  const char *names[] = {"out", "mean", "invstd", "new_running_mean",
                         "new_running_var"};
  for (size_t i = 0; i < 5; ++i)
    EXPECT_LT(relativeError(out[i], expected[i]), tolerance) << names[i];

  auto train = runKernel(batchNormTrainSpec(shape, epsilon, momentum),
                         {y, bn.gamma, bn.beta, bn.runningMean, bn.runningVar});
  if (withResidual)
    train[0] = add(train[0], residual);
  if (relu)
    train[0] = ::relu(train[0]);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_LT(relativeError(out[i], train[i]), tolerance)
        << names[i] << " against batch_norm_train";
}

TEST(FusedBatchNorm, ApplyMatchesTrainAddRelu) {
  std::mt19937 rng(4);
  for (const Shape &shape : bnShapes)
    for (bool withResidual : {false, true})
      for (bool relu : {false, true}) {
        SCOPED_TRACE(::testing::PrintToString(shape) +
                     (withResidual ? " residual" : "") + (relu ? " relu" : ""));
        expectApplyMatches(applySpec(shape, withResidual, relu),
                           randomTensor(shape, rng, -1, 3), withResidual, relu,
                           rng);
      }
}

TEST(FusedBatchNorm, ApplyReducesOverTheRunTimeBatch) {
  std::mt19937 rng(5);
  KernelSpec spec = applySpec({4, 16, 3, 5}, true, true);
  for (int64_t batch : {1, 3, 9}) {
    SCOPED_TRACE(batch);
    expectApplyMatches(spec, randomTensor({batch, 16, 3, 5}, rng, -1, 3), true,
                       true, rng);
  }
}

/// The runtime computes the new running statistics in the variables' place:
/// new_running_mean and new_running_var in the very buffers of
/// running_mean and running_var, as batch_norm_train.
TEST(FusedBatchNorm, ApplyUpdatesRunningStatisticsInPlace) {
  std::mt19937 rng(9);
  for (const Shape &shape :
       {Shape{2, 16, 5, 7}, Shape{3, 24, 4, 4}, Shape{2, 3, 3, 3}}) {
    SCOPED_TRACE(::testing::PrintToString(shape));
    HostTensor y = randomTensor(shape, rng, -1, 3);
    HostTensor residual = randomTensor(shape, rng);
    BatchNormParams bn(shape[1], rng);
    Moments m = imageMoments(y);
    std::vector<HostTensor> inputs = {
        y,       m.sum,          m.m2,          bn.gamma,
        bn.beta, bn.runningMean, bn.runningVar, residual};
    KernelSpec spec = applySpec(shape, true, true);
    auto inPlace = runKernelInPlace(spec, inputs, {}, {{3, 5}, {4, 6}});
    auto expected = applyReference(y, bn, &residual, true);
    const char *names[] = {"out", "mean", "invstd", "new_running_mean",
                           "new_running_var"};
    for (size_t i = 0; i < 5; ++i)
      EXPECT_LT(relativeError(inPlace[i], expected[i]), tolerance) << names[i];
  }
}

KernelSpec applyBackwardSpec(const Shape &shape, bool relu,
                             bool residualGradient) {
  KernelSpec spec;
  spec.family = "batch_norm_apply_backward";
  TensorSpec c = perChannel(shape[1]);
  spec.inputs = {{shape}, {shape}, c, c, c, c};
  spec.outputs = {{shape}, c, c};
  if (residualGradient) {
    spec.inputs.push_back({shape}); // the forward's result, for the mask
    spec.outputs.push_back({shape});
  }
  spec.ints = {{"relu", {relu}}};
  return spec;
}


/// batch_norm_apply_backward = batch_norm_backward of the masked gradient,
/// against the family and against the closed form in double; the residual's
/// gradient is the masked gradient, exactly.
TEST(FusedBatchNorm, ApplyBackwardMatchesBackwardOfMaskedGradient) {
  std::mt19937 rng(6);
  for (const Shape &shape : bnShapes)
    for (bool relu : {false, true})
      for (bool residualGradient : {false, true}) {
        SCOPED_TRACE(::testing::PrintToString(shape) + (relu ? " relu" : "") +
                     (residualGradient ? " residual_grad" : ""));
        const int64_t C = shape[1];
        HostTensor x = randomTensor(shape, rng, -1, 3);
        HostTensor dy = randomTensor(shape, rng);
        BatchNormParams bn(C, rng);
        // The forward kernel's result, mean and invstd. With a residual
        // (where its gradient is asked for: the forward had one) the mask
        // is not a function of x alone and the kernel reads the result;
        // without, it recomputes the result from x, which must give the
        // forward kernel's mask exactly.
        HostTensor residual = randomTensor(shape, rng);
        Moments m = imageMoments(x);
        std::vector<HostTensor> forwardInputs = {
            x, m.sum, m.m2, bn.gamma, bn.beta, bn.runningMean, bn.runningVar};
        if (residualGradient)
          forwardInputs.push_back(residual);
        auto forward =
            runKernel(applySpec(shape, residualGradient, relu), forwardInputs);
        HostTensor result = forward[0], mean = forward[1], invstd = forward[2];

        std::vector<HostTensor> backwardInputs = {dy,      x,    bn.gamma,
                                                  bn.beta, mean, invstd};
        if (residualGradient)
          backwardInputs.push_back(result);
        auto grads = runKernel(applyBackwardSpec(shape, relu, residualGradient),
                               backwardInputs);
        ASSERT_EQ(grads.size(), residualGradient ? 4u : 3u);

        HostTensor masked = dy;
        if (relu)
          for (size_t i = 0; i < masked.size(); ++i)
            if (!(float(result[i]) > 0))
              masked[i] = 0;
        if (residualGradient) {
          EXPECT_EQ(grads[3].data, masked.data) << "residual_grad";
        }

        auto family = runKernel(batchNormBackwardSpec(shape),
                                {masked, x, bn.gamma, mean, invstd});
        const char *names[] = {"dx", "dgamma", "dbeta"};
        for (size_t i = 0; i < 3; ++i)
          EXPECT_LT(relativeError(grads[i], family[i]), tolerance)
              << names[i] << " against batch_norm_backward";

        // dbeta = sum g, dgamma = sum g xhat, dx = gamma invstd (g - dbeta/m
        // - xhat dgamma/m), with the saved statistics.
        const double count = double(x.size()) / double(C);
        HostTensor dgamma({C}), dbeta({C}), dx(shape);
        for (size_t i = 0; i < x.size(); ++i) {
          int64_t c = channelOf(shape, i);
          dbeta[c] += masked[i];
          dgamma[c] += masked[i] * (x[i] - mean[c]) * invstd[c];
        }
        for (size_t i = 0; i < x.size(); ++i) {
          int64_t c = channelOf(shape, i);
          double xhat = (x[i] - mean[c]) * invstd[c];
          dx[i] = bn.gamma[c] * invstd[c] *
                  (masked[i] - dbeta[c] / count - xhat * dgamma[c] / count);
        }
        // With one or two values per channel dx is 0, or nearly, by
        // cancellation of terms of the size of gamma invstd g (invstd up
        // to 1/sqrt(eps)): there the kernel's dx (as batch_norm_backward's)
        // is the f32 rounding of those terms, measured against their size.
        if (count > 2) {
          EXPECT_LT(relativeError(grads[0], dx), tolerance) << "dx";
        } else {
          double diff = 0, terms = 0;
          for (size_t i = 0; i < x.size(); ++i) {
            int64_t c = channelOf(shape, i);
            diff += (grads[0][i] - dx[i]) * (grads[0][i] - dx[i]);
            terms += std::pow(bn.gamma[c] * invstd[c] * masked[i], 2);
          }
          EXPECT_LT(terms == 0 ? std::sqrt(diff) : std::sqrt(diff / terms),
                    tolerance)
              << "dx";
        }
        EXPECT_LT(relativeError(grads[1], dgamma), tolerance) << "dgamma";
        EXPECT_LT(relativeError(grads[2], dbeta), tolerance) << "dbeta";
      }
}

/// The fused training forward, conv2d_stats then batch_norm_apply, against
/// the unfused one: conv2d, (relu,) batch_norm_train, add, relu, all kernels
/// but the add and the final ReLU, and against the double reference.
TEST(FusedBatchNorm, StatsThenApplyMatchesUnfusedChain) {
  std::mt19937 rng(7);
  std::vector<Conv> cases = {
      conv(2, 16, 8, 8, 16, 3, 1, 1),  // a basic block's conv
      conv(3, 16, 9, 9, 32, 3, 2, 1),  // stride 2, a partial last tile
      conv(2, 3, 16, 16, 24, 3, 1, 1), // stem, 8-lane vectors
      conv(3, 8, 3, 3, 256, 1, 1, 0),  // images per task
      conv(2, 8, 5, 5, 3, 3, 1, 1),    // the plain schedule
  };
  cases[1].relu = cases[3].relu = true; // conv -> ReLU -> BatchNorm
  for (const Conv &p : cases) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor w = randomTensor(p.wShape(), rng);
    HostTensor residual = randomTensor(p.yShape(), rng);
    BatchNormParams bn(p.O, rng);
    auto stats = runKernel(p.statsSpec(), {x, w});
    auto fused = runKernel(applySpec(p.yShape(), true, true),
                           {stats[0], stats[1], stats[2], bn.gamma, bn.beta,
                            bn.runningMean, bn.runningVar, residual});

    HostTensor y = runKernel(p.conv2dSpec(), {x, w})[0];
    if (p.relu)
      y = relu(y);
    auto unfused =
        runKernel(batchNormTrainSpec(p.yShape(), epsilon, momentum),
                  {y, bn.gamma, bn.beta, bn.runningMean, bn.runningVar});
    unfused[0] = relu(add(unfused[0], residual));

    HostTensor reference = p.forward(x, w, nullptr);
    if (p.relu)
      reference = relu(reference);
    auto expected = applyReference(reference, bn, &residual, true);
    const char *names[] = {"out", "mean", "invstd", "new_running_mean",
                           "new_running_var"};
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_LT(relativeError(fused[i], unfused[i]), tolerance)
          << names[i] << " against the unfused kernels";
      EXPECT_LT(relativeError(fused[i], expected[i]), tolerance) << names[i];
    }
  }
}

//===----------------------------------------------------------------------===//
// Inference: fold_batch_norm then fused_conv2d
//===----------------------------------------------------------------------===//

KernelSpec foldSpec(const Conv &p) {
  KernelSpec spec;
  spec.family = "fold_batch_norm";
  TensorSpec c = perChannel(p.O), w{p.wShape(), TensorKind::Weight};
  spec.inputs = {w, c, c, c, c};
  if (p.bias)
    spec.inputs.push_back(c);
  spec.outputs = {w, c};
  spec.floats = {{"epsilon", epsilon}};
  return spec;
}


TEST(FusedConv, FoldThenFusedConv2dMatchesConvThenInferenceBatchNorm) {
  std::vector<Conv> cases = {
      conv(2, 16, 8, 8, 16, 3, 1, 1),   // bias, residual, ReLU
      conv(1, 32, 16, 16, 32, 3, 2, 1), // stride 2, ReLU
      conv(2, 16, 8, 8, 64, 1, 2, 0),   // 1x1 projection: no ReLU
      conv(2, 3, 8, 8, 24, 3, 1, 1),    // stem, conv bias
      conv(3, 8, 3, 3, 256, 3, 1, 1),   // images per task
      conv(2, 5, 6, 6, 3, 3, 1, 1),     // the plain schedule
  };
  cases[0].bias = cases[0].residual = cases[0].relu = true;
  cases[1].relu = true;
  cases[3].bias = cases[3].relu = true;
  cases[4].residual = cases[4].relu = true;
  cases[5].bias = cases[5].residual = cases[5].relu = true;

  std::mt19937 rng(8);
  for (const Conv &p : cases) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor w = randomTensor(p.wShape(), rng);
    HostTensor b = randomTensor({p.O}, rng);
    HostTensor residual = randomTensor(p.yShape(), rng);
    BatchNormParams bn(p.O, rng);
    const HostTensor &mean = bn.runningMean, &var = bn.runningVar;

    std::vector<HostTensor> foldInputs = {w, bn.gamma, bn.beta, mean, var};
    if (p.bias)
      foldInputs.push_back(b);
    auto folded = runKernel(foldSpec(p), foldInputs);
    ASSERT_EQ(folded.size(), 2u);

    // s = gamma / sqrt(var + eps); w' = w s; b' = beta + (b - mean) s.
    HostTensor wRef(p.wShape()), bRef({p.O});
    const size_t perOutput = w.size() / size_t(p.O);
    for (int64_t o = 0; o < p.O; ++o) {
      double s = bn.gamma[o] / std::sqrt(var[o] + epsilon);
      for (size_t k = 0; k < perOutput; ++k)
        wRef[o * perOutput + k] = w[o * perOutput + k] * s;
      bRef[o] = bn.beta[o] + ((p.bias ? b[o] : 0.0) - mean[o]) * s;
    }
    EXPECT_LT(relativeError(folded[0], wRef), tolerance) << "folded filter";
    EXPECT_LT(relativeError(folded[1], bRef), tolerance) << "folded bias";

    Conv fused = p;
    fused.bias = true; // the folded bias
    std::vector<HostTensor> inputs = {x, folded[0], folded[1]};
    if (p.residual)
      inputs.push_back(residual);
    HostTensor y = runKernel(fused.fusedSpec(), inputs)[0];

    auto epilogue = [&](HostTensor t) {
      if (p.residual)
        t = add(t, residual);
      return p.relu ? relu(t) : t;
    };
    // The unfused kernels: conv2d, batch_norm_inference; add, ReLU on the host.
    std::vector<HostTensor> convInputs = {x, w};
    if (p.bias)
      convInputs.push_back(b);
    HostTensor convolved = runKernel(p.conv2dSpec(), convInputs)[0];
    HostTensor normalised =
        runKernel(batchNormInferenceSpec(p.yShape(), epsilon),
                  {convolved, bn.gamma, bn.beta, mean, var})[0];
    EXPECT_LT(relativeError(y, epilogue(normalised)), tolerance)
        << "against conv2d + batch_norm";

    HostTensor reference = p.forward(x, w, p.bias ? &b : nullptr);
    for (size_t i = 0; i < reference.size(); ++i) {
      int64_t c = channelOf(reference.shape, i);
      reference[i] =
          (reference[i] - mean[c]) / std::sqrt(var[c] + epsilon) * bn.gamma[c] +
          bn.beta[c];
    }
    EXPECT_LT(relativeError(y, epilogue(reference)), tolerance);
  }
}

} // namespace
