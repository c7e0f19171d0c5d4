//===- BatchNorm.cpp - batch normalisation kernel families ------------------===//
//
// Training-mode forward (batch statistics, normalisation, running-statistic
// update), inference-mode forward, and the backward through the batch
// statistics. Activations are 4-D (c, x, y, n) or 2-D (c, n); a 2-D one is
// treated as a batch of 1x1 images so one algorithm serves both.
//
// The statistics are reduced in two levels: per image (in parallel over the
// batch, channel vectors innermost, into a buffer of C floats), then the per-image
// partials are combined over the run-time batch with Chan et al.'s update:
// each image's sum of squared deviations is taken around that image's own
// mean (a second pass over the image while it is still in cache), so there
// is no E[x^2] - E[x]^2 cancellation. All sums are of x - x[0] (the
// channel's first value), so their rounding errors scale with the spread of
// x rather than its mean; so does the normalisation, which subtracts the
// mean in the same two steps (the mean rounded to f32 may be off by more
// than the spread of x). Those differences are strict_float: Halide lets
// LLVM reassociate float arithmetic, which would undo the shift.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <optional>

using namespace Halide;

namespace resnetc::kernels {
namespace {

Expr square(Expr e) { return e * e; }

/// BatchNorm applied to `y` with the batch's `mean` and `scale` = gamma
/// invstd: batch_norm_apply's value before a residual and the ReLU, which
/// batch_norm_apply_backward recomputes for the ReLU's mask, so one
/// expression for both (the same rounding).
Expr batchNormApplied(Expr y, Expr mean, Expr scale, Expr beta) {
  return (y - mean) * scale + beta;
}

/// An activation of either rank seen as (channel, x, y, image).
struct ChannelView {
  explicit ChannelView(const Family &family, const TensorSpec &tensor)
      : rank(tensor.shape.size()) {
    if (rank != 4 && rank != 2)
      family.fail("batch norm takes x[N, C, H, W] or x[N, C]");
    channels = int(tensor.shape[1]);
    height = rank == 4 ? int(tensor.shape[2]) : 1;
    width = rank == 4 ? int(tensor.shape[3]) : 1;
  }

  Expr load(const ImageParam &t, Expr c, Expr x, Expr y, Expr n) const {
    return rank == 4 ? t(c, x, y, n) : t(c, n);
  }
  /// The element of `t` at the point `vars` of a Func of the tensor's rank.
  Expr load(const ImageParam &t, const std::vector<Var> &vars) const {
    return t(asExprs(vars));
  }
  int pixels() const { return width * height; }

  size_t rank;
  int channels, height, width;
};

/// gamma / sqrt(var + epsilon) at channel `c`: inference's per-channel scale.
Expr inferenceScale(const ImageParam &gamma, const ImageParam &variance,
                    float epsilon, Expr c) {
  return gamma(c) / sqrt(variance(c) + epsilon);
}

/// Defines the running statistics after a batch of `count` values per
/// channel with mean `mean` and sum of squared deviations `m2` (both at
/// channel Var "c" of the caller): momentum * running + (1 - momentum) *
/// batch, with the unbiased variance as PyTorch. A batch of one value per
/// channel has no unbiased variance (PyTorch refuses it); we keep the
/// biased one (zero) rather than divide by zero.
void updateRunning(Func newMean, Func newVar, const ImageParam &runningMean,
                   const ImageParam &runningVar, Expr mean, Expr m2,
                   Expr count, float momentum) {
  Var c("c");
  newMean(c) = momentum * runningMean(c) + (1 - momentum) * mean;
  newVar(c) = momentum * runningVar(c) +
              (1 - momentum) * cast<float>(m2 / max(count - 1, Expr(1.0)));
}

/// batch_norm_train: y, mean, invstd, new_running_mean, new_running_var.
class BatchNormTrain : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    ImageParam gamma = input(1, "gamma");
    ImageParam beta = input(2, "beta");
    ImageParam runningMean = input(3, "running_mean");
    ImageParam runningVar = input(4, "running_var");
    ChannelView view(*this, spec.inputs[0]);
    const float epsilon = float(floatAttr("epsilon"));
    const float momentum = float(floatAttr("momentum"));
    const float pixels = float(view.pixels());

    // Per image: the sum, then the squared deviations from the image mean.
    reference(c) = view.load(x, c, 0, 0, 0);
    px = RDom(0, view.width, 0, view.height, "px");
    // The sums are in double: a channel's values can nearly cancel, and a
    // float sum of tens of thousands of them loses the digits the gradient
    // check against PyTorch (which accumulates in double too) needs. The
    // kernel is memory-bound, so this costs nothing measurable.
    Expr xAtPx = cast<double>(
        strict_float(view.load(x, c, px.x, px.y, n) - reference(c)));
    imageSum(c, n) = cast<double>(0);
    imageSum(c, n) += xAtPx;
    imageMoments(c, n) = Tuple(imageSum(c, n), cast<double>(0));
    imageMoments(c, n) = Tuple(
        imageMoments(c, n)[0],
        imageMoments(c, n)[1] +
            square(strict_float(xAtPx - imageMoments(c, n)[0] / pixels)));

    // Over the run-time batch: Chan's combination of the per-image moments.
    Expr images = batchExtent(x);
    Expr count = cast<double>(images * view.pixels());
    batch = RDom(0, images, "batch");
    batchSum(c) = cast<double>(0);
    batchSum(c) += imageMoments(c, batch)[0];
    centredMean(c) = batchSum(c) / count;
    mean(c) = cast<float>(cast<double>(reference(c)) + centredMean(c));
    batchM2(c) = cast<double>(0);
    batchM2(c) +=
        imageMoments(c, batch)[1] +
        pixels * square(imageMoments(c, batch)[0] / pixels - centredMean(c));
    invstd(c) = cast<float>(Expr(1.0) / sqrt(batchM2(c) / count + epsilon));

    scale(c) = gamma(c) * invstd(c);
    vars = pointVars(view.rank);
    Var ch = vars[0];
    Expr centred =
        view.load(x, vars) - reference(ch) - cast<float>(centredMean(ch));
    y(vars) = strict_float(centred) * scale(ch) + beta(ch);

    updateRunning(newRunningMean, newRunningVar, runningMean, runningVar,
                  mean(c), batchM2(c), count, momentum);
    return {y, mean, invstd, newRunningMean, newRunningVar};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    auto vectorized = [&](Func f) {
      f.vectorize(c, lanes, TailStrategy::GuardWithIf);
    };
    // Measured (2 threads, busy machine), x[128, 64, 32, 32]: 17.2 ms, where
    // relu on the same tensor takes 9.7 ms: the statistics read x once from
    // memory, the normalisation reads it again and writes y.
    // One image per task: its sum, then its deviations while it is in cache.
    // (A wrapper holds the moments of all images, so that both stages of
    // imageMoments run inside one loop over images.)
    Func perImage = imageMoments.in();
    perImage.compute_root().parallel(n);
    vectorized(perImage);
    imageMoments.compute_at(perImage, n);
    vectorized(imageMoments);
    scheduleChannelReduction(imageMoments.update(), c, px, target);
    imageSum.compute_at(perImage, n);
    vectorized(imageSum);
    scheduleChannelReduction(imageSum.update(), c, px, target);

    for (Func f : {batchSum, batchM2}) {
      f.compute_root();
      vectorized(f);
      scheduleChannelReduction(f.update(), c, batch, target);
    }
    centredMean.compute_root();
    for (Func f : {centredMean, mean, invstd, newRunningMean, newRunningVar})
      vectorized(f);
    reference.compute_root();
    scale.compute_root();
    vectorized(scale);
    schedulePointwise(y, vars, target);
  }

  /// Each level of the statistics a stage of its own, a thread per channel
  /// (and per image for the per-image sums, the pixels in order); the
  /// per-channel values, inlined, are recomputed where they are read.
  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    for (Func f : {imageSum, imageMoments})
      scheduleChannelReductionGPU(f, c, channels, {n});
    for (Func f : {batchSum, batchM2})
      scheduleChannelReductionGPU(f, c, channels);
    for (Func f : {mean, invstd, newRunningMean, newRunningVar})
      scheduleChannelsGPU(f, c, channels);
    schedulePointwiseGPU(y, vars);
  }

private:
  Var c{"c"}, n{"n"};
  RDom px, batch;
  Func reference{"reference"}, imageSum{"imageSum"}, imageMoments{"imageMoments"};
  Func batchSum{"batchSum"}, centredMean{"centredMean"}, batchM2{"batchM2"};
  Func mean{"mean"}, invstd{"invstd"}, scale{"scale"};
  Func y{"y"}, newRunningMean{"newRunningMean"}, newRunningVar{"newRunningVar"};
  std::vector<Var> vars;
};

/// batch_norm (inference): y = (x - running_mean) / sqrt(running_var + eps)
/// * gamma + beta, with one scale per channel.
class BatchNormInference : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    ImageParam gamma = input(1, "gamma");
    ImageParam beta = input(2, "beta");
    ImageParam runningMean = input(3, "running_mean");
    ImageParam runningVar = input(4, "running_var");
    ChannelView view(*this, spec.inputs[0]);
    const float epsilon = float(floatAttr("epsilon"));
    scale(c) = inferenceScale(gamma, runningVar, epsilon, c);
    vars = pointVars(view.rank);
    Var ch = vars[0];
    y(vars) = (view.load(x, vars) - runningMean(ch)) * scale(ch) + beta(ch);
    return {y};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    scale.compute_root().vectorize(c, lanes, TailStrategy::GuardWithIf);
    schedulePointwise(y, vars, target);
  }
  void scheduleGPU(const Target &) override { schedulePointwiseGPU(y, vars); }

private:
  Var c{"c"};
  Func scale{"scale"}, y{"y"};
  std::vector<Var> vars;
};

/// The per-channel sums of `terms` (Exprs of the point (c, px.x, px.y, n))
/// over the pixels of each image, then over the batch of `images`:
/// batchSums(c) is a Tuple (or one value) of the totals. Each row of an
/// image is summed in the terms' type, the rows and the images in double:
/// float terms keep a row's few rounding errors and save converting every
/// value to double (12% of batch_norm_apply_backward's time at 16
/// channels, measured), and a sum that cancels over the batch still
/// cancels in double.
class BatchSums {
public:
  void define(const std::vector<Expr> &terms, Expr images) {
    count = terms.size();
    std::vector<Expr> rowZeros, zeros(count, cast<double>(0));
    std::vector<Expr> inRow, perImage, total;
    rowPixels = RDom(0, px.x.extent(), "row_px");
    rows = RDom(0, px.y.extent(), "rows");
    batch = RDom(0, images, "batch");
    for (const Expr &term : terms)
      rowZeros.push_back(cast(term.type(), 0));
    rowSums(c, y, n) = Tuple(rowZeros);
    imageSums(c, n) = Tuple(zeros);
    batchSums(c) = Tuple(zeros);
    for (size_t i = 0; i < count; ++i) {
      Expr term = substitute(px.x.name(), rowPixels.x,
                             substitute(px.y.name(), y, terms[i]));
      inRow.push_back(element(rowSums(c, y, n), i) + term);
      perImage.push_back(element(imageSums(c, n), i) +
                         cast<double>(element(rowSums(c, rows, n), i)));
      total.push_back(element(batchSums(c), i) +
                      element(imageSums(c, batch), i));
    }
    rowSums(c, y, n) = Tuple(inRow);
    imageSums(c, n) = Tuple(perImage);
    batchSums(c) = Tuple(total);
  }
  /// Total `i` at channel `ch`.
  Expr at(Expr ch, size_t i) const { return element(batchSums(ch), i); }
  void scheduleCPU(const Target &target) {
    const int lanes = target.natural_vector_size<float>();
    imageSums.compute_root().parallel(n).vectorize(c, lanes,
                                                   TailStrategy::GuardWithIf);
    scheduleChannelReduction(imageSums.update(), c, rows, target);
    imageSums.update().parallel(n);
    rowSums.compute_at(imageSums, rows.x)
        .vectorize(c, lanes, TailStrategy::GuardWithIf);
    scheduleChannelReduction(rowSums.update(), c, rowPixels, target);
    batchSums.compute_root().vectorize(c, lanes, TailStrategy::GuardWithIf);
    scheduleChannelReduction(batchSums.update(), c, batch, target);
  }
  void scheduleGPU(int channels) {
    scheduleChannelReductionGPU(imageSums, c, channels, {n});
    rowSums.compute_at(imageSums, rows.x);
    scheduleChannelReductionGPU(batchSums, c, channels);
  }

  Var c{"c"}, n{"n"};
  RDom px;

private:
  /// Element `i` of a call to a Func of `count` values.
  Expr element(FuncRef ref, size_t i) const {
    if (count == 1)
      return ref;
    return ref[int(i)];
  }
  size_t count = 1;
  Var y{"y"};
  RDom rowPixels, rows, batch;
  Func rowSums{"row_sums"}, imageSums{"image_sums"}, batchSums{"batch_sums"};
};

/// batch_norm_backward: dx, dgamma, dbeta through the batch statistics.
/// With xhat = (x - mean) invstd over the m = N H W values of a channel:
///   dbeta = sum dy,  dgamma = sum dy xhat,
///   dx = gamma invstd (dy - dbeta / m - xhat dgamma / m).
/// batch_norm_apply_backward (inputs dy, x, gamma, beta, mean, invstd,
/// optional result; ints relu) first masks dy where the forward result was
/// not positive if `relu` is set, and returns that masked gradient, the
/// residual's, as a fourth output if the spec has one. Without the result
/// (the forward had no residual) it recomputes the result from x, as
/// batch_norm_apply computed it: one tensor less in each pass (ResNet-20's
/// bn + relu kernels took 13-23% less time).
class BatchNormBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    const bool fused = spec.family == "batch_norm_apply_backward";
    ImageParam dy = input(0, "dy");
    ImageParam x = input(1, "x");
    ImageParam gamma = input(2, "gamma");
    std::optional<ImageParam> beta, result;
    if (fused)
      beta = input(3, "beta");
    ImageParam mean = input(fused ? 4 : 3, "mean");
    ImageParam invstd = input(fused ? 5 : 4, "invstd");
    if (fused && spec.inputs.size() == 7)
      result = input(6, "result");
    ChannelView view(*this, spec.inputs[0]);
    vars = pointVars(view.rank);
    Var ch = vars[0];

    if (fused && intAttr("relu")) {
      Expr forward = result ? view.load(*result, vars)
                            : batchNormApplied(view.load(x, vars), mean(ch),
                                               gamma(ch) * invstd(ch),
                                               (*beta)(ch));
      grad(vars) = select(forward > 0.0f, view.load(dy, vars), 0.0f);
    } else {
      grad(vars) = view.load(dy, vars);
    }
    auto gradAt = [&](Expr c, Expr x, Expr y, Expr n) {
      return view.rank == 4 ? grad(c, x, y, n) : grad(c, n);
    };

    // Sums in double but for each row's (BatchSums), as in batch_norm_train:
    // sum dy nearly cancels in every channel of a trained net, and its
    // error reaches every dx.
    RDom &px = sums.px;
    px = RDom(0, view.width, 0, view.height, "px");
    Expr dyAtPx = gradAt(c, px.x, px.y, n);
    Expr centredAtPx = view.load(x, c, px.x, px.y, n) - mean(c);
    Expr images = batchExtent(x);
    Expr count = cast<double>(images * view.pixels());
    sums.define({dyAtPx, dyAtPx * centredAtPx}, images);
    dbeta(c) = cast<float>(sums.at(c, 0));
    dgamma(c) = cast<float>(sums.at(c, 1) * invstd(c));

    // dx = a dy + b (x - mean) + d, with a, b, d per channel.
    Expr scale = cast<double>(gamma(c)) * invstd(c);
    coefficients(c) =
        Tuple(cast<float>(scale),
              cast<float>(-scale * invstd(c) * invstd(c) * sums.at(c, 1) /
                          count),
              cast<float>(-scale * sums.at(c, 0) / count));
    dx(vars) = coefficients(ch)[0] * grad(vars) +
               coefficients(ch)[1] * (view.load(x, vars) - mean(ch)) +
               coefficients(ch)[2];
    if (spec.outputs.size() == 4) {
      residualGrad(vars) = grad(vars);
      return {dx, dgamma, dbeta, residualGrad};
    }
    return {dx, dgamma, dbeta};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    auto vectorized = [&](Func f) {
      f.vectorize(c, lanes, TailStrategy::GuardWithIf);
    };
    sums.scheduleCPU(target);
    coefficients.compute_root();
    for (Func f : {dgamma, dbeta, coefficients})
      vectorized(f);
    schedulePointwise(dx, vars, target);
    if (spec.outputs.size() == 4) {
      // The masked gradient is stored in the same pass as dx.
      schedulePointwise(residualGrad, vars, target);
      residualGrad.compute_with(dx, vars.back());
    }
  }

  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    sums.scheduleGPU(channels);
    coefficients.compute_root();
    scheduleChannelsGPU(coefficients, c, channels);
    for (Func f : {dgamma, dbeta})
      scheduleChannelsGPU(f, c, channels);
    schedulePointwiseGPU(dx, vars);
    if (spec.outputs.size() == 4)
      schedulePointwiseGPU(residualGrad, vars);
  }

private:
  BatchSums sums;
  Var c = sums.c, n = sums.n;
  Func grad{"grad"};
  Func dgamma{"dgamma"}, dbeta{"dbeta"}, coefficients{"coefficients"};
  Func dx{"dx"}, residualGrad{"residual_grad"};
  std::vector<Var> vars;
};

/// batch_norm_apply: batch_norm_train's outputs from the per-image moments
/// a conv2d_stats returned (inputs y, image_sum[N,C], image_m2[N,C], gamma,
/// beta, running_mean, running_var, optional residual; floats epsilon,
/// momentum; ints relu), with the residual added and the ReLU applied in
/// the one pass that normalises: y is read once.
class BatchNormApply : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam y = input(0, "y");
    ImageParam imageSum = input(1, "image_sum");
    ImageParam imageM2 = input(2, "image_m2");
    ImageParam gamma = input(3, "gamma");
    ImageParam beta = input(4, "beta");
    ImageParam runningMean = input(5, "running_mean");
    ImageParam runningVar = input(6, "running_var");
    std::optional<ImageParam> residual;
    if (spec.inputs.size() == 8)
      residual = input(7, "residual");
    if (spec.inputs[0].shape.size() != 4)
      fail("takes y[N, C, H, W]");
    const float epsilon = float(floatAttr("epsilon"));
    const float momentum = float(floatAttr("momentum"));
    const Expr pixels =
        Expr(double(spec.inputs[0].shape[2]) * double(spec.inputs[0].shape[3]));

    // Chan et al.'s combination of the images' moments, in double.
    Expr images = batchExtent(y);
    Expr count = cast<double>(images) * pixels;
    batch = RDom(0, images, "batch");
    batchSum(c) = cast<double>(0);
    batchSum(c) += cast<double>(imageSum(c, batch));
    batchMean(c) = batchSum(c) / count;
    batchM2(c) = cast<double>(0);
    batchM2(c) += cast<double>(imageM2(c, batch)) +
                  pixels * square(cast<double>(imageSum(c, batch)) / pixels -
                                  batchMean(c));
    mean(c) = cast<float>(batchMean(c));
    invstd(c) = cast<float>(Expr(1.0) / sqrt(batchM2(c) / count + epsilon));
    scale(c) = gamma(c) * invstd(c);

    vars = pointVars(4);
    Var ch = vars[0];
    Expr value = batchNormApplied(y(asExprs(vars)), mean(ch), scale(ch),
                                  beta(ch));
    if (residual)
      value += (*residual)(asExprs(vars));
    if (intAttr("relu"))
      value = max(value, 0.0f);
    out(vars) = value;

    updateRunning(newRunningMean, newRunningVar, runningMean, runningVar,
                  mean(c), batchM2(c), count, momentum);
    return {out, mean, invstd, newRunningMean, newRunningVar};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    for (Func f : {batchSum, batchM2}) {
      f.compute_root().vectorize(c, lanes, TailStrategy::GuardWithIf);
      scheduleChannelReduction(f.update(), c, batch, target);
    }
    for (Func f : {batchMean, scale})
      f.compute_root();
    for (Func f : {batchMean, mean, invstd, scale, newRunningMean,
                   newRunningVar})
      f.vectorize(c, lanes, TailStrategy::GuardWithIf);
    schedulePointwise(out, vars, target);
  }

  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    for (Func f : {batchSum, batchM2})
      scheduleChannelReductionGPU(f, c, channels);
    for (Func f : {mean, invstd, newRunningMean, newRunningVar})
      scheduleChannelsGPU(f, c, channels);
    schedulePointwiseGPU(out, vars);
  }

private:
  Var c{"c"};
  RDom batch;
  Func batchSum{"batchSum"}, batchMean{"batchMean"}, batchM2{"batchM2"};
  Func mean{"mean"}, invstd{"invstd"}, scale{"scale"}, out{"out"};
  Func newRunningMean{"newRunningMean"}, newRunningVar{"newRunningVar"};
  std::vector<Var> vars;
};

//===----------------------------------------------------------------------===//
// Synchronised BatchNorm: batch_norm_train and batch_norm_backward split at
// their sums over the batch, which a run on several ranks sums over the
// ranks between the kernels (RNTrainOps.td). Every sum is in double, per
// image (in parallel) and then over the run-time batch; values are taken
// around the running mean, the same on every rank. A sum that may cancel
// over the ranks leaves the kernel as two floats, hi = f32(s) and lo =
// f32(s - hi): summed over the ranks apart and added in double, they keep
// the digits that f32 partial sums of nearly opposite signs would lose (a
// mean near zero would otherwise change sign between 1 and K ranks, and
// with it every ReLU of a constant region, a background).

/// Rows `row` and `row + 1` of a (channel, row) Func at point (c, r): the
/// double `value` as hi and lo floats.
Expr splitRows(Expr value, Var r, int row) {
  Expr hi = cast<float>(value);
  Expr lo = cast<float>(strict_float(value - cast<double>(hi)));
  return select(r == row, hi, lo);
}

/// The double that rows `row` and `row + 1` of `sums` hold (splitRows).
Expr joinRows(const ImageParam &sums, Expr c, int row) {
  return cast<double>(sums(c, row)) + cast<double>(sums(c, row + 1));
}
//===----------------------------------------------------------------------===//

/// batch_norm_sums (inputs x, shift): sums[0, 1] = sum (x - shift) as hi
/// and lo, sums[2] = the number of images.
class BatchNormSums : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    ImageParam shift = input(1, "shift");
    ChannelView view(*this, spec.inputs[0]);
    Var c = sums.c, n = sums.n;
    sums.px = RDom(0, view.width, 0, view.height, "px");
    Expr images = batchExtent(x);
    sums.define({cast<double>(view.load(x, c, sums.px.x, sums.px.y, n)) -
                 cast<double>(shift(c))},
                images);
    out(c, r) = select(r < 2, splitRows(sums.at(c, 0), r, 0),
                       cast<float>(images));
    return {out};
  }
  void scheduleCPU(const Target &target) override { sums.scheduleCPU(target); }
  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    sums.scheduleGPU(channels);
    schedulePointwiseGPU(out, {sums.c, r});
  }

private:
  BatchSums sums;
  Var r{"r"};
  Func out{"sums"};
};

/// batch_norm_deviations (inputs x, shift, sums): m2 = sum (x - mean)^2,
/// with mean = shift + (sums[0] + sums[1]) / (sums[2] H W).
class BatchNormDeviations : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    ImageParam shift = input(1, "shift");
    ImageParam batchSums = input(2, "sums");
    ChannelView view(*this, spec.inputs[0]);
    Var c = sums.c, n = sums.n;
    centred(c) = joinRows(batchSums, c, 0) /
                 (cast<double>(batchSums(c, 2)) * view.pixels());
    sums.px = RDom(0, view.width, 0, view.height, "px");
    Expr deviation = cast<double>(view.load(x, c, sums.px.x, sums.px.y, n)) -
                     cast<double>(shift(c)) - centred(c);
    sums.define({deviation * deviation}, batchExtent(x));
    m2(c) = cast<float>(sums.at(c, 0));
    return {m2};
  }
  void scheduleCPU(const Target &target) override {
    centred.compute_root();
    sums.scheduleCPU(target);
  }
  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    centred.compute_root();
    scheduleChannelsGPU(centred, sums.c, channels);
    sums.scheduleGPU(channels);
    scheduleChannelsGPU(m2, sums.c, channels);
  }

private:
  BatchSums sums;
  Func centred{"centred"}, m2{"m2"};
};

/// batch_norm_global (inputs x, gamma, beta, running_mean, running_var,
/// sums, m2; floats epsilon, momentum): batch_norm_train's outputs from the
/// sums, whose count is sums[2] H W.
class BatchNormGlobal : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    ImageParam gamma = input(1, "gamma");
    ImageParam beta = input(2, "beta");
    ImageParam runningMean = input(3, "running_mean");
    ImageParam runningVar = input(4, "running_var");
    ImageParam batchSums = input(5, "sums");
    ImageParam batchM2 = input(6, "m2");
    ChannelView view(*this, spec.inputs[0]);
    const float epsilon = float(floatAttr("epsilon"));
    const float momentum = float(floatAttr("momentum"));

    count(c) = cast<double>(batchSums(c, 2)) * view.pixels();
    centred(c) = joinRows(batchSums, c, 0) / count(c);
    mean(c) = cast<float>(cast<double>(runningMean(c)) + centred(c));
    invstd(c) = cast<float>(
        Expr(1.0) / sqrt(cast<double>(batchM2(c)) / count(c) + epsilon));
    scale(c) = gamma(c) * invstd(c);
    vars = pointVars(view.rank);
    Var ch = vars[0];
    Expr value = strict_float(view.load(x, vars) - runningMean(ch)) -
                 cast<float>(centred(ch));
    y(vars) = strict_float(value) * scale(ch) + beta(ch);
    updateRunning(newRunningMean, newRunningVar, runningMean, runningVar,
                  mean(c), cast<double>(batchM2(c)), count(c), momentum);
    return {y, mean, invstd, newRunningMean, newRunningVar};
  }
  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    for (Func f : {centred, scale})
      f.compute_root().vectorize(c, lanes, TailStrategy::GuardWithIf);
    schedulePointwise(y, vars, target);
  }
  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    for (Func f : {mean, invstd, newRunningMean, newRunningVar})
      scheduleChannelsGPU(f, c, channels);
    schedulePointwiseGPU(y, vars);
  }

private:
  Var c{"c"};
  Func count{"count"}, centred{"centred"}, mean{"mean"}, invstd{"invstd"};
  Func scale{"scale"}, y{"y"};
  Func newRunningMean{"newRunningMean"}, newRunningVar{"newRunningVar"};
  std::vector<Var> vars;
};

/// batch_norm_grad_sums (inputs dy, x, mean, invstd): dgamma = invstd sum
/// dy (x - mean), dbeta = sum dy, and both sums as hi and lo in sums[4, C]
/// (sum dy in rows 0 and 1, sum dy (x - mean) in rows 2 and 3).
class BatchNormGradSums : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    ImageParam x = input(1, "x");
    ImageParam mean = input(2, "mean");
    ImageParam invstd = input(3, "invstd");
    ChannelView view(*this, spec.inputs[0]);
    Var c = sums.c, n = sums.n;
    sums.px = RDom(0, view.width, 0, view.height, "px");
    Expr g = view.load(dy, c, sums.px.x, sums.px.y, n);
    Expr centredX = view.load(x, c, sums.px.x, sums.px.y, n) - mean(c);
    sums.define({g, g * centredX}, batchExtent(x));
    dbeta(c) = cast<float>(sums.at(c, 0));
    dgamma(c) = cast<float>(sums.at(c, 1) * invstd(c));
    out(c, r) = select(r < 2, splitRows(sums.at(c, 0), r, 0),
                       splitRows(sums.at(c, 1), r, 2));
    return {dgamma, dbeta, out};
  }
  void scheduleCPU(const Target &target) override { sums.scheduleCPU(target); }
  void scheduleGPU(const Target &) override {
    const int channels = int(spec.inputs[0].shape[1]);
    sums.scheduleGPU(channels);
    for (Func f : {dgamma, dbeta})
      scheduleChannelsGPU(f, sums.c, channels);
    schedulePointwiseGPU(out, {sums.c, r});
  }

private:
  BatchSums sums;
  Var r{"r"};
  Func dgamma{"dgamma"}, dbeta{"dbeta"}, out{"sums"};
};

/// batch_norm_global_backward (inputs dy, x, gamma, mean, invstd, sums,
/// batch_sums): dx = a dy + b (x - mean) + d per channel, as
/// batch_norm_backward, from the gradient sums over the (global) batch of
/// batch_sums[2] H W values.
class BatchNormGlobalBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    ImageParam x = input(1, "x");
    ImageParam gamma = input(2, "gamma");
    ImageParam mean = input(3, "mean");
    ImageParam invstd = input(4, "invstd");
    ImageParam gradSums = input(5, "sums");
    ImageParam batchSums = input(6, "batch_sums");
    ChannelView view(*this, spec.inputs[0]);
    Expr count = cast<double>(batchSums(c, 2)) * view.pixels();
    Expr scale = cast<double>(gamma(c)) * invstd(c);
    coefficients(c) = Tuple(
        cast<float>(scale),
        cast<float>(-scale * invstd(c) * invstd(c) * joinRows(gradSums, c, 2) /
                    count),
        cast<float>(-scale * joinRows(gradSums, c, 0) / count));
    vars = pointVars(view.rank);
    Var ch = vars[0];
    dx(vars) = coefficients(ch)[0] * view.load(dy, vars) +
               coefficients(ch)[1] * (view.load(x, vars) - mean(ch)) +
               coefficients(ch)[2];
    return {dx};
  }
  void scheduleCPU(const Target &target) override {
    coefficients.compute_root().vectorize(
        c, target.natural_vector_size<float>(), TailStrategy::GuardWithIf);
    schedulePointwise(dx, vars, target);
  }
  void scheduleGPU(const Target &) override {
    coefficients.compute_root();
    scheduleChannelsGPU(coefficients, c, int(spec.inputs[0].shape[1]));
    schedulePointwiseGPU(dx, vars);
  }

private:
  Var c{"c"};
  Func coefficients{"coefficients"}, dx{"dx"};
  std::vector<Var> vars;
};

/// fold_batch_norm: an inference BatchNorm folded into the conv before it
/// (inputs w[O,I,KH,KW], gamma, beta, mean, var, optional conv bias b;
/// floats epsilon). With s = gamma / sqrt(var + epsilon):
/// w' = w s (per output channel) and b' = beta + (b - mean) s.
class FoldBatchNorm : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam w = input(0, "w");
    ImageParam gamma = input(1, "gamma");
    ImageParam beta = input(2, "beta");
    ImageParam mean = input(3, "mean");
    ImageParam variance = input(4, "variance");
    Expr bias = 0.0f;
    if (spec.inputs.size() == 6)
      bias = input(5, "b")(o);
    const float epsilon = float(floatAttr("epsilon"));
    // The scale batch_norm uses, so folded and unfused inference
    // round alike.
    scale(o) = inferenceScale(gamma, variance, epsilon, o);
    foldedFilter(kx, ky, i, o) = w(kx, ky, i, o) * scale(o);
    foldedBias(o) = beta(o) + (bias - mean(o)) * scale(o);
    return {foldedFilter, foldedBias};
  }

  void scheduleCPU(const Target &) override {
    scale.compute_root();
    foldedFilter.parallel(o);
  }
  void scheduleGPU(const Target &) override {
    schedulePointwiseGPU(foldedFilter, {kx, ky, i, o});
    schedulePointwiseGPU(foldedBias, {o});
  }

private:
  Var kx{"kx"}, ky{"ky"}, i{"i"}, o{"o"};
  Func scale{"scale"}, foldedFilter{"folded_filter"}, foldedBias{"folded_bias"};
};

} // namespace

void registerBatchNormFamilies(FamilyRegistry &registry) {
  registry.add<BatchNormTrain>("batch_norm_train");
  registry.add<BatchNormInference>("batch_norm");
  registry.add<BatchNormBackward>("batch_norm_backward");
  registry.add<BatchNormApply>("batch_norm_apply");
  registry.add<BatchNormBackward>("batch_norm_apply_backward");
  registry.add<FoldBatchNorm>("fold_batch_norm");
  registry.add<BatchNormSums>("batch_norm_sums");
  registry.add<BatchNormDeviations>("batch_norm_deviations");
  registry.add<BatchNormGlobal>("batch_norm_global");
  registry.add<BatchNormGradSums>("batch_norm_grad_sums");
  registry.add<BatchNormGlobalBackward>("batch_norm_global_backward");
}

} // namespace resnetc::kernels
