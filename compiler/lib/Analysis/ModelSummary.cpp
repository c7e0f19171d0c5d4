//===- ModelSummary.cpp - the Keras-style table of a model ------------------===//
//
// A layer is an rn op of `@forward` other than rn.load; its name is the
// NameLoc the frontend gave it. Its parameters are the variables it reads
// through rn.load, counted once each.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/ModelSummary.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

#include <set>

using namespace mlir;
using namespace resnetc;

std::string resnetc::withThousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value), result;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      result += ',';
    result += digits[i];
  }
  return value < 0 ? "-" + result : result;
}

/// The layer name a location carries (NameLoc), or the op's name.
static std::string layerName(Location loc, StringRef fallback) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return named.getName().str();
  return fallback.str();
}

/// The layer that produced `value`: its op's name, or the input's.
static std::string producer(mlir::Value value) {
  if (Operation *op = value.getDefiningOp())
    return layerName(op->getLoc(), op->getName().getStringRef());
  return layerName(value.getLoc(), "input");
}

static int64_t tensorBytes(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return tensor.getNumElements() * tensor.getElementTypeBitWidth() / 8;
}

FailureOr<ModelSummary> resnetc::summarize(ModuleOp module) {
  auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
  if (!forward)
    return module.emitError("the module has no @forward function");
  ModelSummary summary;
  summary.model = module.getSymName().value_or("model").str();
  BlockArgument input = forward.getArgument(0);
  auto inputType = cast<RankedTensorType>(input.getType());
  summary.batch = inputType.getDimSize(0);
  LayerRow inputRow;
  inputRow.name = layerName(input.getLoc(), "input");
  inputRow.type = "input";
  inputRow.shape = inputType.getShape().drop_front().vec();
  summary.rows.push_back(std::move(inputRow));
  summary.activationBytes += tensorBytes(inputType);

  // One table for every lookup: ModuleOp::lookupSymbol scans the module,
  // which made summaries of large models quadratic.
  SymbolTable symbols(module);
  std::set<StringRef> counted;
  for (Operation &op : forward.getBody().front()) {
    if (isa<rn::LoadOp, func::ReturnOp>(op))
      continue;
    LayerRow row;
    row.name = layerName(op.getLoc(), op.getName().getStringRef());
    row.type = op.getName().stripDialect().str();
    auto type = cast<RankedTensorType>(op.getResult(0).getType());
    row.shape = type.getShape().drop_front().vec();
    summary.activationBytes += tensorBytes(type);
    for (mlir::Value operand : op.getOperands()) {
      auto load = operand.getDefiningOp<rn::LoadOp>();
      if (!load) {
        row.inputs.push_back(producer(operand));
        continue;
      }
      if (!counted.insert(load.getVariable()).second)
        continue;
      auto variable = symbols.lookup<rn::VariableOp>(load.getVariable());
      int64_t size = variable.getTensorType().getNumElements();
      row.params += size;
      (variable.getTrainable() ? summary.trainableParams
                               : summary.nonTrainableParams) += size;
    }
    if (auto cost = dyn_cast<rn::CostOpInterface>(op))
      summary.multiplyAddsPerImage += cost.getMultiplyAddsPerImage();
    summary.rows.push_back(std::move(row));
  }
  return summary;
}

void resnetc::printSummary(const ModelSummary &s, llvm::raw_ostream &os) {
  auto shapeText = [](const std::vector<int64_t> &shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i)
      text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
  };
  size_t layerWidth = 28, shapeWidth = 18;
  for (const LayerRow &row : s.rows) {
    layerWidth = std::max(layerWidth, row.name.size() + row.type.size() + 4);
    shapeWidth = std::max(shapeWidth, shapeText(row.shape).size() + 2);
  }
  size_t paramWidth = 13, total = layerWidth + shapeWidth + paramWidth + 30;
  std::string rule(total, '_'), doubleRule(total, '=');

  os << "Model: \"" << s.model << "\" (batch " << s.batch << ")\n"
     << rule << "\n";
  os << llvm::left_justify("Layer (type)", layerWidth)
     << llvm::left_justify("Output Shape", shapeWidth)
     << llvm::left_justify("Param #", paramWidth) << "Connected to\n"
     << doubleRule << "\n";
  for (size_t i = 0; i < s.rows.size(); ++i) {
    const LayerRow &row = s.rows[i];
    std::string inputs;
    for (const std::string &in : row.inputs)
      inputs += (inputs.empty() ? "" : ", ") + in;
    os << llvm::left_justify(row.name + " (" + row.type + ")", layerWidth)
       << llvm::left_justify(shapeText(row.shape), shapeWidth)
       << llvm::left_justify(withThousands(row.params), paramWidth) << inputs
       << "\n";
    os << (i + 1 == s.rows.size() ? doubleRule : rule) << "\n";
  }
  int64_t params = s.trainableParams + s.nonTrainableParams;
  os << "Total params: " << withThousands(params) << "\n"
     << "Trainable params: " << withThousands(s.trainableParams) << "\n"
     << "Non-trainable params: " << withThousands(s.nonTrainableParams) << "\n"
     << "Parameter memory: " << withThousands(params * 4) << " bytes ("
     << llvm::format("%.2f", params * 4 / 1048576.0) << " MiB)\n"
     << "Forward multiply-adds per image: "
     << withThousands(s.multiplyAddsPerImage) << " ("
     << llvm::format("%.3f", s.multiplyAddsPerImage / 1e9) << " G)\n"
     << "Activation memory of a batch of " << s.batch << ": "
     << withThousands(s.activationBytes) << " bytes ("
     << llvm::format("%.2f", s.activationBytes / 1048576.0) << " MiB)\n"
     << rule << "\n";
}
