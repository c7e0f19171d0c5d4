//===- Optimizer.cpp - SGD and Adam/AdamW update kernel families ----------===//
//
// One pass over the flat parameter, gradient and state buffers, updating in
// place: the runtime binds w_new to w, m_new to m and v_new to v.
//
// Why that is safe. Every output is pointwise in p, and the outputs run in
// one fused loop over vectors of p (compute_with): per vector, first the
// gradient with weight decay g' = g + wd w is staged in a register, then
// w_new is written, then m_new (then v_new). Each output reads its inputs at
// the same p only, and before anything at p is overwritten, except what the
// staging protects: m_new and v_new need w (through g') after w_new has
// overwritten it, so they read the staged g'. w_new recomputes the new
// moments from the still-unwritten m and v rather than reading m_new. The
// tests run both families with the outputs bound to the input buffers.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// Checks that every input and output is a flat [P] f32 buffer of one P.
void checkFlat(const Family &family, const KernelSpec &spec) {
  for (const std::vector<TensorSpec> *tensors : {&spec.inputs, &spec.outputs})
    for (const TensorSpec &t : *tensors)
      if (t.shape.size() != 1 || t.shape != spec.inputs[0].shape ||
          t.kind != TensorKind::Weight || t.type != ElemType::F32)
        family.fail(
            "every buffer must be a flat f32 weight buffer [P] of one P");
}

/// Fuses `outputs` (in that order) into one loop over vectors of p, with
/// `staged` computed per vector (in a register) before any of them; tasks
/// of 64 vectors run in parallel.
///
/// The fusion is at the vector loop on purpose: Halide 14 drops the tail
/// guard of loops nested inside a compute_with-fused loop, so fusing at
/// chunks of vectors wrote past the end of the buffers in the last chunk.
void scheduleFusedUpdate(std::vector<Func> outputs, Func staged, Var p,
                         const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  Var vector("vector"), lane("lane"), task("task"), inTask("inTask");
  for (Func f : outputs)
    f.split(p, vector, lane, lanes, TailStrategy::GuardWithIf)
        .vectorize(lane)
        .split(vector, task, inTask, 64, TailStrategy::GuardWithIf)
        .parallel(task);
  for (size_t i = 1; i < outputs.size(); ++i)
    outputs[i].compute_with(outputs[i - 1], inTask);
  staged.compute_at(outputs[0], inTask)
      .vectorize(p, lanes, TailStrategy::GuardWithIf);
}

/// GPU: the same fusion as scheduleFusedUpdate, at the thread: a thread
/// per p stages g' and then writes every output at p. The blocks tile P
/// exactly, as a guarded tail would not guard the staged stage's bounds (as
/// scheduleFusedUpdate says): blocks of the largest power of two up to 256
/// that divides P. A GPU plan's runs are multiples of 64 floats (256-byte
/// aligned), so 64 threads or more.
void scheduleFusedUpdateGPU(std::vector<Func> outputs, Func staged, Var p,
                            int64_t elements) {
  int threads = kGpuBlockThreads;
  while (elements % threads)
    threads /= 2;
  Var block("gpu_block"), thread("gpu_thread");
  for (Func f : outputs)
    f.gpu_tile(p, block, thread, threads);
  for (size_t i = 1; i < outputs.size(); ++i)
    outputs[i].compute_with(outputs[i - 1], thread);
  staged.compute_at(outputs[0], thread);
}

/// sgd_update, PyTorch's SGD with dampening 0:
///   g' = g + wd w;  m = momentum m + g';
///   w -= lr (nesterov ? g' + momentum m : m).
class SgdUpdate : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam w = input(0, "w");
    ImageParam g = input(1, "g");
    ImageParam m = input(2, "m");
    Param<float> lr = scalarF32("lr", 0.1f);
    Param<float> momentum = scalarF32("momentum", 0.9f);
    Param<float> weightDecay = scalarF32("weight_decay", 1e-4f);
    Param<int32_t> nesterov = scalarI32("nesterov", 0);
    checkFlat(*this, spec);

    grad(p) = g(p) + weightDecay * w(p);
    Expr moment = momentum * m(p) + grad(p);
    Expr step = select(nesterov != 0, grad(p) + momentum * moment, moment);
    wNew(p) = w(p) - lr * step;
    mNew(p) = moment;
    return {wNew, mNew};
  }
  void scheduleCPU(const Target &target) override {
    scheduleFusedUpdate({wNew, mNew}, grad, p, target);
  }
  void scheduleGPU(const Target &) override {
    scheduleFusedUpdateGPU({wNew, mNew}, grad, p,
                           spec.inputs[0].shape[0]);
  }

private:
  Var p{"p"};
  Func grad{"grad"}, wNew{"wNew"}, mNew{"mNew"};
};

/// adam_update, PyTorch's Adam (decoupled = 0: wd w is added to g) and AdamW
/// (decoupled = 1: w is scaled by 1 - lr wd first):
///   m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
///   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
class AdamUpdate : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam w = input(0, "w");
    ImageParam g = input(1, "g");
    ImageParam m = input(2, "m");
    ImageParam v = input(3, "v");
    Param<float> lr = scalarF32("lr", 1e-3f);
    Param<float> beta1 = scalarF32("beta1", 0.9f);
    Param<float> beta2 = scalarF32("beta2", 0.999f);
    Param<float> epsilon = scalarF32("epsilon", 1e-8f);
    Param<float> weightDecay = scalarF32("weight_decay", 0.0f);
    Param<int32_t> step = scalarI32("step", 1);
    const bool decoupled = floatAttr("decoupled") != 0;
    checkFlat(*this, spec);

    grad(p) = decoupled ? Expr(g(p)) : g(p) + weightDecay * w(p);
    Expr moment = beta1 * m(p) + (1 - beta1) * grad(p);
    Expr secondMoment = beta2 * v(p) + (1 - beta2) * grad(p) * grad(p);
    Expr t = cast<float>(step);
    Expr stepSize = lr / (1 - pow(beta1, t));
    Expr denominator = sqrt(secondMoment) / sqrt(1 - pow(beta2, t)) + epsilon;
    Expr decayed = decoupled ? w(p) * (1 - lr * weightDecay) : Expr(w(p));
    wNew(p) = decayed - stepSize * moment / denominator;
    mNew(p) = moment;
    vNew(p) = secondMoment;
    return {wNew, mNew, vNew};
  }
  void scheduleCPU(const Target &target) override {
    scheduleFusedUpdate({wNew, mNew, vNew}, grad, p, target);
  }
  void scheduleGPU(const Target &) override {
    scheduleFusedUpdateGPU({wNew, mNew, vNew}, grad, p,
                           spec.inputs[0].shape[0]);
  }

private:
  Var p{"p"};
  Func grad{"grad"}, wNew{"wNew"}, mNew{"mNew"}, vNew{"vNew"};
};

} // namespace

void registerOptimizerFamilies(FamilyRegistry &registry) {
  registry.add<SgdUpdate>("sgd_update");
  registry.add<AdamUpdate>("adam_update");
}

} // namespace resnetc::kernels
