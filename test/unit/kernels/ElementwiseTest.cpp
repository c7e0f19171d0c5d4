//===- ElementwiseTest.cpp - pointwise families against references --------===//
//
// Every activation forward against a double-precision reference, every
// activation backward against finite differences of that reference, and
// add and softmax against theirs.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

/// 4-D and 2-D shapes with odd extents, batch 1 and batch > 1, channel
/// counts below, at and past one vector.
const std::vector<Shape> shapes = {
    {1, 3, 5, 7}, {3, 20, 4, 3}, {2, 16, 3, 5}, {4, 10}, {1, 17}};

KernelSpec unarySpec(const std::string &family, const Shape &shape,
                     int inputs = 1) {
  KernelSpec spec;
  spec.family = family;
  for (int i = 0; i < inputs; ++i)
    spec.inputs.push_back({shape});
  spec.outputs.push_back({shape});
  return spec;
}

HostTensor map(const HostTensor &x, const std::function<double(double)> &f) {
  HostTensor y(x.shape);
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = f(x[i]);
  return y;
}

/// An activation, its double-precision reference, and what its backward
/// kernel takes besides dy: the forward's input x or its output y.
struct Activation {
  std::string family;
  std::function<double(double)> reference;
  bool backwardTakesOutput;
  std::map<std::string, double> floats;
};

const double leakySlope = 0.1;

const std::vector<Activation> activations = {
    {"relu", [](double x) { return x > 0 ? x : 0; }, true, {}},
    {"sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, true, {}},
    {"tanh", [](double x) { return std::tanh(x); }, true, {}},
    {"gelu",
     [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2))); },
     false,
     {}},
    {"leaky_relu",
     [](double x) { return x > 0 ? x : leakySlope * x; },
     false,
     {{"alpha", leakySlope}}},
    {"elu",
     [](double x) { return x > 0 ? x : 0.7 * std::expm1(x); },
     false,
     {{"alpha", 0.7}}},
};

TEST(Elementwise, ActivationsMatchReference) {
  std::mt19937 rng(1);
  for (const Activation &a : activations)
    for (const Shape &shape : shapes) {
      // [-4, 4) reaches the tails of sigmoid, tanh and gelu, and tanh's
      // series branch near 0.
      HostTensor x = randomTensor(shape, rng, -4, 4);
      KernelSpec spec = unarySpec(a.family, shape);
      spec.floats = a.floats;
      auto y = runKernel(spec, {x});
      EXPECT_LT(relativeError(y[0], map(x, a.reference)), 1e-6) << a.family;
    }
}

/// tanh switches from its series to exp at |x| = 0.25: each element within a
/// few f32 ulps (2^-23 relative each) on both sides, where the exp form
/// alone would lose digits to cancellation.
TEST(Elementwise, TanhIsAccurateNearZero) {
  std::mt19937 rng(2);
  HostTensor x = randomTensor({2, 16, 5, 5}, rng, -0.5, 0.5);
  auto y = runKernel(unarySpec("tanh", x.shape), {x});
  const double ulp = std::ldexp(1.0, -23);
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(y[0][i], std::tanh(x[i]), 4 * ulp * std::abs(std::tanh(x[i])))
        << "x = " << x[i];
}

TEST(Elementwise, ActivationBackwardsMatchFiniteDifferences) {
  std::mt19937 rng(3);
  for (const Activation &a : activations)
    for (const Shape &shape :
         {Shape{2, 18, 3, 5}, Shape{1, 5, 2, 3}, Shape{3, 10}}) {
      HostTensor x = randomTensor(shape, rng, -3, 3);
      // Central differences straddling the kink of relu and leaky_relu
      // would average the two slopes: keep x a few steps away from 0.
      for (double &v : x.data)
        if (std::abs(v) < 1e-3)
          v = 1e-3;
      HostTensor dy = randomTensor(shape, rng);
      auto forward = [&](const HostTensor &in) { return map(in, a.reference); };
      HostTensor expected = finiteDifferenceGradient(forward, x, dy);
      KernelSpec spec = unarySpec(a.family + "_backward", shape, 2);
      spec.floats = a.floats;
      HostTensor saved = a.backwardTakesOutput ? forward(x) : x;
      auto dx = runKernel(spec, {dy, saved});
      EXPECT_LT(relativeError(dx[0], expected), 1e-5) << a.family;
    }
}

TEST(Elementwise, AddMatchesReference) {
  std::mt19937 rng(4);
  for (const Shape &shape : shapes) {
    HostTensor a = randomTensor(shape, rng), b = randomTensor(shape, rng);
    auto c = runKernel(unarySpec("add", shape, 2), {a, b});
    HostTensor expected(shape);
    for (size_t i = 0; i < a.size(); ++i)
      expected[i] = a[i] + b[i];
    EXPECT_LT(relativeError(c[0], expected), 1e-7);
  }
}

HostTensor softmaxReference(const HostTensor &x) {
  HostTensor y(x.shape);
  int64_t rows = x.shape[0], classes = x.shape[1];
  for (int64_t n = 0; n < rows; ++n) {
    double top = -INFINITY, sum = 0;
    for (int64_t k = 0; k < classes; ++k)
      top = std::max(top, x.at({n, k}));
    for (int64_t k = 0; k < classes; ++k)
      sum += std::exp(x.at({n, k}) - top);
    for (int64_t k = 0; k < classes; ++k)
      y.at({n, k}) = std::exp(x.at({n, k}) - top) / sum;
  }
  return y;
}

TEST(Elementwise, SoftmaxMatchesReference) {
  std::mt19937 rng(5);
  for (Shape shape : {Shape{1, 10}, Shape{5, 10}, Shape{3, 37}, Shape{2, 6}}) {
    // Logits up to 60 would overflow exp without the shift by the maximum.
    HostTensor x = randomTensor(shape, rng, -60, 60);
    auto y = runKernel(unarySpec("softmax", shape), {x});
    EXPECT_LT(relativeError(y[0], softmaxReference(x)), 1e-6);
  }
}

TEST(Elementwise, BatchIsARunTimeExtent) {
  std::mt19937 rng(6);
  KernelSpec spec = unarySpec("gelu", {4, 20, 3, 3});
  for (int64_t batch : {1, 3, 9}) {
    HostTensor x = randomTensor({batch, 20, 3, 3}, rng);
    auto y = runKernel(spec, {x});
    EXPECT_LT(relativeError(y[0], map(x, activations[3].reference)), 1e-6);
  }
}

} // namespace
