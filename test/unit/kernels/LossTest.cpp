//===- LossTest.cpp - softmax cross-entropy against a reference -----------===//
//
// The mean loss with and without label smoothing (PyTorch's definition),
// the correct count, and dlogits against finite differences of the loss.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

KernelSpec lossSpec(int64_t batch, int64_t classes, bool withGradient) {
  KernelSpec spec;
  spec.family = "softmax_cross_entropy";
  spec.inputs = {{{batch, classes}},
                 {{batch}, TensorKind::Activation, ElemType::I32}};
  spec.outputs = {{{}, TensorKind::Weight},
                  {{}, TensorKind::Weight, ElemType::I32}};
  if (withGradient)
    spec.outputs.push_back({{batch, classes}});
  spec.ints = {{"with_gradient", {withGradient}}};
  return spec;
}

/// PyTorch's cross_entropy(logits, labels, label_smoothing=eps), mean
/// reduction: the target is (1 - eps) one_hot + eps / K.
double lossReference(const HostTensor &logits, const HostTensor &labels,
                     double smoothing) {
  const int64_t batch = logits.shape[0], classes = logits.shape[1];
  double total = 0;
  for (int64_t n = 0; n < batch; ++n) {
    double top = -INFINITY, sum = 0;
    for (int64_t k = 0; k < classes; ++k)
      top = std::max(top, logits.at({n, k}));
    for (int64_t k = 0; k < classes; ++k)
      sum += std::exp(logits.at({n, k}) - top);
    double logPartition = top + std::log(sum);
    for (int64_t k = 0; k < classes; ++k) {
      double target = (k == int64_t(labels[n]) ? 1 - smoothing : 0) +
                      smoothing / double(classes);
      total -= target * (logits.at({n, k}) - logPartition);
    }
  }
  return total / double(batch);
}

double correctReference(const HostTensor &logits, const HostTensor &labels) {
  double correct = 0;
  for (int64_t n = 0; n < logits.shape[0]; ++n) {
    int64_t best = 0;
    for (int64_t k = 1; k < logits.shape[1]; ++k)
      if (logits.at({n, k}) > logits.at({n, best}))
        best = k;
    correct += best == int64_t(labels[n]);
  }
  return correct;
}

/// Random labels, half of them set to the argmax so that some count.
HostTensor someCorrectLabels(const HostTensor &logits, std::mt19937 &rng) {
  const int64_t batch = logits.shape[0], classes = logits.shape[1];
  HostTensor labels({batch});
  std::uniform_int_distribution<int64_t> pick(0, classes - 1);
  for (int64_t n = 0; n < batch; ++n) {
    labels[n] = double(pick(rng));
    if (n % 2 == 0)
      for (int64_t k = 0; k < classes; ++k)
        if (logits.at({n, k}) > logits.at({n, int64_t(labels[n])}))
          labels[n] = double(k);
  }
  return labels;
}

HostTensor scalar(double value) {
  HostTensor t(Shape{});
  t[0] = value;
  return t;
}

TEST(SoftmaxCrossEntropy, LossAndCorrectMatchReference) {
  std::mt19937 rng(1);
  for (auto [batch, classes] :
       {std::pair<int64_t, int64_t>{1, 10}, {7, 10}, {20, 6}, {3, 100}})
    for (double smoothing : {0.0, 0.1}) {
      SCOPED_TRACE(std::to_string(batch) + "x" + std::to_string(classes) +
                   " smoothing " + std::to_string(smoothing));
      HostTensor logits = randomTensor({batch, classes}, rng, -5, 5);
      HostTensor labels = someCorrectLabels(logits, rng);
      auto out = runKernel(lossSpec(batch, classes, false), {logits, labels},
                           {{"label_smoothing", smoothing}});
      EXPECT_LT(relativeError(out[0],
                              scalar(lossReference(logits, labels, smoothing))),
                1e-6);
      EXPECT_EQ(out[1][0], correctReference(logits, labels));
    }
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferences) {
  std::mt19937 rng(2);
  for (auto [batch, classes] :
       {std::pair<int64_t, int64_t>{5, 10}, {1, 6}, {4, 37}})
    for (double smoothing : {0.0, 0.2}) {
      HostTensor logits = randomTensor({batch, classes}, rng, -5, 5);
      HostTensor labels = someCorrectLabels(logits, rng);
      auto out = runKernel(lossSpec(batch, classes, true), {logits, labels},
                           {{"label_smoothing", smoothing}});
      auto loss = [&](const HostTensor &in) {
        return scalar(lossReference(in, labels, smoothing));
      };
      HostTensor expected = finiteDifferenceGradient(loss, logits, scalar(1));
      EXPECT_LT(relativeError(out[2], expected), 1e-5);
      EXPECT_LT(relativeError(out[0],
                              scalar(lossReference(logits, labels, smoothing))),
                1e-6);
    }
}

TEST(SoftmaxCrossEntropy, MeanIsOverTheRunTimeBatch) {
  std::mt19937 rng(3);
  KernelSpec spec = lossSpec(8, 10, true);
  for (int64_t batch : {1, 3, 13}) {
    HostTensor logits = randomTensor({batch, 10}, rng, -5, 5);
    HostTensor labels = someCorrectLabels(logits, rng);
    auto out = runKernel(spec, {logits, labels}, {{"label_smoothing", 0.1}});
    auto loss = [&](const HostTensor &in) {
      return scalar(lossReference(in, labels, 0.1));
    };
    EXPECT_LT(relativeError(out[0], scalar(loss(logits)[0])), 1e-6);
    EXPECT_EQ(out[1][0], correctReference(logits, labels));
    EXPECT_LT(relativeError(out[2],
                            finiteDifferenceGradient(loss, logits, scalar(1))),
              1e-5);
  }
}

} // namespace
