//===- TempDir.h - a temporary directory for tests -------------*- C++ -*-===//
//
// Shared by the unit test suites (runtime and kernels): a fresh directory,
// removed with everything in it when destroyed.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TEST_TEMPDIR_H
#define RESNETC_TEST_TEMPDIR_H

#include <string>

namespace resnetc::test {

class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return dir; }
  std::string operator/(const std::string &name) const {
    return dir + "/" + name;
  }

private:
  std::string dir;
};

} // namespace resnetc::test

#endif // RESNETC_TEST_TEMPDIR_H
