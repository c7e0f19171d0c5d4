//===- Dense.cpp - fully connected kernel families ------------------------===//
//
// dense and its two gradients. Activations are (k, n) with the features
// innermost, the weight is (k, m) (PyTorch's [M, K], row-major), so every
// product runs along a contiguous k: the forward pass as dot products (k
// vectorised, lanes summed at the end), the gradients with k vectorised and
// the other operand broadcast. In a ResNet these layers are small next to
// the convolutions; the schedules keep a few vectors of accumulators in
// registers and run the independent dimension on threads.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <algorithm>

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// Features K and outputs M of a dense layer.
struct DenseGeometry {
  int K = 0, M = 0;
};

class DenseFamily : public Family {
public:
  using Family::Family;

protected:
  /// Reads K and M from the logical shapes x[N,K], w[M,K] and y[N,M] and
  /// checks that they agree.
  DenseGeometry geometry(const Shape &x, const Shape &w, const Shape &y) const {
    if (x.size() != 2 || w.size() != 2 || y.size() != 2)
      fail("expects 2-D activations and weight");
    if (x[1] != w[1] || y[1] != w[0] || x[0] != y[0])
      fail("shapes do not match x[N,K], w[M,K], y[N,M]");
    return {int(w[1]), int(w[0])};
  }

  /// How many `lanes`-wide vectors (at most 4) tile `extent`, or 0 if the
  /// extent is not a multiple of the vector width.
  static int vectorsFor(int extent, int lanes) {
    if (extent % lanes)
      return 0;
    int blocks = extent / lanes;
    return blocks % 4 == 0 ? 4 : blocks % 2 == 0 ? 2 : 1;
  }

  Var k{"k"}, m{"m"}, n{"n"};
  DenseGeometry g;
};

//===----------------------------------------------------------------------===//
// dense
//===----------------------------------------------------------------------===//

/// y(m, n) = sum over k of x(k, n) * w(k, m) (+ b(m)).
class Dense : public DenseFamily {
public:
  using DenseFamily::DenseFamily;

  std::vector<Func> define() override {
    if (spec.inputs.size() < 2 || spec.inputs.size() > 3 ||
        spec.outputs.size() != 1)
      fail("expects inputs x, w, optional b and one output");
    g = geometry(spec.inputs[0].shape, spec.inputs[1].shape,
                 spec.outputs[0].shape);
    ImageParam x = input(0, "x"), w = input(1, "w");
    rk = RDom(0, g.K, "rk");
    acc(m, n) = 0.0f;
    acc(m, n) += x(rk, n) * w(rk, m);
    Expr result = acc(m, n);
    if (spec.inputs.size() == 3)
      result += input(2, "b")(m);
    out(m, n) = result;
    return {out};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    // Four dot products at a time share each load of x; a thread takes
    // several images, as one image is too little work to hand out. 512->10
    // at N=128: 21 us on 2 threads (PyTorch 0.29 ms).
    const int tileM = std::min(g.M, 4);
    out.split(m, mt, mi, tileM)
        .split(n, nt, ni, 8, TailStrategy::GuardWithIf)
        .reorder(mi, mt, ni, nt)
        .unroll(mi)
        .parallel(nt);
    acc.compute_at(out, mt).unroll(m);
    if (g.K < lanes) {
      acc.update().unroll(m);
      return;
    }
    RVar rko("rko"), rki("rki");
    Var u("u");
    Func lanesAcc = acc.update()
                        .split(rk, rko, rki, lanes, TailStrategy::GuardWithIf)
                        .rfactor(rki, u);
    acc.update().unroll(m).unroll(rki);
    // The lanes innermost in memory too: rfactor puts them last.
    lanesAcc.compute_at(out, mt).reorder_storage(u, m, n).vectorize(u).unroll(
        m);
    lanesAcc.update().reorder(u, m, rko).vectorize(u).unroll(m);
  }

  /// A thread per output, its dot product in a register. Dense layers end
  /// the ResNets (a few thousand outputs a batch): no tiling pays.
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(out, acc, {m, n});
  }

private:
  Func acc{"acc"}, out{"out"};
  Var mt{"mt"}, mi{"mi"}, nt{"nt"}, ni{"ni"};
  RDom rk;
};

//===----------------------------------------------------------------------===//
// dense_backward_data
//===----------------------------------------------------------------------===//

/// dx(k, n) = sum over m of dy(m, n) * w(k, m).
class DenseBackwardData : public DenseFamily {
public:
  using DenseFamily::DenseFamily;

  std::vector<Func> define() override {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1)
      fail("expects inputs dy, w and one output");
    g = geometry(spec.outputs[0].shape, spec.inputs[1].shape,
                 spec.inputs[0].shape);
    ImageParam dy = input(0, "dy"), w = input(1, "w");
    rm = RDom(0, g.M, "rm");
    acc(k, n) = 0.0f;
    acc(k, n) += dy(rm, n) * w(k, rm);
    out(k, n) = acc(k, n);
    return {out};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    const int vectors = vectorsFor(g.K, lanes);
    out.parallel(n);
    if (vectors == 0) {
      out.vectorize(k, lanes, TailStrategy::GuardWithIf);
      acc.compute_at(out, n).vectorize(k, lanes, TailStrategy::GuardWithIf);
      acc.update().vectorize(k, lanes, TailStrategy::GuardWithIf);
      return;
    }
    out.split(k, kt, ki, vectors * lanes).vectorize(ki, lanes).unroll(ki);
    acc.compute_at(out, kt).vectorize(k, lanes).unroll(k);
    acc.update().reorder(k, rm).vectorize(k, lanes).unroll(k);
  }
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(out, acc, {k, n});
  }

private:
  Func acc{"acc"}, out{"out"};
  Var kt{"kt"}, ki{"ki"};
  RDom rm;
};

//===----------------------------------------------------------------------===//
// dense_backward_weights
//===----------------------------------------------------------------------===//

/// dw(k, m) = sum over n of x(k, n) * dy(m, n); db(m) = sum over n of dy(m, n).
class DenseBackwardWeights : public DenseFamily {
public:
  using DenseFamily::DenseFamily;

  std::vector<Func> define() override {
    if (spec.inputs.size() != 2 || spec.outputs.empty() ||
        spec.outputs.size() > 2)
      fail("expects inputs x, dy and outputs dw, optional db");
    g = geometry(spec.inputs[0].shape, spec.outputs[0].shape,
                 spec.inputs[1].shape);
    ImageParam x = input(0, "x"), dy = input(1, "dy");
    // The batch is the run-time extent of the buffers.
    rn = RDom(0, dy.dim(1).extent(), "rn");
    acc(k, m) = 0.0f;
    acc(k, m) += x(k, rn) * dy(m, rn);
    dw(k, m) = acc(k, m);
    if (spec.outputs.size() == 1)
      return {dw};
    biasAcc(m) = 0.0f;
    biasAcc(m) += dy(m, rn);
    db(m) = biasAcc(m);
    return {dw, db};
  }

  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    const int vectors = vectorsFor(g.K, lanes);
    if (spec.outputs.size() == 2)
      db.vectorize(m, lanes, TailStrategy::GuardWithIf);
    if (vectors == 0) {
      dw.parallel(m).vectorize(k, lanes, TailStrategy::GuardWithIf);
      acc.compute_at(dw, m).vectorize(k, lanes, TailStrategy::GuardWithIf);
      acc.update().vectorize(k, lanes, TailStrategy::GuardWithIf);
      return;
    }
    // A tile of `vectors` x `tileM` accumulators: each x vector meets
    // tileM broadcast gradients.
    const int tileM =
        std::min(g.M, std::max(1, accumulatorRegisters(target) / vectors));
    dw.split(k, kt, ki, vectors * lanes)
        .split(m, mt, mi, tileM)
        .reorder(ki, mi, kt, mt)
        .vectorize(ki, lanes)
        .unroll(ki)
        .unroll(mi)
        .parallel(mt);
    acc.compute_at(dw, kt).vectorize(k, lanes).unroll(k).unroll(m);
    acc.update().reorder(k, m, rn).vectorize(k, lanes).unroll(k).unroll(m);
  }
  void scheduleGPU(const Target &) override {
    scheduleElementReductionGPU(dw, acc, {k, m});
    if (spec.outputs.size() == 2)
      scheduleElementReductionGPU(db, biasAcc, {m});
  }

private:
  Func acc{"acc"}, dw{"dw"}, biasAcc{"bias_acc"}, db{"db"};
  Var kt{"kt"}, ki{"ki"}, mt{"mt"}, mi{"mi"};
  RDom rn;
};

} // namespace

void registerDenseFamilies(FamilyRegistry &registry) {
  registry.add<Dense>("dense");
  registry.add<DenseBackwardData>("dense_backward_data");
  registry.add<DenseBackwardWeights>("dense_backward_weights");
}

} // namespace resnetc::kernels
