//===- File.cpp - reading whole files -------------------------------------===//

#include "resnetrt/File.h"

#include "resnetrt/Error.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

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

void writeFileAtomically(const std::string &path, std::string_view bytes,
                         std::string_view what) {
  std::string temporary = fmt::format("{}.tmp.{}", path, getpid());
  FILE *file = std::fopen(temporary.c_str(), "wb");
  if (!file)
    fail("cannot write {} {}: {}", what, path, std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size() &&
            std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  int error = errno;
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (ok && std::rename(temporary.c_str(), path.c_str()) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    std::remove(temporary.c_str());
    fail("cannot write {} {}: {}", what, path, std::strerror(error));
  }
}

} // namespace resnetrt
