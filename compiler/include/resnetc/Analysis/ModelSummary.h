//===- ModelSummary.h - the Keras-style table of a model --------*- C++ -*-===//
//
// What `resnetc --summary` prints: one row per layer of `@forward` (name,
// type, output shape, parameters, inputs), the parameter totals (trainable
// and not), the forward multiply-adds per image and the activation memory of
// one batch.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_ANALYSIS_MODELSUMMARY_H
#define RESNETC_ANALYSIS_MODELSUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace resnetc {

struct LayerRow {
  std::string name;
  std::string type;               ///< The op, e.g. "conv2d".
  std::vector<int64_t> shape;     ///< Output shape without the batch.
  int64_t params = 0;
  std::vector<std::string> inputs; ///< Layers it reads ("connected to").
};

struct ModelSummary {
  std::string model;
  int64_t batch = 0;
  std::vector<LayerRow> rows;
  int64_t trainableParams = 0;
  int64_t nonTrainableParams = 0;
  int64_t multiplyAddsPerImage = 0;
  int64_t activationBytes = 0; ///< Every layer output, for one batch.
};

/// Summarises the `@forward` function of an rn module.
mlir::FailureOr<ModelSummary> summarize(mlir::ModuleOp module);

/// Prints the table and the totals.
void printSummary(const ModelSummary &summary, llvm::raw_ostream &os);

/// 23600006 -> "23,600,006".
std::string withThousands(int64_t value);

} // namespace resnetc

#endif // RESNETC_ANALYSIS_MODELSUMMARY_H
