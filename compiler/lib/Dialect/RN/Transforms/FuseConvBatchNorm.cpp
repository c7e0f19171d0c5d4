//===- FuseConvBatchNorm.cpp - conv + BatchNorm + add + ReLU chains ---------===//
//
// Rewrites the chains a residual network is made of into fewer kernels
// (docs/fusion.md). A chain is a BatchNorm whose input is a convolution,
// directly or through a ReLU (conv -> ReLU -> BN), and whose result may go
// on to a residual add and then a ReLU:
//
//   conv -> [relu] -> batch_norm -> [add(., residual)] -> [relu]
//
// In @train_step (batch_norm_train) the conv becomes rn.conv2d_stats, which
// also returns the per-image moments of its output, and the rest one
// rn.batch_norm_apply. In @eval_step (batch_norm, running statistics) the
// BatchNorm is folded into the conv's weights and bias, computed once by
// @prepare_eval into derived variables, and the conv, add and ReLU run as
// one rn.fused_conv2d; a conv with no BatchNorm after it still takes its
// add and ReLU into its epilogue. Only values used once inside the chain
// are fused away; a chain that does not match is left as it is, and with
// `report` each BatchNorm says what happened to it as a remark.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::rn {
#define GEN_PASS_DEF_FUSECONVBATCHNORM
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"
} // namespace mlir::rn

using namespace mlir;
using namespace mlir::rn;

namespace {

/// The single user of `value`, if it has exactly one use.
Operation *singleUser(Value value) {
  return value.hasOneUse() ? *value.getUsers().begin() : nullptr;
}

/// What follows a value that the chain may absorb: a residual add (whose
/// other operand is the residual), then a ReLU.
struct Epilogue {
  AddOp add;
  Value residual;
  ReluOp relu;

  /// The last op of the chain, whose result the fused op replaces.
  Operation *last(Operation *head) {
    return relu ? relu.getOperation() : add ? add.getOperation() : head;
  }
  /// The location of a fused op whose chain starts at `head`.
  Location fusedLoc(OpBuilder &builder, Location head) {
    SmallVector<Location> locs{head};
    if (add)
      locs.push_back(add.getLoc());
    if (relu)
      locs.push_back(relu.getLoc());
    return builder.getFusedLoc(locs);
  }
  /// " + add + relu", the ops it absorbs, for remarks.
  std::string describe() const {
    return std::string(add ? " + add" : "") + (relu ? " + relu" : "");
  }
  /// Kernels it absorbs.
  unsigned ops() const { return bool(add) + bool(relu); }
};

Epilogue matchEpilogue(Value head) {
  Epilogue epilogue;
  Operation *user = singleUser(head);
  if (auto add = dyn_cast_or_null<AddOp>(user);
      add && add.getLhs() != add.getRhs()) {
    epilogue.add = add;
    epilogue.residual = add.getLhs() == head ? add.getRhs() : add.getLhs();
    user = singleUser(add.getResult());
  }
  epilogue.relu = dyn_cast_or_null<ReluOp>(user);
  return epilogue;
}

/// The conv feeding a BatchNorm, directly or through a ReLU, each used only
/// on the way; or the residual add feeding it (a pre-activation block's
/// sum, which is stored anyway, so it may have other users); or the reason
/// there is none.
struct Producer {
  Conv2DOp conv;
  ReluOp relu; ///< conv -> ReLU -> BN
  AddOp add;   ///< add -> BN
  std::string whyNot;
};

Producer matchProducer(Value bnInput) {
  Producer producer;
  Value value = bnInput;
  if (auto add = value.getDefiningOp<AddOp>()) {
    producer.add = add;
    return producer;
  }
  if (auto relu = value.getDefiningOp<ReluOp>()) {
    if (!relu->hasOneUse()) {
      producer.whyNot = "the ReLU before it has other users";
      return producer;
    }
    producer.relu = relu;
    value = relu.getInput();
  }
  auto conv = value.getDefiningOp<Conv2DOp>();
  if (!conv) {
    producer.whyNot = "its input is neither a convolution nor an add";
    return producer;
  }
  if (!conv->hasOneUse()) {
    producer.whyNot = "the convolution's output has other users";
    return producer;
  }
  producer.conv = conv;
  return producer;
}

/// "conv2d + batch_norm + add + relu", the ops a chain replaces, in order.
std::string describe(const Producer &producer, const Epilogue &epilogue) {
  std::string text = producer.add    ? "add + batch_norm"
                     : producer.relu ? "conv2d + relu + batch_norm"
                                     : "conv2d + batch_norm";
  return text + epilogue.describe();
}

/// Erases the ops of a replaced chain, users first.
void eraseChain(ArrayRef<Operation *> opsInOrder) {
  for (Operation *op : llvm::reverse(opsInOrder))
    if (op)
      op->erase();
}

class Fuser {
public:
  Fuser(ModuleOp module, bool report)
      : module(module), report(report), builder(module.getContext()),
        symbols(module) {
    for (VariableOp v : module.getOps<VariableOp>())
      lastVariable = v;
  }

  void fuseTraining(func::FuncOp step);
  void fuseInference(func::FuncOp step);

private:
  void fuseTrainingChain(BatchNormTrainOp bn);
  void foldInference(BatchNormOp bn);
  void fuseConvEpilogue(Conv2DOp conv);
  VariableOp derivedVariable(StringRef name, Type type, Location loc);
  Value load(VariableOp variable) {
    return builder
        .create<LoadOp>(variable.getLoc(), variable.getTensorType(),
                        FlatSymbolRefAttr::get(variable.getSymNameAttr()))
        .getResult();
  }
  func::FuncOp prepareEval();
  void remark(Operation *op, const Twine &message) {
    if (report)
      op->emitRemark(message);
  }

  ModuleOp module;
  bool report;
  OpBuilder builder;
  SymbolTable symbols;
  VariableOp lastVariable; ///< where the next derived variable goes
  func::FuncOp prepare;
};

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

void Fuser::fuseTraining(func::FuncOp step) {
  SmallVector<BatchNormTrainOp> chains;
  step.walk([&](BatchNormTrainOp bn) { chains.push_back(bn); });
  for (BatchNormTrainOp bn : chains)
    fuseTrainingChain(bn);
}

void Fuser::fuseTrainingChain(BatchNormTrainOp bn) {
  Producer producer = matchProducer(bn.getInput());
  if (!producer.conv && !producer.add) {
    remark(bn, "batch_norm_train not fused: " + producer.whyNot);
    return;
  }
  if (cast<RankedTensorType>(bn.getInput().getType()).getRank() != 4) {
    remark(bn, "batch_norm_train not fused: its input is not 4-D");
    return;
  }
  Epilogue epilogue = matchEpilogue(bn.getResult());
  Operation *last = epilogue.last(bn);

  // The producer, now also returning the per-image moments.
  auto y = cast<RankedTensorType>(bn.getInput().getType());
  auto moments = RankedTensorType::get({y.getDimSize(0), y.getDimSize(1)},
                                       y.getElementType());
  Value normalised, imageSum, imageM2;
  if (Conv2DOp conv = producer.conv) {
    builder.setInsertionPoint(conv);
    auto stats = builder.create<Conv2DStatsOp>(
        producer.relu
            ? builder.getFusedLoc({conv.getLoc(), producer.relu.getLoc()})
            : conv.getLoc(),
        TypeRange{y, moments, moments}, conv.getInput(), conv.getFilter(),
        conv.getBias(), conv.getStridesAttr(), conv.getPaddingAttr(),
        conv.getDilationsAttr(), conv.getGroupsAttr(),
        builder.getBoolAttr(bool(producer.relu)));
    normalised = stats.getResult();
    imageSum = stats.getImageSum();
    imageM2 = stats.getImageM2();
  } else {
    builder.setInsertionPoint(producer.add);
    auto stats = builder.create<AddStatsOp>(
        producer.add.getLoc(), TypeRange{y, moments, moments},
        producer.add.getLhs(), producer.add.getRhs());
    // The sum may have other users (the block's identity shortcut).
    producer.add.getResult().replaceAllUsesWith(stats.getResult());
    normalised = stats.getResult();
    imageSum = stats.getImageSum();
    imageM2 = stats.getImageM2();
  }

  // At the end of the chain, where the residual is defined.
  builder.setInsertionPoint(last);
  auto apply = builder.create<BatchNormApplyOp>(
      epilogue.fusedLoc(builder, bn.getLoc()), bn.getResultTypes(), normalised, imageSum,
      imageM2, bn.getScale(), bn.getOffset(),
      bn.getRunningMean(), bn.getRunningVar(), epilogue.residual,
      bn.getEpsilonAttr(), bn.getMomentumAttr(),
      builder.getBoolAttr(bool(epilogue.relu)));
  last->getResult(0).replaceAllUsesWith(apply.getResult());
  // The running statistics are stored after they are computed, mean then
  // variance as before. (No sort by position: isBeforeInBlock renumbers
  // the block after every insertion, quadratic on a 45,000-layer model.)
  SmallVector<Operation *> stores;
  for (Value result : bn->getResults().drop_front())
    for (Operation *user : result.getUsers())
      if (isa<StoreOp>(user))
        stores.push_back(user);
  Operation *previous = apply;
  for (Operation *store : stores) {
    store->moveAfter(previous);
    previous = store;
  }
  for (unsigned i = 1; i < bn->getNumResults(); ++i)
    bn->getResult(i).replaceAllUsesWith(apply->getResult(i));

  unsigned before = 2 + bool(producer.relu) + epilogue.ops();
  remark(bn, "fused " + describe(producer, epilogue) + " into " +
                 (producer.add ? "add_stats" : "conv2d_stats") +
                 " + batch_norm_apply (2 kernels, was " + Twine(before) + ")");
  eraseChain({producer.conv, producer.add, producer.relu, bn, epilogue.add,
              epilogue.relu});
}

//===----------------------------------------------------------------------===//
// Inference
//===----------------------------------------------------------------------===//

void Fuser::fuseInference(func::FuncOp step) {
  SmallVector<BatchNormOp> chains;
  step.walk([&](BatchNormOp bn) { chains.push_back(bn); });
  for (BatchNormOp bn : chains)
    foldInference(bn);
  // Convs without a BatchNorm to fold still take their add and ReLU.
  SmallVector<Conv2DOp> convs;
  step.walk([&](Conv2DOp conv) { convs.push_back(conv); });
  for (Conv2DOp conv : convs)
    fuseConvEpilogue(conv);
}

/// The variable a value is loaded from, if it is loaded.
LoadOp loadOf(Value value) { return value.getDefiningOp<LoadOp>(); }

void Fuser::foldInference(BatchNormOp bn) {
  Producer producer = matchProducer(bn.getInput());
  if (producer.relu) {
    remark(bn, "batch_norm not folded: a ReLU separates it from the "
               "convolution");
    return;
  }
  if (producer.add) {
    remark(bn, "batch_norm not folded: its input is an add, not a "
               "convolution");
    return;
  }
  if (!producer.conv) {
    remark(bn, "batch_norm not folded: " + producer.whyNot);
    return;
  }
  Conv2DOp conv = producer.conv;
  SmallVector<Value> weights{conv.getFilter(), bn.getScale(), bn.getOffset(),
                             bn.getMean(), bn.getVariance()};
  if (conv.getBias())
    weights.push_back(conv.getBias());
  if (!llvm::all_of(weights, [](Value v) { return loadOf(v); })) {
    remark(bn, "batch_norm not folded: its parameters or the convolution's "
               "are not variables");
    return;
  }

  // @prepare_eval folds the variables into two derived ones.
  StringRef filterName = loadOf(conv.getFilter()).getVariable();
  StringRef layer = filterName.ends_with(".weight")
                        ? filterName.drop_back(strlen(".weight"))
                        : filterName;
  auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
  auto biasType = RankedTensorType::get({filterType.getDimSize(0)},
                                        filterType.getElementType());
  VariableOp foldedFilter = derivedVariable(
      (layer + ".folded_weight").str(), filterType, conv.getLoc());
  VariableOp foldedBias = derivedVariable((layer + ".folded_bias").str(),
                                          biasType, bn.getLoc());
  func::FuncOp fold = prepareEval();
  builder.setInsertionPoint(fold.getBody().front().getTerminator());
  IRMapping map;
  for (Value v : weights)
    map.map(v, builder.clone(*loadOf(v), map)->getResult(0));
  auto folded = builder.create<FoldBatchNormOp>(
      builder.getFusedLoc({conv.getLoc(), bn.getLoc()}),
      TypeRange{filterType, biasType}, map.lookup(conv.getFilter()),
      map.lookup(bn.getScale()), map.lookup(bn.getOffset()),
      map.lookup(bn.getMean()), map.lookup(bn.getVariance()),
      conv.getBias() ? map.lookup(conv.getBias()) : Value(),
      bn.getEpsilonAttr());
  builder.create<StoreOp>(folded.getLoc(), foldedFilter.getSymName(),
                          folded.getFoldedFilter());
  builder.create<StoreOp>(folded.getLoc(), foldedBias.getSymName(),
                          folded.getFoldedBias());

  // The step convolves with the folded weights; BN's result is the conv's.
  builder.setInsertionPoint(conv);
  Value filterLoad = load(foldedFilter);
  Value biasLoad = load(foldedBias);
  auto replacement = builder.create<Conv2DOp>(
      builder.getFusedLoc({conv.getLoc(), bn.getLoc()}), bn.getType(),
      conv.getInput(), filterLoad, biasLoad,
      conv.getStridesAttr(), conv.getPaddingAttr(), conv.getDilationsAttr(),
      conv.getGroupsAttr());
  bn.getResult().replaceAllUsesWith(replacement.getResult());
  remark(bn, "folded batch_norm into the convolution's weights and bias "
             "(computed once by @prepare_eval)");
  eraseChain({conv, bn});
  for (Value v : weights)
    if (LoadOp load = loadOf(v); load && load->use_empty())
      load->erase();
}

void Fuser::fuseConvEpilogue(Conv2DOp conv) {
  Epilogue epilogue = matchEpilogue(conv.getResult());
  if (!epilogue.add && !epilogue.relu)
    return;
  Operation *last = epilogue.last(conv);
  builder.setInsertionPoint(last);
  auto fused = builder.create<FusedConv2DOp>(
      epilogue.fusedLoc(builder, conv.getLoc()), conv.getType(),
      conv.getInput(),
      conv.getFilter(), conv.getBias(), epilogue.residual,
      conv.getStridesAttr(), conv.getPaddingAttr(), conv.getDilationsAttr(),
      conv.getGroupsAttr(), builder.getBoolAttr(bool(epilogue.relu)));
  last->getResult(0).replaceAllUsesWith(fused.getResult());
  remark(conv, "fused conv2d" + epilogue.describe() +
                   " into fused_conv2d (1 kernel, was " +
                   Twine(1 + epilogue.ops()) + ")");
  eraseChain({conv, epilogue.add, epilogue.relu});
}

/// Declares a derived variable after the last variable.
VariableOp Fuser::derivedVariable(StringRef name, Type type, Location loc) {
  builder.setInsertionPointAfter(lastVariable);
  auto variable = builder.create<VariableOp>(
      loc, builder.getStringAttr(name), TypeAttr::get(type),
      InitAttr::get(module.getContext(), InitKind::zeros, FloatAttr(),
                    FanMode::fan_in, -1),
      /*trainable=*/UnitAttr(), /*derived=*/builder.getUnitAttr());
  symbols.insert(variable);
  lastVariable = variable;
  return variable;
}

func::FuncOp Fuser::prepareEval() {
  if (prepare)
    return prepare;
  builder.setInsertionPointToEnd(module.getBody());
  prepare = builder.create<func::FuncOp>(module.getLoc(), kPrepareEval,
                                         builder.getFunctionType({}, {}));
  builder.setInsertionPointToEnd(prepare.addEntryBlock());
  builder.create<func::ReturnOp>(module.getLoc());
  symbols.insert(prepare);
  return prepare;
}

struct FuseConvBatchNorm
    : rn::impl::FuseConvBatchNormBase<FuseConvBatchNorm> {
  using FuseConvBatchNormBase::FuseConvBatchNormBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (module.lookupSymbol(kPrepareEval)) {
      module.emitError("rn-fuse-conv-bn-relu has already run on this module");
      return signalPassFailure();
    }
    Fuser fuser(module, report);
    if (auto train = module.lookupSymbol<func::FuncOp>(kTrainStep)) {
      Block &body = train.getBody().front();
      if (!body.getOps<ApplyGradientsOp>().empty() ||
          !body.getOps<OptimizerUpdateOpInterface>().empty()) {
        module.emitError("rn-fuse-conv-bn-relu runs before rn-autodiff");
        return signalPassFailure();
      }
      fuser.fuseTraining(train);
    }
    if (auto eval = module.lookupSymbol<func::FuncOp>(kEvalStep))
      fuser.fuseInference(eval);
  }
};

} // namespace
