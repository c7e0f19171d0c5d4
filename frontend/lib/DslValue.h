//===- DslValue.h - values of the DSL while it is evaluated -----*- C++ -*-===//
//
// The elaborator runs the model's statements; every expression evaluates to
// one of these: a number, a bool, a string, a list, a tensor (an SSA value of
// the rn graph and the layer that made it), a callable (layer, block or
// builtin function), a word such as `same`, or an initialiser.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_DSLVALUE_H
#define RESNETC_FRONTEND_DSLVALUE_H

#include "resnetc/Dialect/RN/IR/RNDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace resnetc {

namespace ast {
struct BlockDecl;
}

/// How a variable is initialised: the DSL's view of #rn.init.
struct Initializer {
  mlir::rn::InitKind kind = mlir::rn::InitKind::he_normal;
  std::optional<double> value;
  mlir::rn::FanMode mode = mlir::rn::FanMode::fan_in;
  int64_t seed = -1;
};

class DslValue {
public:
  DslValue() : kind(Kind::None) {}

  enum class Kind { None, Int, Float, Bool, String, List, Tensor, Callable,
                    Word, Init };

  static DslValue none() { return DslValue(); }
  static DslValue integer(int64_t v) {
    DslValue r(Kind::Int);
    r.intValue = v;
    return r;
  }
  static DslValue real(double v) {
    DslValue r(Kind::Float);
    r.floatValue = v;
    return r;
  }
  static DslValue boolean(bool v) {
    DslValue r(Kind::Bool);
    r.boolValue = v;
    return r;
  }
  static DslValue string(std::string v) {
    DslValue r(Kind::String);
    r.text = std::move(v);
    return r;
  }
  static DslValue list(std::vector<DslValue> v) {
    DslValue r(Kind::List);
    r.count = 0;
    for (const DslValue &e : v) {
      r.count += e.count;
      r.nesting = std::max(r.nesting, e.nesting + 1);
    }
    r.nesting = std::max<int64_t>(r.nesting, 1);
    r.elements = std::make_shared<const std::vector<DslValue>>(std::move(v));
    return r;
  }
  /// `layer` names the layer that produced the tensor ("connected to").
  static DslValue tensor(mlir::Value v, std::string layer) {
    DslValue r(Kind::Tensor);
    r.tensorValue = v;
    r.text = std::move(layer);
    return r;
  }
  /// A layer or builtin function by name, or a user block.
  static DslValue callable(std::string name, const ast::BlockDecl *block = nullptr) {
    DslValue r(Kind::Callable);
    r.text = std::move(name);
    r.blockDecl = block;
    return r;
  }
  static DslValue word(std::string w) {
    DslValue r(Kind::Word);
    r.text = std::move(w);
    return r;
  }
  static DslValue init(Initializer i) {
    DslValue r(Kind::Init);
    r.initValue = i;
    return r;
  }

  Kind getKind() const { return kind; }
  bool is(Kind k) const { return kind == k; }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }

  int64_t getInt() const { return intValue; }
  double getNumber() const { return kind == Kind::Int ? double(intValue) : floatValue; }
  bool getBool() const { return boolValue; }
  const std::string &getString() const { return text; }
  const std::vector<DslValue> &getList() const {
    static const std::vector<DslValue> empty;
    return elements ? *elements : empty;
  }
  /// The values a list holds, counting those in nested lists; 1 for a
  /// value that is not a list.
  int64_t getCount() const { return count; }
  /// How deep lists nest in the value: 0 for a value that is not a list.
  int64_t getNesting() const { return nesting; }
  mlir::Value getTensor() const { return tensorValue; }
  mlir::RankedTensorType getTensorType() const {
    return llvm::cast<mlir::RankedTensorType>(tensorValue.getType());
  }
  const std::string &getLayer() const { return text; }
  const std::string &getName() const { return text; } ///< callable or word
  const ast::BlockDecl *getBlock() const { return blockDecl; }
  const Initializer &getInit() const { return initValue; }

  /// How the value reads in a message: "the integer 3", "a tensor
  /// [16, 32, 32]", "the list [1, 2]", "the word `same`".
  std::string describe() const;
  /// The value as the DSL would write it: 3, 0.5, [16, 32], "text".
  std::string str() const;

private:
  explicit DslValue(Kind kind) : kind(kind) {}

  Kind kind;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string text;
  /// Values never change once made, so copies share a list's elements.
  std::shared_ptr<const std::vector<DslValue>> elements;
  int64_t count = 1;
  int64_t nesting = 0;
  mlir::Value tensorValue;
  const ast::BlockDecl *blockDecl = nullptr;
  Initializer initValue;
};

/// `x` as a person writes it: the shortest text that reads back as the same
/// double ("0.1", "1e-05", "160"). `asFloat` marks a whole number as a float
/// ("1.0"), so that a message can tell `batch 1.0` from `batch 1`.
std::string formatNumber(double x, bool asFloat = false);

} // namespace resnetc

#endif // RESNETC_FRONTEND_DSLVALUE_H
