//===- PoolingTest.cpp - pooling families against references --------------===//
//
// Window pools with square, rectangular and asymmetrically padded windows,
// global pools, and every backward against finite differences.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

struct Window {
  int64_t kernelH, kernelW, strideH, strideW;
  int64_t top, left, bottom, right;
};

/// Square and rectangular windows, overlapping or not, with symmetric,
/// asymmetric and no padding, and a stride that drops the last pixels.
const std::vector<Window> windows = {{2, 2, 2, 2, 0, 0, 0, 0},
                                     {3, 3, 2, 2, 1, 1, 1, 1},
                                     {3, 3, 1, 1, 1, 1, 1, 1},
                                     {3, 2, 1, 2, 0, 1, 1, 0},
                                     {3, 3, 3, 3, 0, 0, 0, 0}};

const std::vector<Shape> shapes = {{2, 16, 7, 6}, {1, 3, 5, 5}, {3, 20, 8, 7}};

Shape pooledShape(const Shape &x, const Window &w) {
  return {x[0], x[1], (x[2] + w.top + w.bottom - w.kernelH) / w.strideH + 1,
          (x[3] + w.left + w.right - w.kernelW) / w.strideW + 1};
}

KernelSpec windowSpec(const std::string &family, const std::vector<Shape> &in,
                      const Shape &out, const Window &w) {
  KernelSpec spec;
  spec.family = family;
  for (const Shape &s : in)
    spec.inputs.push_back({s});
  spec.outputs.push_back({out});
  spec.ints = {{"kernel", {w.kernelH, w.kernelW}},
               {"strides", {w.strideH, w.strideW}},
               {"padding", {w.top, w.left, w.bottom, w.right}}};
  return spec;
}

/// Distinct values in random order, at least `gap` apart, so no two values
/// of a window tie, even when finite differences move one by their step.
HostTensor distinctRandomTensor(const Shape &shape, std::mt19937 &rng,
                                double gap = 1e-2) {
  HostTensor t(shape);
  std::vector<size_t> order(t.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = float(double(order[i]) * gap - double(t.size()) * gap / 2);
  return t;
}

/// PyTorch's max_pool2d / avg_pool2d (floor mode) over x[N, C, H, W].
/// Padding never wins a max; avg divides by the window size
/// (countIncludePad) or by the number of pixels inside the image.
HostTensor poolReference(const HostTensor &x, const Window &w, bool max,
                         bool countIncludePad = false) {
  HostTensor y(pooledShape(x.shape, w));
  const int64_t height = x.shape[2], width = x.shape[3];
  for (int64_t n = 0; n < y.shape[0]; ++n)
    for (int64_t c = 0; c < y.shape[1]; ++c)
      for (int64_t yo = 0; yo < y.shape[2]; ++yo)
        for (int64_t xo = 0; xo < y.shape[3]; ++xo) {
          double best = -INFINITY, sum = 0;
          int64_t inside = 0;
          for (int64_t ky = 0; ky < w.kernelH; ++ky)
            for (int64_t kx = 0; kx < w.kernelW; ++kx) {
              int64_t iy = yo * w.strideH - w.top + ky;
              int64_t ix = xo * w.strideW - w.left + kx;
              if (iy < 0 || iy >= height || ix < 0 || ix >= width)
                continue;
              best = std::max(best, x.at({n, c, iy, ix}));
              sum += x.at({n, c, iy, ix});
              ++inside;
            }
          double count =
              countIncludePad ? double(w.kernelH * w.kernelW) : inside;
          y.at({n, c, yo, xo}) = max ? best : sum / count;
        }
  return y;
}

TEST(Pooling, MaxPoolMatchesReference) {
  std::mt19937 rng(1);
  for (const Window &w : windows)
    for (const Shape &shape : shapes) {
      HostTensor x = randomTensor(shape, rng);
      Shape out = pooledShape(shape, w);
      auto y = runKernel(windowSpec("max_pool2d", {shape}, out, w), {x});
      EXPECT_LT(relativeError(y[0], poolReference(x, w, true)), 1e-7);
    }
}

TEST(Pooling, AvgPoolMatchesReferenceWithAndWithoutPadCounted) {
  std::mt19937 rng(2);
  for (bool countIncludePad : {false, true})
    for (const Window &w : windows)
      for (const Shape &shape : shapes) {
        HostTensor x = randomTensor(shape, rng);
        Shape out = pooledShape(shape, w);
        KernelSpec spec = windowSpec("avg_pool2d", {shape}, out, w);
        spec.ints["count_include_pad"] = {countIncludePad};
        auto y = runKernel(spec, {x});
        EXPECT_LT(
            relativeError(y[0], poolReference(x, w, false, countIncludePad)),
            1e-6);
      }
}

TEST(Pooling, MaxPoolBackwardMatchesFiniteDifferences) {
  std::mt19937 rng(3);
  for (const Window &w : windows) {
    Shape shape{2, 18, 7, 6}, out = pooledShape(shape, w);
    HostTensor x = distinctRandomTensor(shape, rng);
    HostTensor dy = randomTensor(out, rng);
    auto forward = [&](const HostTensor &in) {
      return poolReference(in, w, true);
    };
    KernelSpec spec = windowSpec("max_pool2d_backward", {out, shape}, shape, w);
    auto dx = runKernel(spec, {dy, x});
    EXPECT_LT(relativeError(dx[0], finiteDifferenceGradient(forward, x, dy)),
              1e-5);
  }
}

TEST(Pooling, AvgPoolBackwardMatchesFiniteDifferences) {
  std::mt19937 rng(4);
  for (bool countIncludePad : {false, true})
    for (const Window &w : windows) {
      Shape shape{2, 18, 7, 6}, out = pooledShape(shape, w);
      HostTensor x = randomTensor(shape, rng);
      HostTensor dy = randomTensor(out, rng);
      auto forward = [&](const HostTensor &in) {
        return poolReference(in, w, false, countIncludePad);
      };
      KernelSpec spec = windowSpec("avg_pool2d_backward", {out}, shape, w);
      spec.ints["count_include_pad"] = {countIncludePad};
      auto dx = runKernel(spec, {dy});
      EXPECT_LT(relativeError(dx[0], finiteDifferenceGradient(forward, x, dy)),
                1e-5);
    }
}

TEST(Pooling, RejectsAShapeThatDoesNotMatchTheWindow) {
  Window w{3, 3, 2, 2, 1, 1, 1, 1};
  KernelSpec spec = windowSpec("max_pool2d", {{1, 4, 8, 8}}, {1, 4, 5, 5}, w);
  EXPECT_THROW(buildKernel(spec, Halide::get_host_target()),
               Halide::CompileError);
}

/// global_avg_pool or global_max_pool of x[N, C, H, W], as y[N, C].
HostTensor globalPoolReference(const HostTensor &x, bool max) {
  HostTensor y({x.shape[0], x.shape[1]});
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t c = 0; c < x.shape[1]; ++c) {
      double best = -INFINITY, sum = 0;
      for (int64_t iy = 0; iy < x.shape[2]; ++iy)
        for (int64_t ix = 0; ix < x.shape[3]; ++ix) {
          best = std::max(best, x.at({n, c, iy, ix}));
          sum += x.at({n, c, iy, ix});
        }
      y.at({n, c}) = max ? best : sum / double(x.shape[2] * x.shape[3]);
    }
  return y;
}

KernelSpec globalSpec(const std::string &family, const std::vector<Shape> &in,
                      const Shape &out) {
  KernelSpec spec;
  spec.family = family;
  for (const Shape &s : in)
    spec.inputs.push_back({s});
  spec.outputs.push_back({out});
  return spec;
}

TEST(Pooling, GlobalPoolsMatchReference) {
  std::mt19937 rng(5);
  for (const Shape &shape : shapes)
    for (bool max : {false, true}) {
      HostTensor x = randomTensor(shape, rng);
      auto y = runKernel(globalSpec(max ? "global_max_pool" : "global_avg_pool",
                                    {shape}, {shape[0], shape[1]}),
                         {x});
      EXPECT_LT(relativeError(y[0], globalPoolReference(x, max)), 1e-6);
    }
}

TEST(Pooling, GlobalPoolBackwardsMatchFiniteDifferences) {
  std::mt19937 rng(6);
  for (const Shape &shape : shapes) {
    Shape pooled{shape[0], shape[1]};
    HostTensor x = distinctRandomTensor(shape, rng);
    HostTensor dy = randomTensor(pooled, rng);
    auto avg = [](const HostTensor &in) {
      return globalPoolReference(in, false);
    };
    auto max = [](const HostTensor &in) {
      return globalPoolReference(in, true);
    };
    auto dxAvg = runKernel(
        globalSpec("global_avg_pool_backward", {pooled}, shape), {dy});
    auto dxMax = runKernel(
        globalSpec("global_max_pool_backward", {pooled, shape}, shape),
        {dy, x});
    EXPECT_LT(relativeError(dxAvg[0], finiteDifferenceGradient(avg, x, dy)),
              1e-5);
    EXPECT_LT(relativeError(dxMax[0], finiteDifferenceGradient(max, x, dy)),
              1e-5);
  }
}

} // namespace
