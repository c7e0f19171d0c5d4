//===- ElementwiseTest.cpp - pointwise families against references ---------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

KernelSpec unarySpec(const std::string &family, const Shape &shape,
                     int inputs = 1) {
  KernelSpec spec;
  spec.family = family;
  for (int i = 0; i < inputs; ++i)
    spec.inputs.push_back({shape});
  spec.outputs.push_back({shape});
  return spec;
}

HostTensor reluReference(const HostTensor &x) {
  HostTensor y(x.shape);
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] > 0 ? x[i] : 0;
  return y;
}

TEST(Elementwise, ReluMatchesReference) {
  std::mt19937 rng(1);
  for (Shape shape : {Shape{3, 16, 5, 7}, Shape{4, 10}}) {
    HostTensor x = randomTensor(shape, rng);
    auto out = runKernel(unarySpec("relu", shape), {x});
    EXPECT_LT(relativeError(out[0], reluReference(x)), 1e-7);
  }
}

TEST(Elementwise, ReluBackwardMatchesFiniteDifferences) {
  std::mt19937 rng(2);
  Shape shape{2, 8, 3, 5};
  HostTensor x = randomTensor(shape, rng), dy = randomTensor(shape, rng);
  HostTensor expected = finiteDifferenceGradient(reluReference, x, dy);
  auto dx = runKernel(unarySpec("relu_backward", shape, 2),
                      {dy, reluReference(x)});
  EXPECT_LT(relativeError(dx[0], expected), 1e-5);
}

} // namespace
