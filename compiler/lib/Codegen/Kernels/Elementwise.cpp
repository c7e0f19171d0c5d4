//===- Elementwise.cpp - pointwise kernel families ---------------------------===//
//
// Activations, their gradients and the residual add: each output element
// depends on the same element of each input, so one schedule serves all of
// them: vectors along the innermost (channel) dimension, threads over the
// outermost (batch) one.
//
//===----------------------------------------------------------------------===//

#include "Family.h"

using namespace Halide;

namespace resnetc::kernels {
namespace {

/// One Var per dimension of a tensor of `rank` dimensions.
std::vector<Var> pointVars(size_t rank) {
  std::vector<Var> vars;
  for (size_t d = 0; d < rank; ++d)
    vars.push_back(Var("d" + std::to_string(d)));
  return vars;
}

/// Vectorises dim 0 and runs the outermost dim on threads.
void schedulePointwise(Func f, const std::vector<Var> &vars,
                       const Target &target) {
  const int lanes = target.natural_vector_size<float>();
  f.vectorize(vars.front(), lanes, TailStrategy::GuardWithIf);
  if (vars.size() > 1)
    f.parallel(vars.back());
}

/// out = op(in): the forward activations.
class Unary : public Family {
public:
  using Op = std::function<Expr(Expr x, const Family &self)>;
  Unary(const KernelSpec &spec, Op op) : Family(spec), op(std::move(op)) {}

  std::vector<Func> define() override {
    ImageParam x = input(0, "x");
    vars = pointVars(spec.inputs[0].shape.size());
    std::vector<Expr> at(vars.begin(), vars.end());
    out(vars) = op(x(at), *this);
    return {out};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(out, vars, target);
  }

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
    std::vector<Expr> at(vars.begin(), vars.end());
    dx(vars) = op(dy(at), saved(at), *this);
    return {dx};
  }
  void scheduleCPU(const Target &target) override {
    schedulePointwise(dx, vars, target);
  }

private:
  Op op;
  Func dx{"dx"};
  std::vector<Var> vars;
};

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

} // namespace

void registerElementwiseFamilies(FamilyRegistry &registry) {
  registry.add<Relu>("relu");
  registry.add<ReluBackward>("relu_backward");
}

} // namespace resnetc::kernels
