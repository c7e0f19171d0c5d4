//===- DataMovement.cpp - zero_pad, subsample, concat and backwards -------===//
//
// Families that only move values: the zero padding and strided subsampling
// of He et al.'s parameter-free "option A" shortcut (and Keras' ZeroPadding),
// the channel concatenation, and their backwards, which move the gradient
// back (dropping what the forward added, or putting zeros where the forward
// dropped values).
//
//===----------------------------------------------------------------------===//

#include "Family.h"

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// The low/high zero padding of a [N, C, H, W] tensor, in Halide dim order
/// (c, x, y); checks that `small` padded is `large`.
struct Padding {
  Padding(const Family &family, const TensorSpec &small,
          const TensorSpec &large) {
    if (small.shape.size() != 4 || large.shape.size() != 4)
      family.fail("zero padding takes x[N, C, H, W]");
    std::vector<int64_t> lo = family.ints("low", 3),
                         hi = family.ints("high", 3);
    // Attributes are [C, H, W]; Halide dims are (c, x, y).
    for (int d = 0; d < 3; ++d) {
      int logical = d == 0 ? 0 : 3 - d;
      low[d] = int(lo[logical]);
      extent[d] = int(small.shape[1 + logical]);
      paddedExtent[d] = int(large.shape[1 + logical]);
      if (lo[logical] < 0 || hi[logical] < 0)
        family.fail("padding must not be negative");
      if (large.shape[1 + logical] !=
          small.shape[1 + logical] + lo[logical] + hi[logical])
        family.fail("the padded shape does not match low and high");
    }
  }
  /// Whether Halide dim d has any padding.
  bool pads(int d) const {
    return low[d] || low[d] + extent[d] != paddedExtent[d];
  }

  int low[3], extent[3], paddedExtent[3];
};

/// y = x padded with zeros.
class ZeroPad : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    Padding pad(*this, spec.inputs[0], spec.outputs[0]);
    vars = pointVars(4);
    // Only padded dims get a bounds test: the usual channel-only padding of
    // the shortcut then costs one compare per vector lane.
    Expr inside = Internal::const_true();
    std::vector<Expr> at = asExprs(vars);
    for (int d = 0; d < 3; ++d) {
      Expr source = vars[d] - pad.low[d];
      if (pad.pads(d))
        inside = inside && source >= 0 && source < pad.extent[d];
      at[d] = clamp(source, 0, pad.extent[d] - 1);
    }
    y(vars) = select(inside, x(at), 0.0f);
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

/// dx = the interior of dy.
class ZeroPadBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    Padding pad(*this, spec.outputs[0], spec.inputs[0]);
    vars = pointVars(4);
    std::vector<Expr> at = asExprs(vars);
    for (int d = 0; d < 3; ++d)
      at[d] += pad.low[d];
    dx(vars) = dy(at);
    return {dx};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(dx, vars, target);
  }
  void scheduleGPU(const Target &) override { schedulePointwiseGPU(dx, vars); }

private:
  Func dx{"dx"};
  std::vector<Var> vars;
};

/// Strides (sx, sy) of a subsample from `full` to `strided`, checked.
std::pair<int, int> subsampleStrides(const Family &family,
                                     const TensorSpec &full,
                                     const TensorSpec &strided) {
  std::vector<int64_t> strides = family.ints("strides", 2);
  if (full.shape.size() != 4 || strided.shape.size() != 4)
    family.fail("subsample takes x[N, C, H, W]");
  if (strides[0] < 1 || strides[1] < 1)
    family.fail("strides must be positive");
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  if (strided.shape[1] != full.shape[1] ||
      strided.shape[2] != ceilDiv(full.shape[2], strides[0]) ||
      strided.shape[3] != ceilDiv(full.shape[3], strides[1]))
    family.fail("the output shape is not [N, C, ceil(H / sh), ceil(W / sw)]");
  return {int(strides[1]), int(strides[0])};
}

/// y = x[:, :, ::sh, ::sw].
class Subsample : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    auto [sx, sy] = subsampleStrides(*this, spec.inputs[0], spec.outputs[0]);
    y(c, xo, yo, n) = x(c, xo * sx, yo * sy, n);
    return {y};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(y, {c, xo, yo, n}, target);
  }
  void scheduleGPU(const Target &) override {
    schedulePointwiseGPU(y, {c, xo, yo, n});
  }

private:
  Var c{"c"}, xo{"xo"}, yo{"yo"}, n{"n"};
  Func y{"y"};
};

/// dx = dy at the sampled pixels, 0 elsewhere.
class SubsampleBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    auto [sx, sy] = subsampleStrides(*this, spec.outputs[0], spec.inputs[0]);
    dx(c, ix, iy, n) =
        select(ix % sx == 0 && iy % sy == 0, dy(c, ix / sx, iy / sy, n), 0.0f);
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

/// The channel offset of each part of a concatenation (logical dim 1, Halide
/// dim 0), checked: same rank and same other extents everywhere.
std::vector<int> concatOffsets(const Family &family,
                               const std::vector<TensorSpec> &parts,
                               const TensorSpec &whole) {
  if (parts.size() < 2)
    family.fail("concat joins at least two tensors");
  std::vector<int> offsets;
  int64_t channels = 0;
  for (const TensorSpec &part : parts) {
    if (part.shape.size() != whole.shape.size() || part.shape.size() < 2)
      family.fail("concat parts must have the rank of the result");
    for (size_t d = 2; d < part.shape.size(); ++d)
      if (part.shape[d] != whole.shape[d])
        family.fail("concat parts differ in a dimension other than channels");
    offsets.push_back(int(channels));
    channels += part.shape[1];
  }
  if (channels != whole.shape[1])
    family.fail("concat result's channels are not the sum of the parts'");
  return offsets;
}

/// y = the inputs joined along the channels: one update per input, which
/// writes its channel range, so no select between inputs per element.
class Concat : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    std::vector<int> offsets =
        concatOffsets(*this, spec.inputs, spec.outputs[0]);
    vars = pointVars(spec.outputs[0].shape.size());
    y(vars) = undef<float>();
    for (size_t i = 0; i < spec.inputs.size(); ++i) {
      ImageParam part = input(i, "x" + std::to_string(i));
      RDom r(0, int(spec.inputs[i].shape[1]), "channel" + std::to_string(i));
      std::vector<Expr> from = asExprs(vars), to = asExprs(vars);
      from[0] = r;
      to[0] = offsets[i] + r;
      y(to) = part(from);
      channels.push_back(r);
    }
    return {y};
  }

  /// Each part is its own pass over the images (Halide 14 refuses to fuse
  /// update stages of one Func with compute_with, which would keep an
  /// image's lines of y in cache across parts).
  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    for (size_t i = 0; i < channels.size(); ++i) {
      RVar outer("outer" + std::to_string(i)),
          inner("inner" + std::to_string(i));
      y.update(int(i))
          .split(channels[i], outer, inner, lanes, TailStrategy::GuardWithIf)
          .vectorize(inner)
          .parallel(vars.back());
    }
  }

  /// Each part a kernel: a thread per channel of the part, blocks over
  /// channel blocks, pixels and images. (The pure stage computes nothing,
  /// but its loops would run on the host.)
  void scheduleGPU(const Target &) override {
    schedulePointwiseGPU(y, vars);
    for (size_t i = 0; i < channels.size(); ++i) {
      RVar blocks("blocks" + std::to_string(i)),
          threads("threads" + std::to_string(i));
      Stage part = y.update(int(i));
      part.split(channels[i], blocks, threads,
                 std::min(int(spec.inputs[i].shape[1]), kGpuBlockThreads),
                 TailStrategy::GuardWithIf)
          .gpu_threads(threads);
      if (vars.size() == 4) {
        Var pixel("pixel" + std::to_string(i));
        part.fuse(vars[1], vars[2], pixel).gpu_blocks(blocks, pixel, vars[3]);
      } else {
        part.gpu_blocks(blocks, vars.back());
      }
    }
  }

private:
  Func y{"y"};
  std::vector<Var> vars;
  std::vector<RDom> channels;
};

/// One dx per input: its channel range of dy.
class ConcatBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    std::vector<int> offsets =
        concatOffsets(*this, spec.outputs, spec.inputs[0]);
    vars = pointVars(spec.inputs[0].shape.size());
    for (size_t i = 0; i < spec.outputs.size(); ++i) {
      std::vector<Expr> at = asExprs(vars);
      at[0] += offsets[i];
      Func dx("dx" + std::to_string(i));
      dx(vars) = dy(at);
      parts.push_back(dx);
    }
    return parts;
  }
  void scheduleCPU(const Target &target) override {
    for (Func dx : parts)
      schedulePointwise(dx, vars, target);
  }
  void scheduleGPU(const Target &) override {
    for (Func dx : parts)
      schedulePointwiseGPU(dx, vars);
  }

private:
  std::vector<Func> parts;
  std::vector<Var> vars;
};

} // namespace

void registerDataMovementFamilies(FamilyRegistry &registry) {
  registry.add<ZeroPad>("zero_pad");
  registry.add<ZeroPadBackward>("zero_pad_backward");
  registry.add<Subsample>("subsample");
  registry.add<SubsampleBackward>("subsample_backward");
  registry.add<Concat>("concat");
  registry.add<ConcatBackward>("concat_backward");
}

} // namespace resnetc::kernels
