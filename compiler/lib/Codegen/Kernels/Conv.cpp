//===- Conv.cpp - convolution kernel families --------------------------------===//
//
// conv2d and its two gradients as direct convolutions over NHWC activations
// (Halide dims (c, x, y, n)). Each algorithm reads its activations through a
// plain Func (`source`, `grad`) so that a fused prologue (BatchNorm's scale
// and shift, a ReLU mask) can later replace that Func, pads it with zeros in
// its own stage, and ends in a pure output stage where an epilogue (bias,
// per-channel sums) goes.
//
// The schedules keep a tile of accumulators in registers: the channel
// dimension vectorised, a few vectors by a few pixels unrolled, the reduction
// loops outside them. The padded input is computed per image (or group of
// images) so that the inner loops have no boundary checks, and the filter is
// repacked once per call so that the vectorised channels are contiguous.
// Shapes the tiled schedules do not cover (grouped convs, channel counts
// that are not a multiple of the vector width, outputs smaller than a tile)
// get a plain vectorised schedule: correct, not fast.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <algorithm>
#include <numeric>

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// The static geometry shared by a convolution and its two gradients.
struct ConvGeometry {
  int C, H, W;    ///< Input channels, height, width.
  int O, Ho, Wo;  ///< Output channels, height, width.
  int KH, KW;     ///< Filter height and width.
  int strideY, strideX;
  int padTop, padLeft; ///< Bottom and right padding only shape Ho and Wo.
  int dilationY, dilationX;
  int groups;

  int inPerGroup() const { return C / groups; }
  int outPerGroup() const { return O / groups; }
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
    // Exact division: numerator is a multiple of stride.
    taps.offset = numerator >= 0 ? numerator / stride
                                 : -((-numerator) / stride);
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

/// Base of the three convolution families: the shared Vars, the geometry,
/// and the stages every convolution algorithm has.
class ConvFamily : public Family {
public:
  using Family::Family;

protected:
  /// Reads the geometry from the logical shapes of the input activation `x`
  /// [N,C,H,W], the filter `w` [O,C/g,KH,KW] and the output activation `y`
  /// [N,O,Ho,Wo], and checks them against the attributes.
  ConvGeometry geometry(const Shape &x, const Shape &w, const Shape &y) const;

  /// `in` with zeros outside [0, width) x [0, height).
  static Func zeroPadded(Func in, int width, int height, const std::string &name);

  /// Whether the tiled schedules apply to `channels` vectorised channels.
  static bool vectorisable(int channels, const Target &target) {
    return channels % target.natural_vector_size<float>() == 0;
  }

  /// A register tile for `channels` output channels of a `width` x `height`
  /// output, or none (vectors == 0) if the output is smaller than a tile.
  static RegisterTile registerTile(int channels, int width, int height,
                                   const Target &target);

  /// Keeps `acc` (a pure zero then one update over `r`), computed at `at`,
  /// in registers: its first `tiled` pure dims unrolled with channels (dim 0)
  /// vectorised, the reduction loops outside them and the innermost one
  /// unrolled `unroll` times. The other pure dims, of extent one at `at`, go
  /// outside the reduction.
  static void accumulateInRegisters(Func acc, const RDom &r, LoopLevel at,
                                    int tiled, int unroll,
                                    const Target &target);

  Var c{"c"}, x{"x"}, y{"y"}, n{"n"};
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

RegisterTile ConvFamily::registerTile(int channels, int width, int height,
                                      const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  // Half the vector registers hold accumulators; the rest hold the filter
  // vectors and the broadcast inputs of one reduction step.
  const int accumulators = target.has_feature(Target::AVX512) ? 16 : 8;
  RegisterTile tile;
  int blocks = channels / lanes;
  tile.vectors = blocks % 4 == 0 ? 4 : blocks % 2 == 0 ? 2 : 1;
  int pixels = accumulators / tile.vectors;
  tile.tileX = std::min(width, tile.vectors == 4 ? 2 : pixels / 2);
  if (tile.vectors == 1)
    tile.tileX = std::min(width, pixels);
  tile.tileY = std::min(height, pixels / std::max(tile.tileX, 1));
  if (tile.tileX < 1 || tile.tileY < 1)
    tile.vectors = 0;
  tile.imagesPerTask = channels >= 256 ? 8 : 1;
  return tile;
}

void ConvFamily::accumulateInRegisters(Func acc, const RDom &r, LoopLevel at,
                                       int tiled, int unroll,
                                       const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  std::vector<Var> pure = acc.args();
  Stage update = acc.update();
  acc.compute_at(at).vectorize(pure[0], lanes);
  update.vectorize(pure[0], lanes);
  std::vector<VarOrRVar> order(pure.begin(), pure.begin() + tiled);
  for (int d = 0; d < tiled; ++d) {
    acc.unroll(pure[d]);
    update.unroll(pure[d]);
  }
  for (int d = 0; d < r.dimensions(); ++d)
    order.push_back(r[d]);
  order.insert(order.end(), pure.begin() + tiled, pure.end());
  update.reorder(order);
  if (unroll > 1)
    update.unroll(r[0], unroll);
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

/// y = conv(x, w) (+ b): out(c, x, y, n) = sum over (i, kx, ky) of
/// packed(c, i, kx, ky) * padded(group(c) + i, x*sx + kx*dx, y*sy + ky*dy, n).
class Conv2d : public ConvFamily {
public:
  using ConvFamily::ConvFamily;

  std::vector<Func> define() override {
    if (spec.inputs.size() < 2 || spec.inputs.size() > 3 ||
        spec.outputs.size() != 1)
      fail("expects inputs x, w, optional b and one output");
    g = geometry(spec.inputs[0].shape, spec.inputs[1].shape,
                 spec.outputs[0].shape);
    ImageParam xIn = input(0, "x"), w = input(1, "w");

    source(c, x, y, n) = xIn(c, x, y, n);
    padded = zeroPadded(source, g.W, g.H, "padded");
    // Output channels innermost, so that the schedule can vectorise them.
    packed(c, i, kx, ky) = w(kx, ky, i, c);

    r = RDom(0, g.inPerGroup(), 0, g.KW, 0, g.KH, "r");
    Expr inChannel = g.groups == 1
                         ? Expr(r.x)
                         : (c / g.outPerGroup()) * g.inPerGroup() + r.x;
    acc(c, x, y, n) = 0.0f;
    acc(c, x, y, n) +=
        packed(c, r.x, r.y, r.z) *
        padded(inChannel, x * g.strideX + r.y * g.dilationX - g.padLeft,
               y * g.strideY + r.z * g.dilationY - g.padTop, n);

    Expr result = acc(c, x, y, n);
    if (spec.inputs.size() == 3)
      result += input(2, "b")(c);
    out(c, x, y, n) = result;
    return {out};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    packed.compute_root()
        .split(c, c, ci, lanes, TailStrategy::GuardWithIf)
        .reorder(ci, kx, ky, i, c)
        .vectorize(ci);
    padded.compute_at(out, n);
    if (g.C >= lanes)
      padded.vectorize(c, lanes, TailStrategy::GuardWithIf);

    RegisterTile tile = registerTile(g.O, g.Wo, g.Ho, target);
    if (g.groups != 1 || !vectorisable(g.O, target) || tile.vectors == 0) {
      out.parallel(n).vectorize(c, lanes, TailStrategy::GuardWithIf);
      acc.compute_at(out, x).vectorize(c, lanes, TailStrategy::GuardWithIf);
      acc.update().vectorize(c, lanes, TailStrategy::GuardWithIf);
      return;
    }
    out.split(c, ct, ci, tile.vectors * lanes)
        .split(x, xt, xi, tile.tileX)
        .split(y, yt, yi, tile.tileY)
        .reorder(ci, xi, yi, xt, yt, ct, n)
        .vectorize(ci, lanes)
        .unroll(ci)
        .unroll(xi)
        .unroll(yi)
        .parallel(n);
    accumulateInRegisters(acc, r, LoopLevel(out, xt), 3,
                          g.inPerGroup() <= 16 ? g.inPerGroup() : 1, target);
  }

private:
  Func source{"source"}, padded, packed{"packed"}, acc{"acc"}, out{"out"};
  Var i{"i"}, kx{"kx"}, ky{"ky"}, ct{"ct"}, ci{"ci"}, xt{"xt"}, xi{"xi"},
      yt{"yt"}, yi{"yi"};
  RDom r;
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
    const int inPerGroup = g.inPerGroup(), outPerGroup = g.outPerGroup();

    grad(c, x, y, n) = dy(c, x, y, n);
    gradPadded = zeroPadded(grad, g.Wo, g.Ho, "grad_padded");
    // Input channels innermost, and the output channels of c's group next.
    packed(c, o, kx, ky) =
        g.groups == 1
            ? w(kx, ky, c, o)
            : w(kx, ky, c % inPerGroup, (c / inPerGroup) * outPerGroup + o);

    std::vector<Expr> interleaved;
    for (int py = 0; py < g.strideY; ++py)
      for (int px = 0; px < g.strideX; ++px) {
        PhaseTaps tx = phaseTaps(px, g.padLeft, g.KW, g.strideX, g.dilationX);
        PhaseTaps ty = phaseTaps(py, g.padTop, g.KH, g.strideY, g.dilationY);
        Func phase("phase_" + std::to_string(px) + "_" + std::to_string(py));
        if (tx.count == 0 || ty.count == 0) {
          phase(c, x, y, n) = 0.0f;
        } else {
          RDom r(0, outPerGroup, 0, tx.count, 0, ty.count,
                 phase.name() + "_r");
          Expr outChannel = g.groups == 1
                                ? Expr(r.x)
                                : (c / inPerGroup) * outPerGroup + r.x;
          phase(c, x, y, n) = 0.0f;
          phase(c, x, y, n) +=
              packed(c, r.x, tx.first + tx.step * r.y,
                     ty.first + ty.step * r.z) *
              gradPadded(outChannel, x + tx.offset - tx.shift * r.y,
                         y + ty.offset - ty.shift * r.z, n);
          phases.push_back({phase, r});
        }
        interleaved.push_back(phase(c, x / g.strideX, y / g.strideY, n));
      }
    out(c, x, y, n) =
        interleaved.size() == 1
            ? interleaved[0]
            : mux(x % g.strideX + g.strideX * (y % g.strideY), interleaved);
    return {out};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    packed.compute_root()
        .split(c, c, ci, lanes, TailStrategy::GuardWithIf)
        .reorder(ci, kx, ky, o, c)
        .vectorize(ci);
    gradPadded.compute_at(out, n);
    if (g.O >= lanes)
      gradPadded.vectorize(c, lanes, TailStrategy::GuardWithIf);

    // A tile of dx holds tileX x tileY pixels of every phase, so that each
    // phase's accumulators have a fixed extent.
    RegisterTile tile = registerTile(g.C, g.W / g.strideX, g.H / g.strideY,
                                     target);
    bool aligned = g.strideX * g.strideY == 1 ||
                   (g.W % (g.strideX * tile.tileX) == 0 &&
                    g.H % (g.strideY * tile.tileY) == 0);
    if (g.groups != 1 || !vectorisable(g.C, target) || tile.vectors == 0 ||
        !aligned) {
      out.parallel(n).vectorize(c, lanes, TailStrategy::GuardWithIf);
      for (auto &[phase, r] : phases) {
        phase.compute_at(out, n).vectorize(c, lanes, TailStrategy::GuardWithIf);
        phase.update().vectorize(c, lanes, TailStrategy::GuardWithIf);
      }
      return;
    }
    out.split(c, ct, ci, tile.vectors * lanes)
        .split(x, xt, xi, g.strideX * tile.tileX)
        .split(y, yt, yi, g.strideY * tile.tileY)
        .reorder(ci, xi, yi, xt, yt, ct, n)
        .vectorize(ci, lanes)
        .unroll(ci)
        .unroll(xi)
        .unroll(yi)
        .parallel(n);
    for (auto &[phase, r] : phases)
      accumulateInRegisters(phase, r, LoopLevel(out, xt), 3,
                            g.outPerGroup() <= 16 ? g.outPerGroup() : 1,
                            target);
  }

private:
  Func grad{"grad"}, gradPadded, packed{"packed"}, out{"out"};
  /// The phases that receive at least one tap, with their reductions.
  std::vector<std::pair<Func, RDom>> phases;
  Var o{"o"}, kx{"kx"}, ky{"ky"}, ct{"ct"}, ci{"ci"}, xt{"xt"}, xi{"xi"},
      yt{"yt"}, yi{"yi"};
};

//===----------------------------------------------------------------------===//
// conv2d_backward_filter
//===----------------------------------------------------------------------===//

/// dw(kx, ky, i, o) = sum over (x, y, n) of dy(o, x, y, n) *
/// padded(group(o) + i, x*sx + kx*dx, y*sy + ky*dy, n), summed per image
/// first (the image's activations are then hot in cache) and then over the
/// run-time batch; db(o) = sum of dy.
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

    rp = RDom(0, g.Wo, 0, g.Ho, "rp");
    Expr inChannel = g.groups == 1
                         ? Expr(i)
                         : (o / g.outPerGroup()) * g.inPerGroup() + i;
    perImage(o, i, kx, ky, n) = 0.0f;
    perImage(o, i, kx, ky, n) +=
        grad(o, rp.x, rp.y, n) *
        padded(inChannel, rp.x * g.strideX + kx * g.dilationX - g.padLeft,
               rp.y * g.strideY + ky * g.dilationY - g.padTop, n);
    batch = dy.dim(3).extent();
    rn = RDom(0, batch, "rn");
    sum(o, i, kx, ky) = 0.0f;
    sum(o, i, kx, ky) += perImage(o, i, kx, ky, rn);
    dw(kx, ky, i, o) = sum(o, i, kx, ky);
    if (spec.outputs.size() == 1)
      return {dw};

    RDom rb(0, g.Wo, 0, g.Ho, 0, batch, "rb");
    biasSum(o) = 0.0f;
    biasSum(o) += grad(o, rb.x, rb.y, rb.z);
    db(o) = biasSum(o);
    return {dw, db};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    if (spec.outputs.size() == 2) {
      biasSum.compute_root().vectorize(o, lanes, TailStrategy::GuardWithIf);
      biasSum.update().vectorize(o, lanes, TailStrategy::GuardWithIf);
    }
    // The batch in chunks, one partial filter gradient per chunk, the
    // chunks on threads. (rfactor moves the update's schedule to the
    // partials, so the sum of the partials is scheduled after it.)
    RVar rno("rno"), rni("rni");
    Var u("u");
    Expr chunk = max(1, (batch + 7) / 8);
    Func partial = sum.update()
                       .split(rn, rno, rni, chunk, TailStrategy::GuardWithIf)
                       .rfactor(rno, u);
    dw.compute_root().parallel(o);
    sum.compute_root().vectorize(o, lanes, TailStrategy::GuardWithIf);
    sum.update().vectorize(o, lanes, TailStrategy::GuardWithIf);
    partial.compute_root().vectorize(o, lanes, TailStrategy::GuardWithIf);
    padded.compute_at(partial, rni);
    if (g.C >= lanes)
      padded.vectorize(c, lanes, TailStrategy::GuardWithIf);

    // A tile of `vectors` output-channel vectors by `inputs` broadcast input
    // channels.
    const int accumulators = target.has_feature(Target::AVX512) ? 16 : 8;
    int blocks = g.O / lanes;
    int vectors = blocks % 4 == 0 ? 4 : blocks % 2 == 0 ? 2 : 1;
    int inputs = std::min(g.inPerGroup(), accumulators / vectors);
    while (g.inPerGroup() % inputs)
      --inputs;
    if (g.groups != 1 || !vectorisable(g.O, target)) {
      partial.update()
          .reorder(o, i, kx, ky, rni, u)
          .vectorize(o, lanes, TailStrategy::GuardWithIf)
          .parallel(u);
      perImage.compute_at(partial, i)
          .vectorize(o, lanes, TailStrategy::GuardWithIf);
      perImage.update().vectorize(o, lanes, TailStrategy::GuardWithIf);
      return;
    }
    partial.update()
        .split(o, ot, oi, vectors * lanes)
        .split(i, it, ii, inputs)
        .reorder(oi, ii, it, kx, ky, ot, rni, u)
        .vectorize(oi, lanes)
        .unroll(oi)
        .unroll(ii)
        .parallel(u);
    accumulateInRegisters(perImage, rp, LoopLevel(partial, it), 2, 1, target);
  }

private:
  Func source{"source"}, padded, grad{"grad"}, perImage{"per_image"},
      sum{"sum"}, dw{"dw"}, biasSum{"bias_sum"}, db{"db"};
  Var o{"o"}, i{"i"}, kx{"kx"}, ky{"ky"}, ot{"ot"}, oi{"oi"}, it{"it"},
      ii{"ii"};
  Expr batch;
  RDom rp, rn;
};

} // namespace

void registerConvFamilies(FamilyRegistry &registry) {
  registry.add<Conv2d>("conv2d");
  registry.add<Conv2dBackwardData>("conv2d_backward_data");
  registry.add<Conv2dBackwardFilter>("conv2d_backward_filter");
}

} // namespace resnetc::kernels
