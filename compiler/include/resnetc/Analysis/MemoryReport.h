//===- MemoryReport.h - the memory plan, for people -------------*- C++ -*-===//

#ifndef RESNETC_ANALYSIS_MEMORYREPORT_H
#define RESNETC_ANALYSIS_MEMORYREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace resnetc {

/// The arena of a planned module: `fixed + batch * perSample` bytes.
struct ArenaSize {
  int64_t fixedBytes = 0, perSampleBytes = 0;
  int64_t bytes(int64_t batch) const { return fixedBytes + batch * perSampleBytes; }
};

/// The sizes rn-plan-memory recorded, or failure if it has not run.
mlir::FailureOr<ArenaSize> arenaSize(mlir::ModuleOp planned);

/// One line: the arena of a training step at `batch`, as --summary shows it.
void printArenaLine(const ArenaSize &arena, int64_t batch, llvm::raw_ostream &os);

/// `resnetc --emit=memory`: every buffer of each step (layer, shape, region,
/// offset, bytes, live range) and the totals.
mlir::LogicalResult printMemoryPlan(mlir::ModuleOp planned, llvm::raw_ostream &os);

} // namespace resnetc

#endif // RESNETC_ANALYSIS_MEMORYREPORT_H
