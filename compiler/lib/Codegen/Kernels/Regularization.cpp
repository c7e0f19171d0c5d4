//===- Regularization.cpp - dropout and DropBlock kernel families ---------===//
//
// Both draw their random decisions from a counter-based hash of (seed,
// element index), so a kernel keeps no random state and the backward
// recomputes exactly the forward's mask: no mask is stored. A forward is
// y = mask * scale * x with mask and scale fixed by (seed, shape, rate), so
// its backward is the same kernel applied to dy; each family is registered
// under both names.
//
// The run-time seed differs per step; the op's `salt` attribute (one per
// layer) is folded into it, so two layers of one shape draw different masks.
// The element index is the element's offset in the kernel's dense buffer
// (Halide order).
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <algorithm>

using namespace Halide;

namespace resnetc::kernels {
namespace {

Expr u32(uint32_t value) { return Internal::make_const(UInt(32), value); }

/// Chris Wellons' "lowbias32" integer hash: a bijection of u32 with very low
/// bias, made of steps that all vectorise (shifts, xors, 32-bit multiplies).
Expr lowbias32(Expr h) {
  h = h ^ (h >> 16);
  h = h * u32(0x7feb352du);
  h = h ^ (h >> 15);
  h = h * u32(0x846ca68bu);
  return h ^ (h >> 16);
}

/// A uniform number in [0, 1) (24 bits) for element `index` under `seed`.
/// The seed enters between two rounds, so the masks of two seeds are not
/// shifts or xors of one another in index space.
Expr uniform(Expr seed, Expr index) {
  Expr h = lowbias32(lowbias32(index) ^ lowbias32(seed));
  return cast<float>(h >> 8) * (1.0f / (1 << 24));
}

/// The seed of one layer: the step's seed mixed with the layer's salt.
Expr layerSeed(Expr seed, int64_t salt) {
  return lowbias32(seed ^ lowbias32(u32(uint32_t(salt))));
}

/// The offset of the element at `at` in a dense buffer of `extents`.
Expr linearIndex(const std::vector<Expr> &at, const std::vector<int> &extents) {
  Expr index = u32(0);
  uint32_t stride = 1;
  for (size_t d = 0; d < at.size(); ++d) {
    index = index + cast<uint32_t>(at[d]) * u32(stride);
    stride *= uint32_t(extents[d]);
  }
  return index;
}

/// 1 / (1 - rate), the scale that keeps the expected value; 0 when
/// everything is dropped.
float keepScale(double rate) { return rate < 1 ? float(1 / (1 - rate)) : 0.0f; }

/// dropout and dropout_backward: y = x / (1 - rate) where the element's
/// uniform number is >= rate, else 0.
class Dropout : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    Param<uint32_t> seed = scalarU32("seed", 1);
    const double rate = floatAttr("rate");
    if (rate < 0 || rate > 1)
      fail("rate must lie in [0, 1]");
    Expr maskSeed = layerSeed(seed, intAttr("salt"));
    vars = pointVars(spec.inputs[0].shape.size());
    std::vector<Expr> at = asExprs(vars);
    Expr keep = uniform(maskSeed, linearIndex(at, halideExtents(spec.inputs[0]))) >=
                float(rate);
    y(vars) = select(keep, x(at) * keepScale(rate), 0.0f);
    return {y};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(y, vars, target);
  }
  void scheduleGPU(const Target &) override { schedulePointwiseGPU(y, vars); }

private:
  Func y{"y"};
  std::vector<Var> vars;
};

/// DropBlock's gamma, the probability of a block origin, for a
/// width x height feature map: rate / bs^2 * (H W) / ((H - bs + 1)(W - bs + 1))
/// (Ghiasi et al. 2018, eq. 1), so that about `rate` of the elements are
/// dropped. Capped at 1; 0 when no block fits.
double dropBlockGamma(int width, int height, int blockSize, double rate) {
  const int originsX = width - blockSize + 1, originsY = height - blockSize + 1;
  if (originsX <= 0 || originsY <= 0)
    return 0;
  return std::min(1.0, rate / (blockSize * blockSize) * width * height /
                           (originsX * originsY));
}

/// The DropBlock mask of an x[N, C, H, W] as Funcs over (c, x, y, n).
///
/// Following Ghiasi et al. 2018 and their TPU reference code, each feature
/// map (n, c) draws its blocks independently: a block origin (top-left
/// corner) is drawn with probability gamma, only where a whole bs x bs block
/// fits, i.e. at [0, W - bs] x [0, H - bs] (the paper's block centres,
/// shifted by bs / 2). An element is dropped when it lies in the block of any
/// drawn origin. The family builds the mask twice (to count, then to apply);
/// each copy is scheduled where it is used.
struct BlockMask {
  BlockMask(const std::string &tag, const std::vector<int> &extents,
            int blockSize, double gamma, Expr seed)
      : origin("origin_" + tag), rows("rows_" + tag),
        dropped("dropped_" + tag) {
    const int originsX = extents[1] - blockSize + 1;
    const int originsY = extents[2] - blockSize + 1;
    origin(c, x, y, n) =
        x >= 0 && x < originsX && y >= 0 && y < originsY &&
        uniform(seed, linearIndex({c, x, y, n}, extents)) < float(gamma);
    // Origin (ox, oy) covers [ox, ox + bs) x [oy, oy + bs): a max filter of
    // width bs, separated into rows and then columns.
    Expr rowHit = origin(c, x, y, n);
    for (int k = 1; k < blockSize; ++k)
      rowHit = rowHit || origin(c, x - k, y, n);
    rows(c, x, y, n) = rowHit;
    Expr hit = rows(c, x, y, n);
    for (int k = 1; k < blockSize; ++k)
      hit = hit || rows(c, x, y - k, n);
    dropped(c, x, y, n) = hit;
  }

  /// Computes the mask of one image at a time, inside `consumer`'s loop over
  /// images (`image`), where it is still in cache when used.
  void scheduleAt(Func consumer, Var image, const Target &target) {
    const int lanes = target.natural_vector_size<float>();
    for (Func f : {origin, rows})
      f.compute_at(consumer, image)
          .vectorize(c, lanes, TailStrategy::GuardWithIf);
  }

  /// GPU: the origins drawn once into a mask, a thread per element; the
  /// block test (rows, dropped) inlined where it is read.
  void scheduleGPU() {
    origin.compute_root();
    schedulePointwiseGPU(origin, {c, x, y, n});
  }

  Var c{"c"}, x{"x"}, y{"y"}, n{"n"};
  Func origin, rows, dropped;
};

/// dropblock and dropblock_backward: y = x * count / kept where the mask
/// keeps it, else 0; count and kept are the element counts of the whole
/// tensor (all images), so the expected sum is preserved exactly as in the
/// reference code. If every element is dropped, y = 0.
class DropBlock : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    Param<uint32_t> seed = scalarU32("seed", 1);
    const double rate = floatAttr("rate");
    const int blockSize = int(intAttr("block_size"));
    Expr maskSeed = layerSeed(seed, intAttr("salt"));
    if (spec.inputs[0].shape.size() != 4)
      fail("dropblock takes x[N, C, H, W]");
    if (rate < 0 || rate > 1)
      fail("rate must lie in [0, 1]");
    if (blockSize < 1)
      fail("block_size must be positive");
    std::vector<int> extents = halideExtents(spec.inputs[0]);
    const int channels = extents[0], width = extents[1], height = extents[2];
    double gamma = dropBlockGamma(width, height, blockSize, rate);
    counted =
        std::make_unique<BlockMask>("count", extents, blockSize, gamma, maskSeed);
    applied =
        std::make_unique<BlockMask>("apply", extents, blockSize, gamma, maskSeed);

    px = RDom(0, width, 0, height, "px");
    keptPerChannel(c, n) = 0;
    keptPerChannel(c, n) += select(counted->dropped(c, px.x, px.y, n), 0, 1);
    RDom all(0, channels, 0, batchExtent(x), "all");
    kept() = 0;
    kept() += keptPerChannel(all.x, all.y);
    Expr count = cast<float>(batchExtent(x)) * float(channels * width * height);
    scale() = select(kept() > 0, count / cast<float>(kept()), 0.0f);
    y(c, ix, iy, n) =
        select(applied->dropped(c, ix, iy, n), 0.0f, x(c, ix, iy, n) * scale());
    return {y};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    keptPerChannel.compute_root().parallel(n).vectorize(
        c, lanes, TailStrategy::GuardWithIf);
    scheduleChannelReduction(keptPerChannel.update(), c, px, target);
    keptPerChannel.update().parallel(n);
    counted->scheduleAt(keptPerChannel, n, target);
    kept.compute_root();
    scale.compute_root();
    schedulePointwise(y, {c, ix, iy, n}, target);
    applied->scheduleAt(y, n, target);
  }

  /// The kept count per channel and image (a thread each, pixels in order),
  /// then their total on one thread, in order; then y.
  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    counted->scheduleGPU();
    applied->scheduleGPU();
    scheduleChannelReductionGPU(keptPerChannel, c, channels, {n});
    kept.compute_root();
    schedulePointwiseGPU(kept, {});
    schedulePointwiseGPU(kept.update(), {});
    schedulePointwiseGPU(y, {c, ix, iy, n});
  }

private:
  Var c{"c"}, ix{"ix"}, iy{"iy"}, n{"n"};
  RDom px;
  std::unique_ptr<BlockMask> counted, applied;
  Func keptPerChannel{"keptPerChannel"}, kept{"kept"}, scale{"scale"};
  Func y{"y"};
};

} // namespace

void registerRegularizationFamilies(FamilyRegistry &registry) {
  registry.add<Dropout>("dropout_train");
  registry.add<Dropout>("dropout_backward");
  registry.add<DropBlock>("dropblock_train");
  registry.add<DropBlock>("dropblock_backward");
}

} // namespace resnetc::kernels
