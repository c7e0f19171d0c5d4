//===- ProgramObject.cpp - the compiled step and its program table ----------===//
//
// The step functions come from MLIR's LLVM translation; rn_program_info is
// built with LLVM's constant API in the same module, with the struct layout
// of runtime/include/resnetrt/Program.h (checked below at compile time).
//
//===----------------------------------------------------------------------===//

#include "resnetc/Codegen/ProgramObject.h"
#include "resnetc/Codegen/KernelCall.h"
#include "resnetc/Codegen/Passes.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetrt/Program.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

#include <cmath>
#include <cstddef>
#include <string_view>

using namespace mlir;
using namespace resnetc;

// The LLVM structs below spell out Program.h field by field; these pin the
// offsets they assume.
static_assert(offsetof(rn_variable, shape) == 16 &&
                  offsetof(rn_variable, offset) == 48 &&
                  offsetof(rn_variable, init_value) == 64 &&
                  offsetof(rn_variable, fan_out) == 88 &&
                  sizeof(rn_variable) == 96,
              "rn_variable changed: update variableType()");
static_assert(offsetof(rn_program, model_name) == 8 &&
                  offsetof(rn_program, input_channels) == 24 &&
                  offsetof(rn_program, fixed_bytes) == 48 &&
                  offsetof(rn_program, num_variables) == 96 &&
                  offsetof(rn_program, variables) == 104 &&
                  offsetof(rn_program, train_kernels) == 128 &&
                  offsetof(rn_program, parameters_offset) == 136 &&
                  offsetof(rn_program, train_step) == 160 &&
                  offsetof(rn_program, prepare_eval) == 176 &&
                  offsetof(rn_program, alignment) == 184 &&
                  offsetof(rn_program, device_interface) == 200 &&
                  offsetof(rn_program, fingerprint) == 208 &&
                  offsetof(rn_program, kernel_sites) == 224 &&
                  offsetof(rn_program, logits_offset) == 232 &&
                  offsetof(rn_program, class_names) == 240 &&
                  sizeof(rn_program) == 248 && sizeof(rn_kernel_site) == 64 &&
                  offsetof(rn_kernel_site, rank_sum) == 32 &&
                  offsetof(rn_kernel_site, rank_sum_output) == 36 &&
                  offsetof(rn_kernel_site, multiply_adds) == 40 &&
                  offsetof(rn_kernel_site, per_image_bytes) == 56,
              "rn_program changed: update programType()");

/// Whether the runtime's name `runtime` of a step function is `dialect`.
static constexpr bool sameName(std::string_view runtime,
                               llvm::StringLiteral dialect) {
  return runtime == std::string_view(dialect.data(), dialect.size());
}
static_assert(sameName(RN_TRAIN_STEP, rn::kTrainStep) &&
                  sameName(RN_EVAL_STEP, rn::kEvalStep) &&
                  sameName(RN_PREPARE_EVAL, rn::kPrepareEval),
              "the runtime and the dialect name the step functions apart");

//===----------------------------------------------------------------------===//
// Collecting the program's description
//===----------------------------------------------------------------------===//

static int64_t fixedSlot(Attribute slot) {
  return cast<rn::SlotAttr>(slot).getOffset();
}

/// PyTorch's fans: dim 0 is the outputs, dim 1 the inputs, the rest the
/// receptive field; a vector's fans are its size.
static std::pair<int64_t, int64_t> fans(ArrayRef<int64_t> shape) {
  if (shape.size() < 2)
    return {shape.empty() ? 1 : shape[0], shape.empty() ? 1 : shape[0]};
  int64_t field = 1;
  for (int64_t d : shape.drop_front(2))
    field *= d;
  return {shape[1] * field, shape[0] * field};
}

FailureOr<ProgramInfo> resnetc::collectProgramInfo(ModuleOp planned) {
  auto arena = planned->getAttrOfType<DictionaryAttr>("rn.arena");
  auto recipe = planned->getAttrOfType<DictionaryAttr>("rn.recipe");
  auto train = planned.lookupSymbol<func::FuncOp>(rn::kTrainStep);
  auto eval = planned.lookupSymbol<func::FuncOp>(rn::kEvalStep);
  if (!arena || !recipe || !train || !eval)
    return planned.emitError("the module is not a planned training program");

  ProgramInfo info;
  info.modelName = planned.getSymName().value_or("model").str();
  auto images = cast<RankedTensorType>(train.getArgumentTypes()[0]);
  info.batch = images.getDimSize(0);
  info.channels = images.getDimSize(1);
  info.height = images.getDimSize(2);
  info.width = images.getDimSize(3);
  info.classes = planned->getAttrOfType<IntegerAttr>("rn.classes").getInt();
  if (auto names = planned->getAttrOfType<ArrayAttr>("rn.class_names"))
    for (Attribute name : names)
      info.classNames += (info.classNames.empty() ? "" : "\n") +
                         cast<StringAttr>(name).getValue().str();
  info.fixedBytes = arena.getAs<IntegerAttr>("fixed_bytes").getInt();
  info.alignment = arena.getAs<IntegerAttr>("alignment").getInt();
  info.perSampleBytes = arena.getAs<IntegerAttr>("per_sample_bytes").getInt();
  info.imagesOffset = cast<rn::SlotAttr>(train.getArgAttr(0, "rn.slot")).getOffset();
  info.labelsOffset = cast<rn::SlotAttr>(train.getArgAttr(1, "rn.slot")).getOffset();
  auto ret = cast<func::ReturnOp>(train.getBody().front().getTerminator());
  auto resultSlot = [](Value v) {
    auto result = cast<OpResult>(v);
    return fixedSlot(result.getOwner()->getAttrOfType<ArrayAttr>(
        "rn.slots")[result.getResultNumber()]);
  };
  info.lossOffset = resultSlot(ret.getOperand(0));
  info.correctOffset = resultSlot(ret.getOperand(1));
  // The logits are what eval_step's loss is computed from: its op's first
  // operand, in a per-sample slot that no later kernel of the step writes.
  auto evalRet = cast<func::ReturnOp>(eval.getBody().front().getTerminator());
  Value logits = evalRet.getOperand(0).getDefiningOp()->getOperand(0);
  auto logitsResult = cast<OpResult>(logits);
  auto logitsSlot = cast<rn::SlotAttr>(logitsResult.getOwner()
                                           ->getAttrOfType<ArrayAttr>(
                                               "rn.slots")[logitsResult
                                                               .getResultNumber()]);
  if (logitsSlot.getRegion() != rn::ArenaRegion::per_sample)
    return planned.emitError("eval_step's logits are not per-sample");
  info.logitsOffset = logitsSlot.getOffset();
  info.optimizer = recipe.getAs<StringAttr>("optimizer").str();
  FailureOr<std::vector<RecipeValue>> recipeFields =
      recipeValues(planned, recipe);
  if (failed(recipeFields))
    return failure();
  info.recipe = std::move(*recipeFields);

  // Roles: the step stores state; the optimizer names its slots.
  llvm::StringSet<> stored, slots;
  train.walk([&](Operation *op) {
    if (auto store = dyn_cast<rn::StoreOp>(op))
      stored.insert(store.getVariable());
    if (auto update = dyn_cast<rn::OptimizerUpdateOpInterface>(op))
      for (ArrayAttr names : update.getSlotLists())
        for (Attribute n : names)
          slots.insert(cast<FlatSymbolRefAttr>(n).getValue());
  });
  for (rn::VariableOp v : planned.getOps<rn::VariableOp>()) {
    ProgramVariable var;
    var.name = v.getSymName().str();
    var.role = v.getTrainable()           ? RN_PARAMETER
               : v.getDerived()           ? RN_DERIVED
               : slots.contains(var.name) ? RN_OPTIMIZER_SLOT
                                          : RN_STATE;
    var.shape = v.getTensorType().getShape().vec();
    var.offset = fixedSlot(v->getAttr("rn.slot"));
    rn::InitAttr init = v.getInit();
    var.initKind = int(init.getKind());
    var.initMode = int(init.getMode());
    var.initValue = init.getValue() ? init.getValue().getValueAsDouble() : 0.0;
    var.initSeed = init.getSeed();
    std::tie(var.fanIn, var.fanOut) = fans(var.shape);
    info.variables.push_back(std::move(var));
  }
  // The optimizer's dense runs of parameters and gradients.
  train.walk([&](rn::OptimizerUpdateOpInterface update) {
    auto call = cast<KernelOpInterface>(*update).getKernelCall();
    if (failed(call))
      return;
    info.parametersOffset = call->inputs[0].fixedOffset;
    info.gradientsOffset = call->inputs[1].fixedOffset;
    info.parametersBytes = call->spec.inputs[0].shape[0] * 4;
  });
  auto countKernels = [](func::FuncOp f) {
    int64_t n = 0;
    f.walk([&](KernelOpInterface) { ++n; });
    return n;
  };
  info.trainKernels = countKernels(train);
  info.evalKernels = countKernels(eval);
  return info;
}

std::string resnetc::programFingerprint(ModuleOp planned,
                                       llvm::StringRef kernelTarget,
                                       llvm::StringRef scheduler) {
  OwningOpRef<ModuleOp> copy = planned.clone();
  (*copy)->removeAttr("rn.recipe");
  (*copy)->removeAttr("rn.class_names"); // names change no step
  std::string text;
  llvm::raw_string_ostream os(text);
  copy->print(os);
  os << "\nkernels: " << kernelTarget << " " << scheduler << "\n";
  std::array<uint8_t, 32> hash = llvm::SHA256::hash(
      llvm::ArrayRef(reinterpret_cast<const uint8_t *>(text.data()),
                     text.size()));
  return llvm::toHex(llvm::ArrayRef(hash).take_front(16), /*LowerCase=*/true);
}

namespace {

/// rn_recipe's fields, from RN_RECIPE_FIELDS.
enum class RecipeKind { TEXT, REAL, INT, BOOL };
struct RecipeField {
  RecipeKind kind;
  llvm::StringLiteral name;
};
constexpr RecipeField kRecipeFields[] = {
#define RN_RECIPE_FIELD(kind, field, flag) {RecipeKind::kind, #field},
    RN_RECIPE_FIELDS(RN_RECIPE_FIELD)
#undef RN_RECIPE_FIELD
};
#define RN_RECIPE_FIELD(kind, field, flag) +1
static_assert(sizeof(rn_recipe) == 8 * (0 RN_RECIPE_FIELDS(RN_RECIPE_FIELD)),
              "every rn_recipe field is 8 bytes: update recipeTable()");
#undef RN_RECIPE_FIELD

/// Shortest text that reads back as the same float: 0.999, 1e-08.
std::string shortest(double v) {
  return llvm::formatv("{0}", llvm::format("%.9g", v)).str();
}

/// The recipe's lists as the text of their flags (runtime/lib/Flags.h):
/// schedule_at "80,120"; the augment list split into resize "32x32",
/// augment "random_crop(32,pad=4),flip_horizontal" (or "none") and
/// normalize "m1,m2,m3/s1,s2,s3".
llvm::StringMap<std::string> listTexts(DictionaryAttr recipe) {
  llvm::StringMap<std::string> texts;
  if (auto at = recipe.getAs<DenseI64ArrayAttr>("schedule_at")) {
    llvm::raw_string_ostream os(texts["schedule_at"]);
    llvm::interleave(at.asArrayRef(), os, ",");
  }
  std::string augment;
  llvm::raw_string_ostream aug(augment);
  auto transforms = recipe.getAs<ArrayAttr>("augment");
  for (Attribute a : transforms ? transforms.getValue() : ArrayRef<Attribute>()) {
    auto t = cast<DictionaryAttr>(a);
    StringRef kind = t.getAs<StringAttr>("kind").getValue();
    if (kind == "resize") { // once, when loading: a flag of its own
      ArrayRef<int64_t> size = t.getAs<DenseI64ArrayAttr>("size");
      texts["resize"] = llvm::formatv("{0}x{1}", size[0], size[1]).str();
      continue;
    }
    if (kind == "normalize") {
      llvm::raw_string_ostream n(texts["normalize"]);
      auto print = [&](double v) { n << shortest(v); };
      llvm::interleave(t.getAs<DenseF64ArrayAttr>("mean").asArrayRef(), n,
                       print, ",");
      n << "/";
      llvm::interleave(t.getAs<DenseF64ArrayAttr>("std").asArrayRef(), n,
                       print, ",");
      continue;
    }
    aug << (augment.empty() ? "" : ",") << kind;
    if (auto size = t.getAs<DenseI64ArrayAttr>("size")) {
      aug << "(" << size[0]; // crops are square
      if (auto pad = t.getAs<IntegerAttr>("pad"))
        aug << ",pad=" << pad.getInt();
      aug << ")";
    }
  }
  texts["augment"] = augment.empty() ? "none" : augment;
  return texts;
}

} // namespace

FailureOr<std::vector<RecipeValue>>
resnetc::recipeValues(Operation *module, DictionaryAttr recipe) {
  llvm::StringMap<std::string> lists = listTexts(recipe);
  std::vector<RecipeValue> values;
  for (const RecipeField &field : kRecipeFields) {
    Attribute attr = recipe.get(field.name);
    auto wrong = [&](StringRef expected) {
      return module->emitError("rn.recipe's '")
             << field.name << "' is " << attr << ", not " << expected;
    };
    RecipeValue value;
    switch (field.kind) {
    case RecipeKind::TEXT:
      if (auto list = lists.find(field.name); list != lists.end())
        value = list->second;
      else if (auto text = dyn_cast_or_null<StringAttr>(attr))
        value = text.str();
      else if (attr)
        return wrong("a string");
      break;
    case RecipeKind::REAL:
      if (auto real = dyn_cast_or_null<FloatAttr>(attr))
        value = real.getValueAsDouble();
      else if (auto integer = dyn_cast_or_null<IntegerAttr>(attr))
        value = double(integer.getInt());
      else if (attr)
        return wrong("a number");
      break;
    case RecipeKind::INT:
      if (auto integer = dyn_cast_or_null<IntegerAttr>(attr);
          integer && !integer.getType().isInteger(1))
        value = integer.getInt();
      else if (attr)
        return wrong("an integer");
      break;
    case RecipeKind::BOOL:
      if (auto flag = dyn_cast_or_null<BoolAttr>(attr))
        value = int64_t(flag.getValue());
      else if (attr)
        return wrong("true or false");
      break;
    }
    values.push_back(std::move(value));
  }
  // One vocabulary: an entry with no field would never reach train.
  for (NamedAttribute entry : recipe)
    if (llvm::none_of(kRecipeFields, [&](const RecipeField &field) {
          return field.name == entry.getName().strref();
        }))
      return module->emitError("rn.recipe has '")
             << entry.getName().strref()
             << "', which rn_recipe (runtime/include/resnetrt/Program.h) has "
                "no field for";
  return values;
}

//===----------------------------------------------------------------------===//
// The program table in LLVM IR
//===----------------------------------------------------------------------===//

namespace {

class TableBuilder {
public:
  explicit TableBuilder(llvm::Module &module)
      : module(module), ctx(module.getContext()) {}

  /// `sites`: rn-lower-to-llvm's `rn.kernel_sites`, or null.
  void build(const ProgramInfo &info, ArrayAttr sites);

private:
  llvm::Constant *i32(int64_t v) {
    return llvm::ConstantInt::get(llvm::Type::getInt32Ty(ctx), v);
  }
  llvm::Constant *i64(int64_t v) {
    return llvm::ConstantInt::get(llvm::Type::getInt64Ty(ctx), v);
  }
  llvm::Constant *string(llvm::StringRef text, const llvm::Twine &name) {
    auto *init = llvm::ConstantDataArray::getString(ctx, text);
    return new llvm::GlobalVariable(module, init->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, init,
                                    name);
  }
  /// One global per distinct text: the site table repeats many.
  llvm::Constant *sharedString(llvm::StringRef text) {
    llvm::Constant *&global = strings[text];
    if (!global)
      global = string(text, "rn.site.text");
    return global;
  }
  llvm::Constant *variable(const ProgramVariable &v, size_t index);
  /// The rn_recipe struct.
  llvm::Constant *recipeTable(const std::vector<RecipeValue> &recipe);
  /// The rn_kernel_site array; null when there are no sites.
  llvm::Constant *siteTable(ArrayAttr sites);

  llvm::Module &module;
  llvm::LLVMContext &ctx;
  llvm::StringMap<llvm::Constant *> strings;
};

llvm::Constant *TableBuilder::siteTable(ArrayAttr sites) {
  SmallVector<llvm::Constant *> entries;
  for (Attribute site : sites ? sites.getValue() : ArrayRef<Attribute>()) {
    SmallVector<llvm::Constant *, 9> fields;
    for (Attribute field : cast<ArrayAttr>(site)) {
      if (auto text = dyn_cast<StringAttr>(field)) {
        fields.push_back(sharedString(text.getValue()));
        continue;
      }
      auto number = cast<IntegerAttr>(field); // i32 or i64, as the struct
      fields.push_back(number.getType().isInteger(64) ? i64(number.getInt())
                                                      : i32(number.getInt()));
    }
    entries.push_back(llvm::ConstantStruct::getAnon(ctx, fields));
  }
  if (entries.empty())
    return llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(ctx));
  auto *type = llvm::ArrayType::get(entries.front()->getType(), entries.size());
  return new llvm::GlobalVariable(module, type, true,
                                  llvm::GlobalValue::PrivateLinkage,
                                  llvm::ConstantArray::get(type, entries),
                                  "rn.kernel_sites");
}

llvm::Constant *TableBuilder::variable(const ProgramVariable &v,
                                       size_t index) {
  llvm::Type *i64Ty = llvm::Type::getInt64Ty(ctx);
  auto *shapeTy = llvm::ArrayType::get(i64Ty, 4);
  SmallVector<llvm::Constant *, 4> shape;
  for (size_t d = 0; d < 4; ++d)
    shape.push_back(i64(d < v.shape.size() ? v.shape[d] : 0));
  return llvm::ConstantStruct::getAnon(
      ctx, {string(v.name, "rn.variable.name." + llvm::Twine(index)),
            i32(v.role), i32(v.shape.size()),
            llvm::ConstantArray::get(shapeTy, shape), i64(v.offset),
            i32(v.initKind), i32(v.initMode),
            llvm::ConstantFP::get(llvm::Type::getDoubleTy(ctx), v.initValue),
            i64(v.initSeed), i64(v.fanIn), i64(v.fanOut)});
}

llvm::Constant *
TableBuilder::recipeTable(const std::vector<RecipeValue> &recipe) {
  SmallVector<llvm::Constant *> fields;
  for (auto [field, value] : llvm::zip_equal(kRecipeFields, recipe)) {
    llvm::Constant *constant = nullptr;
    switch (field.kind) {
    case RecipeKind::TEXT:
      constant = std::holds_alternative<std::string>(value)
                     ? string(std::get<std::string>(value),
                              "rn.recipe." + field.name)
                     : llvm::ConstantPointerNull::get(
                           llvm::PointerType::getUnqual(ctx));
      break;
    case RecipeKind::REAL:
      constant = llvm::ConstantFP::get(
          llvm::Type::getDoubleTy(ctx),
          std::holds_alternative<double>(value) ? std::get<double>(value)
                                                : std::nan(""));
      break;
    case RecipeKind::INT:
    case RecipeKind::BOOL:
      constant = i64(std::holds_alternative<int64_t>(value)
                         ? std::get<int64_t>(value)
                         : RN_RECIPE_UNSET);
      break;
    }
    fields.push_back(constant);
  }
  llvm::Constant *init = llvm::ConstantStruct::getAnon(ctx, fields);
  return new llvm::GlobalVariable(module, init->getType(), true,
                                  llvm::GlobalValue::PrivateLinkage, init,
                                  "rn.recipe");
}

void TableBuilder::build(const ProgramInfo &info, ArrayAttr sites) {
  SmallVector<llvm::Constant *> variables;
  for (auto [i, v] : llvm::enumerate(info.variables))
    variables.push_back(variable(v, i));
  llvm::Constant *table = llvm::ConstantPointerNull::get(
      llvm::PointerType::getUnqual(ctx));
  if (!variables.empty()) {
    auto *type = llvm::ArrayType::get(variables.front()->getType(),
                                      variables.size());
    table = new llvm::GlobalVariable(
        module, type, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(type, variables), "rn.variables");
  }
  llvm::Constant *null =
      llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(ctx));
  auto function = [&](llvm::StringRef name) -> llvm::Constant * {
    if (llvm::Function *f = module.getFunction(name))
      return f;
    return null;
  };
  // A GPU program's device interface, from the Halide runtime linked in:
  // halide_cuda_device_interface or halide_opencl_device_interface.
  llvm::Constant *deviceApi = null, *deviceInterface = null;
  if (!info.deviceApi.empty()) {
    deviceApi = string(info.deviceApi, "rn.device_api");
    deviceInterface = llvm::cast<llvm::Constant>(
        module
            .getOrInsertFunction(
                "halide_" + info.deviceApi + "_device_interface",
                llvm::FunctionType::get(llvm::PointerType::getUnqual(ctx),
                                        false))
            .getCallee());
  }
  llvm::Constant *program = llvm::ConstantStruct::getAnon(
      ctx, {i32(RN_PROGRAM_ABI_VERSION), string(info.modelName, "rn.model"),
            string(info.target, "rn.target"), i32(info.channels),
            i32(info.height), i32(info.width), i32(info.classes),
            i32(info.batch), i64(info.fixedBytes), i64(info.perSampleBytes),
            i64(info.imagesOffset), i64(info.labelsOffset),
            i64(info.lossOffset), i64(info.correctOffset),
            i32(info.variables.size()), table,
            string(info.optimizer, "rn.optimizer"),
            recipeTable(info.recipe), i32(info.trainKernels),
            i32(info.evalKernels), i64(info.parametersOffset),
            i64(info.gradientsOffset), i64(info.parametersBytes),
            function(stepSymbol(rn::kTrainStep)),
            function(stepSymbol(rn::kEvalStep)),
            function(stepSymbol(rn::kPrepareEval)), i64(info.alignment), deviceApi,
            deviceInterface, string(info.fingerprint, "rn.fingerprint"),
            i32(sites ? sites.size() : 0), siteTable(sites),
            i64(info.logitsOffset),
            info.classNames.empty()
                ? null
                : string(info.classNames, "rn.class_names")});
  new llvm::GlobalVariable(module, program->getType(), true,
                           llvm::GlobalValue::ExternalLinkage, program,
                           "rn_program_info");
}

} // namespace

LogicalResult resnetc::emitProgramObject(ModuleOp lowered,
                                         const ProgramInfo &info,
                                         llvm::StringRef path, bool emitIR) {
  MLIRContext *ctx = lowered.getContext();
  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  llvm::LLVMContext llvmContext;
  auto sites = lowered->getAttrOfType<ArrayAttr>("rn.kernel_sites");
  lowered->removeAttr("rn.kernel_sites");
  std::unique_ptr<llvm::Module> module =
      translateModuleToLLVMIR(lowered, llvmContext, info.modelName);
  if (!module)
    return lowered.emitError("could not translate the step to LLVM IR");
  TableBuilder(*module).build(info, sites);

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  const std::string triple = "x86_64-pc-linux-gnu";
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return lowered.emitError("no x86-64 target in LLVM: ") << error;
  // The steps are glue between kernels (a descriptor and a call per
  // kernel), whose speed the kernels dwarf: optimised lightly, compiled
  // fast, as a recompile from the kernel cache waits for nothing else.
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "x86-64", "", llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::None));
  module->setTargetTriple(triple);
  module->setDataLayout(machine->createDataLayout());
  if (llvm::Error err =
          makeOptimizingTransformer(0, 0, machine.get())(module.get()))
    return lowered.emitError("LLVM optimisation failed: ")
           << llvm::toString(std::move(err));

  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return lowered.emitError("cannot write '") << path << "': " << ec.message();
  if (emitIR) {
    module->print(out.os(), nullptr);
  } else {
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, out.os(), nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return lowered.emitError("LLVM cannot emit an object file here");
    codegen.run(*module);
  }
  out.keep();
  return success();
}
