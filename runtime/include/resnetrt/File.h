//===- File.h - reading whole files -----------------------------*- C++ -*-===//
//
// Data files and checkpoints are read whole: they are parsed from memory,
// which keeps every size check a comparison with the buffer's length. Small
// outputs (curves, exported weights) are written whole, atomically.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_FILE_H
#define RESNETRT_FILE_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resnetrt {

/// The bytes of the file at `path`; throws an Error that names `what` (e.g.
/// "checkpoint") and the path when it cannot be read.
std::vector<uint8_t> readWholeFile(const std::string &path,
                                   std::string_view what);

/// Writes `bytes` to `path` through a temporary file beside it, renamed
/// over it once complete and synced: a reader sees the old file or the new
/// one, never part of one. Throws an Error naming `what` on failure, leaving
/// the old file as it was.
void writeFileAtomically(const std::string &path, std::string_view bytes,
                         std::string_view what);

} // namespace resnetrt

#endif // RESNETRT_FILE_H
