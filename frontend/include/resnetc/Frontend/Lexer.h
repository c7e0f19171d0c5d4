//===- Lexer.h - tokens of the resnetc DSL -----------------------*- C++ -*-===//
//
// Splits a model file into tokens. Newlines end statements, except inside
// parentheses and brackets, where they are spaces. Comments run from `#` to
// the end of the line.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_LEXER_H
#define RESNETC_FRONTEND_LEXER_H

#include "resnetc/Frontend/Diagnostics.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace resnetc {

enum class TokenKind {
  Eof,
  Newline,
  Identifier,
  Integer,
  Float,
  String,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Semicolon,
  Colon,
  Question,
  Assign,    // =
  Pipe,      // |>
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Equal,     // ==
  NotEqual,  // !=
  Less,
  LessEqual,
  Greater,
  GreaterEqual,
  Error,     // a diagnostic has been emitted
};

/// How a token kind reads in a message: "')'", "a number", "end of file".
llvm::StringRef describe(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::Eof;
  SourceLoc loc;
  llvm::StringRef text;   ///< The token's bytes in the source.
  std::string stringValue; ///< The unescaped value of a String.
  int64_t intValue = 0;
  double floatValue = 0;

  bool is(TokenKind k) const { return kind == k; }
  bool isWord(llvm::StringRef word) const {
    return kind == TokenKind::Identifier && text == word;
  }
};

class Lexer {
public:
  Lexer(llvm::StringRef source, const Diagnostics &diags)
      : source(source), diags(diags) {}

  /// The next token. After an error it returns TokenKind::Error, then Eof.
  Token next();

private:
  Token make(TokenKind kind, size_t start, SourceLoc at);
  Token error(SourceLoc at, const llvm::Twine &message);
  Token lexNumber(size_t start, SourceLoc at);
  Token lexString(size_t start, SourceLoc at);
  void skipSpaceAndComments();
  char peek(size_t ahead = 0) const {
    return pos + ahead < source.size() ? source[pos + ahead] : '\0';
  }
  void advance();

  llvm::StringRef source;
  const Diagnostics &diags;
  size_t pos = 0;
  SourceLoc here;
  int bracketDepth = 0; ///< Open ( and [: newlines inside are spaces.
  bool failed = false;
};

} // namespace resnetc

#endif // RESNETC_FRONTEND_LEXER_H
