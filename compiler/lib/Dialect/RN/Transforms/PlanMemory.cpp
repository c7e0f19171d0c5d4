//===- PlanMemory.cpp - one arena for every tensor of the steps -------------===//
//
// See the pass description in Passes.td for the layout. Some tensors have a
// place chosen for them (pinned): variables and what aliases them (loads,
// stores of new running statistics, the gradients the optimizer reads),
// the images and labels, the loss and correct count. Every other tensor is
// an interval of op indices during which its buffer must stay intact;
// intervals are packed by replaying the step with a first-fit allocator.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

#include <map>
#include <queue>

namespace mlir::rn {
#define GEN_PASS_DEF_PLANMEMORY
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"
} // namespace mlir::rn

using namespace mlir;
using namespace mlir::rn;

namespace {

/// Bytes of a tensor; of one image's slice when `perSample`.
int64_t byteSize(Type type, bool perSample) {
  auto tensor = cast<RankedTensorType>(type);
  int64_t elements = tensor.getNumElements();
  if (perSample)
    elements /= tensor.getDimSize(0);
  return elements * tensor.getElementTypeBitWidth() / 8;
}

/// A buffer whose place is to be chosen: live from op `begin` to op `end`.
struct Interval {
  Value value;
  int64_t size;
  int64_t begin, end;
  int64_t offset = -1;
};

/// Places intervals at or after `base` by replaying the step: at each op,
/// the buffers whose life ended before it are freed, then the buffers it
/// creates take, largest first, the lowest free range that holds them (first
/// fit), the arena growing when none does. A buffer is live at both ends of
/// its interval: an op never writes over an input it is still reading.
/// O(n log n) in the number of buffers, where packing largest-first over the
/// whole step is quadratic (a 90,000-layer model took hours); a training
/// step frees in about the reverse order it allocates (the backward pass
/// unwinds the forward), which first fit packs tightly. Returns the end of
/// the highest buffer. Without `reuse`, nothing is ever freed.
int64_t packIntervals(std::vector<Interval> &intervals, int64_t base,
                      bool reuse, int64_t alignment) {
  auto alignUp = [alignment](int64_t bytes) {
    return (bytes + alignment - 1) / alignment * alignment;
  };
  std::vector<Interval *> order;
  for (Interval &interval : intervals)
    order.push_back(&interval);
  llvm::stable_sort(order, [](const Interval *a, const Interval *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->size > b->size;
  });
  std::map<int64_t, int64_t> freeRanges; // start -> end, coalesced
  auto release = [&](int64_t start, int64_t end) {
    auto after = freeRanges.lower_bound(start);
    if (after != freeRanges.end() && after->first == end) {
      end = after->second;
      after = freeRanges.erase(after);
    }
    if (after != freeRanges.begin() && std::prev(after)->second == start) {
      std::prev(after)->second = end;
      return;
    }
    freeRanges[start] = end;
  };
  using Live = std::pair<int64_t, const Interval *>; // (end, buffer)
  std::priority_queue<Live, std::vector<Live>, std::greater<Live>> live;
  int64_t top = base;
  for (Interval *next : order) {
    while (reuse && !live.empty() && live.top().first < next->begin) {
      const Interval *done = live.top().second;
      release(done->offset, done->offset + alignUp(done->size));
      live.pop();
    }
    const int64_t size = alignUp(next->size);
    auto fit = llvm::find_if(freeRanges, [&](const auto &range) {
      return range.second - range.first >= size;
    });
    if (fit == freeRanges.end() && !freeRanges.empty() &&
        std::prev(freeRanges.end())->second == top) {
      // The highest free range ends the arena: grow it from there.
      fit = std::prev(freeRanges.end());
      top = fit->first + size;
      fit->second = top;
    }
    if (fit == freeRanges.end()) {
      next->offset = top;
      top += size;
    } else {
      next->offset = fit->first;
      int64_t rest = fit->first + size, end = fit->second;
      freeRanges.erase(fit);
      if (rest < end)
        freeRanges[rest] = end;
    }
    live.push({next->end, next});
  }
  return top;
}

class MemoryPlanner {
public:
  MemoryPlanner(ModuleOp module, bool reuse, int64_t alignment,
                bool alignVariables)
      : module(module), symbols(module), builder(module.getContext()),
        reuse(reuse), alignment(alignment), alignVariables(alignVariables) {}

  LogicalResult run();

private:
  int64_t alignUp(int64_t bytes) const {
    return (bytes + alignment - 1) / alignment * alignment;
  }
  /// Where a variable of `bytes` bytes after `offset` in its run ends.
  int64_t variableEnd(int64_t offset, int64_t bytes) const {
    return alignVariables ? alignUp(offset + bytes) : offset + bytes;
  }
  SlotAttr slot(ArenaRegion region, int64_t offset) {
    return SlotAttr::get(module.getContext(), region, offset);
  }
  /// Lays out the variables; records where each optimizer gradient goes.
  void planVariables(OptimizerUpdateOpInterface update);
  /// Plans one step function's tensors.
  LogicalResult planStep(func::FuncOp step);

  ModuleOp module;
  SymbolTable symbols; ///< A lookup in the module itself is a linear scan.
  Builder builder;
  bool reuse; ///< Whether tensors of disjoint lives may share bytes.
  int64_t alignment;   ///< Of every offset.
  bool alignVariables; ///< Whether variables are aligned within their runs.
  llvm::DenseMap<StringAttr, int64_t> variableOffsets;
  llvm::SmallVector<int64_t> gradientOffsets; ///< Of the update's operands.
  int64_t imagesBytes = 0, labelsBytes = 0; ///< Per sample, at 0 and after.
  int64_t lossOffset = 0, correctOffset = 0;
  int64_t temporariesBase = 0; ///< Fixed-region start of step temporaries.
  int64_t fixedBytes = 0, perSampleBytes = 0;
};

void MemoryPlanner::planVariables(OptimizerUpdateOpInterface update) {
  int64_t top = 0;
  auto place = [&](StringAttr name, int64_t offset) {
    variableOffsets[name] = offset;
    auto variable = symbols.lookup<VariableOp>(name);
    variable->setAttr("rn.slot", slot(ArenaRegion::fixed, offset));
    return variableEnd(offset, byteSize(variable.getType(), false));
  };

  // Parameters, gradients and each optimizer state: one dense run each, all
  // with the same layout, so a flat kernel can walk them together.
  if (update) {
    SmallVector<ArrayAttr> runs{update.getParameters()};
    llvm::append_range(runs, update.getSlotLists());
    auto bytesOf = [&](Attribute name) {
      return byteSize(
          symbols.lookup<VariableOp>(cast<FlatSymbolRefAttr>(name).getAttr())
              .getType(),
          false);
    };
    int64_t runBytes = 0;
    for (Attribute p : runs.front())
      runBytes = variableEnd(runBytes, bytesOf(p));
    int64_t stride = alignUp(runBytes);
    // Run 0: parameters; run 1: gradients; then the states.
    int64_t inRun = 0;
    for (Attribute p : runs.front()) {
      gradientOffsets.push_back(stride + inRun);
      inRun = variableEnd(inRun, bytesOf(p));
    }
    for (auto [k, run] : llvm::enumerate(runs)) {
      int64_t base = (k == 0 ? 0 : k + 1) * stride;
      int64_t offset = base;
      for (Attribute name : run)
        offset = place(cast<FlatSymbolRefAttr>(name).getAttr(), offset);
    }
    top = (runs.size() + 1) * stride;
  }
  for (VariableOp variable : module.getOps<VariableOp>())
    if (!variableOffsets.count(variable.getSymNameAttr()))
      top = alignUp(place(variable.getSymNameAttr(), alignUp(top)));
  lossOffset = alignUp(top);
  correctOffset = lossOffset + alignment;
  temporariesBase = correctOffset + alignment;
  fixedBytes = temporariesBase;
}

LogicalResult MemoryPlanner::planStep(func::FuncOp step) {
  Block &body = step.getBody().front();
  llvm::DenseMap<Value, SlotAttr> slots; // pinned and aliased tensors
  llvm::DenseMap<Value, Value> aliasOf;  // flatten results -> their source

  // The step's inputs and outputs are where the runtime expects them.
  // (@prepare_eval has neither: it only stores derived variables.)
  auto args = body.getArguments();
  if (!args.empty()) {
    imagesBytes = alignUp(byteSize(args[0].getType(), true));
    labelsBytes = alignUp(byteSize(args[1].getType(), true));
    slots[args[0]] = slot(ArenaRegion::per_sample, 0);
    slots[args[1]] = slot(ArenaRegion::per_sample, imagesBytes);
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    slots[ret.getOperand(0)] = slot(ArenaRegion::fixed, lossOffset);
    slots[ret.getOperand(1)] = slot(ArenaRegion::fixed, correctOffset);
  }

  // Pinned and aliased results.
  for (Operation &op : body) {
    if (auto load = dyn_cast<LoadOp>(op))
      slots[load.getResult()] = slot(
          ArenaRegion::fixed, variableOffsets.lookup(load.getVariableAttr().getAttr()));
    if (auto store = dyn_cast<StoreOp>(op)) {
      Value stored = store.getValue();
      if (!stored.getDefiningOp() || isa<LoadOp>(stored.getDefiningOp()) ||
          slots.count(stored))
        return store.emitOpError("stores a value that cannot be computed in "
                                 "the variable's place");
      slots[stored] = slot(ArenaRegion::fixed, variableOffsets.lookup(
                                              store.getVariableAttr().getAttr()));
    }
    if (auto update = dyn_cast<OptimizerUpdateOpInterface>(op)) {
      for (auto [i, gradient] : llvm::enumerate(update.getGradients())) {
        if (slots.count(gradient) || !gradient.getDefiningOp())
          return op.emitOpError("gradient ")
                 << i << " cannot be computed in the gradient block";
        slots[gradient] = slot(ArenaRegion::fixed, gradientOffsets[i]);
      }
    }
    if (auto view = dyn_cast<ViewLikeOpInterface>(op))
      aliasOf[view->getResult(0)] = view.getViewSource();
  }
  auto root = [&](Value v) {
    while (aliasOf.count(v))
      v = aliasOf.lookup(v);
    return v;
  };

  // Live ranges of everything else, by root buffer.
  llvm::DenseMap<Operation *, int64_t> index;
  for (auto [i, op] : llvm::enumerate(body))
    index[&op] = i;
  llvm::MapVector<Value, std::pair<int64_t, int64_t>> ranges;
  for (Operation &op : body) {
    for (Value result : op.getResults()) {
      Value r = root(result);
      if (!isa<RankedTensorType>(result.getType()) || slots.count(r))
        continue;
      auto &range = ranges.try_emplace(r, index[&op], index[&op]).first->second;
      for (Operation *user : result.getUsers())
        range.second = std::max(range.second, index[user]);
    }
  }
  std::vector<Interval> perSample, temporaries;
  for (auto &[value, range] : ranges) {
    bool batched = isBatched(value);
    Interval interval{value, byteSize(value.getType(), batched), range.first,
                      range.second};
    (batched ? perSample : temporaries).push_back(interval);
  }
  perSampleBytes = std::max(
      perSampleBytes,
      alignUp(packIntervals(perSample, imagesBytes + labelsBytes, reuse,
                            alignment)));
  fixedBytes =
      std::max(fixedBytes, alignUp(packIntervals(temporaries, temporariesBase,
                                                 reuse, alignment)));
  for (const Interval &i : perSample)
    slots[i.value] = slot(ArenaRegion::per_sample, i.offset);
  for (const Interval &i : temporaries)
    slots[i.value] = slot(ArenaRegion::fixed, i.offset);

  // Record every tensor's slot.
  for (auto [i, arg] : llvm::enumerate(args))
    step.setArgAttr(i, "rn.slot", slots.lookup(arg));
  for (Operation &op : body) {
    if (llvm::none_of(op.getResultTypes(),
                      [](Type t) { return isa<RankedTensorType>(t); }))
      continue;
    SmallVector<Attribute> resultSlots;
    for (Value result : op.getResults()) {
      SlotAttr s = slots.lookup(root(result));
      resultSlots.push_back(s ? Attribute(s) : builder.getUnitAttr());
    }
    op.setAttr("rn.slots", builder.getArrayAttr(resultSlots));
  }
  return success();
}

LogicalResult MemoryPlanner::run() {
  auto train = module.lookupSymbol<func::FuncOp>(kTrainStep);
  auto eval = module.lookupSymbol<func::FuncOp>(kEvalStep);
  if (!train || !eval)
    return module.emitError("rn-plan-memory needs @train_step and "
                            "@eval_step (run rn-build-train-step first)");
  OptimizerUpdateOpInterface update;
  train.walk([&](OptimizerUpdateOpInterface op) { update = op; });
  planVariables(update);
  if (failed(planStep(train)) || failed(planStep(eval)))
    return failure();
  if (auto prepare = module.lookupSymbol<func::FuncOp>(kPrepareEval))
    if (failed(planStep(prepare)))
      return failure();
  module->setAttr("rn.arena",
                  builder.getDictionaryAttr(
                      {builder.getNamedAttr("fixed_bytes",
                                            builder.getI64IntegerAttr(fixedBytes)),
                       builder.getNamedAttr(
                           "per_sample_bytes",
                           builder.getI64IntegerAttr(perSampleBytes)),
                       builder.getNamedAttr("alignment",
                                            builder.getI64IntegerAttr(alignment))}));
  return success();
}

struct PlanMemory : rn::impl::PlanMemoryBase<PlanMemory> {
  using PlanMemoryBase::PlanMemoryBase;
  void runOnOperation() override {
    if (alignment < 64 || (alignment & (alignment - 1))) {
      getOperation().emitError("rn-plan-memory: alignment must be a power of "
                               "two of at least 64, got ")
          << alignment;
      return signalPassFailure();
    }
    if (failed(MemoryPlanner(getOperation(), reuse, alignment, alignVariables)
                   .run()))
      signalPassFailure();
  }
};

} // namespace
