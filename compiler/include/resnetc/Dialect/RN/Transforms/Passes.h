//===- Passes.h - rn dialect passes -----------------------------*- C++ -*-===//

#ifndef RESNETC_DIALECT_RN_TRANSFORMS_PASSES_H
#define RESNETC_DIALECT_RN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir::rn {

#define GEN_PASS_DECL
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"

/// rn-fuse-conv-bn-relu's BatchNorm chains: in a training step, conv ->
/// [relu] -> batch_norm_train -> [add] -> [relu] (or add -> batch_norm_train
/// -> ...) into conv2d_stats / add_stats + batch_norm_apply; in an
/// evaluation step, conv -> batch_norm into rn.fold_batch_norm + conv2d.
/// With `report`, each BatchNorm says what happened to it as a remark.
void populateFuseBatchNormPatterns(RewritePatternSet &patterns, bool report);

/// rn-fuse-conv-bn-relu's epilogues, for evaluation steps (fused_conv2d has
/// no gradient): conv2d -> [add] -> [relu] into one fused_conv2d.
void populateFuseConvEpiloguePatterns(RewritePatternSet &patterns,
                                      bool report);

#define GEN_PASS_REGISTRATION
#include "resnetc/Dialect/RN/Transforms/Passes.h.inc"

} // namespace mlir::rn

#endif // RESNETC_DIALECT_RN_TRANSFORMS_PASSES_H
