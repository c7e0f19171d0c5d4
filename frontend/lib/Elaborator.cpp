//===- Elaborator.cpp - runs a model file, building the rn graph ------------===//
//
// The model's statements run once, at compile time: numbers, lists and
// conditions are evaluated, loops unrolled and blocks expanded, and every
// layer call becomes rn ops in `func.func @forward`. Scoping is by function:
// the model's top level is one scope, each block call another (which can
// also read the top level); loops and ifs do not open scopes.
//
//===----------------------------------------------------------------------===//

#include "ElaboratorImpl.h"
#include "Recipe.h"

#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace resnetc;
using namespace mlir;
using llvm::cast;
using llvm::dyn_cast;

namespace {
/// Limits that keep any input from hanging or exhausting the compiler.
constexpr int64_t kMaxLoopIterations = 1'000'000;
constexpr int64_t kMaxLayers = 100'000;
constexpr size_t kMaxCallDepth = 64;
constexpr int64_t kMaxTensorElements = (int64_t(1) << 31) - 1;
/// A layer's full name, block prefixes included: the summary pads every row
/// to the longest, so one huge name would make its output huge.
constexpr size_t kMaxLayerName = 1024;
constexpr int64_t kMaxListValues = 1'000'000;
constexpr int64_t kMaxListNesting = 100;
constexpr int64_t kMaxStringBytes = 1 << 20;
/// List values and string bytes made in all: bounds the work of loops that
/// keep joining lists or strings.
constexpr int64_t kMaxValueWork = 10'000'000;

/// Words the DSL knows as values of options (`padding = same`).
bool isWord(llvm::StringRef name) {
  return llvm::is_contained({"same", "valid", "none", "fan_in", "fan_out",
                             "fan_avg"},
                            name);
}

/// The closest of `candidates` to `name`, if it is a likely typo.
std::optional<std::string> suggest(llvm::StringRef name,
                                   llvm::ArrayRef<std::string> candidates) {
  std::optional<std::string> best;
  unsigned bestDistance = name.size() <= 3 ? 1 : 2;
  for (const std::string &c : candidates) {
    unsigned d = name.edit_distance(c, /*AllowReplacements=*/true, 3);
    if (d <= bestDistance && c != name) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

std::string shapeText(RankedTensorType type) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleave(type.getShape().drop_front(), os, ", ");
  os << "]";
  return text;
}
} // namespace

//===----------------------------------------------------------------------===//
// DslValue descriptions
//===----------------------------------------------------------------------===//

std::string resnetc::formatNumber(double x, bool asFloat) {
  char text[32];
  for (int precision = 1; precision <= 17; ++precision) {
    snprintf(text, sizeof(text), "%.*g", precision, x);
    if (std::strtod(text, nullptr) == x || !std::isfinite(x))
      break;
  }
  std::string result = text;
  if (asFloat && std::isfinite(x) &&
      result.find_first_of(".e") == std::string::npos)
    result += ".0";
  return result;
}

std::string DslValue::str() const {
  switch (kind) {
  case Kind::None:
    return "none";
  case Kind::Int:
    return std::to_string(intValue);
  case Kind::Float:
    return formatNumber(floatValue, /*asFloat=*/true);
  case Kind::Bool:
    return boolValue ? "true" : "false";
  case Kind::String:
    return "\"" + text + "\"";
  case Kind::List: {
    // Long lists are cut short: a message quotes them.
    const std::vector<DslValue> &items = getList();
    std::string result = "[";
    for (size_t i = 0; i < items.size() && i < 16; ++i)
      result += (i ? ", " : "") + items[i].str();
    return result + (items.size() > 16 ? ", ...]" : "]");
  }
  case Kind::Tensor:
    return shapeText(getTensorType());
  case Kind::Callable:
  case Kind::Word:
    return text;
  case Kind::Init:
    return stringifyInitKind(initValue.kind).str();
  }
  return "?";
}

std::string DslValue::describe() const {
  switch (kind) {
  case Kind::None:
    return "none";
  case Kind::Int:
    return "the integer " + str();
  case Kind::Float:
    return "the number " + str();
  case Kind::Bool:
    return "the bool " + str();
  case Kind::String:
    return "the string " + str();
  case Kind::List:
    return "the list " + str();
  case Kind::Tensor:
    return "a tensor " + str();
  case Kind::Callable:
    return "the layer or block '" + text + "'";
  case Kind::Word:
    return "the word `" + text + "`";
  case Kind::Init:
    return "the initialiser " + str();
  }
  return "a value";
}

//===----------------------------------------------------------------------===//
// Set-up: module, input, classes
//===----------------------------------------------------------------------===//

Elaborator::Elaborator(const ast::File &file, const Diagnostics &diags,
                       const ElaborateOptions &options)
    : diags(diags), ctx(diags.getContext()), builder(&ctx), file(file),
      options(options), variableBuilder(&ctx) {}

OwningOpRef<ModuleOp> Elaborator::run() {
  const ast::ModelDecl &model = *file.model;
  frames.emplace_back();

  FailureOr<Recipe> recipe = elaborateRecipe(file.train.get(), *this);
  if (failed(recipe))
    return nullptr;
  batch = options.batch.value_or(recipe->batch);
  NamedAttrList settings(recipe->attr);
  settings.set("batch", builder.getI64IntegerAttr(batch));
  recipe->attr = settings.getDictionary(&ctx);

  module = ModuleOp::create(loc(model.loc), model.name);
  for (const ast::BlockDecl &block : model.blocks) {
    auto [it, inserted] = blocks.emplace(block.name, &block);
    if (!inserted) {
      InFlightDiagnostic diag = error(block.loc);
      diag << "block '" << block.name << "' is declared twice";
      diag.attachNote(loc(it->second->loc)) << "the first declaration";
      return nullptr;
    }
    if (findBuiltin(block.name)) {
      error(block.loc) << "'" << block.name
                       << "' is a builtin layer or function; give the block "
                          "another name";
      return nullptr;
    }
  }
  if (failed(declareClassesAndInit()) || failed(declareInput()))
    return nullptr;

  Flow flow;
  if (failed(exec(model.body, flow)))
    return nullptr;
  if (!flow.returned) {
    error(model.loc) << "model '" << model.name
                     << "' does not return its output; end it with "
                        "`return ...`, e.g. `return global_avg_pool(x) |> "
                        "dense(classes)`";
    return nullptr;
  }
  if (failed(checkModelOutput(*flow.returned, flow.returnLoc)) ||
      failed(checkRecipeAgainstModel(*recipe, *this,
                                     frames[0].vars.at(model.input->name)
                                         .value.getTensorType(),
                                     classes)))
    return nullptr;

  auto func = cast<func::FuncOp>(&module->getBody()->back());
  DslValue output = *flow.returned;
  builder.create<func::ReturnOp>(loc(flow.returnLoc), output.getTensor());
  func.setType(FunctionType::get(&ctx, func.getArgumentTypes(),
                                 {output.getTensor().getType()}));
  module->getOperation()->setAttr("rn.classes",
                                  builder.getI64IntegerAttr(classes));
  if (!classNames.empty()) {
    SmallVector<StringRef> names(classNames.begin(), classNames.end());
    module->getOperation()->setAttr("rn.class_names",
                                    builder.getStrArrayAttr(names));
  }
  module->getOperation()->setAttr("rn.recipe", recipe->attr);
  if (failed(verify(*module)))
    return nullptr;
  return std::move(module);
}

LogicalResult Elaborator::declareClassesAndInit() {
  const ast::ModelDecl &model = *file.model;
  if (!model.classes) {
    error(model.loc) << "model '" << model.name
                     << "' does not say how many classes it predicts; add "
                        "e.g. `classes 10` to its body";
    return failure();
  }
  FailureOr<DslValue> value = eval(*model.classes);
  if (failed(value))
    return failure();
  // A list of names says how many classes there are, and what they are
  // called (classify --image prints them).
  if (value->is(DslValue::Kind::List)) {
    for (const DslValue &name : value->getList()) {
      bool ok = name.is(DslValue::Kind::String) && !name.getString().empty() &&
                name.getString().find('\n') == std::string::npos;
      if (!ok || llvm::is_contained(classNames, name.getString())) {
        error(model.classes->getLoc())
            << "class names are distinct, non-empty strings on one line; "
               "got "
            << name.describe();
        return failure();
      }
      classNames.push_back(name.getString());
    }
    value = DslValue::integer(int64_t(classNames.size()));
  }
  if (!value->is(DslValue::Kind::Int) || value->getInt() < 1 ||
      value->getInt() > 1'000'000) {
    error(model.classes->getLoc())
        << "classes must be an integer from 1 to 1000000 or a list of class "
           "names, got "
        << value->describe();
    return failure();
  }
  classes = value->getInt();
  frames[0].vars["classes"] = {*value, model.classesLoc};

  if (!model.init)
    return success();
  FailureOr<DslValue> init = eval(*model.init);
  if (failed(init))
    return failure();
  FailureOr<Initializer> parsed = toInitializer(*init, model.init->getLoc());
  if (failed(parsed))
    return failure();
  modelInit = *parsed;
  return success();
}

LogicalResult Elaborator::declareInput() {
  const ast::ModelDecl &model = *file.model;
  if (!model.input) {
    error(model.loc) << "model '" << model.name
                     << "' has no input; add e.g. `input image[3, 32, 32]` "
                        "(channels, height, width)";
    return failure();
  }
  const ast::InputDecl &input = *model.input;
  SmallVector<int64_t> shape{batch};
  const char *dimNames[] = {"channels", "height", "width"};
  for (int i = 0; i < 3; ++i) {
    FailureOr<DslValue> dim = eval(*input.dims[i]);
    if (failed(dim))
      return failure();
    if (!dim->is(DslValue::Kind::Int) || dim->getInt() < 1 ||
        dim->getInt() > 16384) {
      error(input.dims[i]->getLoc())
          << "the input's " << dimNames[i]
          << " must be an integer from 1 to 16384, got " << dim->describe();
      return failure();
    }
    shape.push_back(dim->getInt());
  }
  if (shape[0] * shape[1] * shape[2] * shape[3] > kMaxTensorElements) {
    error(input.loc) << "a batch of " << batch << " inputs of this size has "
                     << shape[0] * shape[1] * shape[2] * shape[3]
                     << " values, more than a tensor may hold (2^31 - 1); "
                        "reduce the batch or the image size";
    return failure();
  }
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  auto func = func::FuncOp::create(loc(model.loc), rn::kForwardFunction,
                                   builder.getFunctionType({type}, {}));
  module->push_back(func);
  Block *entry = func.addEntryBlock();
  entry->getArgument(0).setLoc(layerLoc(input.name, input.loc));
  builder.setInsertionPointToEnd(entry);
  variableBuilder.setInsertionPoint(func);
  layerNames[input.name] = input.loc;
  frames[0].vars[input.name] = {DslValue::tensor(entry->getArgument(0), input.name),
                                input.loc};
  return success();
}

LogicalResult Elaborator::checkModelOutput(const DslValue &output, SourceLoc at) {
  if (!output.is(DslValue::Kind::Tensor)) {
    error(at) << "the model must return a tensor of class scores, not "
              << output.describe();
    return failure();
  }
  RankedTensorType type = output.getTensorType();
  if (type.getRank() != 2) {
    error(at) << "the model returns a tensor " << shapeText(type)
              << ", but its output must be one score per class ([" << classes
              << "]); end it with `global_avg_pool(x) |> dense(classes)` or "
                 "`flatten(x) |> dense(classes)`";
    return failure();
  }
  if (type.getDimSize(1) != classes) {
    error(at) << "the model returns " << type.getDimSize(1)
              << " scores per image, but declares `classes " << classes
              << "`; its last layer should be `dense(classes)`";
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Layers: names, variables, results
//===----------------------------------------------------------------------===//

FailureOr<std::string>
Elaborator::nameLayer(llvm::StringRef kind,
                      const std::optional<std::string> &user, SourceLoc at) {
  if (++layerCount > kMaxLayers) {
    error(at) << "the model has more than " << kMaxLayers
              << " layers; is a loop running longer than intended?";
    return failure();
  }
  std::string name;
  if (user) {
    name = *user;
  } else {
    std::string base = frames.back().prefix + kind.str();
    // Keras style: conv, conv_1, conv_2, ... (skipping names users took).
    do {
      int n = nameCounts[base]++;
      name = n ? base + "_" + std::to_string(n) : base;
    } while (layerNames.count(name));
  }
  if (name.size() > kMaxLayerName) {
    error(at) << "this layer's name has " << name.size()
              << " characters; the limit is " << kMaxLayerName;
    return failure();
  }
  auto [it, inserted] = layerNames.emplace(name, at);
  if (!inserted) {
    InFlightDiagnostic diag = error(at);
    diag << "layer name '" << name << "' is already used; layer names must "
                                      "be unique";
    diag.attachNote(loc(it->second)) << "'" << name << "' is first used here";
    return failure();
  }
  return name;
}

Location Elaborator::layerLoc(llvm::StringRef layer, SourceLoc at) const {
  return NameLoc::get(StringAttr::get(&ctx, layer), loc(at));
}

FailureOr<mlir::Value> Elaborator::variable(llvm::StringRef layer,
                                            llvm::StringRef suffix,
                                            llvm::ArrayRef<int64_t> shape,
                                            const Initializer &init,
                                            bool trainable, SourceLoc at) {
  std::string name = (layer + "." + suffix).str();
  // A set, not SymbolTable::lookupSymbolIn: that scans the module, which
  // made a model of many layers quadratic (minutes for 100,000 layers).
  if (!variableNames.insert(name).second) {
    error(at) << "variable '" << name
              << "' already exists; rename the layer '" << layer << "'";
    return failure();
  }
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  FloatAttr value =
      init.value ? builder.getF64FloatAttr(*init.value) : FloatAttr();
  auto initAttr = rn::InitAttr::get(&ctx, init.kind, value, init.mode, init.seed);
  auto var = variableBuilder.create<rn::VariableOp>(
      layerLoc(layer, at), builder.getStringAttr(name), TypeAttr::get(type),
      initAttr,
      trainable ? builder.getUnitAttr() : UnitAttr(), /*derived=*/UnitAttr());
  return builder
      .create<rn::LoadOp>(layerLoc(layer, at), type,
                          FlatSymbolRefAttr::get(var.getSymNameAttr()))
      .getResult();
}

FailureOr<DslValue> Elaborator::finishLayer(mlir::Value result,
                                         llvm::StringRef layer, SourceLoc at) {
  auto type = cast<RankedTensorType>(result.getType());
  if (type.getNumElements() > kMaxTensorElements) {
    error(at) << "layer '" << layer << "' outputs " << type.getNumElements()
              << " values for a batch, more than a tensor may hold (2^31 - "
                 "1); reduce the batch or the layer's size";
    return failure();
  }
  return DslValue::tensor(result, layer.str());
}

LogicalResult Elaborator::checkNewValue(const DslValue &value, SourceLoc at) {
  if (value.is(DslValue::Kind::List)) {
    if (value.getNesting() > kMaxListNesting) {
      error(at) << "lists nested more than " << kMaxListNesting
                << " levels deep; is a loop running longer than intended?";
      return failure();
    }
    if (value.getCount() > kMaxListValues) {
      error(at) << "this list would hold " << value.getCount()
                << " values; the limit is " << kMaxListValues;
      return failure();
    }
    valueWork += value.getList().size();
  } else if (value.is(DslValue::Kind::String)) {
    valueWork += value.getString().size();
  }
  if (valueWork > kMaxValueWork) {
    error(at) << "the model has built lists and strings of more than "
              << kMaxValueWork
              << " values in all; is a loop running longer than intended?";
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

LogicalResult Elaborator::exec(const ast::Body &body, Flow &flow) {
  for (const ast::StmtPtr &stmt : body) {
    if (failed(exec(*stmt, flow)))
      return failure();
    if (flow.returned)
      return success();
  }
  return success();
}

LogicalResult Elaborator::loopBody(const ast::Body &body, Flow &flow,
                                   SourceLoc at) {
  if (++loopIterations > kMaxLoopIterations) {
    error(at) << "loops have run more than " << kMaxLoopIterations
              << " times in all; is a count larger than intended?";
    return failure();
  }
  return exec(body, flow);
}

LogicalResult Elaborator::exec(const ast::Stmt &stmt, Flow &flow) {
  // Evaluating may call blocks, which push frames: look frames.back() up
  // only after evaluating.
  switch (stmt.getKind()) {
  case ast::Stmt::Kind::Assign: {
    auto &assign = cast<ast::AssignStmt>(stmt);
    if (findBuiltin(assign.getName()) || blocks.count(assign.getName())) {
      error(stmt.getLoc()) << "'" << assign.getName()
                           << "' names a layer, block or function; choose "
                              "another variable name";
      return failure();
    }
    FailureOr<DslValue> value = eval(assign.getValue());
    if (failed(value))
      return failure();
    frames.back().vars[assign.getName()] = {*value, stmt.getLoc()};
    return success();
  }
  case ast::Stmt::Kind::For: {
    auto &loop = cast<ast::ForStmt>(stmt);
    FailureOr<DslValue> iterable = eval(loop.getIterable());
    if (failed(iterable))
      return failure();
    if (!iterable->is(DslValue::Kind::List)) {
      error(loop.getIterable().getLoc())
          << "`for` runs over a list, e.g. `for f in [16, 32, 64]` or `for i "
             "in range(3)`; got "
          << iterable->describe();
      return failure();
    }
    for (const DslValue &element : iterable->getList()) {
      frames.back().vars[loop.getVar()] = {element, stmt.getLoc()};
      if (failed(loopBody(loop.getBody(), flow, stmt.getLoc())))
        return failure();
      if (flow.returned)
        return success();
    }
    return success();
  }
  case ast::Stmt::Kind::Repeat: {
    auto &loop = cast<ast::RepeatStmt>(stmt);
    FailureOr<DslValue> count = eval(loop.getCount());
    if (failed(count))
      return failure();
    if (!count->is(DslValue::Kind::Int) || count->getInt() < 0) {
      error(loop.getCount().getLoc())
          << "`repeat` needs a count of zero or more, got "
          << count->describe();
      return failure();
    }
    for (int64_t i = 0; i < count->getInt(); ++i) {
      if (!loop.getVar().empty())
        frames.back().vars[loop.getVar()] = {DslValue::integer(i), stmt.getLoc()};
      if (failed(loopBody(loop.getBody(), flow, stmt.getLoc())))
        return failure();
      if (flow.returned)
        return success();
    }
    return success();
  }
  case ast::Stmt::Kind::If: {
    auto &branch = cast<ast::IfStmt>(stmt);
    FailureOr<DslValue> cond = eval(branch.getCond());
    if (failed(cond))
      return failure();
    if (!cond->is(DslValue::Kind::Bool)) {
      error(branch.getCond().getLoc())
          << "`if` needs a condition that is true or false, got "
          << cond->describe();
      return failure();
    }
    return exec(cond->getBool() ? branch.getThen() : branch.getElse(), flow);
  }
  case ast::Stmt::Kind::Return: {
    FailureOr<DslValue> value = eval(cast<ast::ReturnStmt>(stmt).getValue());
    if (failed(value))
      return failure();
    flow.returned = *value;
    flow.returnLoc = stmt.getLoc();
    return success();
  }
  }
  return failure();
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

std::vector<std::string> Elaborator::visibleNames() const {
  std::vector<std::string> names;
  for (const Frame *frame : {&frames.front(), &frames.back()})
    for (const auto &entry : frame->vars)
      names.push_back(entry.first);
  for (const auto &entry : blocks)
    names.push_back(entry.first);
  for (const Builtin &b : allBuiltins())
    names.push_back(b.name);
  return names;
}

FailureOr<DslValue> Elaborator::lookup(const std::string &name, SourceLoc at) {
  for (const Frame *frame : {&frames.back(), &frames.front()}) {
    auto it = frame->vars.find(name);
    if (it != frame->vars.end())
      return it->second.value;
  }
  auto block = blocks.find(name);
  if (block != blocks.end())
    return DslValue::callable(name, block->second);
  if (findBuiltin(name))
    return DslValue::callable(name);
  if (isWord(name))
    return name == "none" ? DslValue::none() : DslValue::word(name);
  InFlightDiagnostic diag = error(at);
  diag << "unknown name '" << name << "'";
  if (auto guess = suggest(name, visibleNames()))
    diag << "; did you mean '" << *guess << "'?";
  return failure();
}

FailureOr<DslValue> Elaborator::eval(const ast::Expr &expr) {
  switch (expr.getKind()) {
  case ast::Expr::Kind::Number: {
    auto &number = cast<ast::NumberExpr>(expr);
    return number.isInteger() ? DslValue::integer(number.getInt())
                              : DslValue::real(number.getFloat());
  }
  case ast::Expr::Kind::String:
    return DslValue::string(cast<ast::StringExpr>(expr).getValue());
  case ast::Expr::Kind::Bool:
    return DslValue::boolean(cast<ast::BoolExpr>(expr).getValue());
  case ast::Expr::Kind::Name:
    return lookup(cast<ast::NameExpr>(expr).getName(), expr.getLoc());
  case ast::Expr::Kind::List: {
    std::vector<DslValue> elements;
    for (const ast::ExprPtr &e : cast<ast::ListExpr>(expr).getElements()) {
      FailureOr<DslValue> v = eval(*e);
      if (failed(v))
        return failure();
      elements.push_back(*v);
    }
    DslValue list = DslValue::list(std::move(elements));
    if (failed(checkNewValue(list, expr.getLoc())))
      return failure();
    return list;
  }
  case ast::Expr::Kind::Call: {
    auto &call = cast<ast::CallExpr>(expr);
    ast::NameExpr callee(call.getLoc(), call.getCallee());
    return evalCall(callee, call.getArgs(), std::nullopt, call.getLoc());
  }
  case ast::Expr::Kind::Pipe: {
    auto &pipe = cast<ast::PipeExpr>(expr);
    FailureOr<DslValue> input = eval(pipe.getInput());
    if (failed(input))
      return failure();
    CallArg piped{"", *input, pipe.getInput().getLoc()};
    const ast::Expr &stage = pipe.getStage();
    if (auto *call = dyn_cast<ast::CallExpr>(&stage)) {
      ast::NameExpr callee(call->getLoc(), call->getCallee());
      return evalCall(callee, call->getArgs(), piped, pipe.getLoc());
    }
    return evalCall(stage, {}, piped, pipe.getLoc());
  }
  case ast::Expr::Kind::Unary: {
    auto &unary = cast<ast::UnaryExpr>(expr);
    FailureOr<DslValue> operand = eval(unary.getOperand());
    if (failed(operand))
      return failure();
    if (unary.getOp() == ast::UnaryOp::Not) {
      if (operand->is(DslValue::Kind::Bool))
        return DslValue::boolean(!operand->getBool());
    } else if (operand->is(DslValue::Kind::Int) &&
               operand->getInt() != INT64_MIN) {
      return DslValue::integer(-operand->getInt());
    } else if (operand->is(DslValue::Kind::Float)) {
      return DslValue::real(-operand->getNumber());
    }
    error(expr.getLoc()) << "cannot apply `" << spelling(unary.getOp())
                         << "` to " << operand->describe();
    return failure();
  }
  case ast::Expr::Kind::Binary:
    return evalBinary(cast<ast::BinaryExpr>(expr));
  case ast::Expr::Kind::Ternary: {
    auto &ternary = cast<ast::TernaryExpr>(expr);
    FailureOr<DslValue> cond = eval(ternary.getCond());
    if (failed(cond))
      return failure();
    if (!cond->is(DslValue::Kind::Bool)) {
      error(ternary.getCond().getLoc())
          << "the condition of `? :` must be true or false, got "
          << cond->describe();
      return failure();
    }
    return eval(cond->getBool() ? ternary.getThen() : ternary.getElse());
  }
  case ast::Expr::Kind::Index: {
    auto &index = cast<ast::IndexExpr>(expr);
    FailureOr<DslValue> base = eval(index.getBase());
    if (failed(base))
      return failure();
    FailureOr<DslValue> at = eval(index.getIndex());
    if (failed(at))
      return failure();
    if (!base->is(DslValue::Kind::List) || !at->is(DslValue::Kind::Int)) {
      error(expr.getLoc()) << "indexing needs a list and an integer, got "
                           << base->describe() << " and " << at->describe();
      return failure();
    }
    int64_t size = base->getList().size(), i = at->getInt();
    if (i < -size || i >= size) {
      error(index.getIndex().getLoc())
          << "index " << i << " is outside the list of " << size
          << " elements";
      return failure();
    }
    return base->getList()[i < 0 ? i + size : i];
  }
  }
  return failure();
}

FailureOr<DslValue> Elaborator::addTensors(const DslValue &lhs, const DslValue &rhs,
                                        SourceLoc at) {
  FailureOr<RankedTensorType> type = rn::AddOp::inferResultType(
      loc(at), lhs.getTensor().getType(), rhs.getTensor().getType());
  if (failed(type))
    return failure();
  FailureOr<std::string> name = nameLayer("add", std::nullopt, at);
  if (failed(name))
    return failure();
  auto op = builder.create<rn::AddOp>(layerLoc(*name, at), *type,
                                      lhs.getTensor(), rhs.getTensor());
  return finishLayer(op.getResult(), *name, at);
}

FailureOr<DslValue> Elaborator::evalLogical(const ast::BinaryExpr &expr,
                                            const DslValue &lhs) {
  ast::BinaryOp op = expr.getOp();
  auto needBool = [&](const DslValue &value, const ast::Expr &side) {
    if (value.is(DslValue::Kind::Bool))
      return success();
    error(side.getLoc()) << "`" << spelling(op) << "` needs true or false, got "
                         << value.describe();
    return failure();
  };
  if (failed(needBool(lhs, expr.getLhs())))
    return failure();
  if (lhs.getBool() == (op == ast::BinaryOp::Or))
    return lhs;
  FailureOr<DslValue> rhs = eval(expr.getRhs());
  if (failed(rhs) || failed(needBool(*rhs, expr.getRhs())))
    return failure();
  return *rhs;
}

FailureOr<DslValue> Elaborator::join(const DslValue &a, const DslValue &b,
                                     SourceLoc at) {
  // Checked before joining, so that doubling a value in a loop stops at the
  // limit instead of allocating past it.
  bool isString = a.is(DslValue::Kind::String);
  int64_t size = isString ? int64_t(a.getString().size() + b.getString().size())
                          : a.getCount() + b.getCount();
  int64_t limit = isString ? kMaxStringBytes : kMaxListValues;
  if (size > limit) {
    error(at) << (isString ? "this string would be " : "this list would hold ")
              << size << (isString ? " bytes long" : " values")
              << "; the limit is " << limit;
    return failure();
  }
  DslValue joined;
  if (isString) {
    joined = DslValue::string(a.getString() + b.getString());
  } else {
    std::vector<DslValue> items = a.getList();
    items.insert(items.end(), b.getList().begin(), b.getList().end());
    joined = DslValue::list(std::move(items));
  }
  if (failed(checkNewValue(joined, at)))
    return failure();
  return joined;
}

FailureOr<std::optional<DslValue>>
Elaborator::arithmetic(ast::BinaryOp op, const DslValue &a, const DslValue &b,
                       SourceLoc at) {
  bool integers = a.is(DslValue::Kind::Int) && b.is(DslValue::Kind::Int);
  if (!a.isNumber() || !b.isNumber() || (op == ast::BinaryOp::Mod && !integers))
    return std::optional<DslValue>();
  if ((op == ast::BinaryOp::Div || op == ast::BinaryOp::Mod) &&
      b.getNumber() == 0) {
    error(at) << "division by zero";
    return failure();
  }
  if (op == ast::BinaryOp::Mod) {
    // The sign of the divisor, as Python's %.
    if (b.getInt() == -1)
      return std::optional(DslValue::integer(0));
    int64_t r = a.getInt() % b.getInt();
    return std::optional(DslValue::integer(
        r != 0 && (r < 0) != (b.getInt() < 0) ? r + b.getInt() : r));
  }
  if (op == ast::BinaryOp::Div) {
    // Integer division stays an integer when it is exact: 64 / 4 is 16.
    if (integers && b.getInt() != -1 && a.getInt() % b.getInt() == 0)
      return std::optional(DslValue::integer(a.getInt() / b.getInt()));
    return std::optional(DslValue::real(a.getNumber() / b.getNumber()));
  }
  if (integers) {
    int64_t result;
    bool overflow =
        op == ast::BinaryOp::Add   ? __builtin_add_overflow(a.getInt(), b.getInt(), &result)
        : op == ast::BinaryOp::Sub ? __builtin_sub_overflow(a.getInt(), b.getInt(), &result)
                                   : __builtin_mul_overflow(a.getInt(), b.getInt(), &result);
    if (overflow) {
      error(at) << "integer overflow in " << a.str() << " " << spelling(op)
                << " " << b.str();
      return failure();
    }
    return std::optional(DslValue::integer(result));
  }
  double x = a.getNumber(), y = b.getNumber();
  return std::optional(DslValue::real(op == ast::BinaryOp::Add   ? x + y
                                      : op == ast::BinaryOp::Sub ? x - y
                                                                 : x * y));
}

/// `== != < <= > >=`; null when ordering values that are not numbers.
static std::optional<DslValue> compare(ast::BinaryOp op, const DslValue &a,
                                       const DslValue &b) {
  if (op == ast::BinaryOp::Eq || op == ast::BinaryOp::Ne) {
    bool equal;
    if (a.isNumber() && b.isNumber())
      equal = a.getNumber() == b.getNumber();
    else if (a.getKind() != b.getKind())
      equal = false;
    else
      equal = a.str() == b.str();
    return DslValue::boolean(equal == (op == ast::BinaryOp::Eq));
  }
  if (!a.isNumber() || !b.isNumber())
    return std::nullopt;
  double x = a.getNumber(), y = b.getNumber();
  return DslValue::boolean(op == ast::BinaryOp::Lt   ? x < y
                           : op == ast::BinaryOp::Le ? x <= y
                           : op == ast::BinaryOp::Gt ? x > y
                                                     : x >= y);
}

FailureOr<DslValue> Elaborator::evalBinary(const ast::BinaryExpr &expr) {
  ast::BinaryOp op = expr.getOp();
  FailureOr<DslValue> lhs = eval(expr.getLhs());
  if (failed(lhs))
    return failure();
  if (op == ast::BinaryOp::And || op == ast::BinaryOp::Or)
    return evalLogical(expr, *lhs);
  FailureOr<DslValue> rhs = eval(expr.getRhs());
  if (failed(rhs))
    return failure();
  const DslValue &a = *lhs, &b = *rhs;
  auto mismatch = [&]() -> FailureOr<DslValue> {
    error(expr.getLoc()) << "cannot apply `" << spelling(op) << "` to "
                         << a.describe() << " and " << b.describe();
    return failure();
  };

  if (a.is(DslValue::Kind::Tensor) && b.is(DslValue::Kind::Tensor)) {
    if (op == ast::BinaryOp::Add)
      return addTensors(a, b, expr.getLoc());
    if (op == ast::BinaryOp::Eq || op == ast::BinaryOp::Ne) {
      error(expr.getLoc()) << "tensors cannot be compared; compare "
                              "channels(x), height(x) or width(x) instead";
      return failure();
    }
    return mismatch();
  }
  switch (op) {
  case ast::BinaryOp::Add:
    if (a.getKind() == b.getKind() &&
        (a.is(DslValue::Kind::String) || a.is(DslValue::Kind::List)))
      return join(a, b, expr.getLoc());
    [[fallthrough]];
  case ast::BinaryOp::Sub:
  case ast::BinaryOp::Mul:
  case ast::BinaryOp::Div:
  case ast::BinaryOp::Mod: {
    FailureOr<std::optional<DslValue>> result =
        arithmetic(op, a, b, expr.getLoc());
    if (failed(result))
      return failure();
    if (!*result)
      return mismatch();
    return **result;
  }
  default:
    if (std::optional<DslValue> result = compare(op, a, b))
      return *result;
    return mismatch();
  }
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

FailureOr<DslValue> Elaborator::evalCall(const ast::Expr &calleeExpr,
                                      const std::vector<ast::Argument> &args,
                                      std::optional<CallArg> piped,
                                      SourceLoc at) {
  FailureOr<DslValue> callee = eval(calleeExpr);
  if (failed(callee))
    return failure();
  std::vector<CallArg> evaluated;
  if (piped)
    evaluated.push_back(*piped);
  for (const ast::Argument &arg : args) {
    FailureOr<DslValue> value = eval(*arg.value);
    if (failed(value))
      return failure();
    evaluated.push_back({arg.name, *value, arg.value->getLoc(), arg.loc});
  }
  if (!callee->is(DslValue::Kind::Callable)) {
    error(calleeExpr.getLoc())
        << "'" << cast<ast::NameExpr>(calleeExpr).getName()
        << "' is " << callee->describe() << ", not a layer, block or function";
    return failure();
  }
  return call(*callee, std::move(evaluated), at);
}

FailureOr<DslValue> Elaborator::call(const DslValue &callee,
                                  std::vector<CallArg> args, SourceLoc at) {
  if (const ast::BlockDecl *block = callee.getBlock())
    return callBlock(*block, std::move(args), at);
  const Builtin *builtin = findBuiltin(callee.getName());
  CallContext context(*this, *builtin, at);
  if (failed(context.bind(std::move(args))))
    return failure();
  return builtin->body(context);
}

FailureOr<DslValue> Elaborator::callBlock(const ast::BlockDecl &block,
                                       std::vector<CallArg> args,
                                       SourceLoc at) {
  // A block that is already running would expand forever.
  for (const Frame &frame : frames) {
    if (frame.block != &block)
      continue;
    std::string chain;
    for (const Frame &f : frames)
      if (f.block)
        chain += f.block->name + " -> ";
    InFlightDiagnostic diag = error(at);
    diag << "block '" << block.name << "' calls itself (" << chain
         << block.name << "); blocks cannot be recursive";
    diag.attachNote(loc(block.loc)) << "block '" << block.name
                                    << "' is declared here";
    return failure();
  }
  if (frames.size() > kMaxCallDepth) {
    error(at) << "blocks call each other more than " << kMaxCallDepth
              << " levels deep";
    return failure();
  }

  Frame frame;
  frame.block = &block;
  frame.callLoc = at;
  size_t position = 0;
  for (CallArg &arg : args) {
    if (arg.name.empty()) {
      if (position >= block.params.size()) {
        InFlightDiagnostic diag = error(arg.loc);
        diag << "block '" << block.name << "' takes " << block.params.size()
             << " arguments, but more are given";
        diag.attachNote(loc(block.loc)) << "declared here";
        return failure();
      }
      frame.vars[block.params[position++].name] = {arg.value, arg.loc};
      continue;
    }
    auto param = llvm::find_if(block.params, [&](const ast::Parameter &p) {
      return p.name == arg.name;
    });
    if (param == block.params.end()) {
      InFlightDiagnostic diag = error(arg.nameLoc);
      diag << "block '" << block.name << "' has no parameter '" << arg.name
           << "'";
      std::vector<std::string> names;
      for (const ast::Parameter &p : block.params)
        names.push_back(p.name);
      if (auto guess = suggest(arg.name, names))
        diag << "; did you mean '" << *guess << "'?";
      diag.attachNote(loc(block.loc)) << "declared here";
      return failure();
    }
    if (frame.vars.count(arg.name)) {
      error(arg.nameLoc) << "argument '" << arg.name << "' of block '"
                     << block.name << "' is given twice";
      return failure();
    }
    frame.vars[arg.name] = {arg.value, arg.loc};
  }
  for (const ast::Parameter &param : block.params) {
    if (frame.vars.count(param.name))
      continue;
    if (!param.defaultValue) {
      InFlightDiagnostic diag = error(at);
      diag << "block '" << block.name << "' needs argument '" << param.name
           << "'";
      diag.attachNote(loc(param.loc)) << "parameter declared here";
      return failure();
    }
    // Defaults see the model's top level only, where the block is written:
    // an empty frame hides the caller's variables.
    frames.emplace_back();
    FailureOr<DslValue> value = eval(*param.defaultValue);
    frames.pop_back();
    if (failed(value))
      return failure();
    frame.vars[param.name] = {*value, param.loc};
  }

  // Instances are named like layers: basic, basic_1, ... under the caller.
  std::string base = frames.back().prefix + block.name;
  std::string instance;
  do {
    int n = nameCounts[base]++;
    instance = n ? base + "_" + std::to_string(n) : base;
  } while (layerNames.count(instance));
  frame.prefix = instance + ".";

  frames.push_back(std::move(frame));
  Flow flow;
  LogicalResult ran = exec(block.body, flow);
  frames.pop_back();
  if (failed(ran))
    return failure();
  if (!flow.returned) {
    InFlightDiagnostic diag = error(at);
    diag << "block '" << block.name << "' ends without `return`";
    diag.attachNote(loc(block.loc)) << "declared here";
    return failure();
  }
  return *flow.returned;
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> resnetc::elaborate(const ast::File &file,
                                         const Diagnostics &diags,
                                         const ElaborateOptions &options) {
  diags.getContext().loadDialect<rn::RNDialect, func::FuncDialect>();
  return Elaborator(file, diags, options).run();
}
