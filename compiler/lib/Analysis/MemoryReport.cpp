//===- MemoryReport.cpp - the memory plan, for people -----------------------===//

#include "resnetc/Analysis/MemoryReport.h"
#include "resnetc/Analysis/ModelSummary.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace resnetc;

FailureOr<ArenaSize> resnetc::arenaSize(ModuleOp planned) {
  auto arena = planned->getAttrOfType<DictionaryAttr>("rn.arena");
  if (!arena)
    return planned.emitError("the module has no memory plan");
  ArenaSize size;
  size.fixedBytes = arena.getAs<IntegerAttr>("fixed_bytes").getInt();
  size.perSampleBytes = arena.getAs<IntegerAttr>("per_sample_bytes").getInt();
  return size;
}

static std::string mebibytes(int64_t bytes) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.2f MiB", bytes / 1048576.0);
  return text;
}

void resnetc::printArenaLine(const ArenaSize &arena, int64_t batch,
                             llvm::raw_ostream &os) {
  os << "Training step memory (batch " << batch
     << "): " << withThousands(arena.bytes(batch)) << " bytes ("
     << mebibytes(arena.bytes(batch)) << ") = " << withThousands(arena.fixedBytes)
     << " fixed + " << batch << " x " << withThousands(arena.perSampleBytes)
     << " per image\n";
}

LogicalResult resnetc::printMemoryPlan(ModuleOp planned, llvm::raw_ostream &os) {
  FailureOr<ArenaSize> arena = arenaSize(planned);
  if (failed(arena))
    return failure();
  os << "Variables (fixed region):\n";
  os << llvm::left_justify("  name", 48) << llvm::right_justify("offset", 12)
     << llvm::right_justify("bytes", 12) << "\n";
  for (auto variable : planned.getOps<rn::VariableOp>()) {
    auto slot = variable->getAttrOfType<rn::SlotAttr>("rn.slot");
    auto type = variable.getTensorType();
    os << llvm::left_justify("  " + variable.getSymName().str(), 48)
       << llvm::right_justify(std::to_string(slot.getOffset()), 12)
       << llvm::right_justify(std::to_string(type.getNumElements() * 4), 12)
       << "\n";
  }
  for (StringRef name : {rn::kTrainStep, rn::kEvalStep}) {
    auto step = planned.lookupSymbol<func::FuncOp>(name);
    if (!step)
      continue;
    os << "\n@" << name << " (per_sample sizes are per image):\n";
    os << llvm::left_justify("  #", 7) << llvm::left_justify("layer", 34)
       << llvm::left_justify("tensor", 24) << llvm::left_justify("region", 12)
       << llvm::right_justify("offset", 12) << llvm::right_justify("bytes", 12)
       << "\n";
    int index = 0;
    for (Operation &op : step.getBody().front()) {
      ++index;
      auto slots = op.getAttrOfType<ArrayAttr>("rn.slots");
      if (!slots || isa<rn::LoadOp>(op))
        continue;
      std::string layer = op.getName().stripDialect().str();
      if (auto named = dyn_cast<NameLoc>(op.getLoc()))
        layer = named.getName().str() + " " + layer;
      for (auto [result, attr] : llvm::zip(op.getResults(), slots)) {
        auto slot = dyn_cast<rn::SlotAttr>(attr);
        if (!slot)
          continue;
        auto type = cast<RankedTensorType>(result.getType());
        bool perSample = slot.getRegion() == rn::ArenaRegion::per_sample;
        int64_t bytes = type.getNumElements() * type.getElementTypeBitWidth() / 8;
        if (perSample)
          bytes /= type.getDimSize(0);
        std::string shape;
        llvm::raw_string_ostream(shape) << type;
        os << llvm::left_justify("  " + std::to_string(index), 7)
           << llvm::left_justify(layer, 34)
           << llvm::left_justify(StringRef(shape).drop_front(7).drop_back(1), 24)
           << llvm::left_justify(perSample ? "per_sample" : "fixed", 12)
           << llvm::right_justify(std::to_string(slot.getOffset()), 12)
           << llvm::right_justify(std::to_string(bytes), 12) << "\n";
      }
    }
  }
  int64_t batch = cast<RankedTensorType>(
                      planned.lookupSymbol<func::FuncOp>(rn::kTrainStep)
                          .getArgumentTypes()[0])
                      .getDimSize(0);
  os << "\nArena: " << withThousands(arena->fixedBytes) << " bytes fixed + "
     << withThousands(arena->perSampleBytes) << " bytes per image\n";
  printArenaLine(*arena, batch, os);
  return success();
}
