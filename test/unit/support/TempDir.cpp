//===- TempDir.cpp - a temporary directory for tests ----------------------===//

#include "TempDir.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace resnetc::test {

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "resnetc-test-XXXXXX").string();
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("cannot create a temporary directory in " +
                             std::filesystem::temp_directory_path().string());
  dir = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

} // namespace resnetc::test
