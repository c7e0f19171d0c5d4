//===- AST.h - syntax tree of a model file ----------------------*- C++ -*-===//
//
// What the parser produces and `resnetc --emit=ast` prints: the model (input,
// classes, default initialiser, blocks, statements) and the train recipe, as
// written. Nothing here is evaluated yet; the elaborator does that.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_AST_H
#define RESNETC_FRONTEND_AST_H

#include "resnetc/Frontend/Diagnostics.h"

#include "llvm/Support/Casting.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace resnetc::ast {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind { Number, String, Bool, Name, List, Call, Unary, Binary,
                    Ternary, Pipe, Index };
  Expr(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;
  Kind getKind() const { return kind; }
  SourceLoc getLoc() const { return loc; }

private:
  Kind kind;
  SourceLoc loc;
};
using ExprPtr = std::unique_ptr<Expr>;

class NumberExpr : public Expr {
public:
  NumberExpr(SourceLoc loc, std::string text, bool isInteger, int64_t i,
             double f)
      : Expr(Kind::Number, loc), text(std::move(text)), integer(isInteger),
        intValue(i), floatValue(f) {}
  const std::string &getText() const { return text; }
  bool isInteger() const { return integer; }
  int64_t getInt() const { return intValue; }
  double getFloat() const { return floatValue; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Number; }

private:
  std::string text;
  bool integer;
  int64_t intValue;
  double floatValue;
};

class StringExpr : public Expr {
public:
  StringExpr(SourceLoc loc, std::string value)
      : Expr(Kind::String, loc), value(std::move(value)) {}
  const std::string &getValue() const { return value; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::String; }

private:
  std::string value;
};

class BoolExpr : public Expr {
public:
  BoolExpr(SourceLoc loc, bool value) : Expr(Kind::Bool, loc), value(value) {}
  bool getValue() const { return value; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Bool; }

private:
  bool value;
};

class NameExpr : public Expr {
public:
  NameExpr(SourceLoc loc, std::string name)
      : Expr(Kind::Name, loc), name(std::move(name)) {}
  const std::string &getName() const { return name; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Name; }

private:
  std::string name;
};

class ListExpr : public Expr {
public:
  ListExpr(SourceLoc loc, std::vector<ExprPtr> elements)
      : Expr(Kind::List, loc), elements(std::move(elements)) {}
  const std::vector<ExprPtr> &getElements() const { return elements; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::List; }

private:
  std::vector<ExprPtr> elements;
};

/// One argument of a call: positional (empty name) or `name = value`.
struct Argument {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

class CallExpr : public Expr {
public:
  CallExpr(SourceLoc loc, std::string callee, std::vector<Argument> args)
      : Expr(Kind::Call, loc), callee(std::move(callee)),
        args(std::move(args)) {}
  const std::string &getCallee() const { return callee; }
  const std::vector<Argument> &getArgs() const { return args; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Call; }

private:
  std::string callee;
  std::vector<Argument> args;
};

enum class UnaryOp { Negate, Not };
enum class BinaryOp { Add, Sub, Mul, Div, Mod, Eq, Ne, Lt, Le, Gt, Ge, And, Or };
llvm::StringRef spelling(UnaryOp op);
llvm::StringRef spelling(BinaryOp op);

class UnaryExpr : public Expr {
public:
  UnaryExpr(SourceLoc loc, UnaryOp op, ExprPtr operand)
      : Expr(Kind::Unary, loc), op(op), operand(std::move(operand)) {}
  UnaryOp getOp() const { return op; }
  const Expr &getOperand() const { return *operand; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Unary; }

private:
  UnaryOp op;
  ExprPtr operand;
};

/// The location of a binary expression is its operator's.
class BinaryExpr : public Expr {
public:
  BinaryExpr(SourceLoc loc, BinaryOp op, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, loc), op(op), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {}
  BinaryOp getOp() const { return op; }
  const Expr &getLhs() const { return *lhs; }
  const Expr &getRhs() const { return *rhs; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Binary; }

private:
  BinaryOp op;
  ExprPtr lhs, rhs;
};

/// `cond ? a : b`
class TernaryExpr : public Expr {
public:
  TernaryExpr(SourceLoc loc, ExprPtr cond, ExprPtr thenValue, ExprPtr elseValue)
      : Expr(Kind::Ternary, loc), cond(std::move(cond)),
        thenValue(std::move(thenValue)), elseValue(std::move(elseValue)) {}
  const Expr &getCond() const { return *cond; }
  const Expr &getThen() const { return *thenValue; }
  const Expr &getElse() const { return *elseValue; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Ternary; }

private:
  ExprPtr cond, thenValue, elseValue;
};

/// `input |> stage`: calls `stage` (a name or a call) with `input` as its
/// first argument. Located at the `|>`.
class PipeExpr : public Expr {
public:
  PipeExpr(SourceLoc loc, ExprPtr input, ExprPtr stage)
      : Expr(Kind::Pipe, loc), input(std::move(input)),
        stage(std::move(stage)) {}
  const Expr &getInput() const { return *input; }
  const Expr &getStage() const { return *stage; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Pipe; }

private:
  ExprPtr input, stage;
};

/// `list[index]`
class IndexExpr : public Expr {
public:
  IndexExpr(SourceLoc loc, ExprPtr base, ExprPtr index)
      : Expr(Kind::Index, loc), base(std::move(base)), index(std::move(index)) {}
  const Expr &getBase() const { return *base; }
  const Expr &getIndex() const { return *index; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Index; }

private:
  ExprPtr base, index;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class Stmt {
public:
  enum class Kind { Assign, For, Repeat, If, Return };
  Stmt(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Stmt() = default;
  Kind getKind() const { return kind; }
  SourceLoc getLoc() const { return loc; }

private:
  Kind kind;
  SourceLoc loc;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

class AssignStmt : public Stmt {
public:
  AssignStmt(SourceLoc loc, std::string name, ExprPtr value)
      : Stmt(Kind::Assign, loc), name(std::move(name)), value(std::move(value)) {}
  const std::string &getName() const { return name; }
  const Expr &getValue() const { return *value; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Assign; }

private:
  std::string name;
  ExprPtr value;
};

/// `for name in iterable { body }`
class ForStmt : public Stmt {
public:
  ForStmt(SourceLoc loc, std::string var, ExprPtr iterable, Body body)
      : Stmt(Kind::For, loc), var(std::move(var)),
        iterable(std::move(iterable)), body(std::move(body)) {}
  const std::string &getVar() const { return var; }
  const Expr &getIterable() const { return *iterable; }
  const Body &getBody() const { return body; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::For; }

private:
  std::string var;
  ExprPtr iterable;
  Body body;
};

/// `repeat count [as name] { body }`
class RepeatStmt : public Stmt {
public:
  RepeatStmt(SourceLoc loc, ExprPtr count, std::string var, Body body)
      : Stmt(Kind::Repeat, loc), count(std::move(count)), var(std::move(var)),
        body(std::move(body)) {}
  const Expr &getCount() const { return *count; }
  const std::string &getVar() const { return var; } ///< Empty if no `as`.
  const Body &getBody() const { return body; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Repeat; }

private:
  ExprPtr count;
  std::string var;
  Body body;
};

/// `if cond { then } else { else }`; `else if` nests an IfStmt in `else`.
class IfStmt : public Stmt {
public:
  IfStmt(SourceLoc loc, ExprPtr cond, Body thenBody, Body elseBody)
      : Stmt(Kind::If, loc), cond(std::move(cond)),
        thenBody(std::move(thenBody)), elseBody(std::move(elseBody)) {}
  const Expr &getCond() const { return *cond; }
  const Body &getThen() const { return thenBody; }
  const Body &getElse() const { return elseBody; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::If; }

private:
  ExprPtr cond;
  Body thenBody, elseBody;
};

class ReturnStmt : public Stmt {
public:
  ReturnStmt(SourceLoc loc, ExprPtr value)
      : Stmt(Kind::Return, loc), value(std::move(value)) {}
  const Expr &getValue() const { return *value; }
  static bool classof(const Stmt *s) { return s->getKind() == Kind::Return; }

private:
  ExprPtr value;
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

struct Parameter {
  std::string name;
  SourceLoc loc;
  ExprPtr defaultValue; ///< Null when the parameter is required.
};

/// `block name(params) { body }`: a parameterised piece of network.
struct BlockDecl {
  std::string name;
  SourceLoc loc;
  std::vector<Parameter> params;
  Body body;
};

/// `input image[3, 32, 32]`: the input's name and (channels, height, width).
struct InputDecl {
  std::string name;
  SourceLoc loc;
  std::vector<ExprPtr> dims;
};

struct ModelDecl {
  std::string name;
  SourceLoc loc;
  std::optional<InputDecl> input;
  ExprPtr classes;      ///< `classes N`
  SourceLoc classesLoc;
  ExprPtr init;         ///< `init he_normal(...)`: default weight initialiser
  SourceLoc initLoc;
  std::vector<BlockDecl> blocks;
  Body body;
};

/// One line of the train block: `key value, value... { children }`.
struct RecipeEntry {
  std::string key;
  SourceLoc loc;
  std::vector<ExprPtr> values;
  std::vector<RecipeEntry> children;
};

struct TrainDecl {
  SourceLoc loc;
  std::vector<RecipeEntry> entries;
};

struct File {
  std::unique_ptr<ModelDecl> model;
  std::unique_ptr<TrainDecl> train;
};

/// Prints the tree, one node a line, with locations: `resnetc --emit=ast`.
void dump(const File &file, llvm::raw_ostream &os);

} // namespace resnetc::ast

#endif // RESNETC_FRONTEND_AST_H
