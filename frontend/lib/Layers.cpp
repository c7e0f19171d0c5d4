//===- Layers.cpp - the DSL's layers, each building rn ops -------------------===//
//
// One entry per layer: its parameters (names and defaults, which docs/dsl.md
// lists) and a body that checks the arguments, asks the op's shape rule for
// the result (which reports shape errors at the call), declares the layer's
// variables and builds the op.
//
//===----------------------------------------------------------------------===//

#include "ElaboratorImpl.h"

#include "resnetc/Dialect/RN/IR/RNOps.h"

using namespace resnetc;
using namespace mlir;

namespace {

using Kind = Builtin::Kind;

ParamSpec required(const char *name) { return {name, std::nullopt}; }
ParamSpec optional(const char *name, DslValue value) { return {name, value}; }
ParamSpec optionalNone(const char *name) { return {name, DslValue::none()}; }

/// [top, left, bottom, right] from `padding = same | valid | p | [h, w] |
/// [top, left, bottom, right]`. `same` pads like TensorFlow: the output has
/// ceil(size / stride) pixels and any odd pixel of padding goes after.
FailureOr<std::array<int64_t, 4>>
resolvePadding(CallContext &c, llvm::StringRef name, RankedTensorType input,
               std::array<int64_t, 2> window, std::array<int64_t, 2> stride,
               bool allowSame) {
  const DslValue &v = c.get(name);
  if (v.is(DslValue::Kind::Word) && (v.getName() == "valid" ||
                                  (allowSame && v.getName() == "same"))) {
    std::array<int64_t, 4> pads{0, 0, 0, 0};
    if (v.getName() == "valid")
      return pads;
    for (int axis = 0; axis < 2; ++axis) {
      int64_t size = input.getDimSize(2 + axis);
      int64_t out = (size + stride[axis] - 1) / stride[axis];
      int64_t total =
          std::max<int64_t>((out - 1) * stride[axis] + window[axis] - size, 0);
      pads[axis] = total / 2;
      pads[axis + 2] = total - total / 2;
    }
    return pads;
  }
  std::vector<int64_t> values;
  if (v.is(DslValue::Kind::Int))
    values = {v.getInt()};
  else if (v.is(DslValue::Kind::List))
    for (const DslValue &item : v.getList())
      values.push_back(item.is(DslValue::Kind::Int) ? item.getInt() : -1);
  bool shapeOk = (values.size() == 1 || values.size() == 2 ||
                  values.size() == 4) &&
                 (!v.is(DslValue::Kind::List) ||
                  llvm::all_of(v.getList(), [](const DslValue &item) {
                    return item.is(DslValue::Kind::Int);
                  }));
  if (!shapeOk) {
    c.error(name) << c.what() << "'s " << name << " must be "
                  << (allowSame ? "`same`, `valid`, " : "")
                  << "an integer, [height, width] or [top, left, bottom, "
                     "right]; got "
                  << v.describe();
    return failure();
  }
  for (int64_t p : values) {
    if (p < 0 || p > 65536) {
      c.error(name) << c.what() << "'s " << name
                    << " cannot be negative (or above 65536), got " << v.str();
      return failure();
    }
  }
  if (values.size() == 1)
    return std::array<int64_t, 4>{values[0], values[0], values[0], values[0]};
  if (values.size() == 2)
    return std::array<int64_t, 4>{values[0], values[1], values[0], values[1]};
  return std::array<int64_t, 4>{values[0], values[1], values[2], values[3]};
}

/// The layer's name and location, shared by every body.
struct Named {
  std::string name;
  Location loc;
};

FailureOr<Named> nameFor(CallContext &c, llvm::StringRef kind) {
  FailureOr<std::optional<std::string>> user = c.layerName();
  if (failed(user))
    return failure();
  FailureOr<std::string> name = c.el.nameLayer(kind, *user, c.callLoc);
  if (failed(name))
    return failure();
  return Named{*name, c.el.layerLoc(*name, c.callLoc)};
}

/// An activation layer: one tensor in, the same type out, and the op's
/// floating-point attributes as the layer's optional arguments (each within
/// +-1e6). The elementwise ones are defined in RNActivations.td.
struct Activation {
  struct Param {
    const char *name;
    double byDefault;
  };
  const char *name;
  llvm::StringLiteral op;
  std::vector<Param> params = {};
  std::vector<int64_t> ranks = {4, 2};
};

const Activation kActivations[] = {
    {"relu", rn::ReluOp::getOperationName()},
    {"leaky_relu", rn::LeakyReluOp::getOperationName(), {{"alpha", 0.01}}},
    {"sigmoid", rn::SigmoidOp::getOperationName()},
    {"tanh", rn::TanhOp::getOperationName()},
    {"gelu", rn::GeluOp::getOperationName()},
    {"elu", rn::EluOp::getOperationName(), {{"alpha", 1.0}}},
    {"softmax", rn::SoftmaxOp::getOperationName(), {}, {2}},
};

/// Applies `activation = relu` (any activation layer) to a layer's result.
FailureOr<DslValue> applyActivation(CallContext &c, FailureOr<DslValue> result) {
  if (failed(result) || !c.given("activation"))
    return result;
  const DslValue &act = c.get("activation");
  auto named = [&](const Activation &a) { return act.getName() == a.name; };
  if (!act.is(DslValue::Kind::Callable) || act.getBlock() ||
      llvm::none_of(kActivations, named)) {
    std::string names;
    for (const Activation &a : kActivations)
      names += (names.empty() ? "" : ", ") + std::string(a.name);
    c.error("activation") << "activation must be one of " << names
                          << " or none; got " << act.describe();
    return failure();
  }
  return c.el.call(act, {{"", *result, c.callLoc}}, c.loc("activation"));
}

FailureOr<Initializer> weightInit(CallContext &c) {
  if (!c.given("init"))
    return c.el.defaultInit();
  return c.el.toInitializer(c.get("init"), c.loc("init"));
}

Initializer constantInit(rn::InitKind kind) {
  Initializer init;
  init.kind = kind;
  return init;
}

//===----------------------------------------------------------------------===//
// Convolution and dense
//===----------------------------------------------------------------------===//

FailureOr<DslValue> buildConv(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x");
  if (failed(x))
    return failure();
  FailureOr<int64_t> filters = c.integer("filters", 1, 65536);
  if (failed(filters))
    return failure();
  FailureOr<std::array<int64_t, 2>> kernel = c.pair("kernel", 1);
  if (failed(kernel))
    return failure();
  FailureOr<std::array<int64_t, 2>> stride = c.pair("stride", 1);
  if (failed(stride))
    return failure();
  FailureOr<std::array<int64_t, 2>> dilation = c.pair("dilation", 1);
  if (failed(dilation))
    return failure();
  FailureOr<int64_t> groups = c.integer("groups", 1, 65536);
  if (failed(groups))
    return failure();
  FailureOr<bool> bias = c.boolean("bias");
  if (failed(bias))
    return failure();
  RankedTensorType input = x->getTensorType();
  std::array<int64_t, 2> window{(*kernel)[0] + ((*kernel)[0] - 1) * ((*dilation)[0] - 1),
                                (*kernel)[1] + ((*kernel)[1] - 1) * ((*dilation)[1] - 1)};
  FailureOr<std::array<int64_t, 4>> padding =
      resolvePadding(c, "padding", input, window, *stride, /*allowSame=*/true);
  if (failed(padding))
    return failure();
  FailureOr<Initializer> init = weightInit(c);
  if (failed(init))
    return failure();

  auto f32 = c.el.builder.getF32Type();
  int64_t channels = input.getDimSize(1);
  SmallVector<int64_t> filterShape{*filters, std::max<int64_t>(channels / *groups, 1),
                                   (*kernel)[0], (*kernel)[1]};
  auto filterType = RankedTensorType::get(filterShape, f32);
  Type biasType = *bias ? RankedTensorType::get({*filters}, f32) : Type();
  FailureOr<RankedTensorType> type = rn::Conv2DOp::inferResultType(
      c.el.loc(c.callLoc), input, filterType, biasType, *stride, *padding,
      *dilation, *groups);
  if (failed(type))
    return failure();
  FailureOr<Named> named = nameFor(c, "conv");
  if (failed(named))
    return failure();
  FailureOr<mlir::Value> w = c.el.variable(named->name, "weight", filterShape,
                                           *init, true, c.callLoc);
  FailureOr<mlir::Value> b =
      *bias ? c.el.variable(named->name, "bias", {*filters},
                            constantInit(rn::InitKind::zeros), true, c.callLoc)
            : FailureOr<mlir::Value>(mlir::Value());
  if (failed(w) || failed(b))
    return failure();
  OpBuilder &builder = c.el.builder;
  auto op = builder.create<rn::Conv2DOp>(
      named->loc, *type, x->getTensor(), *w, *b,
      builder.getDenseI64ArrayAttr(*stride),
      builder.getDenseI64ArrayAttr(*padding),
      builder.getDenseI64ArrayAttr(*dilation),
      builder.getI64IntegerAttr(*groups));
  return applyActivation(
      c, c.el.finishLayer(op.getResult(), named->name, c.callLoc));
}

FailureOr<DslValue> buildDense(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x", {2});
  if (failed(x))
    return failure();
  FailureOr<int64_t> units = c.integer("units", 1, 1 << 24);
  if (failed(units))
    return failure();
  FailureOr<bool> bias = c.boolean("bias");
  if (failed(bias))
    return failure();
  FailureOr<Initializer> init = weightInit(c);
  if (failed(init))
    return failure();
  auto f32 = c.el.builder.getF32Type();
  RankedTensorType input = x->getTensorType();
  SmallVector<int64_t> weightShape{*units, input.getDimSize(1)};
  Type biasType = *bias ? RankedTensorType::get({*units}, f32) : Type();
  FailureOr<RankedTensorType> type = rn::DenseOp::inferResultType(
      c.el.loc(c.callLoc), input, RankedTensorType::get(weightShape, f32),
      biasType);
  if (failed(type))
    return failure();
  FailureOr<Named> named = nameFor(c, "dense");
  if (failed(named))
    return failure();
  FailureOr<mlir::Value> w = c.el.variable(named->name, "weight", weightShape,
                                           *init, true, c.callLoc);
  FailureOr<mlir::Value> b =
      *bias ? c.el.variable(named->name, "bias", {*units},
                            constantInit(rn::InitKind::zeros), true, c.callLoc)
            : FailureOr<mlir::Value>(mlir::Value());
  if (failed(w) || failed(b))
    return failure();
  auto op = c.el.builder.create<rn::DenseOp>(named->loc, *type,
                                             x->getTensor(), *w, *b);
  return applyActivation(
      c, c.el.finishLayer(op.getResult(), named->name, c.callLoc));
}

//===----------------------------------------------------------------------===//
// Normalisation and activations
//===----------------------------------------------------------------------===//

FailureOr<DslValue> buildBatchNorm(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x", {4, 2});
  if (failed(x))
    return failure();
  FailureOr<double> momentum = c.number("momentum", 0, 1);
  if (failed(momentum))
    return failure();
  FailureOr<double> epsilon = c.number("epsilon", 1e-12, 1);
  if (failed(epsilon))
    return failure();
  int64_t channels = x->getTensorType().getDimSize(1);
  auto paramType = RankedTensorType::get({channels}, c.el.builder.getF32Type());
  SmallVector<Type> params(4, paramType);
  FailureOr<RankedTensorType> type = rn::BatchNormOp::inferResultType(
      c.el.loc(c.callLoc), x->getTensorType(), params, *epsilon, *momentum);
  if (failed(type))
    return failure();
  FailureOr<Named> named = nameFor(c, "bn");
  if (failed(named))
    return failure();
  auto var = [&](const char *suffix, rn::InitKind init, bool trainable) {
    return c.el.variable(named->name, suffix, {channels}, constantInit(init),
                         trainable, c.callLoc);
  };
  FailureOr<mlir::Value> gamma = var("gamma", rn::InitKind::ones, true);
  FailureOr<mlir::Value> beta = var("beta", rn::InitKind::zeros, true);
  FailureOr<mlir::Value> mean = var("running_mean", rn::InitKind::zeros, false);
  FailureOr<mlir::Value> variance = var("running_var", rn::InitKind::ones, false);
  if (failed(gamma) || failed(beta) || failed(mean) || failed(variance))
    return failure();
  OpBuilder &builder = c.el.builder;
  auto op = builder.create<rn::BatchNormOp>(
      named->loc, *type, x->getTensor(), *gamma, *beta, *mean, *variance,
      builder.getF64FloatAttr(*epsilon), builder.getF64FloatAttr(*momentum));
  return c.el.finishLayer(op.getResult(), named->name, c.callLoc);
}

FailureOr<DslValue> buildActivation(CallContext &c, const Activation &act) {
  FailureOr<DslValue> x = c.tensor("x", act.ranks);
  if (failed(x))
    return failure();
  OpBuilder &builder = c.el.builder;
  SmallVector<NamedAttribute> attrs;
  for (const Activation::Param &param : act.params) {
    FailureOr<double> value = c.number(param.name, -1e6, 1e6);
    if (failed(value))
      return failure();
    attrs.push_back(
        builder.getNamedAttr(param.name, builder.getF64FloatAttr(*value)));
  }
  FailureOr<Named> named = nameFor(c, act.name);
  if (failed(named))
    return failure();
  OperationState state(named->loc, act.op);
  state.addOperands(x->getTensor());
  state.addTypes(x->getTensorType());
  state.addAttributes(attrs);
  return c.el.finishLayer(builder.create(state)->getResult(0), named->name,
                          c.callLoc);
}

//===----------------------------------------------------------------------===//
// Merging branches
//===----------------------------------------------------------------------===//

/// The tensors of a variadic call: its first two parameters, then the rest.
FailureOr<std::vector<DslValue>> variadicTensors(CallContext &c) {
  std::vector<std::pair<DslValue, SourceLoc>> items{{c.get("x"), c.loc("x")},
                                                 {c.get("y"), c.loc("y")}};
  for (const CallArg &arg : c.rest)
    items.push_back({arg.value, arg.loc});
  std::vector<DslValue> tensors;
  for (auto &[value, at] : items) {
    if (!value.is(DslValue::Kind::Tensor)) {
      c.el.error(at) << c.what() << " joins tensors, got " << value.describe();
      return failure();
    }
    tensors.push_back(value);
  }
  return tensors;
}

FailureOr<DslValue> buildAdd(CallContext &c) {
  FailureOr<std::vector<DslValue>> inputs = variadicTensors(c);
  if (failed(inputs))
    return failure();
  FailureOr<std::optional<std::string>> user = c.layerName();
  if (failed(user))
    return failure();
  // add(a, b, c) is ((a + b) + c); only the last add takes the user's name.
  DslValue sum = inputs->front();
  for (size_t i = 1; i < inputs->size(); ++i) {
    const DslValue &next = (*inputs)[i];
    FailureOr<RankedTensorType> type = rn::AddOp::inferResultType(
        c.el.loc(c.callLoc), sum.getTensorType(), next.getTensorType());
    bool last = i + 1 == inputs->size();
    if (failed(type))
      return failure();
    FailureOr<std::string> name = c.el.nameLayer("add", last ? *user : std::nullopt, c.callLoc);
    if (failed(name))
      return failure();
    auto op = c.el.builder.create<rn::AddOp>(c.el.layerLoc(*name, c.callLoc),
                                             *type, sum.getTensor(),
                                             next.getTensor());
    FailureOr<DslValue> result = c.el.finishLayer(op.getResult(), *name, c.callLoc);
    if (failed(result))
      return failure();
    sum = *result;
  }
  return sum;
}

FailureOr<DslValue> buildConcat(CallContext &c) {
  FailureOr<std::vector<DslValue>> inputs = variadicTensors(c);
  if (failed(inputs))
    return failure();
  SmallVector<Type> types;
  SmallVector<mlir::Value> values;
  for (const DslValue &v : *inputs) {
    types.push_back(v.getTensorType());
    values.push_back(v.getTensor());
  }
  FailureOr<RankedTensorType> type =
      rn::ConcatOp::inferResultType(c.el.loc(c.callLoc), types);
  if (failed(type))
    return failure();
  FailureOr<Named> named = nameFor(c, "concat");
  if (failed(named))
    return failure();
  auto op = c.el.builder.create<rn::ConcatOp>(named->loc, *type, values);
  return c.el.finishLayer(op.getResult(), named->name, c.callLoc);
}

//===----------------------------------------------------------------------===//
// Pooling and resampling
//===----------------------------------------------------------------------===//

template <typename OpT>
FailureOr<DslValue> buildPool(CallContext &c, const char *kind) {
  FailureOr<DslValue> x = c.tensor("x");
  if (failed(x))
    return failure();
  FailureOr<std::array<int64_t, 2>> size = c.pair("size", 1);
  if (failed(size))
    return failure();
  FailureOr<std::array<int64_t, 2>> stride = *size;
  if (c.given("stride"))
    stride = c.pair("stride", 1);
  if (failed(stride))
    return failure();
  FailureOr<std::array<int64_t, 4>> padding = resolvePadding(c, "padding", x->getTensorType(), *size, *stride, /*allowSame=*/true);
  if (failed(padding))
    return failure();
  FailureOr<RankedTensorType> type = OpT::inferResultType(
      c.el.loc(c.callLoc), x->getTensorType(), *size, *stride, *padding);
  if (failed(type))
    return failure();
  FailureOr<Named> named = nameFor(c, kind);
  if (failed(named))
    return failure();
  OpBuilder &builder = c.el.builder;
  SmallVector<NamedAttribute> attrs{
      builder.getNamedAttr("kernel", builder.getDenseI64ArrayAttr(*size)),
      builder.getNamedAttr("strides", builder.getDenseI64ArrayAttr(*stride)),
      builder.getNamedAttr("padding", builder.getDenseI64ArrayAttr(*padding))};
  if (std::is_same_v<OpT, rn::AvgPool2DOp>) {
    FailureOr<bool> includePad = c.boolean("count_include_pad");
    if (failed(includePad))
      return failure();
    attrs.push_back(builder.getNamedAttr("count_include_pad",
                                         builder.getBoolAttr(*includePad)));
  }
  auto op = builder.create<OpT>(named->loc, TypeRange{*type},
                                ValueRange{x->getTensor()}, attrs);
  return c.el.finishLayer(op.getResult(), named->name, c.callLoc);
}

template <typename OpT>
FailureOr<DslValue> buildGlobalPool(CallContext &c, const char *kind) {
  FailureOr<DslValue> x = c.tensor("x");
  if (failed(x))
    return failure();
  FailureOr<RankedTensorType> type = OpT::inferResultType(c.el.loc(c.callLoc), x->getTensorType());
  if (failed(type))
    return failure();
  FailureOr<Named> named = nameFor(c, kind);
  if (failed(named))
    return failure();
  auto op = c.el.builder.create<OpT>(named->loc, *type, x->getTensor());
  return c.el.finishLayer(op.getResult(), named->name, c.callLoc);
}

/// Builds rn.zero_pad with `low` / `high` over [C, H, W].
FailureOr<DslValue> zeroPad(CallContext &c, const DslValue &x,
                         std::array<int64_t, 3> low,
                         std::array<int64_t, 3> high, const Named &named) {
  FailureOr<RankedTensorType> type = rn::ZeroPadOp::inferResultType(
      c.el.loc(c.callLoc), x.getTensorType(), low, high);
  if (failed(type))
    return failure();
  OpBuilder &builder = c.el.builder;
  auto op = builder.create<rn::ZeroPadOp>(named.loc, *type, x.getTensor(),
                                          builder.getDenseI64ArrayAttr(low),
                                          builder.getDenseI64ArrayAttr(high));
  return c.el.finishLayer(op.getResult(), named.name, c.callLoc);
}

FailureOr<DslValue> buildZeroPad(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x");
  if (failed(x))
    return failure();
  FailureOr<std::array<int64_t, 4>> pads = resolvePadding(c, "padding", x->getTensorType(), {1, 1}, {1, 1}, /*allowSame=*/false);
  if (failed(pads))
    return failure();
  // channels = n pads n after the existing channels; [lo, hi] either side.
  const DslValue &ch = c.get("channels");
  std::array<int64_t, 2> channels{0, 0};
  if (ch.is(DslValue::Kind::Int)) {
    channels = {0, ch.getInt()};
  } else {
    FailureOr<std::array<int64_t, 2>> both = c.pair("channels", 0);
    if (failed(both))
      return failure();
    channels = *both;
  }
  if (channels[0] < 0 || channels[1] < 0 || channels[0] > 65536 ||
      channels[1] > 65536) {
    c.error("channels") << "zero_pad's channels must be from 0 to 65536, got "
                        << ch.str();
    return failure();
  }
  FailureOr<Named> named = nameFor(c, "zero_pad");
  if (failed(named))
    return failure();
  const auto &p = *pads;
  return zeroPad(c, *x, {channels[0], p[0], p[1]}, {channels[1], p[2], p[3]},
                 *named);
}

/// Builds rn.subsample.
FailureOr<DslValue> subsample(CallContext &c, const DslValue &x,
                           std::array<int64_t, 2> stride, const Named &named) {
  FailureOr<RankedTensorType> type = rn::SubsampleOp::inferResultType(
      c.el.loc(c.callLoc), x.getTensorType(), stride);
  if (failed(type))
    return failure();
  auto op = c.el.builder.create<rn::SubsampleOp>(
      named.loc, *type, x.getTensor(), c.el.builder.getDenseI64ArrayAttr(stride));
  return c.el.finishLayer(op.getResult(), named.name, c.callLoc);
}

FailureOr<DslValue> buildSubsample(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x");
  if (failed(x))
    return failure();
  FailureOr<std::array<int64_t, 2>> stride = c.pair("stride", 1);
  if (failed(stride))
    return failure();
  FailureOr<Named> named = nameFor(c, "subsample");
  if (failed(named))
    return failure();
  return subsample(c, *x, *stride, *named);
}

/// He et al.'s parameter-free "option A" shortcut: subsample by the stride,
/// then zero-pad the new channels evenly on both sides.
FailureOr<DslValue> buildZeroPadShortcut(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x");
  if (failed(x))
    return failure();
  FailureOr<int64_t> filters = c.integer("filters", 1, 65536);
  if (failed(filters))
    return failure();
  FailureOr<std::array<int64_t, 2>> stride = c.pair("stride", 1);
  if (failed(stride))
    return failure();
  int64_t channels = x->getTensorType().getDimSize(1);
  if (*filters < channels) {
    c.error("filters") << "zero_pad_shortcut can only add channels: its "
                          "input has "
                       << channels << ", more than the " << *filters
                       << " asked for; use a 1x1 conv shortcut instead";
    return failure();
  }
  DslValue result = *x;
  if ((*stride)[0] > 1 || (*stride)[1] > 1) {
    FailureOr<Named> named = nameFor(c, "subsample");
    if (failed(named))
      return failure();
    FailureOr<DslValue> sub = subsample(c, result, *stride, *named);
    if (failed(sub))
      return failure();
    result = *sub;
  }
  if (*filters == channels)
    return result;
  FailureOr<Named> named = nameFor(c, "zero_pad");
  if (failed(named))
    return failure();
  int64_t extra = *filters - channels;
  return zeroPad(c, result, {extra / 2, 0, 0}, {extra - extra / 2, 0, 0},
                 *named);
}

FailureOr<DslValue> buildFlatten(CallContext &c) {
  return buildGlobalPool<rn::FlattenOp>(c, "flatten");
}

//===----------------------------------------------------------------------===//
// Regularisation
//===----------------------------------------------------------------------===//

FailureOr<DslValue> buildDropout(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x", {4, 2});
  if (failed(x))
    return failure();
  FailureOr<double> rate = c.number("rate", 0, 1, /*maxExclusive=*/true);
  if (failed(rate))
    return failure();
  FailureOr<Named> named = nameFor(c, "dropout");
  if (failed(named))
    return failure();
  auto op = c.el.builder.create<rn::DropoutOp>(
      named->loc, x->getTensorType(), x->getTensor(),
      c.el.builder.getF64FloatAttr(*rate));
  return c.el.finishLayer(op.getResult(), named->name, c.callLoc);
}

FailureOr<DslValue> buildDropBlock(CallContext &c) {
  FailureOr<DslValue> x = c.tensor("x");
  if (failed(x))
    return failure();
  FailureOr<double> rate = c.number("rate", 0, 1, /*maxExclusive=*/true);
  if (failed(rate))
    return failure();
  RankedTensorType type = x->getTensorType();
  int64_t side = std::min(type.getDimSize(2), type.getDimSize(3));
  FailureOr<int64_t> size = c.integer("size", 1, side);
  if (failed(size))
    return failure();
  FailureOr<Named> named = nameFor(c, "dropblock");
  if (failed(named))
    return failure();
  auto op = c.el.builder.create<rn::DropBlockOp>(
      named->loc, type, x->getTensor(), c.el.builder.getF64FloatAttr(*rate),
      c.el.builder.getI64IntegerAttr(*size));
  return c.el.finishLayer(op.getResult(), named->name, c.callLoc);
}

} // namespace

void resnetc::addLayerBuiltins(std::vector<Builtin> &t) {
  const DslValue same = DslValue::word("same"), valid = DslValue::word("valid");
  auto one = DslValue::integer(1);
  t.push_back({"conv", Kind::Layer,
               {required("x"), required("filters"), required("kernel"),
                optional("stride", one), optional("padding", same),
                optional("dilation", one), optional("groups", one),
                optional("bias", DslValue::boolean(false)), optionalNone("init"),
                optionalNone("activation"), optionalNone("name")},
               false, buildConv});
  t.push_back({"dense", Kind::Layer,
               {required("x"), required("units"),
                optional("bias", DslValue::boolean(true)), optionalNone("init"),
                optionalNone("activation"), optionalNone("name")},
               false, buildDense});
  t.push_back({"bn", Kind::Layer,
               {required("x"), optional("momentum", DslValue::real(0.9)),
                optional("epsilon", DslValue::real(1e-5)), optionalNone("name")},
               false, buildBatchNorm});
  for (const Activation &act : kActivations) {
    std::vector<ParamSpec> params{required("x")};
    for (const Activation::Param &param : act.params)
      params.push_back(optional(param.name, DslValue::real(param.byDefault)));
    params.push_back(optionalNone("name"));
    t.push_back({act.name, Kind::Layer, params, false,
                 [&act](CallContext &c) { return buildActivation(c, act); }});
  }
  t.push_back({"add", Kind::Layer,
               {required("x"), required("y"), optionalNone("name")}, true,
               buildAdd});
  t.push_back({"concat", Kind::Layer,
               {required("x"), required("y"), optionalNone("name")}, true,
               buildConcat});
  t.push_back({"max_pool", Kind::Layer,
               {required("x"), required("size"), optionalNone("stride"),
                optional("padding", valid), optionalNone("name")},
               false, [](CallContext &c) {
                 return buildPool<rn::MaxPool2DOp>(c, "max_pool");
               }});
  t.push_back({"avg_pool", Kind::Layer,
               {required("x"), required("size"), optionalNone("stride"),
                optional("padding", valid),
                optional("count_include_pad", DslValue::boolean(false)),
                optionalNone("name")},
               false, [](CallContext &c) {
                 return buildPool<rn::AvgPool2DOp>(c, "avg_pool");
               }});
  t.push_back({"global_avg_pool", Kind::Layer,
               {required("x"), optionalNone("name")}, false,
               [](CallContext &c) {
                 return buildGlobalPool<rn::GlobalAvgPoolOp>(c,
                                                             "global_avg_pool");
               }});
  t.push_back({"global_max_pool", Kind::Layer,
               {required("x"), optionalNone("name")}, false,
               [](CallContext &c) {
                 return buildGlobalPool<rn::GlobalMaxPoolOp>(c,
                                                             "global_max_pool");
               }});
  t.push_back({"zero_pad", Kind::Layer,
               {required("x"), optional("padding", DslValue::integer(0)),
                optional("channels", DslValue::integer(0)), optionalNone("name")},
               false, buildZeroPad});
  t.push_back({"subsample", Kind::Layer,
               {required("x"), required("stride"), optionalNone("name")}, false,
               buildSubsample});
  t.push_back({"zero_pad_shortcut", Kind::Layer,
               {required("x"), required("filters"), optional("stride", one)},
               false, buildZeroPadShortcut});
  t.push_back({"flatten", Kind::Layer, {required("x"), optionalNone("name")},
               false, buildFlatten});
  t.push_back({"dropout", Kind::Layer,
               {required("x"), required("rate"), optionalNone("name")}, false,
               buildDropout});
  t.push_back({"dropblock", Kind::Layer,
               {required("x"), required("rate"), required("size"),
                optionalNone("name")},
               false, buildDropBlock});
}
