//===- DataMovementTest.cpp - zero_pad, subsample, concat -----------------===//
//
// The forwards against references, the backwards against finite
// differences of those references.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

KernelSpec movementSpec(const std::string &family,
                        const std::vector<Shape> &inputs,
                        const std::vector<Shape> &outputs) {
  KernelSpec spec;
  spec.family = family;
  for (const Shape &s : inputs)
    spec.inputs.push_back({s});
  for (const Shape &s : outputs)
    spec.outputs.push_back({s});
  return spec;
}

//===----------------------------------------------------------------------===//
// zero_pad
//===----------------------------------------------------------------------===//

/// Low and high padding of [C, H, W], as the attributes hold them.
struct Pad {
  std::vector<int64_t> low, high;
};

/// The shortcut's channel padding, Keras' spatial ZeroPadding2D, and both.
const std::vector<Pad> pads = {
    {{8, 0, 0}, {8, 0, 0}}, {{0, 1, 2}, {0, 2, 1}}, {{1, 1, 0}, {2, 0, 1}}};

Shape paddedShape(const Shape &x, const Pad &p) {
  return {x[0], x[1] + p.low[0] + p.high[0], x[2] + p.low[1] + p.high[1],
          x[3] + p.low[2] + p.high[2]};
}

HostTensor zeroPadReference(const HostTensor &x, const Pad &p) {
  HostTensor y(paddedShape(x.shape, p));
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t c = 0; c < x.shape[1]; ++c)
      for (int64_t iy = 0; iy < x.shape[2]; ++iy)
        for (int64_t ix = 0; ix < x.shape[3]; ++ix)
          y.at({n, c + p.low[0], iy + p.low[1], ix + p.low[2]}) =
              x.at({n, c, iy, ix});
  return y;
}

KernelSpec padSpec(const std::string &family, const Shape &in, const Shape &out,
                   const Pad &p) {
  KernelSpec spec = movementSpec(family, {in}, {out});
  spec.ints = {{"low", p.low}, {"high", p.high}};
  return spec;
}

TEST(DataMovement, ZeroPadMatchesReference) {
  std::mt19937 rng(1);
  for (const Pad &p : pads)
    for (Shape shape : {Shape{2, 16, 4, 4}, Shape{1, 3, 5, 3}}) {
      HostTensor x = randomTensor(shape, rng);
      auto y =
          runKernel(padSpec("zero_pad", shape, paddedShape(shape, p), p), {x});
      EXPECT_LT(relativeError(y[0], zeroPadReference(x, p)), 1e-7);
    }
}

TEST(DataMovement, ZeroPadBackwardMatchesFiniteDifferences) {
  std::mt19937 rng(2);
  for (const Pad &p : pads) {
    Shape shape{2, 5, 4, 3}, padded = paddedShape(shape, p);
    HostTensor x = randomTensor(shape, rng), dy = randomTensor(padded, rng);
    auto forward = [&](const HostTensor &in) {
      return zeroPadReference(in, p);
    };
    auto dx = runKernel(padSpec("zero_pad_backward", padded, shape, p), {dy});
    EXPECT_LT(relativeError(dx[0], finiteDifferenceGradient(forward, x, dy)),
              1e-6);
  }
}

//===----------------------------------------------------------------------===//
// subsample
//===----------------------------------------------------------------------===//

/// x[:, :, ::strideH, ::strideW]
HostTensor subsampleReference(const HostTensor &x, int64_t strideH,
                              int64_t strideW) {
  HostTensor y({x.shape[0], x.shape[1], (x.shape[2] + strideH - 1) / strideH,
                (x.shape[3] + strideW - 1) / strideW});
  for (int64_t n = 0; n < y.shape[0]; ++n)
    for (int64_t c = 0; c < y.shape[1]; ++c)
      for (int64_t yo = 0; yo < y.shape[2]; ++yo)
        for (int64_t xo = 0; xo < y.shape[3]; ++xo)
          y.at({n, c, yo, xo}) = x.at({n, c, yo * strideH, xo * strideW});
  return y;
}

TEST(DataMovement, SubsampleAndBackwardMatchReferences) {
  std::mt19937 rng(3);
  for (auto [strideH, strideW] :
       {std::pair<int64_t, int64_t>{2, 2}, {2, 3}, {1, 2}})
    for (Shape shape : {Shape{2, 16, 8, 8}, Shape{1, 3, 7, 5}}) {
      HostTensor x = randomTensor(shape, rng);
      HostTensor expected = subsampleReference(x, strideH, strideW);
      KernelSpec forward = movementSpec("subsample", {shape}, {expected.shape});
      forward.ints = {{"strides", {strideH, strideW}}};
      auto y = runKernel(forward, {x});
      EXPECT_LT(relativeError(y[0], expected), 1e-7);

      HostTensor dy = randomTensor(expected.shape, rng);
      KernelSpec backward =
          movementSpec("subsample_backward", {expected.shape}, {shape});
      backward.ints = forward.ints;
      auto dx = runKernel(backward, {dy});
      auto reference = [&](const HostTensor &in) {
        return subsampleReference(in, strideH, strideW);
      };
      EXPECT_LT(
          relativeError(dx[0], finiteDifferenceGradient(reference, x, dy)),
          1e-6);
    }
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

/// The parts joined along logical dim 1 (channels or features).
HostTensor concatReference(const std::vector<HostTensor> &parts) {
  Shape shape = parts[0].shape;
  shape[1] = 0;
  for (const HostTensor &p : parts)
    shape[1] += p.shape[1];
  HostTensor y(shape);
  // Row-major: each image is the parts' images one after the other.
  size_t out = 0;
  for (int64_t n = 0; n < shape[0]; ++n)
    for (const HostTensor &p : parts) {
      size_t perImage = p.size() / size_t(shape[0]);
      for (size_t i = 0; i < perImage; ++i)
        y[out++] = p[size_t(n) * perImage + i];
    }
  return y;
}

TEST(DataMovement, ConcatAndBackwardMatchReferences) {
  std::mt19937 rng(4);
  std::vector<std::vector<Shape>> cases = {
      {{2, 16, 3, 5}, {2, 16, 3, 5}},
      {{1, 3, 4, 4}, {1, 20, 4, 4}, {1, 5, 4, 4}},
      {{3, 10}, {3, 7}}};
  for (const std::vector<Shape> &shapes : cases) {
    std::vector<HostTensor> parts;
    for (const Shape &s : shapes)
      parts.push_back(randomTensor(s, rng));
    HostTensor expected = concatReference(parts);
    auto y = runKernel(movementSpec("concat", shapes, {expected.shape}), parts);
    EXPECT_LT(relativeError(y[0], expected), 1e-7);

    HostTensor dy = randomTensor(expected.shape, rng);
    auto dx = runKernel(
        movementSpec("concat_backward", {expected.shape}, shapes), {dy});
    for (size_t i = 0; i < parts.size(); ++i) {
      auto ofPart = [&](const HostTensor &in) {
        std::vector<HostTensor> probe = parts;
        probe[i] = in;
        return concatReference(probe);
      };
      EXPECT_LT(
          relativeError(dx[i], finiteDifferenceGradient(ofPart, parts[i], dy)),
          1e-6)
          << "part " << i;
    }
  }
}

} // namespace
