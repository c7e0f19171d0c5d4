//===- Elementwise.cpp - pointwise kernel families ------------------------===//
//
// Activations, their gradients, the residual add and the softmax. Each output
// element of the pointwise families depends on the same element of each
// input, so one schedule serves all of them: vectors along the innermost
// (channel) dimension, threads over the outermost (batch) one; on a GPU, a
// thread per element. The softmax reduces along its rows first and is
// scheduled on its own.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

#include <optional>

#include <cmath>
#include <limits>

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// out = op(in): the forward activations.
class Unary : public Family {
public:
  using Op = std::function<Expr(Expr x, const Family &self)>;
  Unary(const KernelSpec &spec, Op op) : Family(spec), op(std::move(op)) {}

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    vars = pointVars(spec.inputs[0].shape.size());
    out(vars) = op(x(asExprs(vars)), *this);
    return {out};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(out, vars, target);
  }
  void scheduleGPU(const Target &) override { schedulePointwiseGPU(out, vars); }

private:
  Op op;
  Func out{"out"};
  std::vector<Var> vars;
};

/// dx = op(dy, saved): the backward of an activation, from its saved input
/// or output (which one is the family's choice, see Kernels.h).
class UnaryBackward : public Family {
public:
  using Op = std::function<Expr(Expr dy, Expr saved, const Family &self)>;
  UnaryBackward(const KernelSpec &spec, Op op)
      : Family(spec), op(std::move(op)) {}

  std::vector<Func> define() override {
    ImageParam dy = input(0, "dy");
    ImageParam saved = input(1, "saved");
    vars = pointVars(spec.inputs[0].shape.size());
    std::vector<Expr> at = asExprs(vars);
    dx(vars) = op(dy(at), saved(at), *this);
    return {dx};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(dx, vars, target);
  }
  void scheduleGPU(const Target &) override { schedulePointwiseGPU(dx, vars); }

private:
  Op op;
  Func dx{"dx"};
  std::vector<Var> vars;
};

//===----------------------------------------------------------------------===//
// The activation functions
//===----------------------------------------------------------------------===//

Expr sigmoid(Expr x) { return 1.0f / (1.0f + exp(-x)); }

/// tanh from one exp: Halide's tanh calls libm lane by lane. Near zero,
/// 1 - exp(-2|x|) cancels, so there the odd Taylor series takes over; at
/// the switch, |x| = 0.25, its first omitted term is 1e-8 relative and the
/// exp form loses under 2 bits.
Expr tanhVectorizable(Expr x) {
  Expr t = exp(-2.0f * abs(x));
  Expr far = (1.0f - t) / (1.0f + t);
  Expr x2 = x * x;
  Expr near =
      x * (1.0f +
           x2 * (-1.0f / 3 +
                 x2 * (2.0f / 15 + x2 * (-17.0f / 315 + x2 * (62.0f / 2835)))));
  return select(abs(x) < 0.25f, near, select(x < 0.0f, -far, far));
}

/// The standard normal CDF Phi(x): gelu is x * Phi(x) (the exact form).
Expr normalCdf(Expr x) { return 0.5f * (1.0f + erf(x * float(M_SQRT1_2))); }

struct Relu : Unary {
  explicit Relu(const KernelSpec &spec)
      : Unary(spec, [](Expr x, const Family &) { return max(x, 0.0f); }) {}
};

struct ReluBackward : UnaryBackward {
  explicit ReluBackward(const KernelSpec &spec)
      : UnaryBackward(spec, [](Expr dy, Expr y, const Family &) {
          return select(y > 0.0f, dy, 0.0f);
        }) {}
};

struct Sigmoid : Unary {
  explicit Sigmoid(const KernelSpec &spec)
      : Unary(spec, [](Expr x, const Family &) { return sigmoid(x); }) {}
};

/// From the saved output: sigmoid' = y (1 - y).
struct SigmoidBackward : UnaryBackward {
  explicit SigmoidBackward(const KernelSpec &spec)
      : UnaryBackward(spec, [](Expr dy, Expr y, const Family &) {
          return dy * y * (1.0f - y);
        }) {}
};

struct Tanh : Unary {
  explicit Tanh(const KernelSpec &spec)
      : Unary(spec,
              [](Expr x, const Family &) { return tanhVectorizable(x); }) {}
};

/// From the saved output: tanh' = 1 - y^2.
struct TanhBackward : UnaryBackward {
  explicit TanhBackward(const KernelSpec &spec)
      : UnaryBackward(spec, [](Expr dy, Expr y, const Family &) {
          return dy * (1.0f - y * y);
        }) {}
};

struct Gelu : Unary {
  explicit Gelu(const KernelSpec &spec)
      : Unary(spec, [](Expr x, const Family &) { return x * normalCdf(x); }) {}
};

/// From the saved input: gelu' = Phi(x) + x phi(x).
struct GeluBackward : UnaryBackward {
  explicit GeluBackward(const KernelSpec &spec)
      : UnaryBackward(spec, [](Expr dy, Expr x, const Family &) {
          Expr density =
              float(0.5 * M_2_SQRTPI * M_SQRT1_2) * exp(-0.5f * x * x);
          return dy * (normalCdf(x) + x * density);
        }) {}
};

struct LeakyRelu : Unary {
  explicit LeakyRelu(const KernelSpec &spec)
      : Unary(spec, [](Expr x, const Family &self) {
          return select(x > 0.0f, x, float(self.floatAttr("alpha")) * x);
        }) {}
};

/// From the saved input, as PyTorch: the slope at 0 is alpha.
struct LeakyReluBackward : UnaryBackward {
  explicit LeakyReluBackward(const KernelSpec &spec)
      : UnaryBackward(spec, [](Expr dy, Expr x, const Family &self) {
          return select(x > 0.0f, dy, float(self.floatAttr("alpha")) * dy);
        }) {}
};

struct Elu : Unary {
  explicit Elu(const KernelSpec &spec)
      : Unary(spec, [](Expr x, const Family &self) {
          return select(x > 0.0f, x,
                        float(self.floatAttr("alpha")) * (exp(x) - 1.0f));
        }) {}
};

/// From the saved input, as PyTorch: the slope at 0 is alpha.
struct EluBackward : UnaryBackward {
  explicit EluBackward(const KernelSpec &spec)
      : UnaryBackward(spec, [](Expr dy, Expr x, const Family &self) {
          return select(x > 0.0f, dy,
                        float(self.floatAttr("alpha")) * exp(x) * dy);
        }) {}
};

//===----------------------------------------------------------------------===//
// add, softmax
//===----------------------------------------------------------------------===//

/// c = a + b, the residual add.
class Add : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam a = input(0, "a");
    ImageParam b = input(1, "b");
    if (spec.inputs[0].shape != spec.inputs[1].shape)
      fail("the two summands differ in shape");
    vars = pointVars(spec.inputs[0].shape.size());
    std::vector<Expr> at = asExprs(vars);
    c(vars) = a(at) + b(at);
    return {c};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(c, vars, target);
  }
  void scheduleGPU(const Target &) override { schedulePointwiseGPU(c, vars); }

private:
  Func c{"c"};
  std::vector<Var> vars;
};

/// add_stats: c = a + b of two [N, C, H, W] tensors, and the per-image
/// moments of c (ImageMoments), reduced from each image while it is in
/// cache: a BatchNorm of a residual sum (pre-activation blocks) then needs
/// no pass of its own over it.
class AddStats : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam a = input(0, "a");
    ImageParam b = input(1, "b");
    const Shape &shape = spec.inputs[0].shape;
    if (shape.size() != 4 || shape != spec.inputs[1].shape)
      fail("takes two summands [N, C, H, W] of one shape");
    sum(c, x, y, n) = a(c, x, y, n) + b(c, x, y, n);
    out(c, x, y, n) = sum(c, x, y, n);
    moments.emplace(sum, int(shape[3]), int(shape[2]));
    return {out, moments->sum(), moments->m2()};
  }

  /// One image per task: its sum computed into cache, then stored and
  /// reduced in the same loop over images.
  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    out.parallel(n).vectorize(c, lanes, TailStrategy::GuardWithIf);
    sum.compute_at(out, n).vectorize(c, lanes, TailStrategy::GuardWithIf);
    moments->schedule(out, LoopLevel(out, n), n, 1, target);
  }

  /// The sum, then the moments reading a and b again (the sum inlined).
  void scheduleGPU(const Target &) override {
    schedulePointwiseGPU(out, {c, x, y, n});
    moments->scheduleGPU(int(spec.inputs[0].shape[1]));
  }

private:
  Var c{"c"}, x{"x"}, y{"y"}, n{"n"};
  Func sum{"sum"}, out{"out"};
  std::optional<ImageMoments> moments;
};

/// y[n, :] = softmax(x[n, :]), shifted by the row maximum so exp never
/// overflows.
class Softmax : public Family {
public:
  using Family::Family;

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    if (spec.inputs[0].shape.size() != 2)
      fail("softmax takes x[N, K]");
    RDom r(0, int(spec.inputs[0].shape[1]), "r");
    // Not maximum(), which starts at -inf: Halide compiles with LLVM's
    // no-infinities flag.
    rowMax(n) = std::numeric_limits<float>::lowest();
    rowMax(n) = max(rowMax(n), x(r, n));
    shifted(k, n) = exp(x(k, n) - rowMax(n));
    rowSum(n) = 0.0f;
    rowSum(n) += shifted(r, n);
    y(k, n) = shifted(k, n) / rowSum(n);
    return {y};
  }

  /// One row per step of a parallel loop: exps vectorised and stored for the
  /// division. Rows are short (the classes), so the two reductions over a row
  /// stay scalar.
  void scheduleCPU(const Target &target) override {
    const int lanes = target.natural_vector_size<float>();
    y.vectorize(k, lanes, TailStrategy::GuardWithIf).parallel(n);
    shifted.compute_at(y, n).vectorize(k, lanes, TailStrategy::GuardWithIf);
    rowMax.compute_at(y, n);
    rowSum.compute_at(y, n);
  }

  /// A thread per element; each row's two reductions first, a thread per
  /// row (rows are the classes: short).
  void scheduleGPU(const Target &) override {
    schedulePointwiseGPU(y, {k, n});
    for (Func f : {rowMax, rowSum}) {
      f.compute_root();
      schedulePointwiseGPU(f, {n});
      schedulePointwiseGPU(f.update(), {n});
    }
  }

private:
  Var k{"k"}, n{"n"};
  Func rowMax{"rowMax"}, shifted{"shifted"}, rowSum{"rowSum"}, y{"y"};
};

} // namespace

void registerElementwiseFamilies(FamilyRegistry &registry) {
  registry.add<Relu>("relu");
  registry.add<ReluBackward>("relu_backward");
  registry.add<Sigmoid>("sigmoid");
  registry.add<SigmoidBackward>("sigmoid_backward");
  registry.add<Tanh>("tanh");
  registry.add<TanhBackward>("tanh_backward");
  registry.add<Gelu>("gelu");
  registry.add<GeluBackward>("gelu_backward");
  registry.add<LeakyRelu>("leaky_relu");
  registry.add<LeakyReluBackward>("leaky_relu_backward");
  registry.add<Elu>("elu");
  registry.add<EluBackward>("elu_backward");
  registry.add<Add>("add");
  registry.add<AddStats>("add_stats");
  registry.add<Softmax>("softmax");
}

} // namespace resnetc::kernels
