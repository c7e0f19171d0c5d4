//===- File.cpp - reading whole files -------------------------------------===//

#include "resnetrt/File.h"

#include "resnetrt/Error.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace resnetrt {

std::vector<uint8_t> readWholeFile(const std::string &path,
                                   std::string_view what) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    fail("{} {} is a directory; name a file", what, path);
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file)
    fail("cannot open {} {}: {}", what, path, std::strerror(errno));
  std::streamoff size = file.tellg();
  if (size < 0)
    fail("cannot read {} {}: it has no size (not a regular file?)", what,
         path);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char *>(bytes.data()),
                 std::streamsize(bytes.size())))
    fail("cannot read {} {}: {}", what, path, std::strerror(errno));
  return bytes;
}

} // namespace resnetrt
