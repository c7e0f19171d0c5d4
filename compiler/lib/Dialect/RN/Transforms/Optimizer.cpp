//===- Optimizer.cpp - rn.apply_gradients to the recipe's update ------------===//
//
// One update op for all parameters: the memory plan lays parameters,
// gradients and each kind of optimizer state out in the same order, each in
// one contiguous run, so the update is one pass over flat memory. The
// state variables are named after their parameter (`conv.weight.momentum`,
// `conv.weight.adam_m`, `conv.weight.adam_v`) and start at zero.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

namespace mlir::rn {
#define GEN_PASS_DEF_OPTIMIZER
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"
} // namespace mlir::rn

using namespace mlir;
using namespace mlir::rn;

namespace {

/// Declares, after the last variable, a zero-initialised state variable
/// `<parameter>.<suffix>` of the parameter's type for each parameter.
ArrayAttr declareState(ModuleOp module, ArrayAttr parameters,
                       StringRef suffix) {
  OpBuilder builder(module.getContext());
  auto variables = module.getOps<VariableOp>();
  VariableOp last;
  for (VariableOp v : variables)
    last = v;
  builder.setInsertionPointAfter(last);
  SymbolTable symbols(module); // module.lookupSymbol would scan per parameter
  SmallVector<Attribute> names;
  for (Attribute p : parameters) {
    auto parameter =
        symbols.lookup<VariableOp>(cast<FlatSymbolRefAttr>(p).getAttr());
    std::string name = (parameter.getSymName() + "." + suffix).str();
    auto state = builder.create<VariableOp>(
        parameter.getLoc(), builder.getStringAttr(name), parameter.getTypeAttr(),
        InitAttr::get(module.getContext(), InitKind::zeros, FloatAttr(),
                      FanMode::fan_in, -1),
        /*trainable=*/UnitAttr(), /*derived=*/UnitAttr());
    names.push_back(FlatSymbolRefAttr::get(state.getSymNameAttr()));
  }
  return builder.getArrayAttr(names);
}

struct Optimizer : rn::impl::OptimizerBase<Optimizer> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ApplyGradientsOp> applies;
    module.walk([&](ApplyGradientsOp op) { applies.push_back(op); });
    if (applies.size() != 1) {
      module.emitError("rn-optimizer expects one rn.apply_gradients (run "
                       "rn-autodiff first), found ")
          << applies.size();
      return signalPassFailure();
    }
    ApplyGradientsOp apply = applies.front();
    auto recipe = module->getAttrOfType<DictionaryAttr>("rn.recipe");
    auto kind = recipe ? recipe.getAs<StringAttr>("optimizer") : StringAttr();
    if (!kind) {
      module.emitError("the module has no rn.recipe with an `optimizer`");
      return signalPassFailure();
    }

    OpBuilder builder(apply);
    Location loc = apply.getLoc();
    auto param = [&](StepParam p) -> Value {
      bool integer = p == StepParam::nesterov || p == StepParam::step;
      return builder.create<StepParamOp>(
          loc, integer ? Type(builder.getI32Type()) : builder.getF32Type(), p);
    };
    ArrayAttr parameters = apply.getParameters();
    // Hyperparameters are read in the order the update takes them.
    if (kind.getValue() == "sgd") {
      ArrayAttr momenta = declareState(module, parameters, "momentum");
      Value lr = param(StepParam::lr), momentum = param(StepParam::momentum);
      Value decay = param(StepParam::weight_decay);
      Value nesterov = param(StepParam::nesterov);
      builder.create<SGDUpdateOp>(loc, apply.getGradients(), lr, momentum,
                                  decay, nesterov, parameters, momenta);
    } else if (kind.getValue() == "adam" || kind.getValue() == "adamw") {
      ArrayAttr first = declareState(module, parameters, "adam_m");
      ArrayAttr second = declareState(module, parameters, "adam_v");
      Value lr = param(StepParam::lr), beta1 = param(StepParam::beta1);
      Value beta2 = param(StepParam::beta2);
      Value epsilon = param(StepParam::epsilon);
      Value decay = param(StepParam::weight_decay);
      Value step = param(StepParam::step);
      builder.create<AdamUpdateOp>(
          loc, apply.getGradients(), lr, beta1, beta2, epsilon, decay, step,
          builder.getBoolAttr(kind.getValue() == "adamw"), parameters, first,
          second);
    } else {
      module.emitError("unknown optimizer '") << kind.getValue() << "'";
      return signalPassFailure();
    }
    apply.erase();
  }
};

} // namespace
