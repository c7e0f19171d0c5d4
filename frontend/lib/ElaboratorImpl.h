//===- ElaboratorImpl.h - the elaborator's parts, shared by its files -*- C++ -*-===//
//
// Elaborator.cpp runs statements and expressions; Layers.cpp (the DSL's
// layers, each building rn ops), Functions.cpp (channels, range, the
// initialisers, ...) and Recipe.cpp (the train block) plug into it through
// the Builtin table and CallContext declared here.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_ELABORATORIMPL_H
#define RESNETC_FRONTEND_ELABORATORIMPL_H

#include "DslValue.h"

#include "resnetc/Frontend/AST.h"
#include "resnetc/Frontend/Elaborator.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <array>
#include <functional>
#include <map>
#include <set>

namespace resnetc {

class Elaborator;
class CallContext;

/// A parameter of a builtin: its name and default; no default = required.
struct ParamSpec {
  const char *name;
  std::optional<DslValue> defaultValue;
};

/// A layer, function or initialiser the DSL provides.
struct Builtin {
  enum class Kind { Layer, Function, Initializer };
  const char *name;
  Kind kind;
  std::vector<ParamSpec> params;
  /// Extra positional arguments are collected (add, concat, min, max).
  bool variadic;
  std::function<mlir::FailureOr<DslValue>(CallContext &)> body;
};

/// The builtin called `name`, or null.
const Builtin *findBuiltin(llvm::StringRef name);
/// Every builtin (for "did you mean" suggestions).
const std::vector<Builtin> &allBuiltins();

/// The table parts, one per source file.
void addLayerBuiltins(std::vector<Builtin> &table);
void addFunctionBuiltins(std::vector<Builtin> &table);

/// An argument as evaluated at a call site.
struct CallArg {
  std::string name; ///< Empty when positional.
  DslValue value;
  SourceLoc loc;     ///< Of the value: where a wrong value is reported.
  SourceLoc nameLoc; ///< Of `name =`: where an unknown name is reported.
};

/// One call of a builtin: its bound arguments with typed, located accessors.
/// Each accessor reports a located error and returns failure when the
/// argument has the wrong type or is out of range.
class CallContext {
public:
  CallContext(Elaborator &el, const Builtin &builtin, SourceLoc callLoc)
      : el(el), builtin(builtin), callLoc(callLoc) {}

  Elaborator &el;
  const Builtin &builtin;
  SourceLoc callLoc;
  /// Positional arguments beyond the parameters (variadic builtins).
  std::vector<CallArg> rest;

  /// Binds `args` to the builtin's parameters; reports what is wrong.
  mlir::LogicalResult bind(std::vector<CallArg> args);

  bool given(llvm::StringRef name) const;
  const DslValue &get(llvm::StringRef name) const;
  SourceLoc loc(llvm::StringRef name) const;
  /// An error located at argument `name` (at the call if it was defaulted).
  mlir::InFlightDiagnostic error(llvm::StringRef name) const;

  mlir::FailureOr<int64_t> integer(llvm::StringRef name, int64_t min,
                                   int64_t max) const;
  mlir::FailureOr<double> number(llvm::StringRef name, double min, double max,
                                 bool maxExclusive = false) const;
  mlir::FailureOr<bool> boolean(llvm::StringRef name) const;
  mlir::FailureOr<std::string> string(llvm::StringRef name) const;
  /// A tensor of one of `ranks` (4: an image tensor, 2: a flat one).
  mlir::FailureOr<DslValue> tensor(llvm::StringRef name,
                                llvm::ArrayRef<int64_t> ranks = {4}) const;
  /// An integer or a list of two: `3` or `[3, 5]` (height, width).
  mlir::FailureOr<std::array<int64_t, 2>> pair(llvm::StringRef name,
                                               int64_t min) const;
  /// The layer's `name =` argument, if given (checked to be a valid name).
  mlir::FailureOr<std::optional<std::string>> layerName() const;
  /// What the builtin is called in messages: "conv".
  std::string what() const { return builtin.name; }

private:
  std::map<std::string, CallArg> bound;
};

/// Evaluates a model file into an rn module.
class Elaborator {
public:
  Elaborator(const ast::File &file, const Diagnostics &diags,
             const ElaborateOptions &options);

  mlir::OwningOpRef<mlir::ModuleOp> run();

  //===--- What layers and functions use --------------------------------===//
  const Diagnostics &diags;
  mlir::MLIRContext &ctx;
  mlir::OpBuilder builder; ///< Inserts into the forward function.

  mlir::Location loc(SourceLoc at) const { return diags.loc(at); }
  mlir::InFlightDiagnostic error(SourceLoc at) const { return diags.error(at); }

  /// The name of a new layer of `kind` made by a call at `at`: the user's
  /// `name =` if given, else `<block path>.<kind>[_<n>]`. Fails on a
  /// duplicate user name.
  mlir::FailureOr<std::string> nameLayer(llvm::StringRef kind,
                                         const std::optional<std::string> &user,
                                         SourceLoc at);
  /// The location of a layer's ops: its name over the call site.
  mlir::Location layerLoc(llvm::StringRef layer, SourceLoc at) const;

  /// Declares variable `<layer>.<suffix>` and returns an rn.load of it.
  mlir::FailureOr<mlir::Value> variable(llvm::StringRef layer,
                                        llvm::StringRef suffix,
                                        llvm::ArrayRef<int64_t> shape,
                                        const Initializer &init, bool trainable,
                                        SourceLoc at);

  /// Checks a layer's output (size limits) and wraps it as a tensor value.
  mlir::FailureOr<DslValue> finishLayer(mlir::Value result, llvm::StringRef layer,
                                     SourceLoc at);

  /// The model's default weight initialiser (`init ...`, else he_normal).
  const Initializer &defaultInit() const { return modelInit; }

  /// Calls a callable value (layer, function, block) with `args`.
  mlir::FailureOr<DslValue> call(const DslValue &callee, std::vector<CallArg> args,
                              SourceLoc at);

  /// Evaluates an expression.
  mlir::FailureOr<DslValue> eval(const ast::Expr &expr);

  /// Checks a list or string just made against the limits on values (size,
  /// nesting, the total made by the model); reports at `at` and fails if it
  /// is over.
  mlir::LogicalResult checkNewValue(const DslValue &value, SourceLoc at);

  /// Turns an initialiser argument (`he_normal` or `he_normal(mode = ...)`)
  /// into an Initializer.
  mlir::FailureOr<Initializer> toInitializer(const DslValue &value, SourceLoc at);

private:
  struct Binding {
    DslValue value;
    SourceLoc loc;
  };
  struct Frame {
    std::map<std::string, Binding> vars;
    const ast::BlockDecl *block = nullptr;
    SourceLoc callLoc;
    std::string prefix; ///< Layer-name prefix: "basic_2."
  };
  /// Whether a body returned, and what.
  struct Flow {
    std::optional<DslValue> returned;
    SourceLoc returnLoc;
  };

  mlir::LogicalResult declareInput();
  mlir::LogicalResult declareClassesAndInit();
  mlir::LogicalResult exec(const ast::Body &body, Flow &flow);
  mlir::LogicalResult exec(const ast::Stmt &stmt, Flow &flow);
  mlir::LogicalResult loopBody(const ast::Body &body, Flow &flow,
                               SourceLoc at);
  mlir::FailureOr<DslValue> lookup(const std::string &name, SourceLoc at);
  mlir::FailureOr<DslValue> evalBinary(const ast::BinaryExpr &expr);
  /// `and`, `or`: the right side only when the left does not decide.
  mlir::FailureOr<DslValue> evalLogical(const ast::BinaryExpr &expr,
                                        const DslValue &lhs);
  /// `+` of two strings or two lists, within the size limits.
  mlir::FailureOr<DslValue> join(const DslValue &a, const DslValue &b,
                                 SourceLoc at);
  /// `+ - * / %` of two numbers; null without a diagnostic when either is
  /// not a number (or, for `%`, not an integer).
  mlir::FailureOr<std::optional<DslValue>>
  arithmetic(ast::BinaryOp op, const DslValue &a, const DslValue &b,
             SourceLoc at);
  mlir::FailureOr<DslValue> evalCall(const ast::Expr &callee,
                                  const std::vector<ast::Argument> &args,
                                  std::optional<CallArg> piped, SourceLoc at);
  mlir::FailureOr<DslValue> callBlock(const ast::BlockDecl &block,
                                   std::vector<CallArg> args, SourceLoc at);
  mlir::FailureOr<DslValue> addTensors(const DslValue &lhs, const DslValue &rhs,
                                    SourceLoc at);
  mlir::LogicalResult checkModelOutput(const DslValue &output, SourceLoc at);
  /// Names visible here, for "did you mean".
  std::vector<std::string> visibleNames() const;

  const ast::File &file;
  const ElaborateOptions &options;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::OpBuilder variableBuilder; ///< Inserts variables before the function.
  std::vector<Frame> frames;       ///< frames[0]: the model's top level.
  std::map<std::string, const ast::BlockDecl *> blocks;
  std::map<std::string, int> nameCounts;         ///< per prefix+kind
  std::map<std::string, SourceLoc> layerNames;   ///< every layer so far
  std::set<std::string> variableNames;           ///< every variable so far
  Initializer modelInit;
  int64_t batch = 0;
  int64_t classes = 0;
  /// `classes ["cat", "dog"]`: the names; empty for `classes 2`.
  std::vector<std::string> classNames;
  int64_t loopIterations = 0;
  int64_t layerCount = 0;
  int64_t valueWork = 0; ///< List values and string bytes made so far.
};

} // namespace resnetc

#endif // RESNETC_FRONTEND_ELABORATORIMPL_H
