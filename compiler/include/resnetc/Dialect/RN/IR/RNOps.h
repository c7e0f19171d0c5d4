//===- RNOps.h - rn dialect operations --------------------------*- C++ -*-===//
//
// Declares the ops of the rn dialect and the interfaces they implement.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNOPS_H
#define RESNETC_DIALECT_RN_IR_RNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "resnetc/Dialect/RN/IR/OnnxGraphBuilder.h"
#include "resnetc/Dialect/RN/IR/RNDialect.h"

#include <functional>

namespace mlir::rn {

/// The step rn-build-train-step is building, for the ops whose form there
/// differs from the forward graph's (StepFormOpInterface).
class StepForm {
public:
  StepForm(bool training, bool syncBatchNorm, std::function<Value()> seed)
      : training(training), syncBatchNorm(syncBatchNorm),
        makeSeed(std::move(seed)) {}

  /// The training step, else the evaluation step.
  const bool training;
  /// BatchNorm normalises with the ranks' global batch (resnetc
  /// --sync-batch-norm).
  const bool syncBatchNorm;
  /// The step's random seed (rn.step_param seed), made on first use.
  Value seed() { return makeSeed(); }
  /// A salt no other random mask of the step uses.
  int64_t takeSalt() { return salt++; }

private:
  std::function<Value()> makeSeed;
  int64_t salt = 0;
};

/// Multiply-adds per image of a convolution whose output (NCHW) or output
/// gradient is `output` and whose filter (OIHW) or filter gradient is
/// `filter`: forward, fused and backward alike.
int64_t convMultiplyAdds(ShapedType output, ShapedType filter);

class OptimizerUpdateOpInterface;
/// OptimizerUpdateOpInterface's verifier: one parameter and one slot of
/// each list per gradient, no variable named twice.
LogicalResult verifyOptimizerUpdate(Operation *op);
/// An optimizer update's symbol check: each parameter a trainable variable
/// and each slot a variable, of its gradient's type.
LogicalResult verifyUpdatedVariables(OptimizerUpdateOpInterface update,
                                     SymbolTableCollection &symbols);

/// An activation's verifier (RNActivations.td): its attributes are finite.
LogicalResult verifyActivation(Operation *op);
/// An activation as the ONNX node `node` with the op's floating-point
/// attributes under their own names (LeakyRelu's alpha).
LogicalResult exportActivation(resnetc::OnnxGraphBuilder &builder,
                               Operation *op, StringRef node);

/// An activation's gradient (RNActivations.td): its backward op of dy and
/// `saved` (the forward op's input or result), with the forward op's
/// attributes.
template <typename BackwardOp>
LogicalResult activationGradient(Operation *op, Value saved,
                                 OpBuilder &builder,
                                 ArrayRef<Value> resultGradients,
                                 MutableArrayRef<Value> operandGradients) {
  Value dy = resultGradients[0];
  if (dy)
    operandGradients[0] = builder.create<BackwardOp>(
        op->getLoc(), TypeRange{dy.getType()}, ValueRange{dy, saved},
        op->getAttrs());
  return success();
}

namespace OpTrait {
/// RN_NoKernel (RNBase.td): lowering emits no call for the op.
template <typename ConcreteType>
class NoKernel : public ::mlir::OpTrait::TraitBase<ConcreteType, NoKernel> {};
} // namespace OpTrait

} // namespace mlir::rn

#include "resnetc/Dialect/RN/IR/RNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "resnetc/Dialect/RN/IR/RNOps.h.inc"

namespace mlir::rn {

/// The functions of a module, named for the stage that makes them: the
/// front end's forward graph; rn-build-train-step's training and evaluation
/// steps; rn-fuse-conv-bn-relu's computation of the derived variables. The
/// runtime knows the steps by the same names (Program.h, RN_TRAIN_STEP).
inline constexpr llvm::StringLiteral kForwardFunction = "forward";
inline constexpr llvm::StringLiteral kTrainStep = "train_step";
inline constexpr llvm::StringLiteral kEvalStep = "eval_step";
inline constexpr llvm::StringLiteral kPrepareEval = "prepare_eval";

/// Whether `value` holds one slice per image of the batch (its first
/// dimension is the batch), as activations, labels and their gradients do,
/// rather than being independent of the batch (variables, their gradients,
/// BatchNorm's batch statistics, the loss): its op's
/// BatchedResultsOpInterface says. Kernels lay the two kinds out
/// differently and the memory plan scales only the first with the batch.
bool isBatched(Value value);

} // namespace mlir::rn

#endif // RESNETC_DIALECT_RN_IR_RNOPS_H
