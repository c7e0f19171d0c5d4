//===- Parser.h - model file to syntax tree ---------------------*- C++ -*-===//
//
// A recursive-descent parser for the resnetc DSL (grammar in docs/dsl.md).
// It stops at the first error, which it reports through Diagnostics; nesting
// is bounded so that no input can exhaust the stack.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_PARSER_H
#define RESNETC_FRONTEND_PARSER_H

#include "resnetc/Frontend/AST.h"

#include <memory>

namespace resnetc {

/// Parses `source` (already checked to be text, see Source.h). Returns null
/// after reporting an error.
std::unique_ptr<ast::File> parseFile(llvm::StringRef source,
                                     const Diagnostics &diags);

} // namespace resnetc

#endif // RESNETC_FRONTEND_PARSER_H
