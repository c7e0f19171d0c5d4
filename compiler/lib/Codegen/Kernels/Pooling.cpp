//===- Pooling.cpp - window and global pooling kernel families ------------===//
//
// max_pool2d and avg_pool2d over (c, x, y, n) activations with any kernel,
// stride and asymmetric padding, the global pools, and their backwards.
//
// The backwards are gathers, not scatters: each input pixel visits the few
// output windows that can cover it (ceil(k / s) per axis), so every dx
// element is written once, the channel vectors stay dense and images run in
// parallel without races. max_pool2d_backward recomputes the argmax of each
// window from x (the first maximum in row-major window order, as PyTorch)
// rather than storing indices in the forward.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <limits>

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// Max pooling pads with, and starts from, the lowest finite float: Halide
/// compiles with LLVM's no-infinities flag, and every window holds at least
/// one real pixel, so the results are those of PyTorch's -inf padding.
const float lowest = std::numeric_limits<float>::lowest();

/// Static geometry of a window pool: the input image, the output image and
/// the window. Checks the attributes and the output shape against them.
struct PoolGeometry {
  PoolGeometry(const Family &family, const TensorSpec &in,
               const TensorSpec &out) {
    if (in.shape.size() != 4 || out.shape.size() != 4)
      family.fail("pooling takes x[N, C, H, W]");
    std::vector<int64_t> kernel = family.ints("kernel", 2);
    std::vector<int64_t> strides = family.ints("strides", 2);
    std::vector<int64_t> padding = family.ints("padding", 4);
    channels = int(in.shape[1]);
    height = int(in.shape[2]);
    width = int(in.shape[3]);
    kernelH = int(kernel[0]);
    kernelW = int(kernel[1]);
    strideH = int(strides[0]);
    strideW = int(strides[1]);
    top = int(padding[0]);
    left = int(padding[1]);
    int bottom = int(padding[2]), right = int(padding[3]);
    if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1)
      family.fail("kernel and strides must be positive");
    if (top < 0 || left < 0 || bottom < 0 || right < 0)
      family.fail("padding must not be negative");
    if (top >= kernelH || bottom >= kernelH || left >= kernelW ||
        right >= kernelW)
      family.fail("padding must be smaller than the window, or a window "
                  "could lie wholly in the padding");
    outHeight = (height + top + bottom - kernelH) / strideH + 1;
    outWidth = (width + left + right - kernelW) / strideW + 1;
    if (out.shape[1] != channels || out.shape[2] != outHeight ||
        out.shape[3] != outWidth)
      family.fail("the output shape does not match kernel, strides and "
                  "padding: expected [N, " +
                  std::to_string(channels) + ", " + std::to_string(outHeight) +
                  ", " + std::to_string(outWidth) + "]");
    padded = top || left || bottom || right;
  }

  /// x(c, ix, iy, n) inside the image, `outside` in the padding.
  Expr load(const ImageParam &x, Expr c, Expr ix, Expr iy, Expr n,
            Expr outside) const {
    if (!padded)
      return x(c, ix, iy, n);
    Expr inside = ix >= 0 && ix < width && iy >= 0 && iy < height;
    return select(inside,
                  x(c, clamp(ix, 0, width - 1), clamp(iy, 0, height - 1), n),
                  outside);
  }

  /// The windows an input pixel can lie in, relative to the last one.
  RDom candidates() const {
    return RDom(0, (kernelW + strideW - 1) / strideW, 0,
                (kernelH + strideH - 1) / strideH, "candidate");
  }

  /// Candidate `q` of the output windows covering input pixel (ix, iy): its
  /// output coordinates (clamped into the output, for loading) and where the
  /// pixel lies in it; `valid` is false where it does not exist.
  struct Window {
    Expr xo, yo, offsetX, offsetY, valid;
  };
  Window covering(Expr ix, Expr iy, const RDom &q) const {
    Expr xo = (ix + left) / strideW - q.x;
    Expr yo = (iy + top) / strideH - q.y;
    Window w;
    w.offsetX = ix + left - xo * strideW;
    w.offsetY = iy + top - yo * strideH;
    w.valid = xo >= 0 && xo < outWidth && yo >= 0 && yo < outHeight &&
              w.offsetX < kernelW && w.offsetY < kernelH;
    w.xo = clamp(xo, 0, outWidth - 1);
    w.yo = clamp(yo, 0, outHeight - 1);
    return w;
  }

  int channels, height, width, outHeight, outWidth;
  int kernelH, kernelW, strideH, strideW, top, left;
  bool padded;
};

/// Schedules y(c, ..., n) computed from a reduction `reduction` (over `r`):
/// the reduction runs per step of y's loop `at` (an output row, or the one
/// pixel of a global pool), into a buffer that stays in L1, channel vectors
/// innermost; images in parallel.
void scheduleRowReduction(Func y, Func reduction, Var c, Var at, Var n,
                          const RDom &r, const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  y.vectorize(c, lanes, TailStrategy::GuardWithIf).parallel(n);
  reduction.compute_at(y, at).vectorize(c, lanes, TailStrategy::GuardWithIf);
  scheduleChannelReduction(reduction.update(), c, r, target);
}

//===----------------------------------------------------------------------===//
// Window pools
//===----------------------------------------------------------------------===//

class MaxPool2d : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    PoolGeometry g(*this, spec.inputs[0], spec.outputs[0]);
    r = RDom(0, g.kernelW, 0, g.kernelH, "window");
    windowMax(c, xo, yo, n) = lowest;
    windowMax(c, xo, yo, n) =
        max(windowMax(c, xo, yo, n),
            g.load(x, c, xo * g.strideW + r.x - g.left,
                   yo * g.strideH + r.y - g.top, n, lowest));
    y(c, xo, yo, n) = windowMax(c, xo, yo, n);
    return {y};
  }
  void scheduleCPU(const Target &target) override {
    scheduleRowReduction(y, windowMax, c, yo, n, r, target);
  }
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(y, windowMax, {c, xo, yo, n});
  }

private:
  Var c{"c"}, xo{"xo"}, yo{"yo"}, n{"n"};
  RDom r;
  Func windowMax{"windowMax"}, y{"y"};
};

/// count_include_pad = 1 divides every window by kernel size (with floor
/// output sizes no window reaches past the padding, as in PyTorch);
/// count_include_pad = 0 by the number of pixels inside the image.
Expr inverseWindowSize(const PoolGeometry &g, bool countIncludePad, Expr xo,
                       Expr yo) {
  if (countIncludePad)
    return 1.0f / float(g.kernelW * g.kernelH);
  Expr x0 = xo * g.strideW - g.left, y0 = yo * g.strideH - g.top;
  Expr countX = min(x0 + g.kernelW, g.width) - max(x0, 0);
  Expr countY = min(y0 + g.kernelH, g.height) - max(y0, 0);
  return 1.0f / cast<float>(countX * countY);
}

class AvgPool2d : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    PoolGeometry g(*this, spec.inputs[0], spec.outputs[0]);
    bool countIncludePad = intAttr("count_include_pad") != 0;
    r = RDom(0, g.kernelW, 0, g.kernelH, "window");
    windowSum(c, xo, yo, n) = 0.0f;
    windowSum(c, xo, yo, n) += g.load(x, c, xo * g.strideW + r.x - g.left,
                                      yo * g.strideH + r.y - g.top, n, 0.0f);
    y(c, xo, yo, n) =
        windowSum(c, xo, yo, n) * inverseWindowSize(g, countIncludePad, xo, yo);
    return {y};
  }
  void scheduleCPU(const Target &target) override {
    scheduleRowReduction(y, windowSum, c, yo, n, r, target);
  }
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(y, windowSum, {c, xo, yo, n});
  }

private:
  Var c{"c"}, xo{"xo"}, yo{"yo"}, n{"n"};
  RDom r;
  Func windowSum{"windowSum"}, y{"y"};
};

/// dx at each input pixel: the dy of every window whose (first) maximum it is.
class MaxPool2dBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    ImageParam x = input(1, "x");
    PoolGeometry g(*this, spec.inputs[1], spec.inputs[0]);
    // The argmax of each window as (row-major offset in the window, value).
    r = RDom(0, g.kernelW, 0, g.kernelH, "window");
    Expr value = g.load(x, c, xo * g.strideW + r.x - g.left,
                        yo * g.strideH + r.y - g.top, n, lowest);
    argMax(c, xo, yo, n) = Tuple(0, lowest);
    Expr better = value > argMax(c, xo, yo, n)[1];
    argMax(c, xo, yo, n) =
        Tuple(select(better, r.y * g.kernelW + r.x, argMax(c, xo, yo, n)[0]),
              select(better, value, argMax(c, xo, yo, n)[1]));

    q = g.candidates();
    PoolGeometry::Window w = g.covering(ix, iy, q);
    Expr isMax =
        argMax(c, w.xo, w.yo, n)[0] == w.offsetY * g.kernelW + w.offsetX;
    gathered(c, ix, iy, n) = 0.0f;
    gathered(c, ix, iy, n) +=
        select(w.valid && isMax, dy(c, w.xo, w.yo, n), 0.0f);
    dx(c, ix, iy, n) = gathered(c, ix, iy, n);
    return {dx};
  }

  /// The argmaxes of one image are computed just before its dx.
  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    scheduleRowReduction(dx, gathered, c, iy, n, q, target);
    argMax.compute_at(dx, n).vectorize(c, lanes, TailStrategy::GuardWithIf);
    scheduleChannelReduction(argMax.update(), c, r, target);
  }

  /// The argmaxes first, a thread per window; then a thread per dx element
  /// gathers from its windows.
  void scheduleGPU(const Target &) override {
    argMax.compute_root();
    schedulePointwiseGPU(argMax, {c, xo, yo, n});
    schedulePointwiseGPU(argMax.update(), {c, xo, yo, n});
    scheduleElementReductionGPU(dx, gathered, {c, ix, iy, n});
  }

private:
  Var c{"c"}, xo{"xo"}, yo{"yo"}, ix{"ix"}, iy{"iy"}, n{"n"};
  RDom r, q;
  Func argMax{"argMax"}, gathered{"gathered"}, dx{"dx"};
};

/// dx at each input pixel: dy / window size, summed over its windows.
class AvgPool2dBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    PoolGeometry g(*this, spec.outputs[0], spec.inputs[0]);
    bool countIncludePad = intAttr("count_include_pad") != 0;
    q = g.candidates();
    PoolGeometry::Window w = g.covering(ix, iy, q);
    gathered(c, ix, iy, n) = 0.0f;
    gathered(c, ix, iy, n) +=
        select(w.valid,
               dy(c, w.xo, w.yo, n) *
                   inverseWindowSize(g, countIncludePad, w.xo, w.yo),
               0.0f);
    dx(c, ix, iy, n) = gathered(c, ix, iy, n);
    return {dx};
  }
  void scheduleCPU(const Target &target) override {
    scheduleRowReduction(dx, gathered, c, iy, n, q, target);
  }
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(dx, gathered, {c, ix, iy, n});
  }

private:
  Var c{"c"}, ix{"ix"}, iy{"iy"}, n{"n"};
  RDom q;
  Func gathered{"gathered"}, dx{"dx"};
};

//===----------------------------------------------------------------------===//
// Global pools
//===----------------------------------------------------------------------===//

/// The pixels of x[N, C, H, W] pooled into y[N, C], checked against both.
struct GlobalGeometry {
  GlobalGeometry(const Family &family, const TensorSpec &image,
                 const TensorSpec &pooled) {
    if (image.shape.size() != 4 || pooled.shape.size() != 2 ||
        image.shape[1] != pooled.shape[1])
      family.fail("global pooling takes x[N, C, H, W] to y[N, C]");
    height = int(image.shape[2]);
    width = int(image.shape[3]);
  }
  RDom pixels() const { return RDom(0, width, 0, height, "px"); }

  int height, width;
};

class GlobalAvgPool : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    GlobalGeometry g(*this, spec.inputs[0], spec.outputs[0]);
    px = g.pixels();
    imageSum(c, n) = 0.0f;
    imageSum(c, n) += x(c, px.x, px.y, n);
    y(c, n) = imageSum(c, n) / float(g.width * g.height);
    return {y};
  }
  void scheduleCPU(const Target &target) override {
    scheduleRowReduction(y, imageSum, c, n, n, px, target);
  }
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(y, imageSum, {c, n});
  }

private:
  Var c{"c"}, n{"n"};
  RDom px;
  Func imageSum{"imageSum"}, y{"y"};
};

class GlobalMaxPool : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    px = GlobalGeometry(*this, spec.inputs[0], spec.outputs[0]).pixels();
    imageMax(c, n) = lowest;
    imageMax(c, n) = max(imageMax(c, n), x(c, px.x, px.y, n));
    y(c, n) = imageMax(c, n);
    return {y};
  }
  void scheduleCPU(const Target &target) override {
    scheduleRowReduction(y, imageMax, c, n, n, px, target);
  }
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(y, imageMax, {c, n});
  }

private:
  Var c{"c"}, n{"n"};
  RDom px;
  Func imageMax{"imageMax"}, y{"y"};
};

class GlobalAvgPoolBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    GlobalGeometry g(*this, spec.outputs[0], spec.inputs[0]);
    dx(c, ix, iy, n) = dy(c, n) / float(g.width * g.height);
    return {dx};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(dx, {c, ix, iy, n}, target);
  }
  void scheduleGPU(const Target &) override {
    schedulePointwiseGPU(dx, {c, ix, iy, n});
  }

private:
  Var c{"c"}, ix{"ix"}, iy{"iy"}, n{"n"};
  Func dx{"dx"};
};

/// dx = dy at the (first, row-major) maximum of each channel, 0 elsewhere.
class GlobalMaxPoolBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    ImageParam x = input(1, "x");
    GlobalGeometry g(*this, spec.inputs[1], spec.inputs[0]);
    px = g.pixels();
    Expr value = x(c, px.x, px.y, n);
    argMax(c, n) = Tuple(0, lowest);
    Expr better = value > argMax(c, n)[1];
    argMax(c, n) = Tuple(select(better, px.y * g.width + px.x, argMax(c, n)[0]),
                         select(better, value, argMax(c, n)[1]));
    dx(c, ix, iy, n) =
        select(argMax(c, n)[0] == iy * g.width + ix, dy(c, n), 0.0f);
    return {dx};
  }
  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    schedulePointwise(dx, {c, ix, iy, n}, target);
    argMax.compute_at(dx, n).vectorize(c, lanes, TailStrategy::GuardWithIf);
    scheduleChannelReduction(argMax.update(), c, px, target);
  }

  /// The argmax of each image's channels first, a thread per channel and
  /// image (pixels in order); then a thread per dx element.
  void scheduleGPU(const Target &) override {
    scheduleChannelReductionGPU(argMax, c, int(spec.inputs[0].shape[1]), {n});
    schedulePointwiseGPU(dx, {c, ix, iy, n});
  }

private:
  Var c{"c"}, ix{"ix"}, iy{"iy"}, n{"n"};
  RDom px;
  Func argMax{"argMax"}, dx{"dx"};
};

} // namespace

void registerPoolingFamilies(FamilyRegistry &registry) {
  registry.add<MaxPool2d>("max_pool2d");
  registry.add<AvgPool2d>("avg_pool2d");
  registry.add<MaxPool2dBackward>("max_pool2d_backward");
  registry.add<AvgPool2dBackward>("avg_pool2d_backward");
  registry.add<GlobalAvgPool>("global_avg_pool");
  registry.add<GlobalMaxPool>("global_max_pool");
  registry.add<GlobalAvgPoolBackward>("global_avg_pool_backward");
  registry.add<GlobalMaxPoolBackward>("global_max_pool_backward");
}

} // namespace resnetc::kernels
