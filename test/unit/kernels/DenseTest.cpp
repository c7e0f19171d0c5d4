//===- DenseTest.cpp - dense families against references ------------------===//
//
// dense against a double-precision matrix product, its gradients against
// finite differences of it, for the vectorised paths (K a multiple of the
// vector width), the plain ones, and batches of one and more.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

struct DenseShape {
  int64_t N, K, M;
};

KernelSpec denseSpec(const std::string &family, const DenseShape &s,
                     bool bias) {
  TensorSpec x{{s.N, s.K}}, w{{s.M, s.K}, TensorKind::Weight}, y{{s.N, s.M}},
      b{{s.M}, TensorKind::Weight};
  KernelSpec spec;
  spec.family = family;
  if (family == "dense") {
    spec.inputs = {x, w};
    if (bias)
      spec.inputs.push_back(b);
    spec.outputs = {y};
  } else if (family == "dense_backward_data") {
    spec.inputs = {y, w};
    spec.outputs = {x};
  } else {
    spec.inputs = {x, y};
    spec.outputs = {w};
    if (bias)
      spec.outputs.push_back(b);
  }
  return spec;
}

/// y[n, m] = sum_k x[n, k] * w[m, k] + b[m], in double precision.
HostTensor denseReference(const HostTensor &x, const HostTensor &w,
                          const HostTensor *b) {
  int64_t N = x.shape[0], K = x.shape[1], M = w.shape[0];
  HostTensor y({N, M});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      double sum = b ? (*b)[m] : 0.0;
      for (int64_t k = 0; k < K; ++k)
        sum += x.at({n, k}) * w.at({m, k});
      y.at({n, m}) = sum;
    }
  return y;
}

// Sums of at most 512 products of values in [-1, 1], accumulated in float.
constexpr double tolerance = 1e-5;

/// Vectorised tiles of 4, 2 and 1 vectors, plain paths, odd extents, and a
/// batch of one. Finite differences cost a forward pass per element, so the
/// gradients are checked on these small shapes and the forward pass also on
/// a ResNet-18 sized head.
const std::vector<DenseShape> shapes = {
    {4, 64, 10}, {3, 32, 20}, {1, 16, 16}, {5, 10, 3}, {2, 37, 7}};

TEST(Dense, ForwardMatchesReference) {
  std::mt19937 rng(1);
  std::vector<DenseShape> forwardShapes = shapes;
  forwardShapes.push_back({3, 512, 100});
  for (const DenseShape &s : forwardShapes)
    for (bool bias : {false, true}) {
      SCOPED_TRACE(testing::Message() << "N" << s.N << " K" << s.K << " M"
                                      << s.M << (bias ? " bias" : ""));
      HostTensor x = randomTensor({s.N, s.K}, rng);
      HostTensor w = randomTensor({s.M, s.K}, rng);
      HostTensor b = randomTensor({s.M}, rng);
      std::vector<HostTensor> inputs = {x, w};
      if (bias)
        inputs.push_back(b);
      auto y = runKernel(denseSpec("dense", s, bias), inputs);
      EXPECT_LT(relativeError(y[0], denseReference(x, w, bias ? &b : nullptr)),
                tolerance);
    }
}

TEST(Dense, BackwardDataMatchesFiniteDifferences) {
  std::mt19937 rng(2);
  for (const DenseShape &s : shapes) {
    SCOPED_TRACE(testing::Message()
                 << "N" << s.N << " K" << s.K << " M" << s.M);
    HostTensor x = randomTensor({s.N, s.K}, rng);
    HostTensor w = randomTensor({s.M, s.K}, rng);
    HostTensor dy = randomTensor({s.N, s.M}, rng);
    HostTensor expected = finiteDifferenceGradient(
        [&](const HostTensor &in) { return denseReference(in, w, nullptr); }, x,
        dy);
    auto dx = runKernel(denseSpec("dense_backward_data", s, false), {dy, w});
    EXPECT_LT(relativeError(dx[0], expected), tolerance);
  }
}

TEST(Dense, BackwardWeightsMatchesFiniteDifferences) {
  std::mt19937 rng(3);
  for (const DenseShape &s : shapes)
    for (bool bias : {false, true}) {
      SCOPED_TRACE(testing::Message() << "N" << s.N << " K" << s.K << " M"
                                      << s.M << (bias ? " db" : ""));
      HostTensor x = randomTensor({s.N, s.K}, rng);
      HostTensor w = randomTensor({s.M, s.K}, rng);
      HostTensor b = randomTensor({s.M}, rng);
      HostTensor dy = randomTensor({s.N, s.M}, rng);
      auto grads =
          runKernel(denseSpec("dense_backward_weights", s, bias), {x, dy});
      EXPECT_LT(relativeError(grads[0], finiteDifferenceGradient(
                                            [&](const HostTensor &in) {
                                              return denseReference(x, in,
                                                                    nullptr);
                                            },
                                            w, dy)),
                tolerance);
      if (!bias)
        continue;
      EXPECT_LT(relativeError(grads[1], finiteDifferenceGradient(
                                            [&](const HostTensor &in) {
                                              return denseReference(x, w, &in);
                                            },
                                            b, dy)),
                tolerance);
    }
}

} // namespace
