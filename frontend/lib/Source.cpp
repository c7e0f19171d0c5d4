//===- Source.cpp - reading a model file -------------------------------------===//

#include "resnetc/Frontend/Source.h"

#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

using namespace resnetc;

/// Line and column of byte `offset` of `text`.
static SourceLoc locationOf(llvm::StringRef text, size_t offset) {
  SourceLoc at;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.col = 1;
    } else {
      ++at.col;
    }
  }
  return at;
}

/// Offset of the first byte that keeps `text` from being UTF-8 text without
/// NUL bytes, or npos.
static size_t firstNonTextByte(llvm::StringRef text) {
  size_t nul = text.find('\0');
  const auto *begin = reinterpret_cast<const llvm::UTF8 *>(text.data());
  const auto *cursor = begin;
  const auto *end = begin + (nul == llvm::StringRef::npos ? text.size() : nul);
  while (cursor < end) {
    unsigned length = llvm::getNumBytesForUTF8(*cursor);
    if (cursor + length > end || !llvm::isLegalUTF8Sequence(cursor, cursor + length))
      return size_t(cursor - begin);
    cursor += length;
  }
  return nul;
}

/// Reports a problem with the file as a whole. MLIR's diagnostic handler
/// would reopen the file to quote its line, which for a binary or huge file
/// is noise, so this prints the location and message alone.
static void reportFileError(const Diagnostics &diags, SourceLoc at,
                            const llvm::Twine &message) {
  llvm::errs() << diags.getFilename() << ":" << at.line << ":" << at.col
               << ": ";
  llvm::WithColor::error(llvm::errs(), "") << message << "\n";
}

std::optional<llvm::StringRef> resnetc::loadModelFile(llvm::StringRef path,
                                                     llvm::SourceMgr &sourceMgr,
                                                     const Diagnostics &diags) {
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/true);
  if (std::error_code ec = buffer.getError()) {
    llvm::errs() << "error: cannot read '" << path << "': " << ec.message()
                 << "\n";
    return std::nullopt;
  }
  llvm::StringRef text = (*buffer)->getBuffer();
  // Oversized and binary files are reported without echoing their bytes.
  if (text.size() > kMaxSourceBytes) {
    reportFileError(diags, SourceLoc{},
                    "this file has " + llvm::Twine(text.size()) +
                        " bytes, but a model file has at most " +
                        llvm::Twine(kMaxSourceBytes) +
                        "; is it the model you meant to compile?");
    return std::nullopt;
  }
  size_t bad = firstNonTextByte(text);
  if (bad != llvm::StringRef::npos) {
    char hex[8];
    snprintf(hex, sizeof(hex), "0x%02x", (unsigned char)text[bad]);
    reportFileError(diags, locationOf(text, bad),
                    "this is not a text file (byte " + llvm::Twine(hex) +
                        " at offset " + llvm::Twine(bad) +
                        "); a model file is UTF-8 text in the resnetc DSL");
    return std::nullopt;
  }
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  return text;
}
