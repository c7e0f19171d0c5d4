//===- Functions.cpp - the DSL's functions and initialisers ------------------===//
//
// Functions compute values at compile time (`channels(x)`, `range(3)`,
// `max(a, b)`, `str(n)`); initialisers (`he_normal(mode = fan_out)`) say how
// a layer's weights start. Neither builds ops.
//
//===----------------------------------------------------------------------===//

#include "ElaboratorImpl.h"

#include <cmath>

using namespace resnetc;
using namespace mlir;

namespace {

using Kind = Builtin::Kind;

/// channels / height / width of a tensor.
FailureOr<DslValue> dimension(CallContext &c, int64_t dim, const char *what) {
  const DslValue &x = c.get("x");
  if (!x.is(DslValue::Kind::Tensor)) {
    c.error("x") << c.what() << " needs a tensor, got " << x.describe();
    return failure();
  }
  RankedTensorType type = x.getTensorType();
  if (dim >= type.getRank()) {
    c.error("x") << "the flat tensor " << x.str() << " has no " << what
                 << "; only channels(x) applies to it";
    return failure();
  }
  return DslValue::integer(type.getDimSize(dim));
}

FailureOr<DslValue> range(CallContext &c) {
  // range(stop), range(start, stop) or range(start, stop, step), as Python.
  std::vector<int64_t> values;
  std::vector<std::pair<DslValue, SourceLoc>> args{{c.get("a"), c.loc("a")}};
  if (c.given("b"))
    args.push_back({c.get("b"), c.loc("b")});
  if (c.given("step"))
    args.push_back({c.get("step"), c.loc("step")});
  for (auto &[value, at] : args) {
    if (!value.is(DslValue::Kind::Int)) {
      c.el.error(at) << "range takes integers, got " << value.describe();
      return failure();
    }
    values.push_back(value.getInt());
  }
  int64_t start = values.size() > 1 ? values[0] : 0;
  int64_t stop = values.size() > 1 ? values[1] : values[0];
  int64_t step = values.size() > 2 ? values[2] : 1;
  if (step == 0) {
    c.error("step") << "range's step cannot be zero";
    return failure();
  }
  double count = std::ceil((double(stop) - double(start)) / double(step));
  if (count > 1'000'000) {
    c.el.error(c.callLoc) << "range would hold " << formatNumber(count)
                          << " numbers; the limit is 1000000";
    return failure();
  }
  std::vector<DslValue> result;
  for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
    result.push_back(DslValue::integer(i));
    // A next value beyond 64 bits is beyond `stop` too (and `i += step`
    // would wrap around and run on for ever).
    if (__builtin_add_overflow(i, step, &i))
      break;
  }
  DslValue list = DslValue::list(std::move(result));
  if (failed(c.el.checkNewValue(list, c.callLoc)))
    return failure();
  return list;
}

/// min / max over numbers given as arguments or as one list.
FailureOr<DslValue> extreme(CallContext &c, bool wantMax) {
  std::vector<std::pair<DslValue, SourceLoc>> items;
  if (c.rest.empty() && !c.given("y") && c.get("x").is(DslValue::Kind::List)) {
    for (const DslValue &v : c.get("x").getList())
      items.push_back({v, c.loc("x")});
  } else {
    items.push_back({c.get("x"), c.loc("x")});
    if (c.given("y"))
      items.push_back({c.get("y"), c.loc("y")});
    for (const CallArg &arg : c.rest)
      items.push_back({arg.value, arg.loc});
  }
  if (items.empty()) {
    c.error("x") << c.what() << " of an empty list";
    return failure();
  }
  std::optional<DslValue> best;
  for (auto &[value, at] : items) {
    if (!value.isNumber()) {
      c.el.error(at) << c.what() << " compares numbers, got "
                     << value.describe();
      return failure();
    }
    if (!best || (wantMax ? value.getNumber() > best->getNumber()
                          : value.getNumber() < best->getNumber()))
      best = value;
  }
  return *best;
}

FailureOr<DslValue> toInt(CallContext &c) {
  const DslValue &x = c.get("x");
  if (x.is(DslValue::Kind::Int))
    return x;
  if (x.is(DslValue::Kind::Float) && std::isfinite(x.getNumber()) &&
      std::fabs(x.getNumber()) < 9e18)
    return DslValue::integer(int64_t(std::trunc(x.getNumber())));
  c.error("x") << "int converts a number, got " << x.describe();
  return failure();
}

FailureOr<DslValue> toFloat(CallContext &c) {
  const DslValue &x = c.get("x");
  if (x.isNumber())
    return DslValue::real(x.getNumber());
  c.error("x") << "float converts a number, got " << x.describe();
  return failure();
}

FailureOr<DslValue> toStr(CallContext &c) {
  const DslValue &x = c.get("x");
  if (x.is(DslValue::Kind::String))
    return x;
  if (x.isNumber() || x.is(DslValue::Kind::Bool) || x.is(DslValue::Kind::Word))
    return DslValue::string(x.str());
  c.error("x") << "str converts a number, bool or word, got " << x.describe();
  return failure();
}

FailureOr<DslValue> len(CallContext &c) {
  const DslValue &x = c.get("x");
  if (x.is(DslValue::Kind::List))
    return DslValue::integer(x.getList().size());
  if (x.is(DslValue::Kind::String))
    return DslValue::integer(x.getString().size());
  c.error("x") << "len takes a list or a string, got " << x.describe();
  return failure();
}

//===----------------------------------------------------------------------===//
// Initialisers
//===----------------------------------------------------------------------===//

/// An initialiser call: kind, `mode` and `seed` for the scaled ones, `value`
/// (or its alias) for the others.
FailureOr<DslValue> initializer(CallContext &c, rn::InitKind kind,
                             const char *valueName) {
  Initializer init;
  init.kind = kind;
  // Glorot scales by the mean of fan-in and fan-out (Keras's
  // VarianceScaling(1, "fan_avg")); He and LeCun by the fan-in.
  if (kind == rn::InitKind::glorot_normal ||
      kind == rn::InitKind::glorot_uniform)
    init.mode = rn::FanMode::fan_avg;
  if (valueName) {
    FailureOr<double> value =
        c.number(valueName, kind == rn::InitKind::constant ? -1e30 : 0, 1e30);
    if (failed(value))
      return failure();
    init.value = *value;
  }
  if (c.given("mode")) {
    const DslValue &mode = c.get("mode");
    std::optional<rn::FanMode> parsed =
        mode.is(DslValue::Kind::Word) ? rn::symbolizeFanMode(mode.getName())
                                   : std::nullopt;
    if (!parsed) {
      c.error("mode") << c.what()
                      << "'s mode must be fan_in, fan_out or fan_avg, got "
                      << mode.describe();
      return failure();
    }
    init.mode = *parsed;
  }
  if (c.given("seed")) {
    FailureOr<int64_t> seed = c.integer("seed", 0, INT64_MAX);
    if (failed(seed))
      return failure();
    init.seed = *seed;
  }
  return DslValue::init(init);
}

} // namespace

FailureOr<Initializer> Elaborator::toInitializer(const DslValue &value,
                                                 SourceLoc at) {
  if (value.is(DslValue::Kind::Init))
    return value.getInit();
  if (value.is(DslValue::Kind::Callable) && !value.getBlock()) {
    const Builtin *b = findBuiltin(value.getName());
    if (b && b->kind == Builtin::Kind::Initializer) {
      FailureOr<DslValue> called = call(value, {}, at);
      if (failed(called))
        return failure();
      return called->getInit();
    }
  }
  error(at) << "expected an initialiser such as he_normal, glorot_uniform or "
               "he_normal(mode = fan_out, seed = 1); got "
            << value.describe();
  return failure();
}

void resnetc::addFunctionBuiltins(std::vector<Builtin> &t) {
  auto required = [](const char *n) { return ParamSpec{n, std::nullopt}; };
  auto none = [](const char *n) { return ParamSpec{n, DslValue::none()}; };
  t.push_back({"channels", Kind::Function, {required("x")}, false,
               [](CallContext &c) { return dimension(c, 1, "channels"); }});
  t.push_back({"height", Kind::Function, {required("x")}, false,
               [](CallContext &c) { return dimension(c, 2, "height"); }});
  t.push_back({"width", Kind::Function, {required("x")}, false,
               [](CallContext &c) { return dimension(c, 3, "width"); }});
  t.push_back({"range", Kind::Function, {required("a"), none("b"), none("step")},
               false, range});
  t.push_back({"min", Kind::Function, {required("x"), none("y")}, true,
               [](CallContext &c) { return extreme(c, false); }});
  t.push_back({"max", Kind::Function, {required("x"), none("y")}, true,
               [](CallContext &c) { return extreme(c, true); }});
  t.push_back({"len", Kind::Function, {required("x")}, false, len});
  t.push_back({"int", Kind::Function, {required("x")}, false, toInt});
  t.push_back({"float", Kind::Function, {required("x")}, false, toFloat});
  t.push_back({"str", Kind::Function, {required("x")}, false, toStr});

  auto scaled = [&](const char *name, rn::InitKind kind) {
    t.push_back({name, Kind::Initializer, {none("mode"), none("seed")}, false,
                 [kind](CallContext &c) { return initializer(c, kind, nullptr); }});
  };
  scaled("he_normal", rn::InitKind::he_normal);
  scaled("he_uniform", rn::InitKind::he_uniform);
  scaled("glorot_normal", rn::InitKind::glorot_normal);
  scaled("glorot_uniform", rn::InitKind::glorot_uniform);
  scaled("lecun_normal", rn::InitKind::lecun_normal);
  t.push_back({"zeros", Kind::Initializer, {}, false, [](CallContext &c) {
                 return initializer(c, rn::InitKind::zeros, nullptr);
               }});
  t.push_back({"ones", Kind::Initializer, {}, false, [](CallContext &c) {
                 return initializer(c, rn::InitKind::ones, nullptr);
               }});
  t.push_back({"constant", Kind::Initializer, {required("value")}, false,
               [](CallContext &c) {
                 return initializer(c, rn::InitKind::constant, "value");
               }});
  t.push_back({"normal", Kind::Initializer,
               {ParamSpec{"stddev", DslValue::real(0.05)}, none("seed")}, false,
               [](CallContext &c) {
                 return initializer(c, rn::InitKind::normal, "stddev");
               }});
  t.push_back({"uniform", Kind::Initializer,
               {ParamSpec{"limit", DslValue::real(0.05)}, none("seed")}, false,
               [](CallContext &c) {
                 return initializer(c, rn::InitKind::uniform, "limit");
               }});
}
