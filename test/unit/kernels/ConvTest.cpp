//===- ConvTest.cpp - convolution families against references -------------===//
//
// conv2d against a plain double-precision convolution, and its gradients
// against finite differences of that reference, over the shapes the
// schedules treat differently: the register-tiled paths (16, 32, >= 64 and
// >= 256 output channels), the Winograd form, the plain path (grouped, depthwise, channel
// counts that are not a multiple of the vector width), strides, padding,
// dilation, and batches that leave a partial group of images.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

/// One convolution: x[N,C,H,W] * w[O,C/groups,KH,KW].
struct Conv {
  int64_t N, C, H, W, O, KH, KW;
  int64_t strideY = 1, strideX = 1;
  int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  int64_t dilationY = 1, dilationX = 1, groups = 1;
  bool bias = false;

  int64_t Ho() const {
    return (H + padTop + padBottom - dilationY * (KH - 1) - 1) / strideY + 1;
  }
  int64_t Wo() const {
    return (W + padLeft + padRight - dilationX * (KW - 1) - 1) / strideX + 1;
  }
  Shape xShape() const { return {N, C, H, W}; }
  Shape wShape() const { return {O, C / groups, KH, KW}; }
  Shape yShape() const { return {N, O, Ho(), Wo()}; }

  KernelSpec spec(const std::string &family) const {
    KernelSpec s;
    s.family = family;
    TensorSpec x{xShape()}, w{wShape(), TensorKind::Weight}, y{yShape()},
        b{{O}, TensorKind::Weight};
    if (family == "conv2d") {
      s.inputs = {x, w};
      if (bias)
        s.inputs.push_back(b);
      s.outputs = {y};
    } else if (family == "conv2d_backward_data") {
      s.inputs = {y, w};
      s.outputs = {x};
    } else {
      s.inputs = {x, y};
      s.outputs = {w};
      if (bias)
        s.outputs.push_back(b);
    }
    s.ints = {{"strides", {strideY, strideX}},
              {"padding", {padTop, padLeft, padBottom, padRight}},
              {"dilations", {dilationY, dilationX}},
              {"groups", {groups}}};
    return s;
  }

  /// The reference: y = conv(x, w) + b, in double precision.
  HostTensor forward(const HostTensor &x, const HostTensor &w,
                     const HostTensor *b) const {
    return referenceConv2d(x, w, b, {strideY, strideX},
                           {padTop, padLeft, padBottom, padRight},
                           {dilationY, dilationX}, groups);
  }
};

std::string describe(const Conv &p) {
  std::ostringstream os;
  os << "N" << p.N << " C" << p.C << " " << p.H << "x" << p.W << " -> O" << p.O
     << " k" << p.KH << "x" << p.KW << " s" << p.strideY << "," << p.strideX
     << " pad" << p.padTop << "," << p.padLeft << "," << p.padBottom << ","
     << p.padRight << " d" << p.dilationY << "," << p.dilationX << " g"
     << p.groups << (p.bias ? " bias" : "");
  return os.str();
}

/// Conv with the fields a test usually sets, the rest left at defaults.
Conv conv(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t K,
          int64_t stride, int64_t pad) {
  Conv p{N, C, H, W, O, K, K};
  p.strideY = p.strideX = stride;
  p.padTop = p.padLeft = p.padBottom = p.padRight = pad;
  return p;
}

// Float accumulation over C*KH*KW <= 1152 products of values in [-1, 1]
// stays well inside 1e-5 relative error; the references are exact doubles.
constexpr double tolerance = 1e-5;

std::vector<Conv> forwardCases() {
  std::vector<Conv> cases = {
      conv(2, 16, 8, 8, 16, 3, 1, 1),  // 16 channels: 1 vector x 4x4 px
      conv(3, 32, 9, 9, 32, 3, 2, 1),  // 32 channels, stride 2, odd size
      conv(1, 16, 5, 7, 64, 3, 1, 0),  // >= 64 channels, valid, batch 1
      conv(3, 8, 6, 6, 256, 3, 1, 1),  // images in groups, partial group
      conv(2, 16, 8, 8, 32, 1, 2, 0),  // 1x1 stride-2 projection
      conv(2, 3, 16, 16, 16, 7, 2, 3), // 7x7 stem from 3 channels
      conv(2, 3, 8, 8, 16, 3, 1, 1),   // 3x3 stem from 3 channels
      conv(2, 16, 9, 9, 32, 3, 1, 2),  // dilation 2 (set below)
      conv(2, 8, 6, 6, 16, 3, 2, 0),   // asymmetric padding (set below)
      conv(2, 8, 5, 5, 16, 3, 1, 1),   // 2 groups (set below)
      conv(2, 16, 6, 6, 16, 3, 1, 1),  // depthwise (set below)
      conv(2, 8, 6, 6, 32, 3, 2, 1),   // depthwise x4 (set below)
      conv(2, 5, 7, 6, 10, 3, 1, 1),   // channels off the vector width
      conv(1, 16, 1, 1, 32, 1, 1, 0),  // one pixel
      conv(2, 32, 6, 6, 64, 3, 1, 1),  // input channels in L1 blocks
      conv(3, 32, 4, 4, 256, 3, 1, 1), // blocks, partial group of images
      conv(2, 64, 5, 7, 64, 3, 1, 0),  // blocks, unpadded: exact tiles
      conv(2, 24, 7, 7, 24, 3, 1, 1),  // 8-lane vectors under AVX-512
      conv(2, 24, 8, 8, 40, 3, 2, 1),  // 8-lane vectors, stride 2
      conv(2, 16, 6, 8, 32, 3, 1, 0),  // Winograd, unpadded, not square
      conv(2, 20, 6, 6, 16, 3, 1, 1),  // Winograd, input channels off width
      conv(1, 64, 4, 4, 64, 3, 1, 1),  // Winograd, 4-vector register tile
      conv(3, 128, 4, 4, 256, 3, 1, 1), // Winograd, images grouped, partial
      conv(2, 16, 7, 5, 32, 3, 1, 1),  // Winograd, odd output: whole tiles
      conv(3, 128, 3, 3, 256, 3, 1, 1), // Winograd, odd, images grouped
      conv(2, 16, 22, 22, 32, 3, 1, 1), // Winograd, rows of 11 tiles: runs
                                        // of 6 overhang
  };
  cases[7].dilationY = cases[7].dilationX = 2;
  cases[8].padBottom = cases[8].padRight = 1; // TF "same" at stride 2
  cases[9].groups = 2;
  cases[10].groups = 16;
  cases[11].groups = 8;
  cases[1].bias = cases[4].bias = cases[5].bias = cases[9].bias =
      cases[12].bias = true;
  return cases;
}

TEST(Conv, ForwardMatchesReference) {
  std::mt19937 rng(1);
  for (const Conv &p : forwardCases()) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor w = randomTensor(p.wShape(), rng);
    HostTensor b = randomTensor({p.O}, rng);
    std::vector<HostTensor> inputs = {x, w};
    if (p.bias)
      inputs.push_back(b);
    auto y = runKernel(p.spec("conv2d"), inputs);
    EXPECT_LT(relativeError(y[0], p.forward(x, w, p.bias ? &b : nullptr)),
              tolerance);
  }
}

/// Whether the kernel of `spec`, built for this machine, computes in
/// Winograd's form (its lowered statement has the transformed input).
bool usesWinograd(const KernelSpec &spec) {
  Halide::Target host = Halide::get_host_target();
  Kernel kernel = buildKernel(spec, host);
  std::string path = ::testing::TempDir() + "winograd_probe.stmt";
  kernel.pipeline.compile_to_lowered_stmt(path, kernel.arguments(),
                                          Halide::Text, host);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str().find("winograd_") != std::string::npos;
}

/// Stride-1 3x3 convolutions with at least 16 channels each way take the
/// Winograd form, forward and backward data (an odd output too, where the
/// image is padded), the filter gradient where the output is even; the
/// others stay direct.
TEST(Conv, WinogradFormWhereItSuits) {
  EXPECT_TRUE(usesWinograd(conv(2, 16, 32, 32, 16, 3, 1, 1).spec("conv2d")));
  EXPECT_TRUE(usesWinograd(
      conv(2, 64, 8, 8, 64, 3, 1, 1).spec("conv2d_backward_data")));
  EXPECT_TRUE(usesWinograd(conv(2, 16, 7, 7, 16, 3, 1, 1).spec("conv2d")));
  EXPECT_TRUE(usesWinograd(
      conv(2, 16, 7, 7, 16, 3, 1, 1).spec("conv2d_backward_data")));
  EXPECT_FALSE(usesWinograd(
      conv(2, 16, 7, 7, 16, 3, 1, 1).spec("conv2d_backward_filter")));
  EXPECT_FALSE(usesWinograd(conv(2, 16, 9, 9, 16, 3, 1, 0).spec("conv2d")));
  EXPECT_FALSE(usesWinograd(conv(2, 16, 8, 8, 32, 3, 2, 1).spec("conv2d")));
  EXPECT_FALSE(usesWinograd(conv(2, 3, 8, 8, 16, 3, 1, 1).spec("conv2d")));
  EXPECT_TRUE(usesWinograd(
      conv(2, 32, 16, 16, 32, 3, 1, 1).spec("conv2d_backward_filter")));
  EXPECT_FALSE(usesWinograd(
      conv(2, 16, 8, 8, 32, 3, 2, 1).spec("conv2d_backward_filter")));
  // 512 channels each way: the forward form groups images; the filter
  // gradient's threads take blocks of output channels.
  EXPECT_TRUE(usesWinograd(conv(1, 512, 4, 4, 512, 3, 1, 1).spec("conv2d")));
  EXPECT_TRUE(usesWinograd(
      conv(1, 512, 4, 4, 512, 3, 1, 1).spec("conv2d_backward_filter")));
}

/// Small shapes: finite differences run the reference once per element of
/// the perturbed tensor. Each still reaches the path it names.
std::vector<Conv> gradientCases() {
  std::vector<Conv> cases = {
      conv(1, 16, 5, 5, 16, 3, 1, 1),  // 16 channels each way, tiled
      conv(1, 16, 8, 8, 16, 3, 2, 1),  // stride 2: four phases, tiled
      conv(2, 16, 4, 4, 32, 1, 2, 0),  // 1x1 stride 2: phases without taps
      conv(1, 64, 2, 2, 64, 1, 1, 0),  // 4-vector tiles, batch 1
      conv(3, 2, 3, 3, 256, 1, 1, 0),  // wide output, partial batch chunk
      conv(1, 16, 6, 6, 16, 3, 2, 0),  // asymmetric padding (set below)
      conv(1, 16, 5, 5, 16, 3, 1, 2),  // dilation 2 (set below)
      conv(2, 8, 7, 7, 8, 3, 2, 1),    // odd size, channels off the width
      conv(2, 8, 5, 5, 16, 3, 1, 1),   // 2 groups (set below)
      conv(2, 16, 5, 5, 16, 3, 1, 1),  // depthwise (set below)
      conv(1, 3, 8, 8, 16, 7, 2, 3),   // 7x7 stem from 3 channels
      conv(3, 256, 2, 2, 2, 1, 1, 0),  // wide input, partial group of images
      conv(1, 2, 12, 12, 16, 3, 1, 1), // filter gradient over row blocks
      conv(1, 24, 5, 5, 24, 3, 1, 1),  // 8-lane vectors under AVX-512
      conv(1, 8, 6, 6, 40, 3, 2, 1),   // 8-lane vectors, stride 2
      conv(3, 16, 4, 4, 16, 3, 1, 1),  // Winograd, partial batch chunk
      conv(1, 16, 4, 6, 32, 3, 1, 0),  // Winograd, unpadded, not square
  };
  cases[16].bias = true;
  cases[5].padBottom = cases[5].padRight = 1;
  cases[6].dilationY = cases[6].dilationX = 2;
  cases[8].groups = 2;
  cases[9].groups = 16;
  cases[2].bias = cases[7].bias = cases[8].bias = cases[10].bias = true;
  return cases;
}

/// Shapes whose filter gradient is too large for finite differences in a
/// unit test but whose data gradient is not.
std::vector<Conv> dataGradientCases() {
  return {
      conv(1, 64, 3, 3, 32, 3, 1, 1), // output channels in two L1 blocks
      conv(1, 64, 4, 4, 64, 3, 2, 1), // stride 2, a phase's in two blocks
      conv(1, 16, 6, 6, 32, 3, 1, 1), // Winograd
      conv(2, 16, 4, 6, 16, 3, 1, 0), // Winograd, dy padded by 2
      conv(1, 16, 5, 3, 32, 3, 1, 1), // Winograd, odd dx: whole tiles
  };
}

TEST(Conv, BackwardDataMatchesFiniteDifferences) {
  std::mt19937 rng(2);
  std::vector<Conv> cases = gradientCases();
  for (const Conv &p : dataGradientCases())
    cases.push_back(p);
  for (const Conv &p : cases) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor w = randomTensor(p.wShape(), rng);
    HostTensor dy = randomTensor(p.yShape(), rng);
    HostTensor expected = finiteDifferenceGradient(
        [&](const HostTensor &in) { return p.forward(in, w, nullptr); }, x, dy);
    auto dx = runKernel(p.spec("conv2d_backward_data"), {dy, w});
    EXPECT_LT(relativeError(dx[0], expected), tolerance);
  }
}

/// Wide layers, too large for finite differences: the data gradient is
/// the forward convolution's adjoint, sum(conv(x) * dy) = sum(x * dx), on
/// random x and dy (an error in any element of dx moves the sum by about
/// 1/sqrt(size) of its scale, far beyond the tolerance).
TEST(Conv, BackwardDataIsTheAdjointOfForwardOnWideLayers) {
  std::mt19937 rng(4);
  for (const Conv &p : {
           conv(2, 256, 4, 4, 128, 3, 1, 1), // Winograd, images grouped
           conv(3, 256, 3, 3, 128, 3, 1, 1), // the same, odd dx
           conv(3, 128, 8, 8, 256, 3, 1, 1), // grouped, partial group, 8x8
           conv(2, 32, 22, 22, 16, 3, 1, 0), // rows of 11 tiles: runs overhang
       }) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor w = randomTensor(p.wShape(), rng);
    HostTensor dy = randomTensor(p.yShape(), rng);
    HostTensor y = p.forward(x, w, nullptr);
    HostTensor dx = runKernel(p.spec("conv2d_backward_data"), {dy, w})[0];
    // The scale of a sum of random terms: the root of their sum of squares.
    double forward = 0, backward = 0, squares = 0;
    for (size_t k = 0; k < y.data.size(); ++k) {
      forward += y.data[k] * dy.data[k];
      squares += y.data[k] * dy.data[k] * y.data[k] * dy.data[k];
    }
    for (size_t k = 0; k < x.data.size(); ++k)
      backward += x.data[k] * dx.data[k];
    EXPECT_LT(std::abs(forward - backward) / std::sqrt(squares), tolerance);
  }
}

/// The reference filter gradient of an ungrouped convolution, in double
/// precision: dw(o, i, ky, kx) = sum over images and output pixels of
/// dy(n, o, y, x) * x(n, i, y*sy + ky*dy - pad, x*sx + kx*dx - pad).
HostTensor referenceFilterGradient(const Conv &p, const HostTensor &x,
                                   const HostTensor &dy) {
  HostTensor dw(p.wShape());
  const int64_t ho = p.Ho(), wo = p.Wo();
  for (int64_t o = 0; o < p.O; ++o)
    for (int64_t i = 0; i < p.C; ++i)
      for (int64_t ky = 0; ky < p.KH; ++ky)
        for (int64_t kx = 0; kx < p.KW; ++kx) {
          double sum = 0;
          for (int64_t n = 0; n < p.N; ++n)
            for (int64_t yo = 0; yo < ho; ++yo) {
              int64_t yi = yo * p.strideY + ky * p.dilationY - p.padTop;
              if (yi < 0 || yi >= p.H)
                continue;
              for (int64_t xo = 0; xo < wo; ++xo) {
                int64_t xi = xo * p.strideX + kx * p.dilationX - p.padLeft;
                if (xi >= 0 && xi < p.W)
                  sum += dy.data[((n * p.O + o) * ho + yo) * wo + xo] *
                         x.data[((n * p.C + i) * p.H + yi) * p.W + xi];
              }
            }
          dw.data[((o * p.C + i) * p.KH + ky) * p.KW + kx] = sum;
        }
  return dw;
}

/// Wide layers, too large for finite differences, against the reference:
/// the Winograd form with each point's tiles stored together (64 channels
/// and up), with the images of small maps summed in groups (a batch of 67
/// leaves chunks of 9 images, groups of 8 or 16 cut short, and a short
/// last chunk), and with threads taking blocks of output channels (filters
/// beyond L2).
TEST(Conv, BackwardFilterMatchesReferenceOnWideLayers) {
  std::mt19937 rng(5);
  for (const Conv &p : {
           conv(3, 64, 8, 8, 64, 3, 1, 1),   // planes per point
           conv(67, 64, 6, 6, 64, 3, 1, 1),  // groups of 8 images
           conv(67, 16, 4, 4, 16, 3, 1, 1),  // groups of 16, not planar
           conv(2, 128, 6, 4, 64, 3, 1, 0),  // the same, unpadded
           conv(3, 256, 4, 4, 256, 3, 1, 1), // blocks of output channels
           conv(2, 128, 8, 6, 512, 3, 1, 1), // the same, not square
       }) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor dy = randomTensor(p.yShape(), rng);
    HostTensor dw = runKernel(p.spec("conv2d_backward_filter"), {x, dy})[0];
    EXPECT_LT(relativeError(dw, referenceFilterGradient(p, x, dy)),
              tolerance);
  }
}

TEST(Conv, BackwardFilterMatchesFiniteDifferences) {
  std::mt19937 rng(3);
  for (const Conv &p : gradientCases()) {
    SCOPED_TRACE(describe(p));
    HostTensor x = randomTensor(p.xShape(), rng);
    HostTensor w = randomTensor(p.wShape(), rng);
    HostTensor b = randomTensor({p.O}, rng);
    HostTensor dy = randomTensor(p.yShape(), rng);
    auto grads = runKernel(p.spec("conv2d_backward_filter"), {x, dy});
    EXPECT_LT(relativeError(grads[0], finiteDifferenceGradient(
                                          [&](const HostTensor &in) {
                                            return p.forward(x, in, nullptr);
                                          },
                                          w, dy)),
              tolerance);
    if (!p.bias)
      continue;
    EXPECT_LT(relativeError(grads[1], finiteDifferenceGradient(
                                          [&](const HostTensor &in) {
                                            return p.forward(x, w, &in);
                                          },
                                          b, dy)),
              tolerance);
  }
}

} // namespace
