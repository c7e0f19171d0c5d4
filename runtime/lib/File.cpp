//===- File.cpp - reading whole files -------------------------------------===//

#include "resnetrt/File.h"

#include "resnetrt/Error.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace resnetrt {

std::vector<uint8_t> readWholeFile(const std::string &path,
                                   std::string_view what) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file)
    fail("cannot open {} {}: {}", what, path, std::strerror(errno));
  std::vector<uint8_t> bytes(size_t(file.tellg()));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char *>(bytes.data()),
                 std::streamsize(bytes.size())))
    fail("cannot read {} {}: {}", what, path, std::strerror(errno));
  return bytes;
}

} // namespace resnetrt
