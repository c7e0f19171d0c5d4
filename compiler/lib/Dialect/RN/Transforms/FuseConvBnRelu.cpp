//===- FuseConvBnRelu.cpp - rn-fuse-conv-bn-relu ----------------------------===//
//
// Rewrites the chains a residual network is made of into fewer kernels
// (docs/fusion.md), as three rewrite patterns. A chain is a BatchNorm whose
// input is a convolution, directly or through a ReLU (conv -> ReLU -> BN),
// and whose result may go on to a residual add and then a ReLU:
//
//   conv -> [relu] -> batch_norm -> [add(., residual)] -> [relu]
//
//  - FuseTrainingChain (@train_step, batch_norm_train): the conv becomes
//    rn.conv2d_stats, which also returns the per-image moments of its
//    output, and the rest one rn.batch_norm_apply.
//  - FoldInferenceBatchNorm (@eval_step, batch_norm on running statistics):
//    the BatchNorm is folded into the conv's weights and bias by an
//    rn.fold_batch_norm, which the pass then hoists into @prepare_eval.
//  - FuseConvEpilogue (@eval_step): a conv, folded or not, takes the add
//    and ReLU after it into one rn.fused_conv2d.
//
// Only values used once inside the chain are fused away; a chain that does
// not match is left as it is, and with `report` each BatchNorm and fused
// conv says what happened to it as a remark.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Rewrite/PatternApplicator.h"

namespace mlir::rn {
#define GEN_PASS_DEF_FUSECONVBNRELU
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"
} // namespace mlir::rn

using namespace mlir;
using namespace mlir::rn;

namespace {

//===----------------------------------------------------------------------===//
// Matching a chain
//===----------------------------------------------------------------------===//

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
void eraseChain(PatternRewriter &rewriter, ArrayRef<Operation *> opsInOrder) {
  for (Operation *op : llvm::reverse(opsInOrder))
    if (op)
      rewriter.eraseOp(op);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// A pattern that, with `report`, says what it did or why not as a remark
/// at the op's layer.
template <typename OpTy>
struct FusionPattern : OpRewritePattern<OpTy> {
  FusionPattern(MLIRContext *context, bool report)
      : OpRewritePattern<OpTy>(context), report(report) {}

  void remark(Operation *op, const Twine &message) const {
    if (report)
      op->emitRemark(message);
  }
  /// Leaves `op` alone, saying why.
  LogicalResult leave(PatternRewriter &rewriter, Operation *op,
                      const Twine &why) const {
    remark(op, why);
    return rewriter.notifyMatchFailure(op, why);
  }

  bool report;
};

struct FuseTrainingChain : FusionPattern<BatchNormTrainOp> {
  using FusionPattern::FusionPattern;

  LogicalResult matchAndRewrite(BatchNormTrainOp bn,
                                PatternRewriter &rewriter) const override {
    Producer producer = matchProducer(bn.getInput());
    if (!producer.conv && !producer.add)
      return leave(rewriter, bn,
                   "batch_norm_train not fused: " + producer.whyNot);
    auto y = cast<RankedTensorType>(bn.getInput().getType());
    if (y.getRank() != 4)
      return leave(rewriter, bn,
                   "batch_norm_train not fused: its input is not 4-D");
    Epilogue epilogue = matchEpilogue(bn.getResult());
    Operation *last = epilogue.last(bn);

    // The producer, now also returning the per-image moments.
    auto moments = RankedTensorType::get({y.getDimSize(0), y.getDimSize(1)},
                                         y.getElementType());
    Operation *stats;
    if (Conv2DOp conv = producer.conv) {
      rewriter.setInsertionPoint(conv);
      stats = rewriter.create<Conv2DStatsOp>(
          producer.relu
              ? rewriter.getFusedLoc({conv.getLoc(), producer.relu.getLoc()})
              : conv.getLoc(),
          TypeRange{y, moments, moments}, conv.getInput(), conv.getFilter(),
          conv.getBias(), conv.getStridesAttr(), conv.getPaddingAttr(),
          conv.getDilationsAttr(), conv.getGroupsAttr(),
          rewriter.getBoolAttr(bool(producer.relu)));
    } else {
      rewriter.setInsertionPoint(producer.add);
      stats = rewriter.create<AddStatsOp>(
          producer.add.getLoc(), TypeRange{y, moments, moments},
          producer.add.getLhs(), producer.add.getRhs());
      // The sum may have other users (the block's identity shortcut).
      rewriter.replaceAllUsesWith(producer.add.getResult(),
                                  stats->getResult(0));
    }

    // At the end of the chain, where the residual is defined.
    rewriter.setInsertionPoint(last);
    auto apply = rewriter.create<BatchNormApplyOp>(
        epilogue.fusedLoc(rewriter, bn.getLoc()), bn.getResultTypes(),
        stats->getResult(0), stats->getResult(1), stats->getResult(2),
        bn.getScale(), bn.getOffset(), bn.getRunningMean(),
        bn.getRunningVar(), epilogue.residual, bn.getEpsilonAttr(),
        bn.getMomentumAttr(), rewriter.getBoolAttr(bool(epilogue.relu)));
    rewriter.replaceAllUsesWith(last->getResult(0), apply.getResult());
    // The running statistics are stored after they are computed, mean then
    // variance as before. (No sort by position: isBeforeInBlock renumbers
    // the block after every insertion, quadratic on a 45,000-layer model.)
    Operation *previous = apply;
    for (Value result : bn->getResults().drop_front())
      for (Operation *user : llvm::make_early_inc_range(result.getUsers()))
        if (isa<StoreOp>(user)) {
          rewriter.moveOpAfter(user, previous);
          previous = user;
        }
    for (unsigned i = 1; i < bn->getNumResults(); ++i)
      rewriter.replaceAllUsesWith(bn->getResult(i), apply->getResult(i));

    unsigned before = 2 + bool(producer.relu) + epilogue.ops();
    remark(bn, "fused " + describe(producer, epilogue) + " into " +
                   (producer.add ? "add_stats" : "conv2d_stats") +
                   " + batch_norm_apply (2 kernels, was " + Twine(before) +
                   ")");
    eraseChain(rewriter, {producer.conv, producer.add, producer.relu, bn,
                          epilogue.add, epilogue.relu});
    return success();
  }
};

/// The variable a value is loaded from, if it is loaded.
LoadOp loadOf(Value value) { return value.getDefiningOp<LoadOp>(); }

struct FoldInferenceBatchNorm : FusionPattern<BatchNormOp> {
  using FusionPattern::FusionPattern;

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    Producer producer = matchProducer(bn.getInput());
    if (producer.relu)
      return leave(rewriter, bn,
                   "batch_norm not folded: a ReLU separates it from the "
                   "convolution");
    if (producer.add)
      return leave(rewriter, bn,
                   "batch_norm not folded: its input is an add, not a "
                   "convolution");
    if (!producer.conv)
      return leave(rewriter, bn, "batch_norm not folded: " + producer.whyNot);
    Conv2DOp conv = producer.conv;
    // Variables only, so that the fold can be computed once, ahead of the
    // step (hoistFolds).
    SmallVector<Value> weights{conv.getFilter(), bn.getScale(),
                               bn.getOffset(), bn.getMean(),
                               bn.getVariance()};
    if (conv.getBias())
      weights.push_back(conv.getBias());
    if (!llvm::all_of(weights, [](Value v) { return loadOf(v); }))
      return leave(rewriter, bn,
                   "batch_norm not folded: its parameters or the "
                   "convolution's are not variables");

    rewriter.setInsertionPoint(conv);
    Location loc = rewriter.getFusedLoc({conv.getLoc(), bn.getLoc()});
    auto filterType = cast<RankedTensorType>(conv.getFilter().getType());
    auto biasType = RankedTensorType::get({filterType.getDimSize(0)},
                                          filterType.getElementType());
    auto folded = rewriter.create<FoldBatchNormOp>(
        loc, TypeRange{filterType, biasType}, conv.getFilter(),
        bn.getScale(), bn.getOffset(), bn.getMean(), bn.getVariance(),
        conv.getBias(), bn.getEpsilonAttr());
    auto replacement = rewriter.create<Conv2DOp>(
        loc, bn.getType(), conv.getInput(), folded.getFoldedFilter(),
        folded.getFoldedBias(), conv.getStridesAttr(), conv.getPaddingAttr(),
        conv.getDilationsAttr(), conv.getGroupsAttr());
    rewriter.replaceAllUsesWith(bn.getResult(), replacement.getResult());
    remark(bn, "folded batch_norm into the convolution's weights and bias "
               "(computed once by @prepare_eval)");
    eraseChain(rewriter, {conv, bn});
    return success();
  }
};

struct FuseConvEpilogue : FusionPattern<Conv2DOp> {
  using FusionPattern::FusionPattern;

  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    Epilogue epilogue = matchEpilogue(conv.getResult());
    if (!epilogue.add && !epilogue.relu)
      return rewriter.notifyMatchFailure(conv, "no add or ReLU follows");
    Operation *last = epilogue.last(conv);
    rewriter.setInsertionPoint(last);
    auto fused = rewriter.create<FusedConv2DOp>(
        epilogue.fusedLoc(rewriter, conv.getLoc()), conv.getType(),
        conv.getInput(), conv.getFilter(), conv.getBias(), epilogue.residual,
        conv.getStridesAttr(), conv.getPaddingAttr(), conv.getDilationsAttr(),
        conv.getGroupsAttr(), rewriter.getBoolAttr(bool(epilogue.relu)));
    rewriter.replaceAllUsesWith(last->getResult(0), fused.getResult());
    remark(conv, "fused conv2d" + epilogue.describe() +
                     " into fused_conv2d (1 kernel, was " +
                     Twine(1 + epilogue.ops()) + ")");
    eraseChain(rewriter, {conv, epilogue.add, epilogue.relu});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Driving the patterns
//===----------------------------------------------------------------------===//

/// Tries `patterns` once on each op of `region`, in program order. Unlike
/// applyPatternsAndFoldGreedily it neither folds, nor erases dead ops, nor
/// revisits an op whose neighbours changed, so each chain is rewritten and
/// reported once, in the model's order (MLIR 20's walkAndApplyPatterns
/// drives patterns the same way).
void applyOnceInOrder(Region &region,
                      const FrozenRewritePatternSet &patterns) {
  // Ops a rewrite erased are skipped; a new op may reuse an erased one's
  // address, hence the erase on insertion.
  struct ErasedOps : RewriterBase::Listener {
    void notifyOperationErased(Operation *op) override { ops.insert(op); }
    void notifyOperationInserted(Operation *op,
                                 OpBuilder::InsertPoint) override {
      ops.erase(op);
    }
    DenseSet<Operation *> ops;
  } erased;
  SmallVector<Operation *> ops;
  region.walk([&](Operation *op) { ops.push_back(op); });
  PatternApplicator applicator(patterns);
  applicator.applyDefaultCostModel();
  PatternRewriter rewriter(region.getContext());
  rewriter.setListener(&erased);
  for (Operation *op : ops) {
    if (erased.ops.contains(op))
      continue;
    rewriter.setInsertionPoint(op);
    (void)applicator.matchAndRewrite(op, rewriter);
  }
}

/// Moves each rn.fold_batch_norm of `eval` into @prepare_eval (created on
/// first use), storing its results in two derived variables that `eval`
/// loads instead: the folded weights are computed once per evaluation, not
/// once per batch. The variables are named after the filter's layer:
/// "<layer>.folded_<param>" and "<layer>.folded_bias" for the filter
/// "<layer>.<param>".
void hoistFolds(ModuleOp module, func::FuncOp eval) {
  SmallVector<FoldBatchNormOp> folds(eval.getBody().getOps<FoldBatchNormOp>());
  if (folds.empty())
    return;
  SymbolTable symbols(module);
  OpBuilder builder(module.getContext());
  builder.setInsertionPointToEnd(module.getBody());
  auto prepare = builder.create<func::FuncOp>(module.getLoc(), kPrepareEval,
                                              builder.getFunctionType({}, {}));
  builder.setInsertionPointToEnd(prepare.addEntryBlock());
  Operation *prepareEnd = builder.create<func::ReturnOp>(module.getLoc());
  symbols.insert(prepare);
  VariableOp lastVariable;
  for (VariableOp variable : module.getOps<VariableOp>())
    lastVariable = variable;

  auto derivedVariable = [&](const Twine &name, Type type, Location loc) {
    builder.setInsertionPointAfter(lastVariable);
    lastVariable = builder.create<VariableOp>(
        loc, builder.getStringAttr(name), TypeAttr::get(type),
        InitAttr::get(module.getContext(), InitKind::zeros, FloatAttr(),
                      FanMode::fan_in, -1),
        /*trainable=*/UnitAttr(), /*derived=*/builder.getUnitAttr());
    symbols.insert(lastVariable);
    return lastVariable;
  };
  auto load = [&](VariableOp variable) {
    return builder.create<LoadOp>(
        variable.getLoc(), variable.getTensorType(),
        FlatSymbolRefAttr::get(variable.getSymNameAttr()));
  };

  for (FoldBatchNormOp fold : folds) {
    auto [layer, param] =
        loadOf(fold.getFilter()).getVariable().rsplit('.');
    VariableOp foldedFilter = derivedVariable(
        layer + ".folded_" + (param.empty() ? StringRef("weight") : param),
        fold.getFoldedFilter().getType(), fold.getLoc());
    VariableOp foldedBias = derivedVariable(
        layer + ".folded_bias", fold.getFoldedBias().getType(), fold.getLoc());

    // @prepare_eval: load the variables, fold, store.
    builder.setInsertionPoint(prepareEnd);
    IRMapping map;
    SmallVector<Operation *> loads;
    for (Value operand : fold->getOperands()) {
      loads.push_back(operand.getDefiningOp());
      if (!map.contains(operand))
        map.map(operand, builder.clone(*loads.back())->getResult(0));
    }
    Operation *computed = builder.clone(*fold, map);
    builder.create<StoreOp>(fold.getLoc(), foldedFilter.getSymName(),
                            computed->getResult(0));
    builder.create<StoreOp>(fold.getLoc(), foldedBias.getSymName(),
                            computed->getResult(1));

    // The step: load the results instead.
    builder.setInsertionPoint(fold);
    fold.getFoldedFilter().replaceAllUsesWith(load(foldedFilter));
    fold.getFoldedBias().replaceAllUsesWith(load(foldedBias));
    fold.erase();
    for (Operation *op : loads)
      if (op->use_empty())
        op->erase();
  }
}

struct FuseConvBnRelu : rn::impl::FuseConvBnReluBase<FuseConvBnRelu> {
  using FuseConvBnReluBase::FuseConvBnReluBase;

  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet chainPatterns(context);
    populateFuseBatchNormPatterns(chainPatterns, report);
    chains = FrozenRewritePatternSet(std::move(chainPatterns));
    RewritePatternSet epiloguePatterns(context);
    populateFuseConvEpiloguePatterns(epiloguePatterns, report);
    epilogues = FrozenRewritePatternSet(std::move(epiloguePatterns));
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (module.lookupSymbol(kPrepareEval)) {
      module.emitError("rn-fuse-conv-bn-relu has already run on this module");
      return signalPassFailure();
    }
    if (auto train = module.lookupSymbol<func::FuncOp>(kTrainStep)) {
      Block &body = train.getBody().front();
      if (!body.getOps<ApplyGradientsOp>().empty() ||
          !body.getOps<OptimizerUpdateOpInterface>().empty()) {
        module.emitError("rn-fuse-conv-bn-relu runs before rn-autodiff");
        return signalPassFailure();
      }
      applyOnceInOrder(train.getBody(), chains);
    }
    if (auto eval = module.lookupSymbol<func::FuncOp>(kEvalStep)) {
      // Every BatchNorm first, so that the epilogue pattern sees the convs
      // the folds leave (and a conv -> ReLU -> BN is not fused before its
      // BatchNorm is told why it stays).
      applyOnceInOrder(eval.getBody(), chains);
      applyOnceInOrder(eval.getBody(), epilogues);
      hoistFolds(module, eval);
    }
  }

  FrozenRewritePatternSet chains, epilogues;
};

} // namespace

void mlir::rn::populateFuseBatchNormPatterns(RewritePatternSet &patterns,
                                             bool report) {
  patterns.add<FuseTrainingChain, FoldInferenceBatchNorm>(
      patterns.getContext(), report);
}

void mlir::rn::populateFuseConvEpiloguePatterns(RewritePatternSet &patterns,
                                                bool report) {
  patterns.add<FuseConvEpilogue>(patterns.getContext(), report);
}
