//===- Parser.cpp - model file to syntax tree -------------------------------===//
//
// Expressions, from the loosest binding to the tightest:
//   a |> f(..)      pipe (left to right)
//   c ? a : b       conditional
//   or, and, not    logic
//   == != < <= > >= comparison (not chained)
//   + -, * / %      arithmetic
//   -x              negation
//   f(..), x[i]     call, index
// A statement ends at a newline or ';'. A line may continue after an
// operator, a ',' or an opening bracket, and a line that starts with `|>`
// continues the expression above it.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Frontend/Parser.h"
#include "resnetc/Frontend/Lexer.h"

#include <map>

using namespace resnetc;
using namespace resnetc::ast;

namespace {

/// Deepest nesting of expressions and of `{ }` bodies the parser accepts.
constexpr unsigned kMaxExprDepth = 100;
constexpr unsigned kMaxBodyDepth = 32;

/// Words that cannot name a variable, a block or a parameter.
bool isReserved(llvm::StringRef word) {
  return llvm::is_contained({"and", "or", "not", "if", "else", "for", "in",
                             "repeat", "as", "return", "block", "true",
                             "false"},
                            word);
}

class Parser {
public:
  Parser(std::vector<Token> tokens, const Diagnostics &diags)
      : tokens(std::move(tokens)), diags(diags) {}

  std::unique_ptr<File> parseFile();

private:
  //===--- Token access --------------------------------------------------===//
  const Token &cur() const { return tokens[pos]; }
  const Token &peekAhead(size_t n) const {
    return tokens[std::min(pos + n, tokens.size() - 1)];
  }
  bool at(TokenKind kind) const { return cur().is(kind); }
  bool atWord(llvm::StringRef word) const { return cur().isWord(word); }
  Token take() {
    Token t = cur();
    if (pos + 1 < tokens.size())
      ++pos;
    return t;
  }
  void skipNewlines() {
    while (at(TokenKind::Newline) || at(TokenKind::Semicolon))
      take();
  }
  /// Newlines are allowed after an operator: the expression goes on.
  void skipLineBreaks() {
    while (at(TokenKind::Newline))
      take();
  }

  //===--- Errors --------------------------------------------------------===//
  std::string found() const {
    const Token &t = cur();
    if (t.is(TokenKind::Identifier) || t.is(TokenKind::Integer) ||
        t.is(TokenKind::Float))
      return "'" + t.text.str() + "'";
    return describe(t.kind).str();
  }
  /// Reports "expected X, found Y" at the current token (once).
  std::nullptr_t fail(const llvm::Twine &message) {
    if (!failed && !at(TokenKind::Error))
      diags.error(cur().loc) << message.str();
    failed = true;
    return nullptr;
  }
  /// Reports an error at the current token with a note at `noteAt`.
  std::nullptr_t failWithNote(const llvm::Twine &message, SourceLoc noteAt,
                              const llvm::Twine &note) {
    if (!failed && !at(TokenKind::Error)) {
      mlir::InFlightDiagnostic diag = diags.error(cur().loc);
      diag << message.str();
      diag.attachNote(diags.loc(noteAt)) << note.str();
    }
    failed = true;
    return nullptr;
  }
  std::nullptr_t expected(const llvm::Twine &what) {
    return fail("expected " + what + ", found " + found());
  }
  bool expect(TokenKind kind, const llvm::Twine &context) {
    if (at(kind)) {
      take();
      return true;
    }
    expected(describe(kind) + " " + context);
    return false;
  }
  std::optional<std::string> expectName(const llvm::Twine &what) {
    if (!at(TokenKind::Identifier)) {
      expected(what);
      return std::nullopt;
    }
    if (isReserved(cur().text)) {
      fail("'" + cur().text + "' is a reserved word and cannot be used as " +
           what);
      return std::nullopt;
    }
    return take().text.str();
  }
  /// A statement ends at a newline, ';', '}' or the end of the file.
  bool expectEndOfStatement() {
    if (at(TokenKind::Newline) || at(TokenKind::Semicolon)) {
      take();
      return true;
    }
    if (at(TokenKind::RBrace) || at(TokenKind::Eof))
      return true;
    expected("the end of the line");
    return false;
  }

  //===--- Grammar -------------------------------------------------------===//
  std::unique_ptr<ModelDecl> parseModel();
  bool parseModelItem(ModelDecl &model);
  bool parseBlockDecl(ModelDecl &model);
  bool parseBody(Body &body, const llvm::Twine &context);
  StmtPtr parseStatement();
  StmtPtr parseIf();
  std::unique_ptr<TrainDecl> parseTrain();
  bool parseRecipeEntries(std::vector<RecipeEntry> &entries);

  ExprPtr parseExpr();
  ExprPtr parsePipe();
  ExprPtr parseTernary();
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseNot();
  ExprPtr parseComparison();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePostfix();
  ExprPtr parsePrimary();
  ExprPtr parseCall(Token callee);

  /// Counts nesting; fails once the limit is passed.
  struct DepthGuard {
    DepthGuard(Parser &p, unsigned &depth, unsigned limit, const char *what)
        : depth(depth) {
      if (++depth > limit)
        p.fail(llvm::Twine(what) + " nested more than " + llvm::Twine(limit) +
               " levels deep; split it up");
    }
    ~DepthGuard() { --depth; }
    unsigned &depth;
  };

  /// A left-associative chain (`a + b + c`, `x |> f |> g`, `l[0][1]`) is
  /// parsed by a loop but makes a tree one level deeper per link, which the
  /// elaborator walks recursively; so each link counts as a level of
  /// nesting, and a 1 MB file of `1 + 1 + ...` cannot overflow the stack.
  struct ChainGuard {
    explicit ChainGuard(Parser &p) : p(p) {}
    ~ChainGuard() { p.exprDepth -= links; }
    /// Counts one more link; false (after an error) past the limit.
    bool link() {
      ++links;
      if (++p.exprDepth <= kMaxExprDepth)
        return true;
      p.fail("expression nested or chained more than " +
             llvm::Twine(kMaxExprDepth) +
             " levels deep; split it into several statements");
      return false;
    }
    Parser &p;
    unsigned links = 0;
  };

  std::vector<Token> tokens;
  const Diagnostics &diags;
  size_t pos = 0;
  bool failed = false;
  unsigned exprDepth = 0;
  unsigned bodyDepth = 0;
};

//===----------------------------------------------------------------------===//
// File, model and blocks
//===----------------------------------------------------------------------===//

std::unique_ptr<File> Parser::parseFile() {
  auto file = std::make_unique<File>();
  SourceLoc firstModel, firstTrain;
  skipNewlines();
  while (!at(TokenKind::Eof) && !failed) {
    if (atWord("model")) {
      if (file->model) {
        return failWithNote("a file holds one model; this is a second one",
                            firstModel, "the first model is here");
      }
      firstModel = cur().loc;
      file->model = parseModel();
    } else if (atWord("train")) {
      if (file->train) {
        return failWithNote("a file holds one train block; this is a second "
                            "one",
                            firstTrain, "the first train block is here");
      }
      firstTrain = cur().loc;
      file->train = parseTrain();
    } else {
      expected("`model NAME { ... }` or `train { ... }`");
    }
    skipNewlines();
  }
  if (failed)
    return nullptr;
  if (!file->model) {
    diags.error(SourceLoc{})
        << (tokens.size() == 1 ? "this file is empty" : "no model in this file")
        << "; a model file starts with `model NAME { ... }` (see "
           "docs/dsl.md)";
    return nullptr;
  }
  return file;
}

std::unique_ptr<ModelDecl> Parser::parseModel() {
  auto model = std::make_unique<ModelDecl>();
  model->loc = take().loc; // 'model'
  auto name = expectName("a model name after `model`");
  if (!name)
    return nullptr;
  model->name = *name;
  if (!expect(TokenKind::LBrace, "to open the model's body"))
    return nullptr;
  skipNewlines();
  while (!at(TokenKind::RBrace) && !failed) {
    if (at(TokenKind::Eof)) {
      return failWithNote("the model's '{' is not closed; add a '}' at the "
                          "end",
                          model->loc, "the model starts here");
    }
    if (!parseModelItem(*model))
      return nullptr;
    skipNewlines();
  }
  if (failed)
    return nullptr;
  take(); // '}'
  return model;
}

bool Parser::parseModelItem(ModelDecl &model) {
  const Token &t = cur();
  bool isDecl = !peekAhead(1).is(TokenKind::Assign);
  if (t.isWord("input") && isDecl) {
    if (model.input) {
      fail("the model already has an input; a model has exactly one");
      return false;
    }
    InputDecl input;
    input.loc = take().loc;
    auto name = expectName("the input's name, as in `input image[3, 32, 32]`");
    if (!name)
      return false;
    input.name = *name;
    if (!expect(TokenKind::LBracket, "and the input's [channels, height, "
                                     "width], as in `input image[3, 32, 32]`"))
      return false;
    for (int i = 0; i < 3; ++i) {
      if (i && !expect(TokenKind::Comma, "between the input's dimensions"))
        return false;
      ExprPtr dim = parseExpr();
      if (!dim)
        return false;
      input.dims.push_back(std::move(dim));
    }
    if (!expect(TokenKind::RBracket,
                "after [channels, height, width]: an input has 3 dimensions"))
      return false;
    model.input = std::move(input);
    return expectEndOfStatement();
  }
  if ((t.isWord("classes") || t.isWord("init")) && isDecl) {
    bool isClasses = t.isWord("classes");
    if (isClasses ? bool(model.classes) : bool(model.init)) {
      fail(llvm::Twine("the model already says `") + t.text +
           "`; give it once");
      return false;
    }
    SourceLoc loc = take().loc;
    ExprPtr value = parseExpr();
    if (!value)
      return false;
    (isClasses ? model.classesLoc : model.initLoc) = loc;
    (isClasses ? model.classes : model.init) = std::move(value);
    return expectEndOfStatement();
  }
  if (t.isWord("block"))
    return parseBlockDecl(model);
  StmtPtr stmt = parseStatement();
  if (!stmt)
    return false;
  model.body.push_back(std::move(stmt));
  return true;
}

bool Parser::parseBlockDecl(ModelDecl &model) {
  BlockDecl block;
  block.loc = take().loc; // 'block'
  auto name = expectName("a block name after `block`");
  if (!name)
    return false;
  block.name = *name;
  if (!expect(TokenKind::LParen, "after the block's name (its parameters)"))
    return false;
  std::map<std::string, SourceLoc> seen;
  while (!at(TokenKind::RParen)) {
    Parameter param;
    param.loc = cur().loc;
    auto paramName = expectName("a parameter name");
    if (!paramName)
      return false;
    param.name = *paramName;
    if (!seen.emplace(param.name, param.loc).second) {
      diags.error(param.loc) << "parameter '" << param.name
                             << "' appears twice in block '" << block.name
                             << "'";
      return failed = true, false;
    }
    if (at(TokenKind::Assign)) {
      take();
      param.defaultValue = parseExpr();
      if (!param.defaultValue)
        return false;
    } else if (!block.params.empty() && block.params.back().defaultValue) {
      diags.error(param.loc) << "parameter '" << param.name
                             << "' needs a default value: it follows one "
                                "that has a default";
      return failed = true, false;
    }
    block.params.push_back(std::move(param));
    if (!at(TokenKind::Comma))
      break;
    take();
  }
  if (!expect(TokenKind::RParen, "to close the block's parameters"))
    return false;
  if (!parseBody(block.body, "the block's body"))
    return false;
  model.blocks.push_back(std::move(block));
  return true;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

bool Parser::parseBody(Body &body, const llvm::Twine &context) {
  DepthGuard guard(*this, bodyDepth, kMaxBodyDepth, "blocks and loops");
  if (failed || !expect(TokenKind::LBrace, "to open " + context))
    return false;
  SourceLoc open = tokens[pos - 1].loc;
  skipNewlines();
  while (!at(TokenKind::RBrace)) {
    if (at(TokenKind::Eof)) {
      failWithNote("'{' is not closed; add a '}'", open, "opened here");
      return false;
    }
    if (atWord("block")) {
      fail("blocks are declared at the top level of the model, not inside "
           "another block or loop");
      return false;
    }
    StmtPtr stmt = parseStatement();
    if (!stmt)
      return false;
    body.push_back(std::move(stmt));
    skipNewlines();
  }
  take(); // '}'
  return !failed;
}

StmtPtr Parser::parseStatement() {
  SourceLoc loc = cur().loc;
  if (atWord("for")) {
    take();
    auto var = expectName("a loop variable after `for`");
    if (!var)
      return nullptr;
    if (!atWord("in"))
      return expected("`in` after the loop variable, as in `for f in [16, 32]`");
    take();
    ExprPtr iterable = parseExpr();
    Body body;
    if (!iterable || !parseBody(body, "the loop's body"))
      return nullptr;
    return std::make_unique<ForStmt>(loc, *var, std::move(iterable),
                                     std::move(body));
  }
  if (atWord("repeat")) {
    take();
    ExprPtr count = parseExpr();
    if (!count)
      return nullptr;
    std::string var;
    if (atWord("as")) {
      take();
      auto name = expectName("a counter name after `as`");
      if (!name)
        return nullptr;
      var = *name;
    }
    Body body;
    if (!parseBody(body, "the repeated body"))
      return nullptr;
    return std::make_unique<RepeatStmt>(loc, std::move(count), var,
                                        std::move(body));
  }
  if (atWord("if"))
    return parseIf();
  if (atWord("return")) {
    take();
    ExprPtr value = parseExpr();
    if (!value || !expectEndOfStatement())
      return nullptr;
    return std::make_unique<ReturnStmt>(loc, std::move(value));
  }
  if (at(TokenKind::Identifier) && peekAhead(1).is(TokenKind::Assign)) {
    auto name = expectName("a variable name");
    if (!name)
      return nullptr;
    take(); // '='
    skipLineBreaks();
    ExprPtr value = parseExpr();
    if (!value || !expectEndOfStatement())
      return nullptr;
    return std::make_unique<AssignStmt>(loc, *name, std::move(value));
  }
  if (atWord("else"))
    return fail("`else` without an `if`; it goes on the line of the `}` that "
                "closes the `if`");
  return expected("a statement (`name = ...`, `for`, `repeat`, `if` or "
                  "`return`)");
}

StmtPtr Parser::parseIf() {
  SourceLoc loc = take().loc; // 'if'
  ExprPtr cond = parseExpr();
  Body thenBody, elseBody;
  if (!cond || !parseBody(thenBody, "the `if` body"))
    return nullptr;
  if (atWord("else")) {
    take();
    if (atWord("if")) {
      StmtPtr nested = parseIf();
      if (!nested)
        return nullptr;
      elseBody.push_back(std::move(nested));
    } else if (!parseBody(elseBody, "the `else` body")) {
      return nullptr;
    }
  }
  return std::make_unique<IfStmt>(loc, std::move(cond), std::move(thenBody),
                                  std::move(elseBody));
}

//===----------------------------------------------------------------------===//
// The train block
//===----------------------------------------------------------------------===//

std::unique_ptr<TrainDecl> Parser::parseTrain() {
  auto train = std::make_unique<TrainDecl>();
  train->loc = take().loc; // 'train'
  if (!expect(TokenKind::LBrace, "to open the train block"))
    return nullptr;
  if (!parseRecipeEntries(train->entries))
    return nullptr;
  return train;
}

bool Parser::parseRecipeEntries(std::vector<RecipeEntry> &entries) {
  DepthGuard guard(*this, bodyDepth, kMaxBodyDepth, "train entries");
  SourceLoc open = tokens[pos - 1].loc;
  skipNewlines();
  while (!at(TokenKind::RBrace)) {
    if (failed)
      return false;
    if (at(TokenKind::Eof)) {
      failWithNote("'{' is not closed; add a '}'", open, "opened here");
      return false;
    }
    RecipeEntry entry;
    entry.loc = cur().loc;
    auto key = expectName("a train setting such as `batch`, `epochs`, "
                          "`optimizer` or `data`");
    if (!key)
      return false;
    entry.key = *key;
    if (!at(TokenKind::LBrace) && !at(TokenKind::Newline) &&
        !at(TokenKind::Semicolon) && !at(TokenKind::RBrace)) {
      do {
        if (!entry.values.empty()) {
          take(); // ','
          skipLineBreaks();
        }
        ExprPtr value = parseExpr();
        if (!value)
          return false;
        entry.values.push_back(std::move(value));
      } while (at(TokenKind::Comma));
    }
    if (at(TokenKind::LBrace)) {
      take();
      if (!parseRecipeEntries(entry.children))
        return false;
    }
    entries.push_back(std::move(entry));
    if (!expectEndOfStatement())
      return false;
    skipNewlines();
  }
  take(); // '}'
  return !failed;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ExprPtr Parser::parseExpr() {
  DepthGuard guard(*this, exprDepth, kMaxExprDepth, "expressions");
  if (failed)
    return nullptr;
  return parsePipe();
}

ExprPtr Parser::parsePipe() {
  ExprPtr lhs = parseTernary();
  ChainGuard chain(*this);
  while (lhs) {
    // A line that starts with `|>` continues the expression above it.
    size_t ahead = 0;
    while (peekAhead(ahead).is(TokenKind::Newline))
      ++ahead;
    if (!peekAhead(ahead).is(TokenKind::Pipe))
      return lhs;
    pos += ahead;
    SourceLoc loc = take().loc;
    if (!chain.link())
      return nullptr;
    skipLineBreaks();
    if (!at(TokenKind::Identifier))
      return expected("a layer or block after `|>`, as in `x |> bn` or "
                      "`x |> conv(16, 3)`");
    ExprPtr stage = parsePostfix();
    if (!stage)
      return nullptr;
    if (!llvm::isa<NameExpr, CallExpr>(stage.get())) {
      diags.error(stage->getLoc()) << "after `|>` comes a layer or block "
                                      "name, or a call of one";
      return failed = true, nullptr;
    }
    lhs = std::make_unique<PipeExpr>(loc, std::move(lhs), std::move(stage));
  }
  return lhs;
}

ExprPtr Parser::parseTernary() {
  ExprPtr cond = parseOr();
  if (!cond || !at(TokenKind::Question))
    return cond;
  SourceLoc loc = take().loc;
  skipLineBreaks();
  ExprPtr thenValue = parseExpr();
  if (!thenValue)
    return nullptr;
  skipLineBreaks();
  if (!expect(TokenKind::Colon, "in `condition ? a : b`"))
    return nullptr;
  skipLineBreaks();
  DepthGuard guard(*this, exprDepth, kMaxExprDepth, "expressions");
  ExprPtr elseValue = parseTernary();
  if (!elseValue)
    return nullptr;
  return std::make_unique<TernaryExpr>(loc, std::move(cond),
                                       std::move(thenValue),
                                       std::move(elseValue));
}

ExprPtr Parser::parseOr() {
  ExprPtr lhs = parseAnd();
  ChainGuard chain(*this);
  while (lhs && atWord("or")) {
    SourceLoc loc = take().loc;
    if (!chain.link())
      return nullptr;
    skipLineBreaks();
    ExprPtr rhs = parseAnd();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryOp::Or, std::move(lhs),
                                       std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseAnd() {
  ExprPtr lhs = parseNot();
  ChainGuard chain(*this);
  while (lhs && atWord("and")) {
    SourceLoc loc = take().loc;
    if (!chain.link())
      return nullptr;
    skipLineBreaks();
    ExprPtr rhs = parseNot();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryOp::And, std::move(lhs),
                                       std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseNot() {
  if (!atWord("not"))
    return parseComparison();
  SourceLoc loc = take().loc;
  DepthGuard guard(*this, exprDepth, kMaxExprDepth, "expressions");
  ExprPtr operand = parseNot();
  if (!operand)
    return nullptr;
  return std::make_unique<UnaryExpr>(loc, UnaryOp::Not, std::move(operand));
}

ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseAdditive();
  if (!lhs)
    return nullptr;
  static const std::map<TokenKind, BinaryOp> ops = {
      {TokenKind::Equal, BinaryOp::Eq},   {TokenKind::NotEqual, BinaryOp::Ne},
      {TokenKind::Less, BinaryOp::Lt},    {TokenKind::LessEqual, BinaryOp::Le},
      {TokenKind::Greater, BinaryOp::Gt}, {TokenKind::GreaterEqual, BinaryOp::Ge}};
  auto it = ops.find(cur().kind);
  if (it == ops.end())
    return lhs;
  SourceLoc loc = take().loc;
  skipLineBreaks();
  ExprPtr rhs = parseAdditive();
  if (!rhs)
    return nullptr;
  if (ops.count(cur().kind))
    return fail("comparisons do not chain; write `a < b and b < c`");
  return std::make_unique<BinaryExpr>(loc, it->second, std::move(lhs),
                                      std::move(rhs));
}

ExprPtr Parser::parseAdditive() {
  ExprPtr lhs = parseMultiplicative();
  ChainGuard chain(*this);
  while (lhs && (at(TokenKind::Plus) || at(TokenKind::Minus))) {
    BinaryOp op = at(TokenKind::Plus) ? BinaryOp::Add : BinaryOp::Sub;
    SourceLoc loc = take().loc;
    if (!chain.link())
      return nullptr;
    skipLineBreaks();
    ExprPtr rhs = parseMultiplicative();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseMultiplicative() {
  ExprPtr lhs = parseUnary();
  ChainGuard chain(*this);
  while (lhs && (at(TokenKind::Star) || at(TokenKind::Slash) ||
                 at(TokenKind::Percent))) {
    BinaryOp op = at(TokenKind::Star)    ? BinaryOp::Mul
                  : at(TokenKind::Slash) ? BinaryOp::Div
                                         : BinaryOp::Mod;
    SourceLoc loc = take().loc;
    if (!chain.link())
      return nullptr;
    skipLineBreaks();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  if (!at(TokenKind::Minus))
    return parsePostfix();
  SourceLoc loc = take().loc;
  DepthGuard guard(*this, exprDepth, kMaxExprDepth, "expressions");
  ExprPtr operand = parseUnary();
  if (!operand)
    return nullptr;
  return std::make_unique<UnaryExpr>(loc, UnaryOp::Negate, std::move(operand));
}

ExprPtr Parser::parsePostfix() {
  ExprPtr base = parsePrimary();
  ChainGuard chain(*this);
  while (base && at(TokenKind::LBracket)) {
    SourceLoc loc = take().loc;
    if (!chain.link())
      return nullptr;
    ExprPtr index = parseExpr();
    if (!index || !expect(TokenKind::RBracket, "to close the index"))
      return nullptr;
    base = std::make_unique<IndexExpr>(loc, std::move(base), std::move(index));
  }
  return base;
}

ExprPtr Parser::parsePrimary() {
  const Token &t = cur();
  switch (t.kind) {
  case TokenKind::Integer:
  case TokenKind::Float: {
    Token number = take();
    return std::make_unique<NumberExpr>(number.loc, number.text.str(),
                                        number.is(TokenKind::Integer),
                                        number.intValue, number.floatValue);
  }
  case TokenKind::String: {
    Token s = take();
    return std::make_unique<StringExpr>(s.loc, s.stringValue);
  }
  case TokenKind::LBracket: {
    SourceLoc loc = take().loc;
    std::vector<ExprPtr> elements;
    while (!at(TokenKind::RBracket)) {
      ExprPtr element = parseExpr();
      if (!element)
        return nullptr;
      elements.push_back(std::move(element));
      if (!at(TokenKind::Comma))
        break;
      take();
    }
    if (!expect(TokenKind::RBracket, "to close the list"))
      return nullptr;
    return std::make_unique<ListExpr>(loc, std::move(elements));
  }
  case TokenKind::LParen: {
    take();
    ExprPtr inner = parseExpr();
    if (!inner || !expect(TokenKind::RParen, "to close the parenthesis"))
      return nullptr;
    return inner;
  }
  case TokenKind::Identifier: {
    if (t.isWord("true") || t.isWord("false")) {
      Token b = take();
      return std::make_unique<BoolExpr>(b.loc, b.text == "true");
    }
    if (isReserved(t.text))
      return fail("expected a value, found the reserved word '" + t.text + "'");
    Token name = take();
    if (at(TokenKind::LParen))
      return parseCall(name);
    return std::make_unique<NameExpr>(name.loc, name.text.str());
  }
  default:
    return expected("a value (a number, a name, a call, a list or a string)");
  }
}

ExprPtr Parser::parseCall(Token callee) {
  take(); // '('
  std::vector<Argument> args;
  std::map<std::string, SourceLoc> named;
  while (!at(TokenKind::RParen)) {
    Argument arg;
    arg.loc = cur().loc;
    if (at(TokenKind::Identifier) && peekAhead(1).is(TokenKind::Assign)) {
      arg.name = take().text.str();
      take(); // '='
      if (!named.emplace(arg.name, arg.loc).second) {
        diags.error(arg.loc) << "argument '" << arg.name
                             << "' is given twice";
        return failed = true, nullptr;
      }
    } else if (!named.empty()) {
      return fail("a positional argument cannot follow a named one");
    }
    arg.value = parseExpr();
    if (!arg.value)
      return nullptr;
    args.push_back(std::move(arg));
    if (!at(TokenKind::Comma))
      break;
    take();
  }
  if (!expect(TokenKind::RParen,
              "to close the arguments of '" + callee.text + "'"))
    return nullptr;
  return std::make_unique<CallExpr>(callee.loc, callee.text.str(),
                                    std::move(args));
}

} // namespace

std::unique_ptr<File> resnetc::parseFile(llvm::StringRef source,
                                         const Diagnostics &diags) {
  Lexer lexer(source, diags);
  std::vector<Token> tokens;
  while (true) {
    tokens.push_back(lexer.next());
    if (tokens.back().is(TokenKind::Error))
      return nullptr;
    if (tokens.back().is(TokenKind::Eof))
      break;
  }
  return Parser(std::move(tokens), diags).parseFile();
}
