//===- File.h - reading whole files -----------------------------*- C++ -*-===//
//
// Data files and checkpoints are read whole: they are parsed from memory,
// which keeps every size check a comparison with the buffer's length.
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

} // namespace resnetrt

#endif // RESNETRT_FILE_H
