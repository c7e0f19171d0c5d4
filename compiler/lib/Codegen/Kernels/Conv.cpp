//===- Conv.cpp - convolution kernel families -----------------------------===//
//
// conv2d, conv2d_backward_data and conv2d_backward_filter over NHWC
// activations (Halide dims (c, x, y, n)): as direct convolutions, or, for
// stride-1 3x3 filters on CPUs, in Winograd's F(2x2, 3x3) form (see
// WinogradF2x2; the registry picks the form per kernel, winogradSuits).
//
// The algorithms. Each reads its activations through a plain Func (`source`,
// `grad`), so that a fused prologue (BatchNorm's scale and shift, a ReLU
// mask) can later take its place; pads them with zeros in a stage of its
// own; and ends in a pure stage where an epilogue (bias, per-channel sums)
// goes. Filters are repacked with the vectorised channels innermost, in
// blocks of up to 64 channels, so that a block is one contiguous stream.
// conv2d_backward_data splits a strided convolution's input positions into
// their stride phases, each a stride-1 convolution with its share of the
// taps, so it never multiplies by an inserted zero. conv2d_backward_filter
// is one reduction over every output pixel of the run-time batch, its
// operands and its sum laid out in channel blocks.
//
// The CPU schedules. A register tile (a few channel vectors by a few pixels,
// or by a few input channels for the filter gradient) accumulates in
// registers with the reduction loops outside it. The reduction runs in
// blocks whose filter slice fits in L1 (rfactor), every pixel tile of the
// image passing by before the next block; partial sums go to an accumulator
// per image in L2. Padded inputs are computed per image (per group of images
// for wide layers, whose filters are reused across the group), so inner
// loops have no boundary checks. Threads take images, or for the filter
// gradient chunks of the batch (or blocks of output channels of wide
// filters). Grouped convolutions and channel counts that are not a multiple
// of the vector width get a plain vectorised schedule: correct, not fast.
//
// The GPU schedules. A thread block computes a tile of output channels by a
// tile of pixels of one image; each thread one channel of a few pixels, its
// accumulators in registers, the taps and pixels unrolled so that an input
// value loaded once serves every tap that reads it. The block first stages
// the input tile its pixels read (all reduced channels, the halo included)
// in shared memory; the channel threads of a warp then read each input value
// as one broadcast, and the filter, repacked with output channels innermost,
// as coalesced loads. The filter gradient sums over the batch in chunks of
// images, a thread per filter element and chunk, then adds the chunks in
// order (no atomics).
//
// Figures: bench/kernels/conv_bench.cpp at batch 128 on this machine's
// 2-core AVX-512 Xeon (FMA peak 230 GFLOP/s per core), given per CPU-second
// the kernel received (the machine is shared; see the bench).
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <algorithm>
#include <optional>
#include <numeric>

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// The static geometry shared by a convolution and its two gradients.
struct ConvGeometry {
  int C, H, W;   ///< Input channels, height, width.
  int O, Ho, Wo; ///< Output channels, height, width.
  int KH, KW;    ///< Filter height and width.
  int strideY, strideX;
  int padTop, padLeft, padBottom, padRight;
  int dilationY, dilationX;
  int groups;

  int inPerGroup() const { return C / groups; }
  int outPerGroup() const { return O / groups; }
  /// No padding on any side: the convolution reads only inside its input.
  bool unpadded() const {
    return padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0;
  }
};

/// The taps of a filter dimension that reach the input positions
/// `stride * q + phase` in the gradient of a strided convolution: `count`
/// taps `first + step * j`, reading output position `q + offset - j * shift`.
struct PhaseTaps {
  int first = 0, count = 0, step = 1, offset = 0, shift = 0;
};

PhaseTaps phaseTaps(int phase, int pad, int kernel, int stride, int dilation) {
  // Input position s*q + p receives tap k from output (s*q + p + pad - k*d)/s
  // when that division is exact.
  PhaseTaps taps;
  taps.step = stride / std::gcd(stride, dilation);
  taps.shift = taps.step * dilation / stride;
  for (int k = 0; k < kernel; ++k) {
    int numerator = phase + pad - k * dilation;
    if (((numerator % stride) + stride) % stride != 0)
      continue;
    taps.first = k;
    taps.offset = numerator / stride; // exact, so rounding does not matter
    taps.count = (kernel - 1 - k) / taps.step + 1;
    break;
  }
  return taps;
}

/// How a direct convolution keeps its accumulators in registers: `vectors`
/// SIMD vectors of channels by `tileX` x `tileY` output pixels.
struct RegisterTile {
  int vectors = 1, tileX = 1, tileY = 1;
  /// Images per parallel task: more than one when the filter is too large
  /// for the L2 cache and should be reused across several images.
  int imagesPerTask = 1;
};

/// How a direct convolution runs on a GPU: a thread block computes
/// `channels` output channels of a (threadsX * tileX) x (threadsY * tileY)
/// pixel tile of one image, a thread one channel of tileX x tileY pixels.
/// `staged`: the block copies its input tile to shared memory first.
struct GpuTile {
  int channels = 1, tileX = 1, tileY = 1, threadsX = 1, threadsY = 1;
  bool staged = true;
};

/// The footprint of an output tile in the convolution's input along one
/// axis: `stride` apart, `reach` more positions for the filter's taps.
struct Footprint {
  int stride = 1, reach = 0;
  int span(int outputs) const { return (outputs - 1) * stride + reach + 1; }
};

/// Base of the three convolution families: their Vars, their geometry and
/// the pieces of schedule they share.
class ConvFamily : public Family {
public:
  using Family::Family;

protected:
  /// Reads the geometry from the logical shapes of the input activation `x`
  /// [N,C,H,W], the filter `w` [O,C/g,KH,KW] and the output activation `y`
  /// [N,O,Ho,Wo], and checks them against the attributes.
  ConvGeometry geometry(const Shape &x, const Shape &w, const Shape &y) const;

  /// How many of `channels` reduced channels a register tile sums before
  /// its partial sums go to memory: all of them if the filter slice of a
  /// tile of `outputChannels` (`taps` taps each) fits in L1, else the
  /// largest divisor of `channels` whose slice does.
  static int reductionBlock(int channels, int taps, int outputChannels);

  /// The block of channels a repacked filter keeps contiguous: 64, or the
  /// largest power of two that divides `channels` if that is less.
  static int channelBlock(int channels) { return std::gcd(channels, 64); }

  /// `in` with zeros outside [0, width) x [0, height).
  static Func zeroPadded(Func in, int width, int height,
                         const std::string &name);

  /// Whether the tiled schedules apply to `channels` vectorised channels.
  static bool vectorisable(int channels, const Target &target) {
    return channels % target.natural_vector_size<float>() == 0;
  }

  /// The target whose vector width schedules a layer of `channels` vectorised
  /// channels: with AVX-512, a count that fills 8-lane vectors but not
  /// 16-lane ones (24, 40, 56, ...) is scheduled with AVX2's width, so the
  /// tiled schedules still apply (the code stays AVX-512, with 256-bit
  /// vectors); the generic fallback is about 20x slower.
  static Target vectorTarget(int channels, const Target &target) {
    if (vectorisable(channels, target) || channels % 8 != 0)
      return target;
    return target.without_feature(Target::AVX512)
        .without_feature(Target::AVX512_Skylake)
        .without_feature(Target::AVX512_Cannonlake)
        .without_feature(Target::AVX512_SapphireRapids)
        .without_feature(Target::AVX512_KNL);
  }

  /// A register tile for `channels` output channels of a `width` x `height`
  /// output (none, vectors == 0, if it is empty); with `exact`, one whose
  /// sides divide the output, for stages that cannot compute past its edge.
  static RegisterTile registerTile(int channels, int width, int height,
                                   bool exact, const Target &target);

  /// Keeps `acc` (a pure zero then one update over `r`), computed at `at`,
  /// in registers: its first `tiled` pure dims unrolled with channels (dim 0)
  /// vectorised, the reduction loops outside them and the innermost one
  /// unrolled `unroll` times. The other pure dims, of extent one at `at`, go
  /// outside the reduction.
  static void accumulateInRegisters(Func acc, const std::vector<RVar> &r,
                                    LoopLevel at, int tiled, int unroll,
                                    const Target &target);

  /// Runs `out` (c, x, y, n) on threads: one image per task, or groups of
  /// `imagesPerTask` images (split into nt, ni). Returns the loop of one
  /// task, where the stages of its images are computed.
  LoopLevel taskLoop(Func out, int imagesPerTask);

  /// Schedules a direct convolution `acc` (c, x, y, n): a zero, then one
  /// update over `r` = (reduced channel, kx, ky) or a slice of the taps,
  /// computed at `task` for its images. The reduction runs in blocks of
  /// `channelBlock` channels, outermost, so that the block's slice of the
  /// filter stays in L1 while every tile goes by; each tile's partial sums
  /// are kept in registers and then added to acc.
  void scheduleDirect(Func acc, const RDom &r, LoopLevel task,
                      const RegisterTile &tile, int channelBlock,
                      const Target &target);

  /// Splits `out` (c, x, y, n) into register tiles, at which `acc` (its
  /// whole reduction in one go) is computed in registers. `image` is the
  /// loop over the images of a task (n, or ni where taskLoop split it).
  void scheduleTiled(Func out, Func acc, const RDom &r,
                     const RegisterTile &tile, int unroll, Var image,
                     const Target &target);

  /// A GPU tile for an output of `channels` x `width` x `height` whose
  /// block stages `stagedChannels` channels of input over the footprints:
  /// up to 32 channels of 4x4 pixels a thread, up to 256 threads; smaller
  /// pixel tiles where the staged input would not fit kStagedBytes.
  static GpuTile gpuTile(int channels, int width, int height,
                         int stagedChannels, Footprint fx, Footprint fy);

  /// GPU: `out` (c, x, y, n) in the thread-block tiles of `tile`, with `acc`
  /// (a zero, then one update over r = (reduced channel, x tap, y tap))
  /// computed by each thread in registers; if the tile is staged, the
  /// block copies the part of `operand` its threads read to shared memory.
  void scheduleTiledGPU(Func out, Func acc, const RDom &r, Func operand,
                        const GpuTile &tile);

  /// Shared memory a block's staged input may take: within sm_80's 48 KiB of
  /// static shared memory a block, with room for two blocks an SM.
  static constexpr int64_t kStagedBytes = 40 * 1024;

  Var c{"c"}, x{"x"}, y{"y"}, n{"n"};
  Var ct{"ct"}, ci{"ci"}, xt{"xt"}, xi{"xi"}, yt{"yt"}, yi{"yi"}, nt{"nt"},
      ni{"ni"};
  Var co{"co"}, xo{"xo"}, yo{"yo"}, xii{"xii"}, yii{"yii"}, xy{"xy"}, cn{"cn"};
  ConvGeometry g{};
};

ConvGeometry ConvFamily::geometry(const Shape &xs, const Shape &ws,
                                  const Shape &ys) const {
  if (xs.size() != 4 || ws.size() != 4 || ys.size() != 4)
    fail("activations and filter must be 4-D");
  std::vector<int64_t> strides = ints("strides", 2);
  std::vector<int64_t> padding = ints("padding", 4);
  std::vector<int64_t> dilations = ints("dilations", 2);
  ConvGeometry geom;
  geom.C = int(xs[1]);
  geom.H = int(xs[2]);
  geom.W = int(xs[3]);
  geom.O = int(ys[1]);
  geom.Ho = int(ys[2]);
  geom.Wo = int(ys[3]);
  geom.KH = int(ws[2]);
  geom.KW = int(ws[3]);
  geom.strideY = int(strides[0]);
  geom.strideX = int(strides[1]);
  geom.padTop = int(padding[0]);
  geom.padLeft = int(padding[1]);
  geom.padBottom = int(padding[2]);
  geom.padRight = int(padding[3]);
  geom.dilationY = int(dilations[0]);
  geom.dilationX = int(dilations[1]);
  geom.groups = int(intAttr("groups"));
  if (geom.strideY < 1 || geom.strideX < 1 || geom.dilationY < 1 ||
      geom.dilationX < 1 || geom.groups < 1)
    fail("strides, dilations and groups must be positive");
  if (geom.C % geom.groups || geom.O % geom.groups)
    fail("channels must be a multiple of groups");
  if (ws[0] != geom.O || ws[1] != geom.inPerGroup())
    fail("filter shape does not match the channels and groups");
  if (xs[0] != ys[0])
    fail("input and output batch differ");
  auto extent = [](int64_t in, int64_t before, int64_t after, int64_t kernel,
                   int64_t stride, int64_t dilation) {
    return (in + before + after - dilation * (kernel - 1) - 1) / stride + 1;
  };
  if (extent(geom.H, padding[0], padding[2], geom.KH, geom.strideY,
             geom.dilationY) != geom.Ho ||
      extent(geom.W, padding[1], padding[3], geom.KW, geom.strideX,
             geom.dilationX) != geom.Wo)
    fail("output extent does not match the input, filter, strides, padding "
         "and dilations");
  return geom;
}

Func ConvFamily::zeroPadded(Func in, int width, int height,
                            const std::string &name) {
  Func padded(name);
  Func bounded = BoundaryConditions::constant_exterior(
      in, 0.0f, {Range(), Range(0, width), Range(0, height), Range()});
  padded(in.args()) = bounded(in.args());
  return padded;
}

int ConvFamily::reductionBlock(int channels, int taps, int outputChannels) {
  // Three quarters of the 48 KiB L1 for the block's filter slice, the rest
  // for the input rows that stream past it. For 64 output channels of a 3x3
  // filter that is 16 input channels: 79-81% of a core's peak on 64->64 at
  // 32 px and 128->128 at 16 px, against 77% for blocks of 4 and 67% for
  // the whole filter (streamed from L2 for every tile).
  const int budget = 36 * 1024 / 4;
  int block = channels;
  while (block > 1 &&
         (block * taps * outputChannels > budget || channels % block))
    --block;
  return block;
}

RegisterTile ConvFamily::registerTile(int channels, int width, int height,
                                      bool exact, const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  const int accumulators = accumulatorRegisters(target);
  RegisterTile tile;
  if (width < 1 || height < 1) {
    tile.vectors = 0;
    return tile;
  }
  int blocks = channels / lanes;
  tile.vectors = blocks % 4 == 0 ? 4 : blocks % 2 == 0 ? 2 : 1;
  int pixels = accumulators / tile.vectors;
  auto fit = [exact](int wanted, int extent) {
    int size = std::max(1, std::min(wanted, extent));
    while (exact && extent % size)
      --size;
    return size;
  };
  // Measured with one thread, N=128, as a share of a core's FMA peak per
  // CPU-second: 4 vectors x 2x2 pixels, 81% on 64->64 at 32 px (4x1: 77%,
  // 3x2: 73%); 2 x 4x2, 81% on 32->32 at 16 px (8x1: 77%, 2x4: 75%);
  // 1 x 4x4, 69% (backward-data 61%) on 16->16 at 32 px (16x1: 62%, 52%).
  tile.tileX = fit(tile.vectors == 4 ? 2 : 4, width);
  tile.tileY = fit(pixels / tile.tileX, height);
  // Groups of 8 images for 256 channels and more, whose filter (2.4 MB and
  // up) does not fit L2: 512->512 at 4 px 81% against 59% one image at a
  // time; 64 to 128 channels do best one image at a time (86% vs 79% with 4
  // on 128->128).
  tile.imagesPerTask = channels >= 256 ? 8 : 1;
  return tile;
}

void ConvFamily::accumulateInRegisters(Func acc, const std::vector<RVar> &r,
                                       LoopLevel at, int tiled, int unroll,
                                       const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  std::vector<Var> pure = acc.args();
  std::vector<VarOrRVar> order(pure.begin(), pure.begin() + tiled);
  order.insert(order.end(), r.begin(), r.end());
  order.insert(order.end(), pure.begin() + tiled, pure.end());
  // Reorder before splitting: reorder only permutes the dims it names.
  Stage update = acc.update();
  update.reorder(order).vectorize(pure[0], lanes);
  acc.compute_at(at).vectorize(pure[0], lanes);
  for (int d = 0; d < tiled; ++d) {
    acc.unroll(pure[d]);
    update.unroll(pure[d]);
  }
  if (unroll > 1)
    update.unroll(r[0], unroll);
}

LoopLevel ConvFamily::taskLoop(Func out, int imagesPerTask) {
  if (imagesPerTask == 1) {
    out.parallel(n);
    return LoopLevel(out, n);
  }
  out.split(n, nt, ni, imagesPerTask, TailStrategy::GuardWithIf)
      .parallel(nt);
  return LoopLevel(out, nt);
}

void ConvFamily::scheduleDirect(Func acc, const RDom &r, LoopLevel task,
                                const RegisterTile &tile, int channelBlock,
                                const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  RVar ro("ro"), ri("ri");
  Var u("u");
  Func partial = acc.update().split(r.x, ro, ri, channelBlock).rfactor(ro, u);
  acc.compute_at(task).vectorize(c, lanes);
  // Tiles past the edge of the image (RoundUp) compute a few pixels of
  // zero padding rather than a slower tail.
  acc.update()
      .split(c, ct, ci, tile.vectors * lanes)
      .split(x, xt, xi, tile.tileX)
      .split(y, yt, yi, tile.tileY)
      .reorder(ci, xi, yi, xt, yt, n, ct, ro)
      .vectorize(ci, lanes)
      .unroll(ci)
      .unroll(xi)
      .unroll(yi);
  accumulateInRegisters(partial, {ri, r.y, r.z}, LoopLevel(acc, xt), 3,
                        channelBlock <= 16 ? channelBlock : 1, target);
}

void ConvFamily::scheduleTiled(Func out, Func acc, const RDom &r,
                               const RegisterTile &tile, int unroll, Var image,
                               const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  out.split(c, ct, ci, tile.vectors * lanes)
      .split(x, xt, xi, tile.tileX)
      .split(y, yt, yi, tile.tileY)
      .reorder(ci, xi, yi, xt, yt, ct)
      .vectorize(ci, lanes)
      .unroll(ci)
      .unroll(xi)
      .unroll(yi);
  // A block of output channels for every image of the task in turn, so
  // that the block's filter is read from cache.
  if (tile.imagesPerTask > 1)
    out.reorder(yt, image, ct);
  accumulateInRegisters(acc, {r.x, r.y, r.z}, LoopLevel(out, xt), 3, unroll,
                        target);
}

GpuTile ConvFamily::gpuTile(int channels, int width, int height,
                            int stagedChannels, Footprint fx, Footprint fy) {
  const int maxThreads = kGpuBlockThreads;
  GpuTile tile;
  tile.channels = std::min(channels, 32);
  tile.tileX = std::max(1, std::min(width, 4));
  tile.tileY = std::max(1, std::min(height, 4));
  // Tiles of pixels side by side must stay inside the output (ShiftInwards).
  tile.threadsX = std::max(
      1, std::min(width / tile.tileX, maxThreads / tile.channels));
  tile.threadsY = std::max(
      1, std::min(height / tile.tileY,
                  maxThreads / (tile.channels * tile.threadsX)));
  auto stagedBytes = [&] {
    return int64_t(4) * stagedChannels *
           fx.span(tile.tileX * tile.threadsX) *
           fy.span(tile.tileY * tile.threadsY);
  };
  while (stagedBytes() > kStagedBytes) {
    if (tile.threadsY > 1)
      tile.threadsY /= 2;
    else if (tile.threadsX > 1)
      tile.threadsX /= 2;
    else if (tile.tileY > 1)
      tile.tileY /= 2;
    else if (tile.tileX > 1)
      tile.tileX /= 2;
    else {
      tile.staged = false; // one pixel's input does not fit: read it directly
      break;
    }
  }
  return tile;
}

void ConvFamily::scheduleTiledGPU(Func out, Func acc, const RDom &r,
                                  Func operand, const GpuTile &tile) {
  // Output channels beyond the last are guarded; pixel tiles at the edge
  // shift inwards (gpuTile keeps them inside the output).
  out.split(c, co, ci, tile.channels, TailStrategy::GuardWithIf)
      .split(x, xo, xi, tile.tileX * tile.threadsX, TailStrategy::ShiftInwards)
      .split(y, yo, yi, tile.tileY * tile.threadsY, TailStrategy::ShiftInwards)
      .split(xi, xt, xii, tile.tileX)
      .split(yi, yt, yii, tile.tileY)
      .reorder(xii, yii, ci, xt, yt, xo, yo, co, n)
      .fuse(xo, yo, xy)
      .fuse(co, n, cn)
      .gpu_threads(ci, xt, yt)
      .gpu_blocks(xy, cn)
      .unroll(xii)
      .unroll(yii);
  // The taps innermost but for the pixels: with both unrolled, an input
  // value is loaded once for all the taps and pixels that read it.
  acc.compute_at(out, ci).unroll(x).unroll(y);
  acc.update().reorder(x, y, r.y, r.z, r.x).unroll(x).unroll(y).unroll(r.y);
  if (!tile.staged)
    return;
  // The staged copy runs on the block's threads: its points in memory
  // order, consecutive threads taking consecutive addresses.
  Func staged = operand.in(acc);
  staged.compute_at(out, xy);
  std::vector<Var> dims = staged.args();
  Var all = dims[0];
  for (size_t d = 1; d < dims.size(); ++d) {
    Var fused("staged_" + dims[d].name());
    staged.fuse(all, dims[d], fused);
    all = fused;
  }
  Var rest("staged_rest"), rest2("staged_rest2"), loop("staged_loop"),
      t0("staged_t0"), t1("staged_t1"), t2("staged_t2");
  staged.split(all, rest, t0, tile.channels, TailStrategy::GuardWithIf)
      .split(rest, rest2, t1, tile.threadsX, TailStrategy::GuardWithIf)
      .split(rest2, loop, t2, tile.threadsY, TailStrategy::GuardWithIf)
      .gpu_threads(t0, t1, t2);
}

//===----------------------------------------------------------------------===//
// Winograd F(2x2, 3x3)
//===----------------------------------------------------------------------===//

/// The matrices of Winograd's F(2, 3), applied along x and along y: B^T
/// transforms a 4-point input tile, G a 3-tap filter, A^T the 4 products
/// back to 2 outputs.
constexpr float kWinogradBT[4][4] = {
    {1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
constexpr float kWinogradG[4][3] = {
    {1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
constexpr float kWinogradAT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};

/// V(i, e, tx, ty, n) = (B^T d B)[e] for e = ex + 4 ey, where d is the 4x4
/// tile of `in` (i, x, y, n), zero outside the image, that output tile (tx,
/// ty) of a stride-1 3x3 convolution padded by (padLeft, padTop) reads. One
/// expression per point, picked by mux: schedules unroll e, so each point's
/// coefficients are constants and its zero terms vanish.
Func winogradInput(Func in, int padLeft, int padTop) {
  Var i("i"), e("e"), tx("tx"), ty("ty"), n("n");
  std::vector<Expr> points;
  for (int ey = 0; ey < 4; ++ey)
    for (int ex = 0; ex < 4; ++ex) {
      Expr v = 0.0f;
      for (int s = 0; s < 4; ++s)
        for (int r = 0; r < 4; ++r)
          if (float k = kWinogradBT[ex][r] * kWinogradBT[ey][s])
            v += k * in(i, 2 * tx + r - padLeft, 2 * ty + s - padTop, n);
      points.push_back(simplify(v));
    }
  Func transformed("winograd_input");
  transformed(i, e, tx, ty, n) = mux(e, points);
  return transformed;
}

/// Schedules winogradInput's V for one task (an image) at `task`: input
/// channels in vectors, the points unrolled.
void scheduleWinogradInput(Func transformed, LoopLevel task,
                           const Target &target) {
  std::vector<Var> v = transformed.args();
  transformed.compute_at(task)
      .vectorize(v[0], target.natural_vector_size<float>(),
                 TailStrategy::GuardWithIf)
      .unroll(v[1]);
}

/// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016) for a stride-1 3x3
/// convolution out(o, x, y, n) = sum over (i, kx, ky) of filter(o, i, kx, ky)
/// * in(i, x + kx - padLeft, y + ky - padTop, n), `in` zero outside the
/// image. Each 2x2 tile of output comes from the 4x4 tile of input under it:
/// V = B^T d B, U = G g G^T, M = sum over i of U * V (elementwise, per
/// e = ex + 4 ey of the 16 points), out = A^T M A. That is 16 multiplies per
/// 4 outputs and input channel, against 36 for the direct form: the
/// transforms are additions, and the 16 products are 16 independent matrix
/// products (output channels x input channels by input channels x tiles),
/// which a register tile runs as the direct form's tiles do.
class WinogradF2x2 {
public:
  using Filter = std::function<Expr(Expr o, Expr i, Expr kx, Expr ky)>;

  /// An output of odd extent is computed in whole tiles (the last one past
  /// the edge, from `in`'s zeros), so the stage that stores it must be one
  /// that can be rounded up.
  WinogradF2x2(Func in, const Filter &filter, int inChannels, int padLeft,
               int padTop) {
    transformedInput = winogradInput(in, padLeft, padTop);
    // One expression per point e, picked by mux: the schedules unroll e, so
    // each point's coefficients are constants and its zero terms vanish.
    std::vector<Expr> filterPoints;
    for (int ey = 0; ey < 4; ++ey)
      for (int ex = 0; ex < 4; ++ex) {
        Expr u = 0.0f;
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx)
            if (float k = kWinogradG[ex][kx] * kWinogradG[ey][ky])
              u += k * filter(o, i, kx, ky);
        filterPoints.push_back(simplify(u));
      }
    transformedFilter(o, i, e) = mux(e, filterPoints);

    r = RDom(0, inChannels, "winograd_r");
    products(o, tx, e, ty, n) = 0.0f;
    products(o, tx, e, ty, n) +=
        transformedFilter(o, r, e) * transformedInput(r, e, tx, ty, n);

    std::vector<Expr> corners;
    for (int py = 0; py < 2; ++py)
      for (int px = 0; px < 2; ++px) {
        Expr sum = 0.0f;
        for (int ey = 0; ey < 4; ++ey)
          for (int ex = 0; ex < 4; ++ex)
            if (float k = kWinogradAT[px][ex] * kWinogradAT[py][ey])
              sum += k * products(o, x / 2, ex + 4 * ey, y / 2, n);
        corners.push_back(simplify(sum));
      }
    out(o, x, y, n) = mux(x % 2 + 2 * (y % 2), corners);
  }

  /// out(o, x, y, n), to be used (inlined) by the kernel's output stage.
  Func output() const { return out; }

  /// How the CPU schedule runs the products: register tiles of `vectors`
  /// output-channel vectors by tilesX x tilesY tiles of one point, and
  /// `images` images a parallel task. `roundsUp`: the tiles pass the
  /// output's edge (an odd extent, or a last run of tiles that overhangs
  /// its row), so the stage that stores them must be one that can be
  /// rounded up, not the output itself.
  struct Plan {
    int vectors = 1, tilesX = 1, tilesY = 1, images = 1;
    bool roundsUp = false;
  };

  /// The plan for an output of `channels` x `width` x `height` from
  /// `inChannels`. Where the transformed filter fits L2 (1 MiB), a task is
  /// one image and a register tile a run of tiles along a row, all points
  /// of which are stored before the next run. Where it does not (256
  /// channels and up), a task takes several images (their transformed
  /// input within 1 MiB) and each point's slice of the filter serves every
  /// tile of them before the next point's is read.
  static Plan plan(int channels, int inChannels, int width, int height,
                   const Target &target) {
    const int lanes = target.natural_vector_size<float>();
    const int accumulators = accumulatorRegisters(target);
    Plan p;
    p.vectors = (channels / lanes) % 4 == 0   ? 4
                : (channels / lanes) % 2 == 0 ? 2
                                              : 1;
    auto divisorUpTo = [](int extent, int most) {
      int d = std::max(1, std::min(extent, most));
      while (extent % d)
        --d;
      return d;
    };
    const int tilesWide = (width + 1) / 2, tilesHigh = (height + 1) / 2;
    p.roundsUp = width % 2 || height % 2;
    const int most = accumulators / p.vectors;
    p.tilesX = divisorUpTo(tilesWide, most);
    const int64_t filterBytes = int64_t(channels) * inChannels * 16 * 4;
    if (filterBytes <= (1 << 20)) {
      // A row whose tiles no long run divides (11 at 22 pixels gave runs
      // of 1 tile: each sum waited on the last, 5.5 ms against 2.7 for the
      // forward of seed 000's 32->64 at 22 px): the run of at least half
      // the registers that overhangs the row least, the longest of those.
      if (2 * p.tilesX < std::min(most, tilesWide)) {
        auto roundedUp = [&](int run) {
          return (tilesWide + run - 1) / run * run;
        };
        int best = (most + 1) / 2;
        for (int run = best + 1; run <= most; ++run)
          if (roundedUp(run) <= roundedUp(best))
            best = run;
        p.tilesX = best;
        p.roundsUp = p.roundsUp || tilesWide % best != 0;
      }
      return p;
    }
    const int64_t inputBytes =
        int64_t(inChannels) * 16 * tilesWide * tilesHigh * 4;
    p.images = int(std::clamp<int64_t>((1 << 20) / inputBytes, 1, 8));
    p.tilesY = divisorUpTo(tilesHigh, accumulators / (p.vectors * p.tilesX));
    return p;
  }

  /// Schedules the transforms and products for `tiled`, the stage that
  /// stores the output, whose dims are (c, x, y, n) and whose loop over
  /// images within a task is `image`, as `p` says: the filter transformed
  /// once per call, the input once per task (computed at `task`), each
  /// register tile zeroed and summed over the input channels in registers,
  /// then stored (`stored`) for the output transform, which `tiled`
  /// inlines, its 2x2 corners unrolled. `tiled` is split into whole tiles
  /// (RoundUp): it must not be an output where the output's extent is odd.
  void scheduleCPU(Func tiled, LoopLevel task, Var image, const Plan &p,
                   const Target &target) {
    const int lanes = target.natural_vector_size<float>();
    transformedFilter.compute_root()
        .reorder(o, e, i)
        .vectorize(o, lanes, TailStrategy::GuardWithIf)
        .unroll(e)
        .parallel(i);
    scheduleWinogradInput(transformedInput, task, target);

    Var c = tiled.args()[0], x = tiled.args()[1], y = tiled.args()[2];
    Var ct("w_ct"), ci("w_ci"), xt("w_xt"), xi("w_xi"), xq("w_xq"),
        px("w_px"), yt("w_yt"), yi("w_yi"), txo("w_txo"), tyo("w_tyo");
    Func stored = products.in();
    const TailStrategy whole = TailStrategy::RoundUp;
    tiled.split(c, ct, ci, p.vectors * lanes)
        .split(y, yt, yi, 2, whole)
        .vectorize(ci, lanes)
        .unroll(ci)
        .unroll(yi);
    if (p.images == 1) {
      // A run of tiles at a time, every point of it.
      tiled.split(x, xt, xi, 2 * p.tilesX, whole)
          .split(xi, xq, px, 2, whole)
          .unroll(px)
          .reorder(ci, px, yi, xq, xt, yt, ct);
      stored.compute_at(tiled, xt).reorder(o, tx, e, ty, n);
      products.compute_at(stored, e);
    } else {
      // Every tile of the task's images for one block of output channels,
      // a point at a time.
      tiled.split(x, xq, px, 2, whole)
          .unroll(px)
          .reorder(ci, px, yi, xq, yt, image, ct);
      stored.compute_at(tiled, ct)
          .split(tx, txo, tx, p.tilesX)
          .split(ty, tyo, ty, p.tilesY)
          .reorder(o, tx, ty, txo, tyo, n, e)
          .unroll(ty);
      products.compute_at(stored, txo).unroll(ty);
      products.update().unroll(ty);
    }
    stored.vectorize(o, lanes).unroll(o).unroll(tx);
    products.vectorize(o, lanes).unroll(o).unroll(tx);
    products.update()
        .reorder(o, tx, ty, r, e, n)
        .vectorize(o, lanes)
        .unroll(o)
        .unroll(tx)
        .unroll(r, 4, TailStrategy::GuardWithIf);
  }

private:
  Var o{"o"}, i{"i"}, e{"e"}, x{"x"}, y{"y"}, tx{"tx"}, ty{"ty"}, n{"n"};
  RDom r;
  Func transformedInput, transformedFilter{"winograd_filter"},
      products{"winograd_products"}, out{"winograd_out"};
};

/// Whether a convolution of geometry `g` runs faster as WinogradF2x2 on
/// `target`: a CPU, a stride-1 undilated ungrouped 3x3 filter, an even
/// output unless the kernel can compute an odd one (`oddOutput`: it rounds
/// up to whole tiles, reading zeros past a padded image), output channels
/// that fill vectors, and enough input channels for the products to
/// outweigh the transforms.
bool winogradSuits(const ConvGeometry &g, int outChannels, int outWidth,
                   int outHeight, int inChannels, const Target &target,
                   bool oddOutput) {
  const int lanes = target.natural_vector_size<float>();
  return !target.has_gpu_feature() && g.KH == 3 && g.KW == 3 &&
         g.strideX == 1 && g.strideY == 1 && g.dilationX == 1 &&
         g.dilationY == 1 && g.groups == 1 &&
         (oddOutput || (outWidth % 2 == 0 && outHeight % 2 == 0)) &&
         outChannels % lanes == 0 && inChannels >= 16;
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

/// y = conv(x, w) (+ b): out(c, x, y, n) = sum over (i, kx, ky) of
/// packed(c, i, kx, ky) * padded(group(c) + i, x*sx + kx*dx, y*sy + ky*dy, n).
///
/// The fused forms apply an epilogue to the accumulators before they are
/// stored: fused_conv2d adds a bias and a residual and applies the ReLU
/// (each optional); conv2d_stats applies the ReLU if asked and also returns
/// each image's per-channel sum and sum of squared deviations (M2) of its
/// output, reduced from the image while it is still in cache.
class Conv2d : public ConvFamily {
public:
  using ConvFamily::ConvFamily;

  /// The geometry the spec's shapes and attributes give.
  ConvGeometry specGeometry() const {
    return geometry(spec.inputs[0].shape, spec.inputs[1].shape,
                    spec.outputs[0].shape);
  }

  std::vector<Func> define() override {
    const bool fused = spec.family == "fused_conv2d";
    const bool bias = fused ? intAttr("bias") != 0 : spec.inputs.size() == 3;
    const bool residual = fused && intAttr("residual") != 0;
    const bool relu = (stats() || fused) && intAttr("relu") != 0;
    const size_t inputs = 2 + bias + residual;
    if (spec.inputs.size() != inputs || spec.outputs.size() != (stats() ? 3 : 1))
      fail(stats() ? "expects inputs x, w, optional b and outputs y, image_sum, "
                   "image_m2"
                 : "expects inputs x, w, the bias and residual its "
                   "attributes name, and one output");
    g = geometry(spec.inputs[0].shape, spec.inputs[1].shape,
                 spec.outputs[0].shape);
    ImageParam xIn = input(0, "x"), w = input(1, "w");

    source(c, x, y, n) = xIn(c, x, y, n);
    padded = g.unpadded() ? source : zeroPadded(source, g.W, g.H, "padded");
    defineConvolution(w);

    // The epilogue, in the order of the layers it replaces.
    Expr result = acc(c, x, y, n);
    if (bias)
      result += input(2, "b")(c);
    if (residual)
      result += input(2 + bias, "residual")(c, x, y, n);
    if (relu)
      result = max(result, 0.0f);
    if (!stats()) {
      out(c, x, y, n) = result;
      return {out};
    }

    // The output is stored from `activation`, which the moments read too.
    activation(c, x, y, n) = result;
    out(c, x, y, n) = activation(c, x, y, n);
    moments.emplace(activation, g.Wo, g.Ho);
    return {out, moments->sum(), moments->m2()};
  }

  void scheduleCPU(const Target &host) override {
    const Target target = vectorTarget(g.O, host);
    const int lanes = target.natural_vector_size<float>();
    packed.compute_root()
        .reorder(c, kx, ky, i, cb)
        .vectorize(c, std::min(block, lanes));
    if (g.C >= lanes && !g.unpadded())
      padded.vectorize(c, lanes, TailStrategy::GuardWithIf);

    // With moments, the tiles are those of `activation`, computed for the
    // images of a task; `out` copies them to memory and the moments reduce
    // them, both in the same loop over tasks (compute_with), so the
    // convolution's output is read from cache, not memory.
    Func tiled = stats() ? activation : out;

    // Measured with conv_bench (N=128, 2 threads) while the machine's load
    // average was 7-8, so as a share of the peak per CPU-second received:
    // 64->64 at 32 px 90.6 ms, 71%; 128->128 at 16 px 76.0 ms, 78%;
    // 256->256 at 8 px 85.5 ms, 76%; 512->512 at 4 px 95.3 ms, 67%; 32->32
    // 72%; 16->16 62%; 3x3 stride 2 63-64%; 1x1 stride 2 58-70%; the stems
    // 57-64% (3->64 is bound by writing its 33 MB output). One thread alone
    // reached 81-89% on the 3x3 stride-1 layers.
    RegisterTile tile = registerTile(g.O, g.Wo, g.Ho, g.unpadded(), target);
    if (g.groups != 1 || !vectorisable(g.O, target) || tile.vectors == 0) {
      out.parallel(n).vectorize(c, lanes, TailStrategy::GuardWithIf);
      if (!g.unpadded())
        padded.compute_at(out, n);
      if (stats()) {
        activation.compute_at(out, n).vectorize(c, lanes,
                                                TailStrategy::GuardWithIf);
        moments->schedule(out, LoopLevel(out, n), n, 1, target);
      }
      acc.compute_at(tiled, x).vectorize(c, lanes, TailStrategy::GuardWithIf);
      acc.update().vectorize(c, lanes, TailStrategy::GuardWithIf);
      return;
    }
    LoopLevel task = taskLoop(out, tile.imagesPerTask);
    Var taskVar = tile.imagesPerTask == 1 ? n : nt;
    if (!g.unpadded())
      padded.compute_at(task);
    if (stats()) {
      out.vectorize(c, lanes);
      activation.compute_at(task);
      moments->schedule(out, task, taskVar, tile.imagesPerTask, target);
    }
    const int inBlock =
        reductionBlock(g.inPerGroup(), g.KH * g.KW, tile.vectors * lanes);
    if (inBlock == g.inPerGroup()) {
      scheduleTiled(tiled, acc, r, tile, inBlock <= 16 ? inBlock : 1,
                    stats() ? n : ni, target);
      return;
    }
    tiled.vectorize(c, lanes);
    scheduleDirect(acc, r, task, tile, inBlock, target);
  }

protected:
  /// acc(c, x, y, n), the convolution of `padded` with `w`, directly: the
  /// filter repacked with output channels innermost, in blocks, so that
  /// the filter of a block of output channels is one contiguous stream.
  virtual void defineConvolution(ImageParam w) {
    block = channelBlock(g.O);
    packed(c, i, kx, ky, cb) = w(kx, ky, i, cb * block + c);
    r = RDom(0, g.inPerGroup(), 0, g.KW, 0, g.KH, "r");
    Expr inChannel = g.groups == 1
                         ? Expr(r.x)
                         : (c / g.outPerGroup()) * g.inPerGroup() + r.x;
    acc(c, x, y, n) = 0.0f;
    acc(c, x, y, n) +=
        packed(c % block, r.x, r.y, r.z, c / block) *
        padded(inChannel, x * g.strideX + r.y * g.dilationX - g.padLeft,
               y * g.strideY + r.z * g.dilationY - g.padTop, n);
  }

public:
  /// The filter repacked (output channels innermost: a warp's loads
  /// coalesce), then the tiled convolution. With moments, the tiles are
  /// those of `activation`, stored; `out` copies it and the moments read
  /// it again (their own stage: the sums span every tile of an image).
  void scheduleGPU(const Target &) override {
    packed.compute_root();
    schedulePointwiseGPU(packed, {c, i, kx, ky, cb});
    const int groupsSpanned =
        g.groups == 1 ? 1
                      : std::min(g.groups, std::min(g.O, 32) / g.outPerGroup() + 2);
    GpuTile tile =
        gpuTile(g.O, g.Wo, g.Ho, groupsSpanned * g.inPerGroup(),
                {g.strideX, (g.KW - 1) * g.dilationX},
                {g.strideY, (g.KH - 1) * g.dilationY});
    Func tiled = stats() ? activation : out;
    if (stats()) {
      activation.compute_root();
      schedulePointwiseGPU(out, {c, x, y, n});
      moments->scheduleGPU(g.O);
    }
    scheduleTiledGPU(tiled, acc, r, padded, tile);
  }

protected:
  bool stats() const { return spec.family == "conv2d_stats"; }

  Func source{"source"}, padded, packed{"packed"}, acc{"acc"}, out{"out"};
  Func activation{"activation"};
  std::optional<ImageMoments> moments;
  Var i{"i"}, kx{"kx"}, ky{"ky"}, cb{"cb"};
  RDom r;
  int block = 1;
};

/// conv2d, conv2d_stats and fused_conv2d with the convolution in Winograd's
/// F(2x2, 3x3) form, where winogradSuits says it is faster (CPU targets
/// only); the epilogue is Conv2d's.
class WinogradConv2d : public Conv2d {
public:
  using Conv2d::Conv2d;

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    const WinogradF2x2::Plan plan =
        WinogradF2x2::plan(g.O, g.C, g.Wo, g.Ho, target);
    LoopLevel task = taskLoop(out, plan.images);
    Var taskVar = plan.images == 1 ? n : nt;
    // The tiles are those of `out`; with moments, those of `activation`,
    // computed per task and copied to `out`; where the tiles pass the
    // output's edge (plan.roundsUp), those of the convolution itself
    // (`acc`), computed per task in whole tiles and runs, the epilogue
    // reading it pixel by pixel (a residual has no pixels past the edge).
    const bool roundsUp = plan.roundsUp;
    Func tiled = roundsUp ? acc : stats() ? activation : out;
    // `padded` stays inline: the input transform reads the image through
    // the zero padding, its bounds checks hoisted out of the interior tiles,
    // and the image's loads overlap the transform's arithmetic. A padded
    // copy per image waited on memory alone: the 16- and 32-channel layers
    // of ResNet-20 ran 5-10% slower with it (conv-bench, per CPU-second).
    if (stats()) {
      out.vectorize(c, lanes);
      activation.compute_at(task);
      moments->schedule(out, task, taskVar, plan.images, target);
    }
    if (roundsUp) {
      acc.compute_at(task);
      (stats() ? activation : out).vectorize(c, lanes);
    }
    winograd->scheduleCPU(tiled, task,
                          roundsUp || stats() || plan.images == 1
                              ? tiled.args()[3]
                              : ni,
                          plan, target);
  }

  void scheduleGPU(const Target &) override {
    fail("the Winograd form has no GPU schedule");
  }

private:
  void defineConvolution(ImageParam w) override {
    winograd.emplace(
        padded, [w](Expr o, Expr i, Expr kx, Expr ky) { return w(kx, ky, i, o); },
        g.C, g.padLeft, g.padTop);
    acc = winograd->output();
  }

  std::optional<WinogradF2x2> winograd;
};

//===----------------------------------------------------------------------===//
// conv2d_backward_data
//===----------------------------------------------------------------------===//

/// dx = the transposed convolution of dy. A strided convolution's input
/// positions fall into stride_y x stride_x phases (x = sx*q + px); each phase
/// receives a fixed subset of the filter taps, so each is a stride-1
/// convolution of the padded dy with a slice of the filter, and dx
/// interleaves them. No multiply by an inserted zero happens at any stride.
class Conv2dBackwardData : public ConvFamily {
public:
  using ConvFamily::ConvFamily;

  std::vector<Func> define() override {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1)
      fail("expects inputs dy, w and one output");
    g = geometry(spec.outputs[0].shape, spec.inputs[1].shape,
                 spec.inputs[0].shape);
    ImageParam dy = input(0, "dy"), w = input(1, "w");
    grad(c, x, y, n) = dy(c, x, y, n);
    gradPadded = zeroPadded(grad, g.Wo, g.Ho, "grad_padded");
    defineConvolution(w);
    return {out};
  }

  /// The geometry the spec's shapes and attributes give.
  ConvGeometry specGeometry() const {
    return geometry(spec.outputs[0].shape, spec.inputs[1].shape,
                    spec.inputs[0].shape);
  }

protected:
  /// out(c, x, y, n), dx, from `gradPadded` and `w`: the phases, each a
  /// direct convolution.
  virtual void defineConvolution(ImageParam w) {
    const int inPerGroup = g.inPerGroup(), outPerGroup = g.outPerGroup();
    // Input channels innermost, in blocks as in conv2d, and the output
    // channels of their group next.
    block = channelBlock(g.C);
    Expr channel = cb * block + c;
    packed(c, o, kx, ky, cb) =
        g.groups == 1 ? w(kx, ky, channel, o)
                      : w(kx, ky, channel % inPerGroup,
                          (channel / inPerGroup) * outPerGroup + o);

    std::vector<Expr> interleaved;
    for (int py = 0; py < g.strideY; ++py)
      for (int px = 0; px < g.strideX; ++px) {
        PhaseTaps tx = phaseTaps(px, g.padLeft, g.KW, g.strideX, g.dilationX);
        PhaseTaps ty = phaseTaps(py, g.padTop, g.KH, g.strideY, g.dilationY);
        Func phase("phase_" + std::to_string(px) + "_" + std::to_string(py));
        Func result(phase.name() + "_result");
        if (tx.count == 0 || ty.count == 0) {
          phase(c, x, y, n) = 0.0f;
        } else {
          RDom r(0, outPerGroup, 0, tx.count, 0, ty.count, phase.name() + "_r");
          Expr outChannel =
              g.groups == 1 ? Expr(r.x) : (c / inPerGroup) * outPerGroup + r.x;
          phase(c, x, y, n) = 0.0f;
          phase(c, x, y, n) +=
              packed(c % block, r.x, tx.first + tx.step * r.y,
                     ty.first + ty.step * r.z, c / block) *
              gradPadded(outChannel, x + tx.offset - tx.shift * r.y,
                         y + ty.offset - ty.shift * r.z, n);
          phases.push_back({phase, r, tx.count * ty.count, result, tx, ty});
        }
        // A pure stage after the sum, where a schedule that stores the
        // phase (the GPU's, at a stride) tiles it; inlined elsewhere.
        result(c, x, y, n) = phase(c, x, y, n);
        interleaved.push_back(result(c, x / g.strideX, y / g.strideY, n));
      }
    out(c, x, y, n) =
        interleaved.size() == 1
            ? interleaved[0]
            : mux(x % g.strideX + g.strideX * (y % g.strideY), interleaved);
  }

public:
  void scheduleCPU(const Target &host) override {
    const Target target = vectorTarget(g.C, host);
    const int lanes = target.natural_vector_size<float>();
    packed.compute_root()
        .reorder(c, kx, ky, o, cb)
        .vectorize(c, std::min(block, lanes));
    if (g.O >= lanes)
      gradPadded.vectorize(c, lanes, TailStrategy::GuardWithIf);

    // Each phase is tiled in its own coordinates, and dx interleaves them.
    // Measured as conv2d's: 64->64 at 32 px 87.2 ms, 69%; 128->128 75%;
    // 256->256 72%; 512->512 66%; 3x3 stride 2 62-66%; 1x1 stride 2 16-63%
    // (writing dx, three quarters zeros, bounds the small ones). With one
    // thread, 16->16 73% and 32->32 78-87% since they accumulate at the
    // output tile.
    RegisterTile tile =
        registerTile(g.C, g.W / g.strideX, g.H / g.strideY, false, target);
    if (g.groups != 1 || !vectorisable(g.C, target) || tile.vectors == 0) {
      out.parallel(n).vectorize(c, lanes, TailStrategy::GuardWithIf);
      gradPadded.compute_at(out, n);
      for (const Phase &phase : phases) {
        Func f = phase.f;
        f.compute_at(out, n).vectorize(c, lanes, TailStrategy::GuardWithIf);
        f.update().vectorize(c, lanes, TailStrategy::GuardWithIf);
      }
      return;
    }
    LoopLevel task = taskLoop(out, tile.imagesPerTask);
    gradPadded.compute_at(task);
    // At stride 1, dx is its one phase; if the whole filter fits L1, the
    // tile accumulates all of it in registers, as in conv2d.
    if (phases.size() == 1 && g.strideX * g.strideY == 1 &&
        reductionBlock(g.outPerGroup(), phases[0].taps, tile.vectors * lanes) ==
            g.outPerGroup()) {
      scheduleTiled(out, phases[0].f, phases[0].r, tile,
                    g.outPerGroup() <= 16 ? g.outPerGroup() : 1, ni, target);
      return;
    }
    out.vectorize(c, lanes);
    // Whole phase periods, unrolled, so that dx picks its phase statically.
    if (g.strideX > 1 && g.W % g.strideX == 0)
      out.split(x, xt, xi, g.strideX).unroll(xi);
    if (g.strideY > 1 && g.H % g.strideY == 0)
      out.split(y, yt, yi, g.strideY).unroll(yi);
    // Each phase has its own share of the taps, so its own block of
    // output channels that fits L1.
    for (const Phase &phase : phases)
      scheduleDirect(
          phase.f, phase.r, task, tile,
          reductionBlock(g.outPerGroup(), phase.taps, tile.vectors * lanes),
          target);
  }

  /// The filter repacked, then each phase a tiled convolution of the padded
  /// dy: at stride 1 straight into dx, else stored for dx to interleave.
  void scheduleGPU(const Target &) override {
    packed.compute_root();
    schedulePointwiseGPU(packed, {c, o, kx, ky, cb});
    const int groupsSpanned =
        g.groups == 1
            ? 1
            : std::min(g.groups, std::min(g.C, 32) / g.inPerGroup() + 2);
    const int width = (g.W + g.strideX - 1) / g.strideX,
              height = (g.H + g.strideY - 1) / g.strideY;
    const bool direct = g.strideX * g.strideY == 1 && phases.size() == 1;
    if (!direct)
      schedulePointwiseGPU(out, {c, x, y, n});
    for (Phase &phase : phases) {
      GpuTile tile = gpuTile(g.C, width, height,
                             groupsSpanned * g.outPerGroup(),
                             {1, (phase.tx.count - 1) * phase.tx.shift},
                             {1, (phase.ty.count - 1) * phase.ty.shift});
      if (!direct)
        phase.result.compute_root();
      scheduleTiledGPU(direct ? out : phase.result, phase.f, phase.r,
                       gradPadded, tile);
    }
  }

protected:
  Func grad{"grad"}, gradPadded, packed{"packed"}, out{"out"};
  /// A phase that receives at least one tap: its sum, its reduction (output
  /// channels, taps in x, taps in y), how many taps, its pure result, and
  /// its taps along each axis.
  struct Phase {
    Func f;
    RDom r;
    int taps;
    Func result;
    PhaseTaps tx, ty;
  };
  std::vector<Phase> phases;
  Var o{"o"}, kx{"kx"}, ky{"ky"}, cb{"cb"};
  int block = 1;
};

/// conv2d_backward_data at stride 1 in Winograd's F(2x2, 3x3) form, where
/// winogradSuits says it is faster: dx is the convolution of dy with the
/// filter turned by 180 degrees and transposed (x + pad - k = x + k' -
/// (2 - pad) for k' = 2 - k), padded by 2 - pad.
class WinogradConv2dBackwardData : public Conv2dBackwardData {
public:
  using Conv2dBackwardData::Conv2dBackwardData;

  void scheduleCPU(const Target &target) override {
    const WinogradF2x2::Plan plan =
        WinogradF2x2::plan(g.C, g.O, g.W, g.H, target);
    LoopLevel task = taskLoop(out, plan.images);
    // `gradPadded` stays inline, as `padded` in WinogradConv2d. A dx whose
    // tiles pass its edge (odd, or runs that overhang) is computed in whole
    // tiles per task and copied to `out`.
    const bool roundsUp = plan.roundsUp;
    if (roundsUp) {
      tiles.compute_at(task);
      out.vectorize(c, target.natural_vector_size<float>());
    }
    winograd->scheduleCPU(roundsUp ? tiles : out, task,
                          roundsUp || plan.images == 1 ? n : ni, plan, target);
  }

  void scheduleGPU(const Target &) override {
    fail("the Winograd form has no GPU schedule");
  }

private:
  void defineConvolution(ImageParam w) override {
    winograd.emplace(
        gradPadded,
        [w](Expr c, Expr o, Expr kx, Expr ky) {
          return w(2 - kx, 2 - ky, c, o);
        },
        g.O, 2 - g.padLeft, 2 - g.padTop);
    tiles(c, x, y, n) = winograd->output()(c, x, y, n);
    out(c, x, y, n) = tiles(c, x, y, n);
  }

  std::optional<WinogradF2x2> winograd;
  Func tiles{"winograd_dx"};
};

//===----------------------------------------------------------------------===//
// conv2d_backward_filter
//===----------------------------------------------------------------------===//

/// dw(kx, ky, i, o) = sum over (x, y, n) of dy(o, x, y, n) *
/// padded(group(o) + i, x*sx + kx*dx, y*sy + ky*dy, n), over the run-time
/// batch; db(o) = sum of dy. A matrix product whose reduction runs over
/// every output pixel of every image. Its operands and its sum are laid out
/// in channel blocks (for ungrouped convs): dy and the sum in blocks of
/// output channels, the padded input in blocks of a few input channels, so
/// that a register tile of output-channel vectors by broadcast input
/// channels reads and updates contiguous memory whatever the channel count.
class Conv2dBackwardFilter : public ConvFamily {
public:
  using ConvFamily::ConvFamily;

  std::vector<Func> define() override {
    if (spec.inputs.size() != 2 || spec.outputs.empty() ||
        spec.outputs.size() > 2)
      fail("expects inputs x, dy and outputs dw, optional db");
    g = geometry(spec.inputs[0].shape, spec.outputs[0].shape,
                 spec.inputs[1].shape);
    ImageParam xIn = input(0, "x"), dy = input(1, "dy");

    source(c, x, y, n) = xIn(c, x, y, n);
    padded = zeroPadded(source, g.W, g.H, "padded");
    grad(c, x, y, n) = dy(c, x, y, n);
    batch = dy.dim(3).extent();
    defineFilterGradient();
    if (spec.outputs.size() == 1)
      return {dw};

    biasRows = RDom(0, g.Wo, 0, g.Ho, 0, batch, "rb");
    biasSum(o) = 0.0f;
    biasSum(o) += grad(o, biasRows.x, biasRows.y, biasRows.z);
    db(o) = biasSum(o);
    return {dw, db};
  }

  /// The geometry the spec's shapes and attributes give.
  ConvGeometry specGeometry() const {
    return geometry(spec.inputs[0].shape, spec.outputs[0].shape,
                    spec.inputs[1].shape);
  }

protected:
  /// dw(kx, ky, i, o) from `padded` and `grad`, directly: one sum over every
  /// output pixel of the batch, in channel blocks.
  virtual void defineFilterGradient() {
    // 256 products per pair of blocks: a register tile's worth.
    outBlock = channelBlock(g.O);
    inBlock = g.inPerGroup();
    while (inBlock * outBlock > 256 || g.inPerGroup() % inBlock)
      --inBlock;

    r = RDom(0, g.Wo, 0, g.Ho, 0, batch, "r");
    Expr inX = r.x * g.strideX + kx * g.dilationX - g.padLeft;
    Expr inY = r.y * g.strideY + ky * g.dilationY - g.padTop;
    sum(o, i, kx, ky, ob) = 0.0f;
    if (g.groups == 1) {
      gradBlocked(c, x, y, n, cb) = grad(cb * outBlock + c, x, y, n);
      Expr channel = cb * inBlock + c;
      if (g.KH * g.KW == 1) {
        // A 1x1 filter reads one input pixel per output pixel: the copy
        // keeps only those (a quarter of them at stride 2).
        inputBlocked(c, x, y, n, cb) = padded(
            channel, x * g.strideX - g.padLeft, y * g.strideY - g.padTop, n);
        inX = r.x;
        inY = r.y;
      } else {
        inputBlocked(c, x, y, n, cb) = padded(channel, x, y, n);
      }
      sum(o, i, kx, ky, ob) +=
          gradBlocked(o, r.x, r.y, r.z, ob) *
          inputBlocked(i % inBlock, inX, inY, r.z, i / inBlock);
    } else {
      Expr outChannel = ob * outBlock + o;
      Expr inChannel = (outChannel / g.outPerGroup()) * g.inPerGroup() + i;
      sum(o, i, kx, ky, ob) +=
          grad(outChannel, r.x, r.y, r.z) * padded(inChannel, inX, inY, r.z);
    }
    dw(kx, ky, i, o) = sum(o % outBlock, i, kx, ky, o / outBlock);
  }

  /// dw goes out in the contract's (kx, ky, i, o) layout: a transpose, a
  /// block of output channels at a time, `vector` of them at once (read
  /// together, written apart).
  void scheduleTranspose(int vector) {
    dw.split(o, ob, o, outBlock)
        .split(o, o, oi, vector)
        .reorder(oi, kx, ky, i, o, ob)
        .vectorize(oi)
        .unroll(kx)
        .unroll(ky)
        .parallel(ob);
  }

  /// db, if asked for, as one vectorised sum.
  void scheduleBiasCPU(const Target &target) {
    if (spec.outputs.size() != 2)
      return;
    const int lanes = target.natural_vector_size<float>();
    biasSum.compute_root().vectorize(o, lanes, TailStrategy::GuardWithIf);
    biasSum.update().vectorize(o, lanes, TailStrategy::GuardWithIf);
  }

public:
  void scheduleCPU(const Target &host) override {
    const Target target = vectorTarget(outBlock, host);
    const int lanes = target.natural_vector_size<float>();
    scheduleBiasCPU(target);
    const int vector = std::min(outBlock, lanes);
    scheduleTranspose(vector);
    RVar rc("rc"), rz("rz");
    Var u("u");
    if (g.groups != 1 || outBlock % lanes) {
      Func partial = sum.update()
                         .split(r.z, rc, rz, max(1, (batch + 7) / 8),
                                TailStrategy::GuardWithIf)
                         .rfactor(rc, u);
      sum.compute_at(dw, ob).vectorize(o, vector);
      sum.update().vectorize(o, vector);
      partial.compute_root().vectorize(o, vector);
      partial.update()
          .reorder(o, i, kx, ky, r.x, r.y, ob, rz, u)
          .vectorize(o, vector)
          .parallel(u);
      padded.compute_at(partial, rz);
      if (g.C >= lanes)
        padded.vectorize(c, lanes, TailStrategy::GuardWithIf);
      return;
    }

    // Register tiles of one block of output channels by one block of input
    // channels, each summing over a block of about `blockPixels` output
    // pixels (rows of one image, or whole images) and then adding into the
    // sum: the block of dy stays in L1 while all the tiles go by. 128 pixels
    // measured best with one thread: 512->512 at 4 px 69% of a core (64:
    // 67%, 256: 66%, 512: 61%), 128->256 stride 2 74% (256: 64%).
    const int blockPixels = 128;
    const int pixels = g.Ho * g.Wo;
    RVar ro("ro"), ri("ri");
    Var v("v"), w("w");
    Func block;
    std::vector<RVar> blockReduction;
    RVar imageLoop = r.z;
    const bool byRows = pixels >= blockPixels;
    const int imagesPerBlock = (blockPixels + pixels - 1) / pixels;
    if (byRows) {
      int rows = std::max(1, blockPixels / g.Wo);
      while (g.Ho % rows)
        --rows;
      block =
          sum.update().split(r.y, ro, ri, rows).rfactor({{ro, v}, {r.z, w}});
      blockReduction = {r.x, ri};
    } else {
      block = sum.update()
                  .split(r.z, ro, ri, imagesPerBlock, TailStrategy::GuardWithIf)
                  .rfactor(ro, w);
      blockReduction = {r.x, r.y, ri};
      imageLoop = ro;
    }

    // Measured as conv2d's: 64->64 at 32 px 84.9 ms, 71%; 128->128 72%;
    // 256->256 71%; 512->512 66% (42% with batch chunks instead of channel
    // blocks); 3x3 stride 2 55-65%; 16->16 53% and the stems 38-52%, bound
    // by reading their inputs (37 FLOP per byte at 16 channels).
    //
    // Where the filter is large, threads take blocks of output channels of
    // the one sum, and the blocked operands are computed once for the whole
    // batch. Elsewhere they take chunks of the batch, each summing into its
    // own partial filter gradient, and the partials are added one block of
    // output channels at a time as the transpose needs them. (rfactor moves
    // the update's schedule to the partials, so the sum of the partials is
    // scheduled after it.)
    const bool byChannels = g.O / outBlock >= 4;
    Func accumulator = sum;
    if (byChannels) {
      sum.compute_root().vectorize(o, lanes);
      gradBlocked.compute_root().parallel(n).vectorize(c, lanes);
      inputBlocked.compute_root().parallel(n);
    } else {
      Expr steps =
          byRows ? batch : (batch + imagesPerBlock - 1) / imagesPerBlock;
      accumulator = sum.update()
                        .split(imageLoop, rc, rz, max(1, (steps + 7) / 8),
                               TailStrategy::GuardWithIf)
                        .rfactor(rc, u);
      imageLoop = rz;
      sum.compute_at(dw, ob).vectorize(o, lanes);
      sum.update().vectorize(o, lanes);
      accumulator.compute_root().vectorize(o, lanes);
      // With one block of output channels dy is its own blocked copy.
      if (outBlock < g.O)
        gradBlocked.compute_at(accumulator, rz).vectorize(c, lanes);
      inputBlocked.compute_at(accumulator, rz);
    }
    // The copies go pixel by pixel, all blocks of a pixel at once, so that
    // their sources are read once and in order; the blocks of an image are
    // stored together, so that those writes stay within a few pages.
    for (Func copy : {gradBlocked, inputBlocked})
      copy.reorder(c, cb, x, y, n).reorder_storage(c, x, y, cb, n);
    if (inBlock % 4 == 0)
      inputBlocked.vectorize(c, std::min(inBlock, lanes));

    // The register tile: the blocks, or as much of them as the registers
    // hold (AVX2 has half the registers of AVX-512).
    const int vectors =
        std::min(outBlock / lanes, accumulatorRegisters(target));
    int inputs = std::min(inBlock, accumulatorRegisters(target) / vectors);
    while (inBlock % inputs)
      --inputs;
    Stage update = accumulator.update();
    update.split(o, oo, o, vectors * lanes)
        .split(i, it, ii, inBlock)
        .split(ii, iio, ii, inputs);
    std::vector<VarOrRVar> order = {o, ii, kx, ky, iio, oo, it};
    if (!byChannels)
      order.push_back(ob);
    if (byRows)
      order.push_back(ro);
    order.push_back(imageLoop);
    order.push_back(byChannels ? VarOrRVar(ob) : VarOrRVar(u));
    update.reorder(order).vectorize(o, lanes).unroll(o).unroll(ii);
    update.parallel(byChannels ? VarOrRVar(ob) : VarOrRVar(u));
    // A tile of few accumulators (the 3-channel stem) is latency-bound: it
    // takes the row of taps too, each a chain of its own.
    const bool withTaps =
        vectors * inputs * g.KW <= accumulatorRegisters(target);
    if (withTaps)
      update.unroll(kx);
    accumulateInRegisters(block, blockReduction,
                          LoopLevel(accumulator, withTaps ? ky : kx),
                          withTaps ? 3 : 2, 1, target);
  }

  /// The sum over the batch in chunks of images, a thread per filter
  /// element and chunk (output channels innermost: a warp reads dy
  /// coalesced and the input as broadcasts); then a thread per element of
  /// dw adds its chunks in order. Likewise db.
  void scheduleGPU(const Target &) override {
    // At most 4 Mi partial sums (16 MiB) and 32 chunks.
    const int64_t elements =
        int64_t(g.O) * g.inPerGroup() * g.KW * g.KH;
    const int chunks =
        int(std::clamp<int64_t>((int64_t(4) << 20) / elements, 1, 32));
    Expr perChunk = max(1, (batch + chunks - 1) / chunks);
    RVar rc("rc"), rz("rz");
    Var u("u");
    Func partial = sum.update()
                       .split(r.z, rc, rz, perChunk, TailStrategy::GuardWithIf)
                       .rfactor(rc, u);
    partial.compute_root();
    schedulePointwiseGPU(partial, partial.args());
    schedulePointwiseGPU(partial.update(), partial.args());
    scheduleElementReductionGPU(dw, sum, {kx, ky, i, o});
    if (spec.outputs.size() == 1)
      return;
    RVar bc("bc"), bz("bz");
    Var bu("bu");
    Func biasPartial = biasSum.update()
                           .split(biasRows.z, bc, bz, max(1, (batch + 31) / 32),
                                  TailStrategy::GuardWithIf)
                           .rfactor(bc, bu);
    biasPartial.compute_root();
    schedulePointwiseGPU(biasPartial, biasPartial.args());
    schedulePointwiseGPU(biasPartial.update(), biasPartial.args());
    scheduleElementReductionGPU(db, biasSum, {o});
  }

protected:
  Func source{"source"}, padded, grad{"grad"}, gradBlocked{"grad_blocked"},
      inputBlocked{"input_blocked"}, sum{"sum"}, dw{"dw"}, biasSum{"bias_sum"},
      db{"db"};
  Var o{"o"}, i{"i"}, kx{"kx"}, ky{"ky"}, cb{"cb"}, ob{"ob"}, oo{"oo"},
      oi{"oi"}, it{"it"}, iio{"iio"}, ii{"ii"};
  Expr batch;
  RDom r, biasRows;
  int outBlock = 1, inBlock = 1;
};

/// conv2d_backward_filter in Winograd's F(2x2, 3x3) form, where
/// winogradSuits says it is faster: the gradient of the forward form,
/// dw = G^T [sum over tiles and images of (A dy A^T) * (B^T d B)] G, with
/// d the input tile conv2d transforms and dy the 2x2 output tile. The sum
/// runs in the transformed domain, 16 products per tile and pair of
/// channels against 36 for the direct sum over 4 pixels; G^T . G runs once
/// at the end. Per point, the sum is a matrix product (output channels x
/// terms by terms x input channels, a term a tile of an image), read
/// through blocks of channels as the direct form reads its operands.
class WinogradConv2dBackwardFilter : public Conv2dBackwardFilter {
public:
  using Conv2dBackwardFilter::Conv2dBackwardFilter;

  void scheduleCPU(const Target &target) override {
    scheduleBiasCPU(target);
    const int64_t filterBytes = int64_t(g.O) * g.C * 16 * 4;
    if (filterBytes <= (1 << 20))
      scheduleByImages(target);
    else
      scheduleByChannels(target);
  }

  void scheduleGPU(const Target &) override {
    fail("the Winograd form has no GPU schedule");
  }

private:
  void defineFilterGradient() override {
    outBlock = channelBlock(g.O);
    inBlock = std::gcd(g.C, 16);
    transformedInput = winogradInput(padded, g.padLeft, g.padTop);
    std::vector<Expr> points;
    for (int ey = 0; ey < 4; ++ey)
      for (int ex = 0; ex < 4; ++ex) {
        Expr v = 0.0f;
        for (int py = 0; py < 2; ++py)
          for (int px = 0; px < 2; ++px)
            if (float k = kWinogradAT[px][ex] * kWinogradAT[py][ey])
              v += k * grad(o, 2 * tx + px, 2 * ty + py, n);
        points.push_back(simplify(v));
      }
    transformedGrad(o, e, tx, ty, n) = mux(e, points);
    gradBlocked(c, e, tx, ty, n, cb) =
        transformedGrad(cb * outBlock + c, e, tx, ty, n);
    inputBlocked(c, e, tx, ty, n, cb) =
        transformedInput(cb * inBlock + c, e, tx, ty, n);

    terms = RDom(0, g.Wo / 2, 0, g.Ho / 2, 0, batch, "terms");
    transformedSum(o, i, e, ob) = 0.0f;
    transformedSum(o, i, e, ob) +=
        gradBlocked(o, e, terms.x, terms.y, terms.z, ob) *
        inputBlocked(i % inBlock, e, terms.x, terms.y, terms.z, i / inBlock);

    Expr sum = 0.0f;
    for (int ey = 0; ey < 4; ++ey)
      for (int ex = 0; ex < 4; ++ex)
        sum += select(kx == 0, kWinogradG[ex][0],
                      kx == 1, kWinogradG[ex][1], kWinogradG[ex][2]) *
               select(ky == 0, kWinogradG[ey][0],
                      ky == 1, kWinogradG[ey][1], kWinogradG[ey][2]) *
               transformedSum(o % outBlock, i, ex + 4 * ey, o / outBlock);
    dw(kx, ky, i, o) = sum;
  }

  /// Splits `update`, a sum over (o, i, ...), into register tiles of up to
  /// 4 vectors of output channels (o) by input channels of a block (ii),
  /// then the blocks of input channels (io), then the loops `outer`.
  Stage tileProducts(Stage update, const std::vector<VarOrRVar> &outer,
                     const Target &target) {
    const int lanes = target.natural_vector_size<float>();
    const int vectors = std::min(outBlock / lanes, 4);
    int inputs = std::min(inBlock, accumulatorRegisters(target) / vectors);
    while (inBlock % inputs)
      --inputs;
    std::vector<VarOrRVar> order = {o, ii, io};
    order.insert(order.end(), outer.begin(), outer.end());
    return update.split(o, oo, o, vectors * lanes)
        .split(i, io, ii, inputs)
        .reorder(order)
        .vectorize(o, lanes)
        .unroll(o)
        .unroll(ii);
  }

  /// Where the transformed filter fits L2 (up to 128 channels each way):
  /// threads take chunks of the batch (8 chunks, as the direct form), each
  /// summing its images into a partial of its own, the partials then added.
  /// The images of a chunk go by in groups of at least 64 tiles (one image
  /// from 16x16 pixels up): per group, both transforms; then for each
  /// point, each register tile of output-channel vectors by input channels
  /// sums the group's tiles and adds them to the chunk's partial. (One
  /// image a group at 6x6 pixels, 9 tiles, spent as long adding to the
  /// partial as summing: 64->64 at 6 px, batch 64, 0.82 ms against 0.42
  /// for the forward.)
  void scheduleByImages(const Target &target) {
    const int lanes = target.natural_vector_size<float>();
    dw.compute_root().unroll(kx).unroll(ky).parallel(o);
    const int tilesPerImage = (g.Wo / 2) * (g.Ho / 2);
    int imagesPerGroup = 1;
    while (imagesPerGroup * tilesPerImage < 64)
      imagesPerGroup *= 2;
    RVar rc("rc"), rz("rz"), rg("rg"), rj("rj");
    Var u("u"), w("w");
    Func partial = transformedSum.update()
                       .split(terms.z, rc, rz, max(1, (batch + 7) / 8),
                              TailStrategy::GuardWithIf)
                       .rfactor(rc, u);
    Func groupSum = partial.update()
                        .split(rz, rg, rj, imagesPerGroup,
                               TailStrategy::GuardWithIf)
                        .rfactor(rg, w);
    transformedSum.compute_root().vectorize(o, lanes);
    transformedSum.update().vectorize(o, lanes);
    partial.compute_root().vectorize(o, lanes);

    tileProducts(partial.update(), {oo, ob, e, rg, u}, target).parallel(u);
    LoopLevel group(partial, rg);
    scheduleWinogradInput(transformedInput, group, target);
    transformedGrad.compute_at(group).vectorize(o, lanes).unroll(e);
    // The products read one point of every tile in turn. Where a tile's 16
    // points of all channels span 4 KiB or more (64 channels and up), the
    // tiles of a point stored 4 KiB apart fall in the same few L1 sets:
    // store each point's tiles together instead (a plane per point, all
    // images of the group in it).
    // Filter gradient of 64->64 at 32 px: 54 against 87 CPU-ms; 128->128
    // at 16 px: 47 against 54; 16->16 at 32 px is slower that way.
    auto planarWhereWide = [](Func transformed, int channels) {
      std::vector<Var> v = transformed.args(); // (c, e, tx, ty, n)
      if (channels * 16 * 4 >= 4096)
        transformed.reorder_storage(v[0], v[2], v[3], v[4], v[1]);
    };
    planarWhereWide(transformedInput, g.C);
    planarWhereWide(transformedGrad, g.O);
    accumulateInRegisters(groupSum, {terms.x, terms.y, rj},
                          LoopLevel(partial, io), 2, 1, target);
  }

  /// Where it does not (256 channels and up): the batch goes by in groups
  /// of images (128 terms or more; 64 to 256 measured alike, 512 slower at
  /// 512 channels); for each, both transforms, into blocks
  /// of channels whose terms are stored in turn for each point, then
  /// threads take blocks of output channels, as the direct form does
  /// there. A register tile reads both operands in order: its block of dy
  /// from L1 while the blocks of input go by. (Transforms of the whole
  /// batch at once, 32 MiB each at 256 channels, spent more time in page
  /// faults than the products took.)
  void scheduleByChannels(const Target &target) {
    const int lanes = target.natural_vector_size<float>();
    const int tilesPerImage = (g.Wo / 2) * (g.Ho / 2);
    const int imagesPerGroup = std::max(1, 128 / tilesPerImage);
    RVar rg("rg"), rj("rj");
    Var w("w");
    Func group = transformedSum.update()
                     .split(terms.z, rg, rj, imagesPerGroup,
                            TailStrategy::GuardWithIf)
                     .rfactor(rg, w);
    transformedSum.compute_root().vectorize(o, lanes).parallel(ob);

    tileProducts(transformedSum.update(), {oo, e, ob, rg}, target)
        .parallel(ob);
    // Stored by block and point, each run of terms in turn, written in
    // order: going by terms, a store per plane would put every store of a
    // term in one L1 set (planes 4 KiB apart). The points are unrolled,
    // their coefficients constants.
    for (Func blocked : {gradBlocked, inputBlocked}) {
      std::vector<Var> v = blocked.args(); // (c, e, tx, ty, n, cb)
      blocked.compute_at(transformedSum, rg)
          .reorder(v[0], v[2], v[3], v[4], v[1], v[5])
          .reorder_storage(v[0], v[2], v[3], v[4], v[5], v[1])
          .unroll(v[1])
          .parallel(v[5]);
    }
    gradBlocked.vectorize(c, lanes);
    inputBlocked.vectorize(c, std::min(inBlock, lanes));
    // A row of 2 or 4 tiles is a short loop: unrolled, measured 46-53
    // against 61 CPU-ms at 512 channels, 4 px.
    const int tilesX = g.Wo / 2;
    accumulateInRegisters(group, {terms.x, terms.y, rj},
                          LoopLevel(transformedSum, io), 2,
                          tilesX <= 4 ? tilesX : 1, target);
    // G^T . G back, reading vectors of output channels of the sum (16 MiB
    // at 512 channels) and writing them apart, as the direct form's
    // transpose does: 512->512 at 4 px 39-43 against 51-60 CPU-ms, reading
    // each point for one channel at a time. (128->128 was slower so.)
    scheduleTranspose(lanes);
  }

  Var e{"e"}, tx{"tx"}, ty{"ty"}, io{"io"};
  RDom terms;
  Func transformedInput, transformedGrad{"winograd_grad"},
      transformedSum{"winograd_sum"};
};

/// Registers family `name` to make `Winograd` where `suits` says the spec's
/// geometry on the target is faster in that form, else `Direct`. A spec
/// without its operands gets `Direct`, whose define() says what is missing.
template <typename Direct, typename Winograd>
void addWithWinograd(FamilyRegistry &registry, const std::string &name,
                     bool (*suits)(const ConvGeometry &, const Target &)) {
  registry.add(name, [suits](const KernelSpec &spec, const Target &target) {
    std::unique_ptr<Direct> direct(new Direct(spec));
    if (spec.inputs.size() >= 2 && !spec.outputs.empty() &&
        suits(direct->specGeometry(), target))
      return std::unique_ptr<Family>(new Winograd(spec));
    return std::unique_ptr<Family>(std::move(direct));
  });
}

} // namespace

void registerConvFamilies(FamilyRegistry &registry) {
  for (const char *name : {"conv2d", "conv2d_stats", "fused_conv2d"})
    addWithWinograd<Conv2d, WinogradConv2d>(
        registry, name, [](const ConvGeometry &g, const Target &target) {
          return winogradSuits(g, g.O, g.Wo, g.Ho, g.C, target,
                               /*oddOutput=*/!g.unpadded());
        });
  addWithWinograd<Conv2dBackwardData, WinogradConv2dBackwardData>(
      registry, "conv2d_backward_data",
      [](const ConvGeometry &g, const Target &target) {
        return winogradSuits(g, g.C, g.W, g.H, g.O, target,
                             /*oddOutput=*/true);
      });
  addWithWinograd<Conv2dBackwardFilter, WinogradConv2dBackwardFilter>(
      registry, "conv2d_backward_filter",
      [](const ConvGeometry &g, const Target &target) {
        return winogradSuits(g, g.O, g.Wo, g.Ho, g.C, target,
                             /*oddOutput=*/false);
      });
}

} // namespace resnetc::kernels
