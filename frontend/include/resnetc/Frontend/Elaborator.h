//===- Elaborator.h - syntax tree to the rn dialect -------------*- C++ -*-===//
//
// Runs a model file: evaluates constants, expands blocks, loops and
// conditionals, checks every layer with its op's shape rule, and builds an rn
// module: the model's variables and `func.func @forward`, with the train
// recipe as the module attribute `rn.recipe`.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_ELABORATOR_H
#define RESNETC_FRONTEND_ELABORATOR_H

#include "resnetc/Frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>

namespace resnetc {

struct ElaborateOptions {
  /// Overrides the recipe's batch size (the static batch of every tensor).
  std::optional<int64_t> batch;
};

/// The batch size when neither the recipe nor the options give one.
constexpr int64_t kDefaultBatch = 128;

/// Builds the rn module of `file`; returns null after reporting errors.
mlir::OwningOpRef<mlir::ModuleOp> elaborate(const ast::File &file,
                                            const Diagnostics &diags,
                                            const ElaborateOptions &options);

} // namespace resnetc

#endif // RESNETC_FRONTEND_ELABORATOR_H
