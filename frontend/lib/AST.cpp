//===- AST.cpp - printing the syntax tree (--emit=ast) ----------------------===//

#include "resnetc/Frontend/AST.h"

using namespace resnetc;
using namespace resnetc::ast;
using llvm::cast;

llvm::StringRef ast::spelling(UnaryOp op) {
  return op == UnaryOp::Negate ? "-" : "not";
}

llvm::StringRef ast::spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  return "?";
}

namespace {

class Dumper {
public:
  explicit Dumper(llvm::raw_ostream &os) : os(os) {}

  void file(const File &f) {
    if (f.model)
      model(*f.model);
    if (f.train)
      train(*f.train);
  }

private:
  llvm::raw_ostream &line(SourceLoc loc) {
    os.indent(indent * 2);
    pendingLoc = loc;
    return os;
  }
  void end() { os << " @" << pendingLoc.line << ":" << pendingLoc.col << "\n"; }

  struct Nest {
    explicit Nest(Dumper &d) : d(d) { ++d.indent; }
    ~Nest() { --d.indent; }
    Dumper &d;
  };

  void model(const ModelDecl &m) {
    line(m.loc) << "Model " << m.name;
    end();
    Nest nest(*this);
    if (m.input) {
      line(m.input->loc) << "Input " << m.input->name;
      end();
      Nest dims(*this);
      for (const ExprPtr &d : m.input->dims)
        expr(*d);
    }
    if (m.classes) {
      line(m.classesLoc) << "Classes";
      end();
      Nest value(*this);
      expr(*m.classes);
    }
    if (m.init) {
      line(m.initLoc) << "Init";
      end();
      Nest value(*this);
      expr(*m.init);
    }
    for (const BlockDecl &b : m.blocks)
      block(b);
    body(m.body);
  }

  void block(const BlockDecl &b) {
    line(b.loc) << "Block " << b.name;
    end();
    Nest nest(*this);
    for (const Parameter &p : b.params) {
      line(p.loc) << "Param " << p.name << (p.defaultValue ? " =" : "");
      end();
      if (p.defaultValue) {
        Nest value(*this);
        expr(*p.defaultValue);
      }
    }
    body(b.body);
  }

  void body(const Body &stmts) {
    for (const StmtPtr &s : stmts)
      stmt(*s);
  }

  void stmt(const Stmt &s) {
    switch (s.getKind()) {
    case Stmt::Kind::Assign: {
      auto &a = cast<AssignStmt>(s);
      line(s.getLoc()) << "Assign " << a.getName();
      end();
      Nest nest(*this);
      expr(a.getValue());
      return;
    }
    case Stmt::Kind::For: {
      auto &f = cast<ForStmt>(s);
      line(s.getLoc()) << "For " << f.getVar();
      end();
      Nest nest(*this);
      expr(f.getIterable());
      body(f.getBody());
      return;
    }
    case Stmt::Kind::Repeat: {
      auto &r = cast<RepeatStmt>(s);
      line(s.getLoc()) << "Repeat"
                       << (r.getVar().empty() ? "" : " as " + r.getVar());
      end();
      Nest nest(*this);
      expr(r.getCount());
      body(r.getBody());
      return;
    }
    case Stmt::Kind::If: {
      auto &i = cast<IfStmt>(s);
      line(s.getLoc()) << "If";
      end();
      Nest nest(*this);
      expr(i.getCond());
      line(s.getLoc()) << "Then";
      end();
      {
        Nest thenNest(*this);
        body(i.getThen());
      }
      if (!i.getElse().empty()) {
        line(s.getLoc()) << "Else";
        end();
        Nest elseNest(*this);
        body(i.getElse());
      }
      return;
    }
    case Stmt::Kind::Return:
      line(s.getLoc()) << "Return";
      end();
      Nest nest(*this);
      expr(cast<ReturnStmt>(s).getValue());
      return;
    }
  }

  void expr(const Expr &e) {
    switch (e.getKind()) {
    case Expr::Kind::Number:
      line(e.getLoc()) << "Number " << cast<NumberExpr>(e).getText();
      end();
      return;
    case Expr::Kind::String:
      line(e.getLoc()) << "String \"";
      os.write_escaped(cast<StringExpr>(e).getValue()) << "\"";
      end();
      return;
    case Expr::Kind::Bool:
      line(e.getLoc()) << "Bool "
                       << (cast<BoolExpr>(e).getValue() ? "true" : "false");
      end();
      return;
    case Expr::Kind::Name:
      line(e.getLoc()) << "Name " << cast<NameExpr>(e).getName();
      end();
      return;
    case Expr::Kind::List: {
      line(e.getLoc()) << "List";
      end();
      Nest nest(*this);
      for (const ExprPtr &element : cast<ListExpr>(e).getElements())
        expr(*element);
      return;
    }
    case Expr::Kind::Call: {
      auto &call = cast<CallExpr>(e);
      line(e.getLoc()) << "Call " << call.getCallee();
      end();
      Nest nest(*this);
      for (const Argument &arg : call.getArgs()) {
        if (arg.name.empty()) {
          expr(*arg.value);
          continue;
        }
        line(arg.loc) << "Arg " << arg.name;
        end();
        Nest value(*this);
        expr(*arg.value);
      }
      return;
    }
    case Expr::Kind::Unary: {
      auto &u = cast<UnaryExpr>(e);
      line(e.getLoc()) << "Unary " << spelling(u.getOp());
      end();
      Nest nest(*this);
      expr(u.getOperand());
      return;
    }
    case Expr::Kind::Binary: {
      auto &b = cast<BinaryExpr>(e);
      line(e.getLoc()) << "Binary " << spelling(b.getOp());
      end();
      Nest nest(*this);
      expr(b.getLhs());
      expr(b.getRhs());
      return;
    }
    case Expr::Kind::Ternary: {
      auto &t = cast<TernaryExpr>(e);
      line(e.getLoc()) << "Ternary";
      end();
      Nest nest(*this);
      expr(t.getCond());
      expr(t.getThen());
      expr(t.getElse());
      return;
    }
    case Expr::Kind::Pipe: {
      auto &p = cast<PipeExpr>(e);
      line(e.getLoc()) << "Pipe";
      end();
      Nest nest(*this);
      expr(p.getInput());
      expr(p.getStage());
      return;
    }
    case Expr::Kind::Index: {
      auto &i = cast<IndexExpr>(e);
      line(e.getLoc()) << "Index";
      end();
      Nest nest(*this);
      expr(i.getBase());
      expr(i.getIndex());
      return;
    }
    }
  }

  void train(const TrainDecl &t) {
    line(t.loc) << "Train";
    end();
    Nest nest(*this);
    for (const RecipeEntry &entry : t.entries)
      recipe(entry);
  }

  void recipe(const RecipeEntry &entry) {
    line(entry.loc) << "Entry " << entry.key;
    end();
    Nest nest(*this);
    for (const ExprPtr &value : entry.values)
      expr(*value);
    for (const RecipeEntry &child : entry.children)
      recipe(child);
  }

  llvm::raw_ostream &os;
  unsigned indent = 0;
  SourceLoc pendingLoc;
};

} // namespace

void ast::dump(const File &file, llvm::raw_ostream &os) {
  Dumper(os).file(file);
}
