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

using namespace Halide;

namespace resnetc::kernels {
namespace {

Expr square(Expr e) { return e * e; }

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

    // A batch of one value per channel has no unbiased variance (PyTorch
    // refuses it); we keep the biased one (zero) rather than divide by zero.
    newRunningMean(c) = momentum * runningMean(c) + (1 - momentum) * mean(c);
    newRunningVar(c) =
        momentum * runningVar(c) +
        (1 - momentum) * cast<float>(batchM2(c) / max(count - 1, Expr(1.0)));
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

private:
  Var c{"c"}, n{"n"};
  RDom px, batch;
  Func reference{"reference"}, imageSum{"imageSum"}, imageMoments{"imageMoments"};
  Func batchSum{"batchSum"}, centredMean{"centredMean"}, batchM2{"batchM2"};
  Func mean{"mean"}, invstd{"invstd"}, scale{"scale"};
  Func y{"y"}, newRunningMean{"newRunningMean"}, newRunningVar{"newRunningVar"};
  std::vector<Var> vars;
};

/// batch_norm_inference: y = (x - running_mean) / sqrt(running_var + eps)
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
    scale(c) = gamma(c) / sqrt(runningVar(c) + epsilon);
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

private:
  Var c{"c"};
  Func scale{"scale"}, y{"y"};
  std::vector<Var> vars;
};

/// batch_norm_backward: dx, dgamma, dbeta through the batch statistics.
/// With xhat = (x - mean) invstd over the m = N H W values of a channel:
///   dbeta = sum dy,  dgamma = sum dy xhat,
///   dx = gamma invstd (dy - dbeta / m - xhat dgamma / m).
class BatchNormBackward : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    ImageParam x = input(1, "x");
    ImageParam gamma = input(2, "gamma");
    ImageParam mean = input(3, "mean");
    ImageParam invstd = input(4, "invstd");
    ChannelView view(*this, spec.inputs[0]);

    px = RDom(0, view.width, 0, view.height, "px");
    // Sums in double, as in batch_norm_train: sum dy nearly cancels in
    // every channel of a trained net, and its error reaches every dx.
    Expr dyAtPx = cast<double>(view.load(dy, c, px.x, px.y, n));
    Expr centredAtPx =
        cast<double>(view.load(x, c, px.x, px.y, n) - mean(c));
    Expr zero = cast<double>(0);
    imageSums(c, n) = Tuple(zero, zero);
    imageSums(c, n) = Tuple(imageSums(c, n)[0] + dyAtPx,
                            imageSums(c, n)[1] + dyAtPx * centredAtPx);

    Expr images = batchExtent(x);
    Expr count = cast<double>(images * view.pixels());
    batch = RDom(0, images, "batch");
    batchSums(c) = Tuple(zero, zero);
    batchSums(c) = Tuple(batchSums(c)[0] + imageSums(c, batch)[0],
                         batchSums(c)[1] + imageSums(c, batch)[1]);
    dbeta(c) = cast<float>(batchSums(c)[0]);
    dgamma(c) = cast<float>(batchSums(c)[1] * invstd(c));

    // dx = a dy + b (x - mean) + d, with a, b, d per channel.
    Expr scale = cast<double>(gamma(c)) * invstd(c);
    coefficients(c) =
        Tuple(cast<float>(scale),
              cast<float>(-scale * invstd(c) * invstd(c) * batchSums(c)[1] /
                          count),
              cast<float>(-scale * batchSums(c)[0] / count));
    vars = pointVars(view.rank);
    Var ch = vars[0];
    dx(vars) = coefficients(ch)[0] * view.load(dy, vars) +
               coefficients(ch)[1] * (view.load(x, vars) - mean(ch)) +
               coefficients(ch)[2];
    return {dx, dgamma, dbeta};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    auto vectorized = [&](Func f) {
      f.vectorize(c, lanes, TailStrategy::GuardWithIf);
    };
    imageSums.compute_root().parallel(n);
    vectorized(imageSums);
    scheduleChannelReduction(imageSums.update(), c, px, target);
    imageSums.update().parallel(n);
    batchSums.compute_root();
    vectorized(batchSums);
    scheduleChannelReduction(batchSums.update(), c, batch, target);
    coefficients.compute_root();
    for (Func f : {dgamma, dbeta, coefficients})
      vectorized(f);
    schedulePointwise(dx, vars, target);
  }

private:
  Var c{"c"}, n{"n"};
  RDom px, batch;
  Func imageSums{"imageSums"}, batchSums{"batchSums"};
  Func dgamma{"dgamma"}, dbeta{"dbeta"}, coefficients{"coefficients"};
  Func dx{"dx"};
  std::vector<Var> vars;
};

} // namespace

void registerBatchNormFamilies(FamilyRegistry &registry) {
  registry.add<BatchNormTrain>("batch_norm_train");
  registry.add<BatchNormInference>("batch_norm_inference");
  registry.add<BatchNormBackward>("batch_norm_backward");
}

} // namespace resnetc::kernels
