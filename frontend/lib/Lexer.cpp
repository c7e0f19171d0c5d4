//===- Lexer.cpp - tokens of the resnetc DSL --------------------------------===//

#include "resnetc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace resnetc;

llvm::StringRef resnetc::describe(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Newline:
    return "end of line";
  case TokenKind::Identifier:
    return "a name";
  case TokenKind::Integer:
  case TokenKind::Float:
    return "a number";
  case TokenKind::String:
    return "a string";
  case TokenKind::LParen:
    return "'('";
  case TokenKind::RParen:
    return "')'";
  case TokenKind::LBracket:
    return "'['";
  case TokenKind::RBracket:
    return "']'";
  case TokenKind::LBrace:
    return "'{'";
  case TokenKind::RBrace:
    return "'}'";
  case TokenKind::Comma:
    return "','";
  case TokenKind::Semicolon:
    return "';'";
  case TokenKind::Colon:
    return "':'";
  case TokenKind::Question:
    return "'?'";
  case TokenKind::Assign:
    return "'='";
  case TokenKind::Pipe:
    return "'|>'";
  case TokenKind::Plus:
    return "'+'";
  case TokenKind::Minus:
    return "'-'";
  case TokenKind::Star:
    return "'*'";
  case TokenKind::Slash:
    return "'/'";
  case TokenKind::Percent:
    return "'%'";
  case TokenKind::Equal:
    return "'=='";
  case TokenKind::NotEqual:
    return "'!='";
  case TokenKind::Less:
    return "'<'";
  case TokenKind::LessEqual:
    return "'<='";
  case TokenKind::Greater:
    return "'>'";
  case TokenKind::GreaterEqual:
    return "'>='";
  case TokenKind::Error:
    return "an error";
  }
  return "a token";
}

void Lexer::advance() {
  if (pos >= source.size())
    return;
  if (source[pos] == '\n') {
    ++here.line;
    here.col = 1;
  } else {
    ++here.col;
  }
  ++pos;
}

Token Lexer::make(TokenKind kind, size_t start, SourceLoc at) {
  Token token;
  token.kind = kind;
  token.loc = at;
  token.text = source.slice(start, pos);
  return token;
}

Token Lexer::error(SourceLoc at, const llvm::Twine &message) {
  diags.error(at) << message.str();
  failed = true;
  Token token;
  token.kind = TokenKind::Error;
  token.loc = at;
  return token;
}

void Lexer::skipSpaceAndComments() {
  while (pos < source.size()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' ||
        (c == '\n' && bracketDepth > 0)) {
      advance();
    } else if (c == '#') {
      while (pos < source.size() && peek() != '\n')
        advance();
    } else {
      return;
    }
  }
}

/// Decodes the UTF-8 character at `text` for a message, as "U+00E9".
static std::string describeCharacter(llvm::StringRef text) {
  auto byte = [&](size_t i) { return (unsigned char)text[i]; };
  unsigned c = byte(0), code = c;
  size_t length = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
  if (length > 1 && length <= text.size()) {
    code = c & (0xff >> (length + 1));
    for (size_t i = 1; i < length; ++i)
      code = (code << 6) | (byte(i) & 0x3f);
  }
  std::string result;
  llvm::raw_string_ostream os(result);
  if (code >= 0x20 && code < 0x7f)
    os << "'" << char(code) << "'";
  else
    os << llvm::format("U+%04X", code);
  return result;
}

Token Lexer::next() {
  if (failed)
    return make(TokenKind::Eof, pos, here);
  skipSpaceAndComments();
  size_t start = pos;
  SourceLoc at = here;
  if (pos >= source.size())
    return make(TokenKind::Eof, start, at);

  char c = peek();
  if (c == '\n') {
    // One Newline token for any run of blank or comment-only lines.
    while (pos < source.size() && peek() == '\n') {
      advance();
      skipSpaceAndComments();
    }
    Token token = make(TokenKind::Newline, start, at);
    token.text = source.substr(start, 1);
    return token;
  }
  if (llvm::isAlpha(c) || c == '_') {
    while (llvm::isAlnum(peek()) || peek() == '_')
      advance();
    return make(TokenKind::Identifier, start, at);
  }
  if (llvm::isDigit(c) || (c == '.' && llvm::isDigit(peek(1))))
    return lexNumber(start, at);
  if (c == '"')
    return lexString(start, at);

  auto single = [&](TokenKind kind) {
    advance();
    return make(kind, start, at);
  };
  auto pair = [&](char second, TokenKind two, TokenKind one) {
    advance();
    if (peek() == second) {
      advance();
      return make(two, start, at);
    }
    return make(one, start, at);
  };
  switch (c) {
  case '(':
  case '[':
    ++bracketDepth;
    return single(c == '(' ? TokenKind::LParen : TokenKind::LBracket);
  case ')':
  case ']':
    if (bracketDepth > 0)
      --bracketDepth;
    return single(c == ')' ? TokenKind::RParen : TokenKind::RBracket);
  case '{':
    return single(TokenKind::LBrace);
  case '}':
    return single(TokenKind::RBrace);
  case ',':
    return single(TokenKind::Comma);
  case ';':
    return single(TokenKind::Semicolon);
  case ':':
    return single(TokenKind::Colon);
  case '?':
    return single(TokenKind::Question);
  case '+':
    return single(TokenKind::Plus);
  case '-':
    return single(TokenKind::Minus);
  case '*':
    return single(TokenKind::Star);
  case '/':
    return single(TokenKind::Slash);
  case '%':
    return single(TokenKind::Percent);
  case '=':
    return pair('=', TokenKind::Equal, TokenKind::Assign);
  case '<':
    return pair('=', TokenKind::LessEqual, TokenKind::Less);
  case '>':
    return pair('=', TokenKind::GreaterEqual, TokenKind::Greater);
  case '!':
    if (peek(1) == '=') {
      advance();
      advance();
      return make(TokenKind::NotEqual, start, at);
    }
    return error(at, "unexpected '!'; write `not x` for negation and `!=` "
                     "for inequality");
  case '|':
    if (peek(1) == '>') {
      advance();
      advance();
      return make(TokenKind::Pipe, start, at);
    }
    return error(at, "unexpected '|'; the pipe operator is `|>`");
  default:
    break;
  }
  return error(at, "unexpected character " +
                       describeCharacter(source.substr(pos)) +
                       " in a model file");
}

Token Lexer::lexNumber(size_t start, SourceLoc at) {
  bool isFloat = false;
  while (llvm::isDigit(peek()))
    advance();
  if (peek() == '.' && llvm::isDigit(peek(1))) {
    isFloat = true;
    advance();
    while (llvm::isDigit(peek()))
      advance();
  } else if (peek() == '.' && !llvm::isAlpha(peek(1))) {
    isFloat = true; // "1." is a float
    advance();
  }
  if (peek() == 'e' || peek() == 'E') {
    size_t sign = (peek(1) == '+' || peek(1) == '-') ? 1 : 0;
    if (llvm::isDigit(peek(1 + sign))) {
      isFloat = true;
      advance();
      if (sign)
        advance();
      while (llvm::isDigit(peek()))
        advance();
    }
  }
  if (llvm::isAlpha(peek()) || peek() == '_')
    return error(here, "unexpected " + describeCharacter(source.substr(pos)) +
                           " after the number '" +
                           source.slice(start, pos).str() + "'");

  Token token = make(isFloat ? TokenKind::Float : TokenKind::Integer, start, at);
  std::string text = token.text.str();
  errno = 0;
  if (isFloat) {
    token.floatValue = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE || !std::isfinite(token.floatValue))
      return error(at, "number " + text + " is out of range");
  } else {
    token.intValue = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE)
      return error(at, "integer " + text + " is too large (the limit is " +
                           std::to_string(INT64_MAX) + ")");
  }
  return token;
}

Token Lexer::lexString(size_t start, SourceLoc at) {
  advance(); // opening quote
  std::string value;
  while (true) {
    if (pos >= source.size() || peek() == '\n')
      return error(at, "string is not closed; add a '\"' before the end of "
                       "the line");
    char c = peek();
    if (c == '"')
      break;
    if (c == '\\') {
      SourceLoc escapeAt = here;
      advance();
      char e = peek();
      if (e == 'n')
        value += '\n';
      else if (e == 't')
        value += '\t';
      else if (e == '"' || e == '\\')
        value += e;
      else
        return error(escapeAt, "unknown escape in a string; use \\\", \\\\, "
                               "\\n or \\t");
      advance();
      continue;
    }
    value += c;
    advance();
  }
  advance(); // closing quote
  Token token = make(TokenKind::String, start, at);
  token.stringValue = std::move(value);
  return token;
}
