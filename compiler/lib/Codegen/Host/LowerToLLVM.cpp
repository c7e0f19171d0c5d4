//===- LowerToLLVM.cpp - planned steps to LLVM functions that call kernels --===//
//
// The generated step is straight-line code: for each kernel op, fill one
// halide_buffer_t per tensor argument (a few descriptors on the stack,
// reused by every call), call the kernel, stop on a non-zero status. For a
// GPU program (device=true) the arena is the device arena: the descriptors
// get no host pointer but views of the device arena at their tensors'
// offsets, made by one runtime call per kernel (rn_device_views,
// runtime/include/resnetrt/Device.h) and released after it: a call per
// buffer made ResNet-152's step function too large for LLVM to optimise in
// under minutes. Each kernel call is followed by a call of the runtime's
// hook `rn_kernel_hook` when it is set (train --check-numerics, training on
// several ranks), with the kernel's site (an index into the
// `rn.kernel_sites` table this pass records: step, kernel, DSL layer and
// location) and its output descriptors: host memory on the CPU, the device
// views on a GPU. The descriptor layout is Halide 14's:
//   halide_buffer_t     { u64 device; ptr device_interface; ptr host;
//                         u64 flags; {u8 code, u8 bits, u16 lanes} type;
//                         i32 dimensions; ptr dim; ptr padding }
//   halide_dimension_t  { i32 min, extent, stride; u32 flags }
//
//===----------------------------------------------------------------------===//

#include "resnetc/Codegen/KernelCall.h"
#include "resnetc/Codegen/KernelTraffic.h"
#include "resnetc/Codegen/Passes.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetrt/Program.h" // rn_rank_sum, rn_step_params

#include "HalideRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace resnetc {
#define GEN_PASS_DEF_LOWERTOLLVM
#include "resnetc/Codegen/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using kernels::ElemType;
using kernels::TensorKind;
using kernels::TensorSpec;

// The layouts this lowering restates (see above), pinned.
static_assert(offsetof(halide_buffer_t, host) == 16 &&
                  offsetof(halide_buffer_t, type) == 32 &&
                  offsetof(halide_buffer_t, dimensions) == 36 &&
                  offsetof(halide_buffer_t, dim) == 40 &&
                  sizeof(halide_buffer_t) == 56 &&
                  sizeof(halide_dimension_t) == 16,
              "Halide's buffer layout changed: update bufferType");
// rn_step_params: one 4-byte field per rn.step_param, in enum order.
static_assert(offsetof(rn_step_params, lr) == 4 * size_t(rn::StepParam::lr) &&
                  offsetof(rn_step_params, momentum) ==
                      4 * size_t(rn::StepParam::momentum) &&
                  offsetof(rn_step_params, weight_decay) ==
                      4 * size_t(rn::StepParam::weight_decay) &&
                  offsetof(rn_step_params, nesterov) ==
                      4 * size_t(rn::StepParam::nesterov) &&
                  offsetof(rn_step_params, beta1) ==
                      4 * size_t(rn::StepParam::beta1) &&
                  offsetof(rn_step_params, beta2) ==
                      4 * size_t(rn::StepParam::beta2) &&
                  offsetof(rn_step_params, epsilon) ==
                      4 * size_t(rn::StepParam::epsilon) &&
                  offsetof(rn_step_params, label_smoothing) ==
                      4 * size_t(rn::StepParam::label_smoothing) &&
                  offsetof(rn_step_params, step) ==
                      4 * size_t(rn::StepParam::step) &&
                  offsetof(rn_step_params, seed) ==
                      4 * size_t(rn::StepParam::seed) &&
                  sizeof(rn_step_params) == 40,
              "rn_step_params and the rn.step_param enum differ");

namespace {

/// Builds one step function.
class StepLowering {
public:
  StepLowering(ModuleOp module, int64_t fixedBytes, bool device)
      : module(module), ctx(module.getContext()), builder(ctx),
        fixedBytes(fixedBytes), device(device) {
    ptr = LLVM::LLVMPointerType::get(ctx);
    i8 = builder.getI8Type();
    i16 = builder.getI16Type();
    i32 = builder.getI32Type();
    i64 = builder.getI64Type();
    bufferType = LLVM::LLVMStructType::getLiteral(
        ctx, {i64, ptr, ptr, i64, i8, i8, i16, i32, ptr, ptr});
    dimensionType = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
  }

  /// Lowers `step` into `name`; `withParams` adds the rn_step_params arg.
  /// `step` as the LLVM function stepSymbol(its name).
  LogicalResult lower(func::FuncOp step, bool withParams);

  /// The sites of every kernel call lowered so far, in hook index order:
  /// each an array of four strings [step, kernel, layer, location].
  ArrayAttr kernelSites() const { return ArrayAttr::get(ctx, sites); }

  /// A function of `step`'s lowered signature that runs nothing and
  /// returns -1 (halide_error_code_generic_error).
  void lowerUnavailable(func::FuncOp step, bool withParams) {
    loc = step.getLoc();
    builder.setInsertionPointToStart(
        stepFunction(stepSymbol(step.getSymName()), withParams));
    builder.create<LLVM::ReturnOp>(loc, constant(i32, -1));
  }

private:
  Value constant(Type type, int64_t value) {
    return builder.create<LLVM::ConstantOp>(loc, type,
                                            builder.getIntegerAttr(type, value));
  }
  /// `i32 name(ptr arena, i32 batch[, ptr params])` at the end of the
  /// module; returns its entry block.
  Block *stepFunction(StringRef name, bool withParams) {
    builder.setInsertionPointToEnd(module.getBody());
    SmallVector<Type> argTypes{ptr, i32};
    if (withParams)
      argTypes.push_back(ptr);
    auto func = builder.create<LLVM::LLVMFuncOp>(
        loc, name, LLVM::LLVMFunctionType::get(i32, argTypes));
    return func.addEntryBlock(builder);
  }
  /// The kernel's declaration, created on first use.
  LLVM::LLVMFuncOp declareKernel(const KernelCall &call);
  /// A runtime function of the device arena's, declared on first use.
  LLVM::LLVMFuncOp declareRuntime(StringRef name, ArrayRef<Type> args);
  /// The byte offset in the arena where a buffer's data starts.
  FailureOr<Value> arenaOffset(Operation *op, const KernelBuffer &buffer);
  /// Fills descriptor `index` for `tensor` with host pointer `host` (null
  /// for a device view); returns its address.
  Value describe(unsigned index, const TensorSpec &tensor, Value host);
  /// Branches to the failure block when `status` is not zero.
  void checkStatus(Value status);
  /// The value of a scalar operand: a step parameter or a constant.
  FailureOr<Value> scalar(Value value);
  LogicalResult lowerKernel(Operation *op, KernelOpInterface kernel);
  /// Records the site of `op`'s kernel call and calls rn_kernel_hook, when
  /// set, on its outputs: descriptors [first, first + count).
  void callHook(Operation *op, const kernels::KernelSpec &spec,
                StringRef kernel, unsigned first, unsigned count);

  ModuleOp module;
  MLIRContext *ctx;
  OpBuilder builder;
  int64_t fixedBytes;
  bool device; ///< The arena is a GPU program's device arena.
  Location loc = UnknownLoc::get(ctx);
  Type ptr, i8, i16, i32, i64;
  LLVM::LLVMStructType bufferType, dimensionType;

  // Per function.
  StringRef stepName;
  Value arena, batch, batch64, params, buffers, dimensions, offsets;
  Block *failBlock = nullptr;
  SmallVector<Attribute> sites;
};

/// The DSL layer an op serves and where it is written: the names of its
/// NameLocs (a fused op has several) and its first file:line:col.
std::pair<std::string, std::string> describeLocation(Location loc) {
  SmallVector<std::string> names;
  std::string where;
  loc->walk([&](Location inner) {
    if (auto name = dyn_cast<NameLoc>(inner))
      names.push_back(name.getName().str());
    if (auto file = dyn_cast<FileLineColLoc>(inner); file && where.empty())
      where = (file.getFilename().strref() + ":" + Twine(file.getLine()) +
               ":" + Twine(file.getColumn()))
                  .str();
    return WalkResult::advance();
  });
  return {llvm::join(names, " + "), where};
}

LLVM::LLVMFuncOp StepLowering::declareKernel(const KernelCall &call) {
  std::string symbol = call.spec.symbolName();
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(symbol))
    return existing;
  SmallVector<Type> args(call.inputs.size(), ptr);
  for (Value s : call.scalars)
    args.push_back(s.getType());
  args.append(call.outputs.size(), ptr);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  return builder.create<LLVM::LLVMFuncOp>(
      loc, symbol, LLVM::LLVMFunctionType::get(i32, args));
}

LLVM::LLVMFuncOp StepLowering::declareRuntime(StringRef name,
                                              ArrayRef<Type> args) {
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return existing;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  return builder.create<LLVM::LLVMFuncOp>(
      loc, name, LLVM::LLVMFunctionType::get(i32, args));
}

FailureOr<Value> StepLowering::arenaOffset(Operation *op,
                                           const KernelBuffer &buffer) {
  rn::SlotAttr slot;
  if (buffer.fixedOffset >= 0) {
    slot = rn::SlotAttr::get(ctx, rn::ArenaRegion::fixed, buffer.fixedOffset);
  } else if (auto result = dyn_cast<OpResult>(buffer.value)) {
    auto slots = result.getOwner()->getAttrOfType<ArrayAttr>("rn.slots");
    slot = slots ? dyn_cast<rn::SlotAttr>(slots[result.getResultNumber()])
                 : rn::SlotAttr();
  } else {
    auto arg = cast<BlockArgument>(buffer.value);
    slot = cast<func::FuncOp>(arg.getOwner()->getParentOp())
               .getArgAttrOfType<rn::SlotAttr>(arg.getArgNumber(), "rn.slot");
  }
  if (!slot)
    return op->emitOpError("has a tensor without a memory slot (run "
                           "rn-plan-memory first)");
  if (slot.getRegion() == rn::ArenaRegion::fixed)
    return constant(i64, slot.getOffset());
  // Per-sample: fixed_bytes + batch * offset.
  Value scaled = builder.create<LLVM::MulOp>(loc, batch64,
                                             constant(i64, slot.getOffset()));
  return builder.create<LLVM::AddOp>(loc, scaled, constant(i64, fixedBytes))
      .getResult();
}

void StepLowering::checkStatus(Value status) {
  Value failed = builder.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::ne,
                                              status, constant(i32, 0));
  Block *next = builder.getInsertionBlock()->splitBlock(
      builder.getInsertionPoint());
  builder.create<LLVM::CondBrOp>(loc, failed, failBlock, ValueRange{status},
                                 next, ValueRange{});
  builder.setInsertionPointToStart(next);
}

Value StepLowering::describe(unsigned index, const TensorSpec &tensor,
                             Value host) {
  std::vector<kernels::BufferDimension> layouts = kernels::bufferLayout(tensor);
  Value buffer = builder.create<LLVM::GEPOp>(
      loc, ptr, bufferType, buffers, ArrayRef<LLVM::GEPArg>{int32_t(index)});
  Value dims = builder.create<LLVM::GEPOp>(
      loc, ptr, dimensionType, dimensions,
      ArrayRef<LLVM::GEPArg>{int32_t(index * 4)});
  auto field = [&](Value base, Type type, int32_t i) {
    return builder.create<LLVM::GEPOp>(loc, ptr, type, base,
                                       ArrayRef<LLVM::GEPArg>{0, i});
  };
  auto store = [&](Value v, Value at) { builder.create<LLVM::StoreOp>(loc, v, at); };
  Value null = builder.create<LLVM::ZeroOp>(loc, ptr);
  int code = tensor.type == ElemType::F32   ? 2  // halide_type_float
             : tensor.type == ElemType::I32 ? 0  // halide_type_int
                                            : 1; // halide_type_uint
  store(constant(i64, 0), field(buffer, bufferType, 0));
  store(null, field(buffer, bufferType, 1));
  store(host, field(buffer, bufferType, 2));
  store(constant(i64, 0), field(buffer, bufferType, 3));
  store(constant(i8, code), field(buffer, bufferType, 4));
  store(constant(i8, 32), field(buffer, bufferType, 5));
  store(constant(i16, 1), field(buffer, bufferType, 6));
  store(constant(i32, layouts.size()), field(buffer, bufferType, 7));
  store(dims, field(buffer, bufferType, 8));
  store(null, field(buffer, bufferType, 9));
  for (auto [d, layout] : llvm::enumerate(layouts)) {
    Value dim = builder.create<LLVM::GEPOp>(
        loc, ptr, dimensionType, dims, ArrayRef<LLVM::GEPArg>{int32_t(d)});
    store(constant(i32, 0), field(dim, dimensionType, 0));
    store(layout.runtimeExtent ? batch : constant(i32, layout.extent),
          field(dim, dimensionType, 1));
    store(constant(i32, layout.stride), field(dim, dimensionType, 2));
    store(constant(i32, 0), field(dim, dimensionType, 3));
  }
  return buffer;
}

FailureOr<Value> StepLowering::scalar(Value value) {
  if (auto param = value.getDefiningOp<rn::StepParamOp>()) {
    if (!params)
      return param.emitOpError("is read in a step that has no parameters");
    // rn_step_params has one 4-byte field per StepParam, in enum order.
    Value field = builder.create<LLVM::GEPOp>(
        loc, ptr, i8, params,
        ValueRange{constant(i64, 4 * int64_t(param.getParam()))});
    return builder.create<LLVM::LoadOp>(loc, value.getType(), field)
        .getResult();
  }
  if (auto cst = value.getDefiningOp<arith::ConstantOp>())
    return builder.create<LLVM::ConstantOp>(loc, value.getType(), cst.getValue())
        .getResult();
  return emitError(value.getLoc(), "a kernel scalar must be a step "
                                   "parameter or a constant");
}

LogicalResult StepLowering::lowerKernel(Operation *op,
                                        KernelOpInterface kernel) {
  FailureOr<KernelCall> call = kernel.getKernelCall();
  if (failed(call))
    return failure();
  SmallVector<Value> args;
  unsigned index = 0;
  auto addBuffer = [&](const KernelBuffer &b, const TensorSpec &t) {
    FailureOr<Value> offset = arenaOffset(op, b);
    if (failed(offset))
      return failure();
    if (!device) {
      Value host = builder.create<LLVM::GEPOp>(loc, ptr, i8, arena,
                                               ValueRange{*offset});
      args.push_back(describe(index++, t, host));
      return success();
    }
    // offsets[index] = the view's offset, made below with the others.
    Value slot = builder.create<LLVM::GEPOp>(
        loc, ptr, i64, offsets, ArrayRef<LLVM::GEPArg>{int32_t(index)});
    builder.create<LLVM::StoreOp>(loc, *offset, slot);
    args.push_back(
        describe(index++, t, builder.create<LLVM::ZeroOp>(loc, ptr)));
    return success();
  };
  for (auto [b, t] : llvm::zip(call->inputs, call->spec.inputs))
    if (failed(addBuffer(b, t)))
      return failure();
  for (Value s : call->scalars) {
    FailureOr<Value> v = scalar(s);
    if (failed(v))
      return failure();
    args.push_back(*v);
  }
  for (auto [b, t] : llvm::zip(call->outputs, call->spec.outputs))
    if (failed(addBuffer(b, t)))
      return failure();

  Value count = constant(i32, index);
  if (device)
    checkStatus(
        builder
            .create<LLVM::CallOp>(
                loc, declareRuntime("rn_device_views", {ptr, ptr, ptr, i32}),
                ValueRange{arena, buffers, offsets, count})
            .getResult());
  LLVM::LLVMFuncOp callee = declareKernel(*call);
  checkStatus(builder.create<LLVM::CallOp>(loc, callee, args).getResult());
  callHook(op, call->spec, callee.getName(), call->inputs.size(),
           call->outputs.size());
  // The kernel is queued and the hook is done: its views can go (the memory
  // stays).
  if (device)
    checkStatus(builder
                    .create<LLVM::CallOp>(
                        loc,
                        declareRuntime("rn_device_release_views", {ptr, i32}),
                        ValueRange{buffers, count})
                    .getResult());
  return success();
}

void StepLowering::callHook(Operation *op, const kernels::KernelSpec &spec,
                            StringRef kernel, unsigned first, unsigned count) {
  auto [layer, where] = describeLocation(loc);
  int32_t site = int32_t(sites.size());
  // rn_kernel_site: step, kernel, layer, location, then which output the
  // ranks sum (RankSumOpInterface) and how.
  int32_t rankSum = RN_RANK_SUM_NONE, rankSumOutput = 0;
  if (auto summed = dyn_cast<rn::RankSumOpInterface>(op)) {
    rankSum = summed.isRankSumOfGradients() ? RN_RANK_SUM_GRADIENTS
                                            : RN_RANK_SUM_STATISTICS;
    rankSumOutput = int32_t(summed.getRankSumResult());
  }
  SmallVector<Attribute, 6> fields;
  for (StringRef text : {StringRef(stepName), kernel, StringRef(layer),
                         StringRef(where)})
    fields.push_back(builder.getStringAttr(text));
  fields.push_back(builder.getI32IntegerAttr(rankSum));
  fields.push_back(builder.getI32IntegerAttr(rankSumOutput));
  // What the kernel costs (CostOpInterface, KernelTraffic), for profiles.
  auto cost = dyn_cast<rn::CostOpInterface>(op);
  KernelBytes bytes = kernelBytes(spec);
  for (int64_t value : {cost ? cost.getMultiplyAddsPerImage() : int64_t(0),
                        bytes.fixed, bytes.perImage})
    fields.push_back(builder.getI64IntegerAttr(value));
  sites.push_back(builder.getArrayAttr(fields));

  if (!module.lookupSymbol<LLVM::GlobalOp>("rn_kernel_hook")) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(module.getBody());
    builder.create<LLVM::GlobalOp>(loc, ptr, /*isConstant=*/false,
                                   LLVM::Linkage::External, "rn_kernel_hook",
                                   Attribute());
  }
  Value address = builder.create<LLVM::AddressOfOp>(loc, ptr, "rn_kernel_hook");
  Value hook = builder.create<LLVM::LoadOp>(loc, ptr, address);
  Value set = builder.create<LLVM::ICmpOp>(
      loc, LLVM::ICmpPredicate::ne, hook, builder.create<LLVM::ZeroOp>(loc, ptr));
  Block *current = builder.getInsertionBlock();
  Block *next = current->splitBlock(builder.getInsertionPoint());
  Block *call = new Block();
  current->getParent()->getBlocks().insert(next->getIterator(), call);
  builder.setInsertionPointToEnd(current);
  builder.create<LLVM::CondBrOp>(loc, set, call, ValueRange{}, next,
                                 ValueRange{});
  builder.setInsertionPointToStart(call);
  Value outputs = builder.create<LLVM::GEPOp>(
      loc, ptr, bufferType, buffers, ArrayRef<LLVM::GEPArg>{int32_t(first)});
  auto type = LLVM::LLVMFunctionType::get(i32, {i32, ptr, i32});
  Value status =
      builder
          .create<LLVM::CallOp>(loc, type,
                                ValueRange{hook, constant(i32, site), outputs,
                                           constant(i32, count)})
          .getResult();
  checkStatus(status);
  builder.create<LLVM::BrOp>(loc, ValueRange{}, next);
  builder.setInsertionPointToStart(next);
}

LogicalResult StepLowering::lower(func::FuncOp step, bool withParams) {
  loc = step.getLoc();
  // Descriptors for the call with the most tensor arguments.
  size_t maxBuffers = 1;
  WalkResult walk = step.walk([&](KernelOpInterface op) {
    FailureOr<KernelCall> call = op.getKernelCall();
    if (failed(call))
      return WalkResult::interrupt();
    maxBuffers =
        std::max(maxBuffers, call->inputs.size() + call->outputs.size());
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  stepName = step.getSymName();
  Block *entry = stepFunction(stepSymbol(stepName), withParams);
  auto func = cast<LLVM::LLVMFuncOp>(entry->getParentOp());
  arena = entry->getArgument(0);
  batch = entry->getArgument(1);
  params = withParams ? entry->getArgument(2) : Value();
  failBlock = new Block();
  failBlock->addArgument(i32, loc);
  func.getBody().push_back(failBlock);
  builder.setInsertionPointToStart(failBlock);
  builder.create<LLVM::ReturnOp>(loc, failBlock->getArgument(0));

  builder.setInsertionPointToStart(entry);
  buffers = builder.create<LLVM::AllocaOp>(loc, ptr, bufferType,
                                           constant(i32, maxBuffers));
  dimensions = builder.create<LLVM::AllocaOp>(loc, ptr, dimensionType,
                                              constant(i32, 4 * maxBuffers));
  if (device)
    offsets = builder.create<LLVM::AllocaOp>(loc, ptr, i64,
                                             constant(i32, maxBuffers));
  batch64 = builder.create<LLVM::SExtOp>(loc, i64, batch);

  for (Operation &op : step.getBody().front()) {
    if (auto kernel = dyn_cast<KernelOpInterface>(op)) {
      loc = op.getLoc();
      if (failed(lowerKernel(&op, kernel)))
        return failure();
      continue;
    }
    // Views, variables and scalars move no data; their slots say where
    // the data is, and kernels read scalars as arguments.
    if (op.hasTrait<rn::OpTrait::NoKernel>() ||
        op.hasTrait<OpTrait::ConstantLike>())
      continue;
    if (isa<func::ReturnOp>(op)) {
      builder.create<LLVM::ReturnOp>(loc, constant(i32, 0));
      continue;
    }
    return op.emitOpError("cannot be lowered: it is neither a kernel nor a "
                          "view of memory");
  }
  return success();
}

struct LowerToLLVM : resnetc::impl::LowerToLLVMBase<LowerToLLVM> {
  using LowerToLLVMBase::LowerToLLVMBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto arena = module->getAttrOfType<DictionaryAttr>("rn.arena");
    auto train = module.lookupSymbol<func::FuncOp>(rn::kTrainStep);
    auto eval = module.lookupSymbol<func::FuncOp>(rn::kEvalStep);
    if (!arena || !train || !eval) {
      module.emitError("rn-lower-to-llvm needs planned @train_step and "
                       "@eval_step (run rn-plan-memory first)");
      return signalPassFailure();
    }
    int64_t fixedBytes = arena.getAs<IntegerAttr>("fixed_bytes").getInt();
    StepLowering lowering(module, fixedBytes, device);
    if (trainStep) {
      if (failed(lowering.lower(train, true)))
        return signalPassFailure();
    } else {
      lowering.lowerUnavailable(train, true);
    }
    if (failed(lowering.lower(eval, false)))
      return signalPassFailure();
    if (auto prepare = module.lookupSymbol<func::FuncOp>(rn::kPrepareEval))
      if (failed(lowering.lower(prepare, false)))
        return signalPassFailure();
    // Only the LLVM functions (and the hook's global) remain.
    for (Operation &op : llvm::make_early_inc_range(*module.getBody()))
      if (!isa<LLVM::LLVMFuncOp, LLVM::GlobalOp>(op))
        op.erase();
    SmallVector<StringAttr> discardable;
    for (NamedAttribute attr : module->getDiscardableAttrs())
      discardable.push_back(attr.getName());
    for (StringAttr name : discardable)
      module->removeAttr(name);
    // Read (and removed) by the program object's kernel site table.
    module->setAttr("rn.kernel_sites", lowering.kernelSites());
  }
};

} // namespace
