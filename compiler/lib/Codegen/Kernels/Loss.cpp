//===- Loss.cpp - softmax cross-entropy kernel family ---------------------===//
//
// softmax_cross_entropy: the mean loss over the batch, the count of correct
// predictions and, when the step trains, the gradient of the mean loss with
// respect to the logits, in one pipeline. Label smoothing is PyTorch's
// `label_smoothing`: the target is (1 - eps) one_hot(label) + eps / K, so
//   loss_n = -(1 - eps) log p[label] - eps / K sum_k log p[k],
//   dlogits[n, k] = (p[k] - target[k]) / N.
// Labels must lie in [0, K); one outside is clamped for the loss (so nothing
// reads out of bounds) and never counts as correct.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <limits>

using namespace Halide;

namespace resnetc::kernels {
namespace {

class SoftmaxCrossEntropy : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam logits = input(0, "logits");
    ImageParam labels = input(1, "labels");
    Param<float> smoothing = scalarF32("label_smoothing", 0.0f);
    withGradient = intAttr("with_gradient") != 0;
    checkSpec();
    const int classes = int(spec.inputs[0].shape[1]);
    Expr images = batchExtent(logits);

    // Per row: the maximum and its first index, then the sum of exp(x - max)
    // and of x, from which log p[k] = x[k] - max - log(sum exp).
    r = RDom(0, classes, "class");
    Expr x = logits(r, n);
    // Not -inf: Halide compiles with LLVM's no-infinities flag.
    rowMax(n) = Tuple(std::numeric_limits<float>::lowest(), 0);
    Expr better = x > rowMax(n)[0];
    rowMax(n) = Tuple(select(better, x, rowMax(n)[0]),
                      select(better, cast<int>(r), rowMax(n)[1]));
    rowSums(n) = Tuple(0.0f, 0.0f);
    rowSums(n) =
        Tuple(rowSums(n)[0] + exp(x - rowMax(n)[0]), rowSums(n)[1] + x);
    logPartition(n) = rowMax(n)[0] + log(rowSums(n)[0]);

    Expr label = clamp(labels(n), 0, classes - 1);
    Expr labelLogP = logits(label, n) - logPartition(n);
    Expr sumLogP = rowSums(n)[1] - classes * logPartition(n);
    rowLoss(n) = -(1 - smoothing) * labelLogP - smoothing / classes * sumLogP;

    batch = RDom(0, images, "batch");
    lossSum() = 0.0f;
    lossSum() += rowLoss(batch);
    loss() = lossSum() / cast<float>(images);
    correct() = 0;
    correct() += select(rowMax(batch)[1] == labels(batch), 1, 0);
    if (!withGradient)
      return {loss, correct};

    Expr target = select(k == label, 1 - smoothing, 0.0f) + smoothing / classes;
    dlogits(k, n) =
        (exp(logits(k, n) - logPartition(n)) - target) / cast<float>(images);
    return {loss, correct, dlogits};
  }

  /// Rows are short (the classes), so the row reductions run vectorised
  /// across rows (a gather of one class from 16 rows per step); the sums over
  /// the batch are N scalar adds.
  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    for (Func f : {rowMax, rowSums}) {
      f.compute_root().vectorize(n, lanes, TailStrategy::GuardWithIf);
      scheduleChannelReduction(f.update(), n, r, target);
    }
    for (Func f : {logPartition, rowLoss})
      f.compute_root().vectorize(n, lanes, TailStrategy::GuardWithIf);
    lossSum.compute_root();
    if (withGradient)
      dlogits.vectorize(k, lanes, TailStrategy::GuardWithIf)
          .parallel(n, 8, TailStrategy::GuardWithIf);
  }

  /// A thread per row for the row reductions (rows are short); the sums
  /// over the batch as block reductions: a warp's threads each sum every
  /// 32nd row in order (rfactor), then one thread adds the 32 partials.
  void scheduleGPU(const Target &) override {
    for (Func f : {rowMax, rowSums, logPartition, rowLoss}) {
      f.compute_root();
      schedulePointwiseGPU(f, {n});
    }
    for (Func f : {rowMax, rowSums})
      schedulePointwiseGPU(f.update(), {n});
    lossSum.compute_root();
    scheduleBatchSum(lossSum, "loss");
    scheduleBatchSum(correct, "correct");
    schedulePointwiseGPU(loss, {});
    if (withGradient)
      schedulePointwiseGPU(dlogits, {k, n});
  }

private:
  /// The 0-D sum `total` (a zero, then += over `batch`) as one block: a
  /// warp of partial sums in shared memory, then their sum on one thread.
  void scheduleBatchSum(Func total, const std::string &tag) {
    const int warp = 32;
    RVar outer(tag + "_outer"), lane(tag + "_lane");
    Var u(tag + "_u"), block(tag + "_block"), thread(tag + "_thread");
    Func partial = total.update()
                       .split(batch.x, outer, lane, warp,
                              TailStrategy::GuardWithIf)
                       .rfactor(lane, u);
    schedulePointwiseGPU(total, {});
    total.update()
        .split(Var::outermost(), Var::outermost(), block, 1)
        .split(block, block, thread, 1)
        .gpu_blocks(block)
        .gpu_threads(thread);
    partial.compute_at(total, block).gpu_threads(u);
    partial.update().gpu_threads(u);
  }

  void checkSpec() const {
    const std::vector<TensorSpec> &in = spec.inputs, &out = spec.outputs;
    if (in.size() != 2 || in[0].shape.size() != 2 || in[1].shape.size() != 1 ||
        in[1].type != ElemType::I32 || in[1].shape[0] != in[0].shape[0])
      fail("takes logits[N, K] and labels[N] (i32)");
    if (out.size() != (withGradient ? 3u : 2u))
      fail("with_gradient = " + std::to_string(withGradient) + " needs " +
           (withGradient ? "3" : "2") + " outputs");
    if (!out[0].shape.empty() || !out[1].shape.empty() ||
        out[1].type != ElemType::I32)
      fail("loss is a f32 scalar and correct an i32 scalar");
    if (withGradient && out[2].shape != in[0].shape)
      fail("dlogits has the shape of the logits");
  }

  bool withGradient = false;
  Var k{"k"}, n{"n"};
  RDom r, batch;
  Func rowMax{"rowMax"}, rowSums{"rowSums"}, logPartition{"logPartition"};
  Func rowLoss{"rowLoss"}, lossSum{"lossSum"};
  Func loss{"loss"}, correct{"correct"}, dlogits{"dlogits"};
};

} // namespace

void registerLossFamilies(FamilyRegistry &registry) {
  registry.add<SoftmaxCrossEntropy>("softmax_cross_entropy");
}

} // namespace resnetc::kernels
