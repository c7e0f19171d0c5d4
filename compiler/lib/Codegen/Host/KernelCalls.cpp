//===- KernelCalls.cpp - which kernel each rn op runs as ---------------------===//
//
// Every rn op but those marked RN_NoKernel runs as the family of its own
// name (Kernels.h), generically: tensor operands are the kernel's inputs,
// scalar operands its run-time scalars, results its outputs, and inherent
// attributes its integer and float attributes. A few ops say more (the
// fused conv's optional operands, the loss's flag, the optimizers' flat
// views of the arena).
//
//===----------------------------------------------------------------------===//

#include "resnetc/Codegen/KernelCall.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace resnetc;
using kernels::ElemType;
using kernels::TensorKind;
using kernels::TensorSpec;

#include "resnetc/Codegen/KernelOpInterface.cpp.inc"

namespace {

TensorSpec tensorSpec(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  TensorSpec spec;
  spec.shape = type.getShape().vec();
  spec.kind = rn::isBatched(value) ? TensorKind::Activation : TensorKind::Weight;
  spec.type = type.getElementType().isF32() ? ElemType::F32 : ElemType::I32;
  return spec;
}

/// The generic mapping, with the family named `family`.
KernelCall genericCall(Operation *op, StringRef family) {
  KernelCall call;
  call.spec.family = family.str();
  for (Value operand : op->getOperands()) {
    if (isa<RankedTensorType>(operand.getType())) {
      call.spec.inputs.push_back(tensorSpec(operand));
      call.inputs.push_back({operand});
    } else {
      call.scalars.push_back(operand);
    }
  }
  for (Value result : op->getResults()) {
    call.spec.outputs.push_back(tensorSpec(result));
    call.outputs.push_back({result});
  }
  // Inherent attributes only: the planner's rn.slots are not the kernel's.
  for (NamedAttribute attr : op->getAttrs()) {
    if (attr.getName().strref().starts_with("rn."))
      continue;
    std::string name = attr.getName().str();
    if (auto array = dyn_cast<DenseI64ArrayAttr>(attr.getValue()))
      call.spec.ints[name] = array.asArrayRef().vec();
    else if (auto integer = dyn_cast<IntegerAttr>(attr.getValue()))
      call.spec.ints[name] = {integer.getInt()};
    else if (auto boolean = dyn_cast<BoolAttr>(attr.getValue()))
      call.spec.ints[name] = {boolean.getValue()};
    else if (auto real = dyn_cast<FloatAttr>(attr.getValue()))
      call.spec.floats[name] = real.getValueAsDouble();
  }
  return call;
}

FailureOr<KernelCall> callFor(rn::FusedConv2DOp op) {
  // Which optional operands are there: the segment sizes are not a kernel
  // attribute.
  KernelCall call = genericCall(op, "fused_conv2d");
  call.spec.ints["bias"] = {bool(op.getBias())};
  call.spec.ints["residual"] = {bool(op.getResidual())};
  return call;
}

FailureOr<KernelCall> callFor(rn::SoftmaxCrossEntropyOp op) {
  KernelCall call = genericCall(op, "softmax_cross_entropy");
  call.spec.ints["with_gradient"] = {op.getWithGradient()};
  return call;
}

//===----------------------------------------------------------------------===//
// Optimizers: flat views of the parameter, gradient and state runs
//===----------------------------------------------------------------------===//

/// The fixed-region offset where a planned tensor or variable starts.
FailureOr<int64_t> fixedOffset(Operation *op, Attribute slot) {
  auto planned = dyn_cast_or_null<rn::SlotAttr>(slot);
  if (!planned || planned.getRegion() != rn::ArenaRegion::fixed)
    return op->emitOpError("needs the memory plan (run rn-plan-memory)");
  return planned.getOffset();
}

FailureOr<int64_t> variableOffset(Operation *op, ArrayAttr names) {
  auto variable = SymbolTable::lookupNearestSymbolFrom<rn::VariableOp>(
      op, cast<SymbolRefAttr>(names[0]));
  return fixedOffset(op, variable->getAttr("rn.slot"));
}

FailureOr<int64_t> valueOffset(Operation *op, Value value) {
  Operation *producer = value.getDefiningOp();
  auto slots = producer->getAttrOfType<ArrayAttr>("rn.slots");
  if (!slots)
    return fixedOffset(op, nullptr);
  return fixedOffset(op, slots[cast<OpResult>(value).getResultNumber()]);
}

/// The flat update over runs starting at the first parameter, the first
/// gradient and the first entry of each slot list: in place, so the
/// parameter and slot runs are both inputs and outputs. A run spans its
/// tensors, the gaps a GPU's plan leaves between them, and its end up to a
/// multiple of the plan's alignment (zeros all, which the update keeps).
FailureOr<KernelCall> flatUpdate(rn::OptimizerUpdateOpInterface op,
                                 StringRef family, ValueRange scalars) {
  ValueRange gradients = op.getGradients();
  FailureOr<int64_t> weights = variableOffset(op, op.getParameters());
  if (failed(weights))
    return failure();
  FailureOr<int64_t> grads = valueOffset(op, gradients[0]);
  FailureOr<int64_t> lastGrad = valueOffset(op, gradients.back());
  if (failed(grads) || failed(lastGrad))
    return failure();
  auto arena = op->getParentOfType<mlir::ModuleOp>()->getAttrOfType<mlir::DictionaryAttr>(
      "rn.arena");
  const int64_t alignment =
      arena ? arena.getAs<mlir::IntegerAttr>("alignment").getInt() : 64;
  auto last = cast<RankedTensorType>(gradients.back().getType());
  int64_t bytes = *lastGrad + 4 * last.getNumElements() - *grads;
  TensorSpec flat;
  bytes = (bytes + alignment - 1) / alignment * alignment;
  flat.shape = {bytes / 4};
  flat.kind = TensorKind::Weight;

  KernelCall call;
  call.spec.family = family.str();
  call.inputs = {{Value(), *weights}, {Value(), *grads}};
  call.outputs = {{Value(), *weights}};
  for (ArrayAttr slots : op.getSlotLists()) {
    FailureOr<int64_t> offset = variableOffset(op, slots);
    if (failed(offset))
      return failure();
    call.inputs.push_back({Value(), *offset});
    call.outputs.push_back({Value(), *offset});
  }
  call.spec.inputs.assign(call.inputs.size(), flat);
  call.spec.outputs.assign(call.outputs.size(), flat);
  call.scalars.assign(scalars.begin(), scalars.end());
  return call;
}

FailureOr<KernelCall> callFor(rn::SGDUpdateOp op) {
  return flatUpdate(op, "sgd_update",
                    {op.getLr(), op.getMomentum(), op.getWeightDecay(),
                     op.getNesterov()});
}

FailureOr<KernelCall> callFor(rn::AdamUpdateOp op) {
  FailureOr<KernelCall> call = flatUpdate(
      op, "adam_update",
      {op.getLr(), op.getBeta1(), op.getBeta2(), op.getEpsilon(),
       op.getWeightDecay(), op.getStep()});
  if (succeeded(call))
    call->spec.floats["decoupled"] = op.getDecoupled();
  return call;
}

/// The ops above, which say more than the generic call.
template <typename OpT>
struct KernelModel
    : public KernelOpInterface::ExternalModel<KernelModel<OpT>, OpT> {
  FailureOr<KernelCall> getKernelCall(Operation *op) const {
    return callFor(cast<OpT>(op));
  }
};

/// Every other op with a kernel.
struct GenericKernelModel
    : public KernelOpInterface::FallbackModel<GenericKernelModel> {
  FailureOr<KernelCall> getKernelCall(Operation *op) const {
    return genericCall(op, op->getName().stripDialect());
  }
};

} // namespace

bool resnetc::runsAKernel(RegisteredOperationName op) {
  return op.getDialectNamespace() == rn::RNDialect::getDialectNamespace() &&
         !op.hasTrait<rn::OpTrait::NoKernel>();
}

void resnetc::registerKernelCallModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, rn::RNDialect *) {
    using namespace rn;
    FusedConv2DOp::attachInterface<KernelModel<FusedConv2DOp>>(*ctx);
    SoftmaxCrossEntropyOp::attachInterface<KernelModel<SoftmaxCrossEntropyOp>>(
        *ctx);
    SGDUpdateOp::attachInterface<KernelModel<SGDUpdateOp>>(*ctx);
    AdamUpdateOp::attachInterface<KernelModel<AdamUpdateOp>>(*ctx);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      if (runsAKernel(op) && !op.hasInterface<KernelOpInterface>())
        op.attachInterface<GenericKernelModel>();
  });
}
