//===- Source.h - reading a model file --------------------------*- C++ -*-===//
//
// Loads a model file into the SourceMgr that diagnostics print from, after
// checking that it is what a model file can be: readable, at most
// kMaxSourceBytes, and text (UTF-8 without NUL bytes).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_SOURCE_H
#define RESNETC_FRONTEND_SOURCE_H

#include "resnetc/Frontend/Diagnostics.h"

#include "llvm/Support/SourceMgr.h"

#include <optional>

namespace resnetc {

/// Model files are small; anything larger is a mistake (a data file, a
/// generated blob) that is reported instead of parsed.
constexpr size_t kMaxSourceBytes = 1 << 20;

/// Reads `path` ("-" for standard input) into `sourceMgr` and returns its
/// text, or reports why it cannot be a model file.
std::optional<llvm::StringRef> loadModelFile(llvm::StringRef path,
                                             llvm::SourceMgr &sourceMgr,
                                             const Diagnostics &diags);

} // namespace resnetc

#endif // RESNETC_FRONTEND_SOURCE_H
