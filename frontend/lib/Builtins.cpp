//===- Builtins.cpp - the builtin table and argument binding -----------------===//
//
// Every layer, function and initialiser of the DSL is a Builtin: a name, its
// parameters with defaults, and a body. CallContext binds a call's arguments
// to those parameters and hands them out typed, reporting a wrong type or an
// out-of-range value at the argument that holds it.
//
//===----------------------------------------------------------------------===//

#include "ElaboratorImpl.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace resnetc;
using namespace mlir;

const std::vector<Builtin> &resnetc::allBuiltins() {
  static const std::vector<Builtin> table = [] {
    std::vector<Builtin> t;
    addLayerBuiltins(t);
    addFunctionBuiltins(t);
    return t;
  }();
  return table;
}

const Builtin *resnetc::findBuiltin(llvm::StringRef name) {
  for (const Builtin &b : allBuiltins())
    if (name == b.name)
      return &b;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Binding
//===----------------------------------------------------------------------===//

LogicalResult CallContext::bind(std::vector<CallArg> args) {
  const std::vector<ParamSpec> &params = builtin.params;
  size_t position = 0;
  for (CallArg &arg : args) {
    if (arg.name.empty()) {
      // A variadic builtin takes its optional parameters (`name`) by name
      // only: add(a, b, c) adds c, it does not name the layer c.
      if (position < params.size() &&
          !(builtin.variadic && params[position].defaultValue)) {
        bound[params[position++].name] = arg;
        continue;
      }
      if (builtin.variadic) {
        rest.push_back(arg);
        continue;
      }
      el.error(arg.loc) << what() << " takes at most " << params.size()
                        << " positional arguments";
      return failure();
    }
    auto param = llvm::find_if(
        params, [&](const ParamSpec &p) { return arg.name == p.name; });
    if (param == params.end()) {
      InFlightDiagnostic diag = el.error(arg.nameLoc);
      diag << what() << " has no option '" << arg.name << "'";
      std::string options;
      std::optional<std::string> guess;
      unsigned best = 3;
      for (const ParamSpec &p : params) {
        options += (options.empty() ? "" : ", ") + std::string(p.name);
        unsigned d = llvm::StringRef(arg.name).edit_distance(p.name, true, 3);
        if (d < best) {
          best = d;
          guess = p.name;
        }
      }
      if (guess)
        diag << "; did you mean '" << *guess << "'?";
      diag << " (" << what() << " takes: " << options << ")";
      return failure();
    }
    if (bound.count(arg.name)) {
      el.error(arg.nameLoc) << "argument '" << arg.name << "' of " << what()
                        << " is given twice (once by position)";
      return failure();
    }
    bound[arg.name] = arg;
  }
  for (const ParamSpec &p : params) {
    if (bound.count(p.name))
      continue;
    if (!p.defaultValue) {
      std::string usage;
      for (const ParamSpec &q : params)
        if (!q.defaultValue)
          usage += (usage.empty() ? "" : ", ") + std::string(q.name);
      el.error(callLoc) << what() << " needs its '" << p.name
                        << "' argument (" << what() << "(" << usage
                        << ", ...))";
      return failure();
    }
    bound[p.name] = {p.name, *p.defaultValue, callLoc};
  }
  return success();
}

bool CallContext::given(llvm::StringRef name) const {
  auto it = bound.find(name.str());
  return it != bound.end() && !it->second.value.is(DslValue::Kind::None);
}

const DslValue &CallContext::get(llvm::StringRef name) const {
  return bound.at(name.str()).value;
}

SourceLoc CallContext::loc(llvm::StringRef name) const {
  return bound.at(name.str()).loc;
}

InFlightDiagnostic CallContext::error(llvm::StringRef name) const {
  return el.error(loc(name));
}

//===----------------------------------------------------------------------===//
// Typed access
//===----------------------------------------------------------------------===//

FailureOr<int64_t> CallContext::integer(llvm::StringRef name, int64_t min,
                                        int64_t max) const {
  const DslValue &v = get(name);
  if (!v.is(DslValue::Kind::Int)) {
    error(name) << what() << "'s " << name << " must be an integer, got "
                << v.describe();
    return failure();
  }
  if (v.getInt() < min || v.getInt() > max) {
    InFlightDiagnostic diag = error(name);
    diag << what() << "'s " << name << " must be ";
    if (max == INT64_MAX)
      diag << "at least " << min;
    else
      diag << "from " << min << " to " << max;
    diag << ", got " << v.getInt();
    return failure();
  }
  return v.getInt();
}

FailureOr<double> CallContext::number(llvm::StringRef name, double min,
                                      double max, bool maxExclusive) const {
  const DslValue &v = get(name);
  if (!v.isNumber()) {
    error(name) << what() << "'s " << name << " must be a number, got "
                << v.describe();
    return failure();
  }
  double x = v.getNumber();
  if (!(x >= min) || x > max || (maxExclusive && x >= max)) {
    InFlightDiagnostic diag = error(name);
    diag << what() << "'s " << name << " must be ";
    if (std::isinf(max))
      diag << "at least " << formatNumber(min);
    else
      diag << "in [" << formatNumber(min) << ", " << formatNumber(max)
           << (maxExclusive ? ")" : "]");
    diag << ", got " << v.str();
    return failure();
  }
  return x;
}

FailureOr<bool> CallContext::boolean(llvm::StringRef name) const {
  const DslValue &v = get(name);
  if (!v.is(DslValue::Kind::Bool)) {
    error(name) << what() << "'s " << name
                << " must be true or false, got " << v.describe();
    return failure();
  }
  return v.getBool();
}

FailureOr<std::string> CallContext::string(llvm::StringRef name) const {
  const DslValue &v = get(name);
  if (!v.is(DslValue::Kind::String)) {
    error(name) << what() << "'s " << name << " must be a string, got "
                << v.describe();
    return failure();
  }
  return v.getString();
}

FailureOr<DslValue> CallContext::tensor(llvm::StringRef name,
                                     llvm::ArrayRef<int64_t> ranks) const {
  const DslValue &v = get(name);
  if (!v.is(DslValue::Kind::Tensor)) {
    error(name) << what() << " needs a tensor as its " << name << ", got "
                << v.describe();
    return failure();
  }
  int64_t rank = v.getTensorType().getRank();
  if (llvm::is_contained(ranks, rank))
    return v;
  if (rank == 2)
    error(name) << what() << " needs an image tensor (channels, height, "
                             "width), but its "
                << name << " is the flat tensor " << v.str()
                << "; use it before flatten, global_avg_pool or dense";
  else
    error(name) << what() << " needs a flat tensor (features), but its "
                << name << " is the image tensor " << v.str()
                << "; put flatten or global_avg_pool before it";
  return failure();
}

FailureOr<std::array<int64_t, 2>> CallContext::pair(llvm::StringRef name,
                                                    int64_t min) const {
  const DslValue &v = get(name);
  std::vector<DslValue> items;
  if (v.is(DslValue::Kind::Int))
    items = {v, v};
  else if (v.is(DslValue::Kind::List) && v.getList().size() == 2)
    items = v.getList();
  std::array<int64_t, 2> result;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is(DslValue::Kind::Int))
      break;
    result[i] = items[i].getInt();
    if (result[i] < min || result[i] > 65536) {
      error(name) << what() << "'s " << name << " must be at least " << min
                  << (min == 0 ? "" : " (and at most 65536)") << ", got "
                  << v.str();
      return failure();
    }
    if (i == 1)
      return result;
  }
  error(name) << what() << "'s " << name
              << " must be an integer or a list of two (height, width), got "
              << v.describe();
  return failure();
}

FailureOr<std::optional<std::string>> CallContext::layerName() const {
  if (!given("name"))
    return std::optional<std::string>();
  FailureOr<std::string> name = string("name");
  if (failed(name))
    return failure();
  bool valid = !name->empty() && llvm::all_of(*name, [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '.' || c == '-';
  });
  if (!valid) {
    error("name") << "layer names use letters, digits, '_', '.' and '-'; got "
                  << get("name").str();
    return failure();
  }
  return std::optional<std::string>(*name);
}
