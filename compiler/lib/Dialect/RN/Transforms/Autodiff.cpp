//===- Autodiff.cpp - reverse-mode differentiation of @train_step -----------===//
//
// The loss op seeds the gradients of its inputs (LossOpInterface). Then the
// ops before it are visited in reverse; each op whose results carry a
// gradient builds its vector-Jacobian product (GradientOpInterface) just
// before the step's return, so the backward ops come out in backward order.
// An operand gets a gradient only if it depends on a trainable variable.
// At the end, each trainable variable's gradient (summed over its loads) goes
// to rn.apply_gradients, in the order the variables are declared.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::rn {
#define GEN_PASS_DEF_AUTODIFF
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"
} // namespace mlir::rn

using namespace mlir;
using namespace mlir::rn;

namespace {

class GradientBuilder {
public:
  GradientBuilder(ModuleOp module, func::ReturnOp ret)
      : module(module), symbols(module), builder(ret) {}

  LogicalResult run(LossOpInterface loss);

private:
  /// Values that depend on a trainable variable: only they need gradients.
  void findVariedValues(Block &body);
  /// Adds `gradient` to the gradient of `value` (summing a second use).
  void accumulate(Value value, Value gradient);

  ModuleOp module;
  SymbolTable symbols; ///< module.lookupSymbol would scan per load.
  OpBuilder builder;
  llvm::DenseSet<Value> varied;
  llvm::DenseMap<Value, Value> gradients;
};

void GradientBuilder::findVariedValues(Block &body) {
  for (Operation &op : body) {
    if (auto load = dyn_cast<LoadOp>(op)) {
      auto variable = symbols.lookup<VariableOp>(load.getVariableAttr().getAttr());
      if (variable.getTrainable())
        varied.insert(load.getResult());
      continue;
    }
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return varied.contains(v); }))
      varied.insert(op.result_begin(), op.result_end());
  }
}

void GradientBuilder::accumulate(Value value, Value gradient) {
  auto [it, inserted] = gradients.try_emplace(value, gradient);
  if (!inserted)
    it->second = builder.create<AddOp>(gradient.getLoc(), gradient.getType(),
                                       it->second, gradient);
}

LogicalResult GradientBuilder::run(LossOpInterface loss) {
  Block &body = *loss->getBlock();
  findVariedValues(body);

  SmallVector<Value> seeds(loss->getNumOperands());
  if (failed(loss.getSeedGradients(seeds)))
    return failure();
  for (auto [operand, seed] : llvm::zip(loss->getOperands(), seeds))
    if (seed && varied.contains(operand))
      gradients[operand] = seed;

  for (Operation *op = loss->getPrevNode(); op; op = op->getPrevNode()) {
    SmallVector<Value> resultGradients;
    for (Value result : op->getResults())
      resultGradients.push_back(gradients.lookup(result));
    if (isa<LoadOp>(op) || llvm::all_of(resultGradients, [](Value g) {
          return !g;
        }))
      continue;
    auto differentiable = dyn_cast<GradientOpInterface>(op);
    if (!differentiable)
      return op->emitOpError("has no gradient, but the loss depends on it "
                             "through a trainable variable");
    SmallVector<bool> needed;
    for (Value operand : op->getOperands())
      needed.push_back(varied.contains(operand));
    SmallVector<Value> operandGradients(op->getNumOperands());
    if (failed(differentiable.buildGradient(builder, resultGradients, needed,
                                            operandGradients)))
      return failure();
    for (auto [i, gradient] : llvm::enumerate(operandGradients))
      if (gradient && needed[i])
        accumulate(op->getOperand(i), gradient);
  }

  // The gradient of each trainable variable, summed over its loads.
  llvm::DenseMap<StringAttr, SmallVector<Value>> loadsOf;
  body.walk([&](LoadOp load) {
    loadsOf[load.getVariableAttr().getAttr()].push_back(load.getResult());
  });
  SmallVector<Value> parameterGradients;
  SmallVector<Attribute> parameters;
  for (auto variable : module.getOps<VariableOp>()) {
    if (!variable.getTrainable())
      continue;
    Value total;
    for (Value load : loadsOf.lookup(variable.getSymNameAttr())) {
      Value g = gradients.lookup(load);
      if (!g)
        continue;
      total = total ? builder.create<AddOp>(g.getLoc(), g.getType(), total, g)
                          .getResult()
                    : g;
    }
    if (!total) {
      variable.emitWarning("trainable variable does not affect the loss; "
                           "it will not be trained");
      continue;
    }
    parameterGradients.push_back(total);
    parameters.push_back(FlatSymbolRefAttr::get(variable.getSymNameAttr()));
  }
  builder.create<ApplyGradientsOp>(loss.getLoc(), parameterGradients,
                                   builder.getArrayAttr(parameters));
  return success();
}

struct Autodiff : rn::impl::AutodiffBase<Autodiff> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>(kTrainStep);
    if (!step) {
      module.emitError("rn-autodiff needs a @train_step (run "
                       "rn-build-train-step first)");
      return signalPassFailure();
    }
    auto ret = cast<func::ReturnOp>(step.getBody().front().getTerminator());
    auto loss = ret.getOperand(0).getDefiningOp<LossOpInterface>();
    if (!loss) {
      step.emitError("@train_step must return the result of a loss op");
      return signalPassFailure();
    }
    if (failed(GradientBuilder(module, ret).run(loss)))
      signalPassFailure();
  }
};

} // namespace
