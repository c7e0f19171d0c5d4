//===- Recipe.cpp - the train block, checked --------------------------------===//
//
// The train block is a list of settings (`batch 128`, `optimizer sgd(...)`,
// `data cifar10 { augment ... }`). Each setting that names a choice (data set,
// optimizer, schedule, transform, loss) is read like a builtin call, through
// the same CallContext as layers, so its arguments are checked the same way.
// The result is the module attribute `rn.recipe`: every setting, with its
// default when the block leaves it out.
//
//===----------------------------------------------------------------------===//

#include "Recipe.h"

#include <cmath>

using namespace resnetc;
using namespace mlir;

namespace {

using Kind = Builtin::Kind;

ParamSpec req(const char *name) { return {name, std::nullopt}; }
ParamSpec opt(const char *name, DslValue value) { return {name, value}; }
Builtin choice(const char *name, std::vector<ParamSpec> params = {}) {
  return {name, Kind::Function, std::move(params), false, nullptr};
}

/// The data sets train can read, their image shape and classes.
struct DatasetInfo {
  const char *name;
  int64_t channels, height, width, classes;
};
constexpr DatasetInfo kDatasets[] = {{"mnist", 1, 28, 28, 10},
                                     {"fashion_mnist", 1, 28, 28, 10},
                                     {"cifar10", 3, 32, 32, 10},
                                     {"cifar100", 3, 32, 32, 100}};

const std::vector<Builtin> &datasetChoices() {
  static const std::vector<Builtin> table = [] {
    std::vector<Builtin> t;
    for (const DatasetInfo &d : kDatasets)
      t.push_back(choice(d.name));
    // Image folders: any size (resized to the model's input, or by
    // `resize`), any number of classes (the folders').
    t.push_back(choice("folder"));
    return t;
  }();
  return table;
}

const std::vector<Builtin> &transformChoices() {
  static const std::vector<Builtin> table = {
      choice("resize", {req("height"), opt("width", DslValue::none())}),
      choice("random_crop", {req("size"), opt("pad", DslValue::integer(0))}),
      choice("central_crop", {req("size")}),
      choice("flip_horizontal"),
      choice("normalize", {req("mean"), req("std")})};
  return table;
}

const std::vector<Builtin> &optimizerChoices() {
  static const std::vector<Builtin> table = {
      choice("sgd", {opt("lr", DslValue::real(0.1)), opt("momentum", DslValue::real(0)),
                     opt("nesterov", DslValue::boolean(false)),
                     opt("weight_decay", DslValue::real(0))}),
      choice("adam", {opt("lr", DslValue::real(1e-3)), opt("beta1", DslValue::real(0.9)),
                      opt("beta2", DslValue::real(0.999)),
                      opt("epsilon", DslValue::real(1e-8)),
                      opt("keras_epsilon", DslValue::boolean(false)),
                      opt("weight_decay", DslValue::real(0))}),
      choice("adamw", {opt("lr", DslValue::real(1e-3)), opt("beta1", DslValue::real(0.9)),
                       opt("beta2", DslValue::real(0.999)),
                       opt("epsilon", DslValue::real(1e-8)),
                       opt("keras_epsilon", DslValue::boolean(false)),
                       opt("weight_decay", DslValue::real(0.01))})};
  return table;
}

const std::vector<Builtin> &scheduleChoices() {
  static const std::vector<Builtin> table = {
      choice("constant", {opt("warmup", DslValue::integer(0))}),
      choice("step", {req("at"), opt("factor", DslValue::real(0.1)),
                      opt("warmup", DslValue::integer(0))}),
      choice("cosine", {opt("min_lr", DslValue::real(0)),
                        opt("warmup", DslValue::integer(0)),
                        opt("period", DslValue::integer(0)),
                        opt("period_mult", DslValue::integer(1))}),
      choice("one_cycle", {opt("max_lr", DslValue::none()),
                           opt("pct_start", DslValue::real(0.3))})};
  return table;
}

const std::vector<Builtin> &lossChoices() {
  static const std::vector<Builtin> table = {
      choice("cross_entropy", {opt("label_smoothing", DslValue::real(0))})};
  return table;
}

/// What early stopping and reduce-on-plateau may monitor, each with the
/// callback's options (Keras's defaults).
std::vector<Builtin> monitorChoices(std::vector<ParamSpec> params) {
  std::vector<Builtin> table;
  for (const char *metric : {"val_loss", "val_accuracy", "loss", "accuracy"})
    table.push_back(choice(metric, params));
  return table;
}

const std::vector<Builtin> &earlyStoppingChoices() {
  static const std::vector<Builtin> table = monitorChoices(
      {opt("patience", DslValue::integer(0)),
       opt("min_delta", DslValue::real(0)),
       opt("restore_best", DslValue::boolean(false))});
  return table;
}

const std::vector<Builtin> &plateauChoices() {
  static const std::vector<Builtin> table = monitorChoices(
      {opt("factor", DslValue::real(0.1)),
       opt("patience", DslValue::integer(10)),
       opt("min_delta", DslValue::real(1e-4)),
       opt("min_lr", DslValue::real(0)),
       opt("cooldown", DslValue::integer(0))});
  return table;
}

/// Reads the recipe, one setting at a time.
class RecipeBuilder {
public:
  explicit RecipeBuilder(Elaborator &el) : el(el), b(&el.ctx) {}

  FailureOr<Recipe> build(const ast::TrainDecl *train);

private:
  /// A setting's value read as a call of one of `choices` (a bare name is a
  /// call without arguments).
  std::optional<CallContext> readChoice(const ast::Expr &expr,
                                        const std::vector<Builtin> &choices,
                                        llvm::StringRef what);
  /// A setting whose one value is a choice (`optimizer sgd(...)`);
  /// `usage` is the error when it has several values or `{ ... }`.
  std::optional<CallContext>
  readChoiceEntry(const ast::RecipeEntry &entry,
                  const std::vector<Builtin> &choices, llvm::StringRef what,
                  llvm::StringRef usage);
  /// The single value of `entry`, evaluated.
  FailureOr<DslValue> single(const ast::RecipeEntry &entry);
  FailureOr<int64_t> integer(const ast::RecipeEntry &entry, int64_t min,
                             int64_t max);
  LogicalResult positive(const CallContext &c, llvm::StringRef name,
                         double &out);
  LogicalResult readData(const ast::RecipeEntry &entry);
  LogicalResult readTransform(const ast::Expr &expr);
  LogicalResult readDirectory(const ast::RecipeEntry &entry, StringRef key);
  LogicalResult readOptimizer(const ast::RecipeEntry &entry);
  LogicalResult readSchedule(const ast::RecipeEntry &entry);
  LogicalResult readLoss(const ast::RecipeEntry &entry);
  LogicalResult readEarlyStopping(const ast::RecipeEntry &entry);
  LogicalResult readPlateau(const ast::RecipeEntry &entry);
  /// The metric a callback monitors: a validation metric needs a validation
  /// split, checked once the whole block is read.
  void monitor(const CallContext &c, StringRef key);
  LogicalResult noChildren(const ast::RecipeEntry &entry);
  LogicalResult unknownKey(const ast::RecipeEntry &entry,
                           llvm::ArrayRef<llvm::StringRef> keys);

  void set(llvm::StringRef key, Attribute value) { settings[key.str()] = value; }
  void setF64(llvm::StringRef key, double v) { set(key, b.getF64FloatAttr(v)); }
  void setI64(llvm::StringRef key, int64_t v) { set(key, b.getI64IntegerAttr(v)); }
  void setStr(llvm::StringRef key, llvm::StringRef v) { set(key, b.getStringAttr(v)); }

  Elaborator &el;
  Builder b;
  Recipe recipe;
  std::map<std::string, Attribute> settings;
  /// Where a setting needs a validation split (validation metrics,
  /// validation_steps): the first one.
  std::optional<std::pair<SourceLoc, std::string>> needsValidation;
};

std::optional<CallContext>
RecipeBuilder::readChoice(const ast::Expr &expr,
                          const std::vector<Builtin> &choices,
                          llvm::StringRef what) {
  std::string name;
  std::vector<CallArg> args;
  if (auto *nameExpr = llvm::dyn_cast<ast::NameExpr>(&expr)) {
    name = nameExpr->getName();
  } else if (auto *call = llvm::dyn_cast<ast::CallExpr>(&expr)) {
    name = call->getCallee();
    for (const ast::Argument &arg : call->getArgs()) {
      FailureOr<DslValue> value = el.eval(*arg.value);
      if (failed(value))
        return std::nullopt;
      args.push_back({arg.name, *value, arg.value->getLoc(), arg.loc});
    }
  }
  const Builtin *found = nullptr;
  std::string names;
  for (const Builtin &c : choices) {
    names += (names.empty() ? "" : ", ") + std::string(c.name);
    if (name == c.name)
      found = &c;
  }
  if (!found) {
    InFlightDiagnostic diag = el.error(expr.getLoc());
    if (name.empty())
      diag << "expected " << what << " (" << names << ")";
    else
      diag << "unknown " << what << " '" << name << "'";
    diag << "; choose one of: " << names;
    return std::nullopt;
  }
  CallContext context(el, *found, expr.getLoc());
  if (failed(context.bind(std::move(args))))
    return std::nullopt;
  return context;
}

std::optional<CallContext>
RecipeBuilder::readChoiceEntry(const ast::RecipeEntry &entry,
                               const std::vector<Builtin> &choices,
                               llvm::StringRef what, llvm::StringRef usage) {
  if (entry.values.size() != 1 || failed(noChildren(entry))) {
    el.error(entry.loc) << usage;
    return std::nullopt;
  }
  return readChoice(*entry.values[0], choices, what);
}

FailureOr<DslValue> RecipeBuilder::single(const ast::RecipeEntry &entry) {
  if (entry.values.size() != 1 || !entry.children.empty()) {
    el.error(entry.loc) << "`" << entry.key << "` takes one value, as in `"
                        << entry.key << " 10`";
    return failure();
  }
  return el.eval(*entry.values[0]);
}

FailureOr<int64_t> RecipeBuilder::integer(const ast::RecipeEntry &entry,
                                          int64_t min, int64_t max) {
  FailureOr<DslValue> v = single(entry);
  if (failed(v))
    return failure();
  if (!v->is(DslValue::Kind::Int) || v->getInt() < min || v->getInt() > max) {
    el.error(entry.values[0]->getLoc())
        << "`" << entry.key << "` must be an integer from " << min << " to "
        << max << ", got " << v->str();
    return failure();
  }
  return v->getInt();
}

LogicalResult RecipeBuilder::positive(const CallContext &c,
                                      llvm::StringRef name, double &out) {
  FailureOr<double> v = c.number(name, 0, 1e6);
  if (failed(v))
    return failure();
  if (*v == 0) {
    c.error(name) << c.what() << "'s " << name << " must be positive";
    return failure();
  }
  out = *v;
  return success();
}

LogicalResult RecipeBuilder::noChildren(const ast::RecipeEntry &entry) {
  if (entry.children.empty())
    return success();
  el.error(entry.children.front().loc)
      << "`" << entry.key << "` takes no `{ ... }` settings";
  return failure();
}

LogicalResult RecipeBuilder::unknownKey(const ast::RecipeEntry &entry,
                                        llvm::ArrayRef<llvm::StringRef> keys) {
  InFlightDiagnostic diag = el.error(entry.loc);
  diag << "unknown train setting '" << entry.key << "'";
  for (llvm::StringRef key : keys)
    if (llvm::StringRef(entry.key).edit_distance(key, true, 3) <= 2) {
      diag << "; did you mean '" << key << "'?";
      break;
    }
  diag << " (settings here: ";
  llvm::interleave(keys, diag, ", ");
  diag << ")";
  return failure();
}

//===----------------------------------------------------------------------===//
// Settings
//===----------------------------------------------------------------------===//

LogicalResult RecipeBuilder::readData(const ast::RecipeEntry &entry) {
  if (entry.values.size() != 1) {
    el.error(entry.loc) << "`data` names one data set, as in `data cifar10`";
    return failure();
  }
  std::optional<CallContext> dataset =
      readChoice(*entry.values[0], datasetChoices(), "data set");
  if (!dataset)
    return failure();
  recipe.dataset = dataset->builtin.name;
  recipe.dataLoc = entry.values[0]->getLoc();
  setStr("dataset", recipe.dataset);

  std::map<std::string, SourceLoc> seen;
  for (const ast::RecipeEntry &child : entry.children) {
    auto [it, inserted] = seen.emplace(child.key, child.loc);
    if (!inserted) {
      InFlightDiagnostic diag = el.error(child.loc);
      diag << "`" << child.key << "` is set twice";
      diag.attachNote(el.loc(it->second)) << "first set here";
      return failure();
    }
    if (child.key == "augment") {
      if (child.values.empty() || failed(noChildren(child))) {
        el.error(child.loc) << "`augment` lists transforms, as in `augment "
                               "random_crop(32, pad = 4), flip_horizontal`";
        return failure();
      }
      for (const ast::ExprPtr &value : child.values)
        if (failed(readTransform(*value)))
          return failure();
    } else if (child.key == "validation_split") {
      FailureOr<DslValue> v = single(child);
      if (failed(v))
        return failure();
      if (!v->isNumber() || v->getNumber() < 0 || v->getNumber() >= 1) {
        el.error(child.values[0]->getLoc())
            << "validation_split is the fraction of training images held "
               "out, in [0, 1); got "
            << v->str();
        return failure();
      }
      setF64("validation_split", v->getNumber());
    } else if (child.key == "validation_steps") {
      FailureOr<int64_t> v = integer(child, 1, 1'000'000'000);
      if (failed(v))
        return failure();
      setI64("validation_steps", *v);
      if (!needsValidation)
        needsValidation = {child.loc, "`validation_steps`"};
    } else if (child.key == "path") {
      if (failed(readDirectory(child, "data_path")))
        return failure();
    } else {
      return unknownKey(child, {"augment", "validation_split",
                                "validation_steps", "path"});
    }
  }
  return success();
}

/// A directory in quotes, kept as the recipe setting `key` (rn_recipe's
/// field of that name, a default of train's flags).
LogicalResult RecipeBuilder::readDirectory(const ast::RecipeEntry &entry,
                                           StringRef key) {
  FailureOr<DslValue> v = single(entry);
  if (failed(v))
    return failure();
  if (!v->is(DslValue::Kind::String) || v->getString().empty()) {
    el.error(entry.values[0]->getLoc())
        << "`" << entry.key << "` is a directory in quotes, got "
        << v->describe();
    return failure();
  }
  setStr(key, v->getString());
  return success();
}

LogicalResult RecipeBuilder::readTransform(const ast::Expr &expr) {
  std::optional<CallContext> c =
      readChoice(expr, transformChoices(), "transform");
  if (!c)
    return failure();
  Transform t;
  t.kind = c->builtin.name;
  t.loc = expr.getLoc();
  // Crops are square: `size` is their side in pixels.
  if (t.kind == "resize") {
    if (!recipe.transforms.empty()) {
      el.error(expr.getLoc()) << "resize comes first: the images are resized "
                                 "once, when loaded, before the other "
                                 "transforms";
      return failure();
    }
    FailureOr<int64_t> height = c->integer("height", 1, 65536);
    if (failed(height))
      return failure();
    FailureOr<int64_t> width =
        c->given("width") ? c->integer("width", 1, 65536) : height;
    if (failed(width))
      return failure();
    t.size = {*height, *width};
  } else if (t.kind == "random_crop") {
    FailureOr<int64_t> size = c->integer("size", 1, 4096);
    if (failed(size))
      return failure();
    FailureOr<int64_t> pad = c->integer("pad", 0, 1024);
    if (failed(pad))
      return failure();
    t.size = {*size, *size};
    t.pad = *pad;
  } else if (t.kind == "central_crop") {
    // An integer is a size in pixels; a number in (0, 1] a fraction of the
    // image (tf.image.central_crop), resolved against the data set.
    const DslValue &size = c->get("size");
    if (size.is(DslValue::Kind::Float)) {
      FailureOr<double> fraction = c->number("size", 0, 1);
      if (failed(fraction) || *fraction == 0) {
        if (succeeded(fraction))
          c->error("size") << "central_crop's fraction must be above 0";
        return failure();
      }
      t.fraction = *fraction;
    } else {
      FailureOr<int64_t> pixels = c->integer("size", 1, 4096);
      if (failed(pixels))
        return failure();
      t.size = {*pixels, *pixels};
    }
  } else if (t.kind == "normalize") {
    for (const char *name : {"mean", "std"}) {
      const DslValue &v = c->get(name);
      std::vector<DslValue> items =
          v.is(DslValue::Kind::List) ? v.getList() : std::vector<DslValue>{v};
      std::vector<double> &out = std::string(name) == "mean" ? t.mean : t.std;
      for (const DslValue &item : items) {
        bool ok = item.isNumber() && std::isfinite(item.getNumber()) &&
                  (std::string(name) == "mean" || item.getNumber() > 0);
        if (!ok || items.empty()) {
          c->error(name) << "normalize's " << name << " is "
                         << (std::string(name) == "mean" ? "a number"
                                                         : "a positive number")
                         << " or one per channel, got " << v.str();
          return failure();
        }
        out.push_back(item.getNumber());
      }
    }
  }
  recipe.transforms.push_back(std::move(t));
  return success();
}

LogicalResult RecipeBuilder::readOptimizer(const ast::RecipeEntry &entry) {
  std::optional<CallContext> c = readChoiceEntry(
      entry, optimizerChoices(), "optimizer",
      "`optimizer` takes one optimizer, as in "
      "`optimizer sgd(lr = 0.1, momentum = 0.9)`");
  if (!c)
    return failure();
  double lr;
  if (failed(positive(*c, "lr", lr)))
    return failure();
  setStr("optimizer", c->builtin.name);
  setF64("lr", lr);
  FailureOr<double> wd = c->number("weight_decay", 0, 1);
  if (failed(wd))
    return failure();
  setF64("weight_decay", *wd);
  if (c->builtin.name == std::string("sgd")) {
    FailureOr<double> momentum = c->number("momentum", 0, 1, true);
    if (failed(momentum))
      return failure();
    FailureOr<bool> nesterov = c->boolean("nesterov");
    if (failed(nesterov))
      return failure();
    if (*nesterov && *momentum == 0) {
      c->error("nesterov") << "Nesterov momentum needs momentum > 0";
      return failure();
    }
    setF64("momentum", *momentum);
    set("nesterov", b.getBoolAttr(*nesterov));
    return success();
  }
  FailureOr<double> beta1 = c->number("beta1", 0, 1, true);
  if (failed(beta1))
    return failure();
  FailureOr<double> beta2 = c->number("beta2", 0, 1, true);
  double epsilon;
  if (failed(beta2) || failed(positive(*c, "epsilon", epsilon)))
    return failure();
  FailureOr<bool> kerasEpsilon = c->boolean("keras_epsilon");
  if (failed(kerasEpsilon))
    return failure();
  setF64("beta1", *beta1);
  setF64("beta2", *beta2);
  setF64("epsilon", epsilon);
  set("keras_epsilon", b.getBoolAttr(*kerasEpsilon));
  return success();
}

LogicalResult RecipeBuilder::readSchedule(const ast::RecipeEntry &entry) {
  std::optional<CallContext> c = readChoiceEntry(
      entry, scheduleChoices(), "schedule",
      "`schedule` takes one schedule, as in `schedule "
      "step(at = [80, 120], factor = 0.1)`");
  if (!c)
    return failure();
  std::string kind = c->builtin.name;
  setStr("schedule", kind);
  if (kind != "one_cycle") {
    FailureOr<double> warmup = c->number("warmup", 0, 1e6);
    if (failed(warmup))
      return failure();
    setF64("warmup_epochs", *warmup);
  }
  if (kind == "step") {
    const DslValue &at = c->get("at");
    std::vector<DslValue> items =
        at.is(DslValue::Kind::List) ? at.getList() : std::vector<DslValue>{at};
    SmallVector<int64_t> epochs;
    for (const DslValue &item : items) {
      if (!item.is(DslValue::Kind::Int) || item.getInt() < 1 ||
          (!epochs.empty() && item.getInt() <= epochs.back())) {
        c->error("at") << "step's `at` lists the epochs where the rate "
                          "drops, increasing from 1, got "
                       << at.str();
        return failure();
      }
      epochs.push_back(item.getInt());
    }
    FailureOr<double> factor = c->number("factor", 0, 1);
    if (failed(factor))
      return failure();
    set("schedule_at", b.getDenseI64ArrayAttr(epochs));
    setF64("schedule_factor", *factor);
  } else if (kind == "cosine") {
    FailureOr<double> minLr = c->number("min_lr", 0, 1e6);
    FailureOr<int64_t> period = c->integer("period", 0, 1'000'000);
    FailureOr<int64_t> mult = c->integer("period_mult", 1, 1000);
    if (failed(minLr) || failed(period) || failed(mult))
      return failure();
    setF64("min_lr", *minLr);
    setI64("cosine_period", *period);
    setI64("cosine_period_mult", *mult);
  } else if (kind == "one_cycle") {
    if (c->given("max_lr")) {
      double maxLr;
      if (failed(positive(*c, "max_lr", maxLr)))
        return failure();
      setF64("max_lr", maxLr);
    }
    FailureOr<double> pct = c->number("pct_start", 0, 1, true);
    if (failed(pct))
      return failure();
    setF64("pct_start", *pct);
  }
  return success();
}

LogicalResult RecipeBuilder::readLoss(const ast::RecipeEntry &entry) {
  std::optional<CallContext> c = readChoiceEntry(
      entry, lossChoices(), "loss",
      "`loss` takes one loss, as in `loss "
      "cross_entropy(label_smoothing = 0.1)`");
  if (!c)
    return failure();
  FailureOr<double> smoothing = c->number("label_smoothing", 0, 1, true);
  if (failed(smoothing))
    return failure();
  setF64("label_smoothing", *smoothing);
  return success();
}

void RecipeBuilder::monitor(const CallContext &c, StringRef key) {
  std::string metric = c.builtin.name;
  setStr(key, metric);
  if (StringRef(metric).starts_with("val_") && !needsValidation)
    needsValidation = {c.callLoc, "monitoring " + metric};
}

LogicalResult RecipeBuilder::readEarlyStopping(const ast::RecipeEntry &entry) {
  std::optional<CallContext> c = readChoiceEntry(
      entry, earlyStoppingChoices(), "metric",
      "`early_stopping` takes the metric it watches, "
      "as in `early_stopping val_loss(patience = 5)`");
  if (!c)
    return failure();
  FailureOr<int64_t> patience = c->integer("patience", 0, 1'000'000);
  if (failed(patience))
    return failure();
  FailureOr<double> minDelta = c->number("min_delta", 0, 1e6);
  if (failed(minDelta))
    return failure();
  FailureOr<bool> restore = c->boolean("restore_best");
  if (failed(restore))
    return failure();
  monitor(*c, "early_stopping");
  setI64("early_stopping_patience", *patience);
  setF64("early_stopping_min_delta", *minDelta);
  set("restore_best", b.getBoolAttr(*restore));
  return success();
}

LogicalResult RecipeBuilder::readPlateau(const ast::RecipeEntry &entry) {
  std::optional<CallContext> c = readChoiceEntry(
      entry, plateauChoices(), "metric",
      "`reduce_lr_on_plateau` takes the metric it "
      "watches, as in `reduce_lr_on_plateau "
      "val_loss(factor = 0.5, patience = 3)`");
  if (!c)
    return failure();
  FailureOr<double> factor = c->number("factor", 0, 1, true);
  if (succeeded(factor) && *factor == 0) {
    c->error("factor") << "reduce_lr_on_plateau's factor must be above 0";
    return failure();
  }
  if (failed(factor))
    return failure();
  FailureOr<int64_t> patience = c->integer("patience", 0, 1'000'000);
  if (failed(patience))
    return failure();
  FailureOr<double> minDelta = c->number("min_delta", 0, 1e6);
  if (failed(minDelta))
    return failure();
  FailureOr<double> minLr = c->number("min_lr", 0, 1e6);
  if (failed(minLr))
    return failure();
  FailureOr<int64_t> cooldown = c->integer("cooldown", 0, 1'000'000);
  if (failed(cooldown))
    return failure();
  monitor(*c, "reduce_lr_on_plateau");
  setF64("plateau_factor", *factor);
  setI64("plateau_patience", *patience);
  setF64("plateau_min_delta", *minDelta);
  setF64("plateau_min_lr", *minLr);
  setI64("plateau_cooldown", *cooldown);
  return success();
}

FailureOr<Recipe> RecipeBuilder::build(const ast::TrainDecl *train) {
  // Defaults for what the train block leaves out.
  setI64("batch", kDefaultBatch);
  setI64("epochs", 10);
  setI64("steps", 0);
  setStr("optimizer", "adam");
  setF64("lr", 1e-3);
  setF64("beta1", 0.9);
  setF64("beta2", 0.999);
  setF64("epsilon", 1e-8);
  setF64("weight_decay", 0);
  setF64("momentum", 0);
  set("nesterov", b.getBoolAttr(false));
  setStr("schedule", "constant");
  setF64("warmup_epochs", 0);
  setF64("label_smoothing", 0);
  setF64("validation_split", 0);
  setI64("seed", 0);

  std::map<std::string, SourceLoc> seen;
  static const std::vector<ast::RecipeEntry> noEntries;
  for (const ast::RecipeEntry &entry : train ? train->entries : noEntries) {
    auto [it, inserted] = seen.emplace(entry.key, entry.loc);
    if (!inserted) {
      InFlightDiagnostic diag = el.error(entry.loc);
      diag << "`" << entry.key << "` is set twice";
      diag.attachNote(el.loc(it->second)) << "first set here";
      return failure();
    }
    LogicalResult ok = success();
    const std::string &key = entry.key;
    if (key == "data") {
      ok = readData(entry);
    } else if (key == "batch") {
      FailureOr<int64_t> v = integer(entry, 1, 65536);
      if (failed(v))
        return failure();
      recipe.batch = *v;
      setI64("batch", *v);
    } else if (key == "epochs") {
      FailureOr<int64_t> v = integer(entry, 1, 100000);
      if (failed(v))
        return failure();
      setI64("epochs", *v);
    } else if (key == "steps") {
      FailureOr<int64_t> v = integer(entry, 1, 1'000'000'000);
      if (failed(v))
        return failure();
      setI64("steps", *v);
    } else if (key == "seed") {
      FailureOr<int64_t> v = integer(entry, 0, UINT32_MAX);
      if (failed(v))
        return failure();
      setI64("seed", *v);
    } else if (key == "optimizer") {
      ok = readOptimizer(entry);
    } else if (key == "schedule") {
      ok = readSchedule(entry);
    } else if (key == "loss") {
      ok = readLoss(entry);
    } else if (key == "steps_per_epoch") {
      FailureOr<int64_t> v = integer(entry, 1, 1'000'000'000);
      if (failed(v))
        return failure();
      setI64("steps_per_epoch", *v);
    } else if (key == "log") {
      ok = readDirectory(entry, "log_dir");
    } else if (key == "early_stopping") {
      ok = readEarlyStopping(entry);
    } else if (key == "reduce_lr_on_plateau") {
      ok = readPlateau(entry);
    } else {
      ok = unknownKey(entry, {"data", "batch", "epochs", "steps",
                              "steps_per_epoch", "optimizer", "schedule",
                              "loss", "seed", "log", "early_stopping",
                              "reduce_lr_on_plateau"});
    }
    if (failed(ok))
      return failure();
  }
  if (seen.count("epochs") && seen.count("steps")) {
    el.error(seen["steps"]) << "give `epochs` or `steps`, not both";
    return failure();
  }
  if (needsValidation &&
      cast<FloatAttr>(settings["validation_split"]).getValueAsDouble() == 0) {
    el.error(needsValidation->first)
        << needsValidation->second
        << " needs a validation split: add `validation_split 0.1` (or "
           "another fraction) to the `data` block";
    return failure();
  }
  std::vector<NamedAttribute> attrs;
  for (auto &[key, value] : settings)
    attrs.push_back(b.getNamedAttr(key, value));
  recipe.attr = b.getDictionaryAttr(attrs);
  return recipe;
}

} // namespace

FailureOr<Recipe> resnetc::elaborateRecipe(const ast::TrainDecl *train,
                                           Elaborator &el) {
  return RecipeBuilder(el).build(train);
}

LogicalResult resnetc::checkRecipeAgainstModel(Recipe &recipe, Elaborator &el,
                                               RankedTensorType input,
                                               int64_t classes) {
  Builder b(&el.ctx);
  std::vector<Attribute> transforms;
  const DatasetInfo *data = nullptr;
  for (const DatasetInfo &d : kDatasets)
    if (recipe.dataset == d.name)
      data = &d;
  int64_t channels = data ? data->channels : input.getDimSize(1);
  int64_t height = data ? data->height : input.getDimSize(2);
  int64_t width = data ? data->width : input.getDimSize(3);

  for (Transform &t : recipe.transforms) {
    if (t.kind == "central_crop" && t.fraction > 0) {
      // tf.image.central_crop: drop int((size - size * f) / 2) on each side.
      auto crop = [&](int64_t size) {
        return size - 2 * int64_t((size - size * t.fraction) / 2);
      };
      t.size = {crop(height), crop(width)};
    }
    if (t.kind == "resize") {
      height = t.size[0];
      width = t.size[1];
    }
    if (t.kind == "random_crop" || t.kind == "central_crop") {
      int64_t maxH = height + 2 * t.pad, maxW = width + 2 * t.pad;
      if (t.size[0] > maxH || t.size[1] > maxW) {
        el.error(t.loc) << t.kind << " of " << t.size[0] << "x" << t.size[1]
                        << " does not fit the " << maxH << "x" << maxW
                        << " images it gets";
        return failure();
      }
      height = t.size[0];
      width = t.size[1];
    }
    if (t.kind == "normalize") {
      for (std::vector<double> *values : {&t.mean, &t.std}) {
        if (values->size() == 1)
          values->resize(channels, values->front());
        if (int64_t(values->size()) != channels) {
          el.error(t.loc) << "normalize needs one mean and one std per "
                             "channel ("
                          << channels << "), got " << values->size();
          return failure();
        }
      }
    }
    SmallVector<NamedAttribute> fields{
        b.getNamedAttr("kind", b.getStringAttr(t.kind))};
    if (t.kind == "resize" || t.kind == "random_crop" ||
        t.kind == "central_crop")
      fields.push_back(
          b.getNamedAttr("size", b.getDenseI64ArrayAttr(t.size)));
    if (t.kind == "random_crop")
      fields.push_back(b.getNamedAttr("pad", b.getI64IntegerAttr(t.pad)));
    if (t.kind == "normalize") {
      fields.push_back(b.getNamedAttr("mean", b.getDenseF64ArrayAttr(t.mean)));
      fields.push_back(b.getNamedAttr("std", b.getDenseF64ArrayAttr(t.std)));
    }
    transforms.push_back(b.getDictionaryAttr(fields));
  }

  if (data) {
    if (channels != input.getDimSize(1) || height != input.getDimSize(2) ||
        width != input.getDimSize(3)) {
      InFlightDiagnostic diag = el.error(recipe.dataLoc);
      diag << recipe.dataset << " gives " << channels << "x" << height << "x"
           << width << " images (channels x height x width"
           << (recipe.transforms.empty() ? "" : ", after its transforms")
           << "), but the model's input is " << input.getDimSize(1) << "x"
           << input.getDimSize(2) << "x" << input.getDimSize(3);
      if (channels == input.getDimSize(1))
        diag << "; crop the images (`augment random_crop(...)` or "
                "`central_crop(...)`) or change the input";
      return failure();
    }
    if (data->classes != classes) {
      el.error(recipe.dataLoc)
          << recipe.dataset << " has " << data->classes
          << " classes, but the model predicts " << classes;
      return failure();
    }
  }

  std::vector<NamedAttribute> attrs(recipe.attr.begin(), recipe.attr.end());
  attrs.push_back(b.getNamedAttr("augment", b.getArrayAttr(transforms)));
  recipe.attr = b.getDictionaryAttr(attrs);
  return success();
}
