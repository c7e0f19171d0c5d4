//===- TestUtil.h - files and runs for runtime tests ------------*- C++ -*-===//
//
// Tests make their own small data sets in the real formats (IDX, plain and
// gzip; CIFAR binary) in a temporary directory, run `train` or `classify`
// in-process on a test program, and read what it printed.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_TEST_TESTUTIL_H
#define RESNETRT_TEST_TESTUTIL_H

#include "TempDir.h"
#include "resnetrt/Program.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace resnetrt::test {

using resnetc::test::TempDir;

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes,
               bool gzip = false);

/// Images whose class is learnable: class k lights up its own band of
/// rows (and channel k % C), over uniform noise. [count, H, W, C] u8.
struct Images {
  int32_t height, width, channels;
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;
};
Images syntheticImages(int64_t count, int32_t height, int32_t width,
                       int32_t channels, int32_t classes, uint64_t seed);

/// IDX files (header and payload) for images and labels.
std::vector<uint8_t> idxImages(const Images &images);
std::vector<uint8_t> idxLabels(const Images &images);

/// Writes MNIST-style IDX files of 28x28 images into `dir`.
void writeMnist(const std::string &dir, int64_t trainCount, int64_t testCount,
                bool gzip);
/// CIFAR-10 records (label byte, then R, G, B planes) of `images`.
std::vector<uint8_t> cifarRecords(const Images &images, bool cifar100);
/// Writes the six CIFAR-10 files, `perBatch` images in each.
void writeCifar10(const std::string &dir, int64_t perBatch);
/// Writes CIFAR-100's train.bin and test.bin.
void writeCifar100(const std::string &dir, int64_t trainCount,
                   int64_t testCount);

/// A PNG of `pixels` in libpng's `format` (PNG_FORMAT_RGB, _RGBA, _GRAY),
/// made by libpng.
std::vector<uint8_t> pngFile(int width, int height, uint32_t format,
                             const std::vector<uint8_t> &pixels);
/// A JPEG of RGB `pixels` at quality 100, made by libjpeg.
std::vector<uint8_t> jpegFile(int width, int height,
                              const std::vector<uint8_t> &pixels);

/// What a run of train printed and returned.
struct RunResult {
  int status;
  std::string out, err;
  /// The last line of out.
  std::string lastLine() const;
};
RunResult runTrain(const rn_program &program,
                   const std::vector<std::string> &args);
RunResult runClassify(const rn_program &program,
                      const std::vector<std::string> &args);

/// Checks that `text` contains `part`, showing both when it does not.
#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "\"" << (text) << "\" lacks \"" << (part) << "\""

/// The number under "key" in a one-line JSON object.
std::optional<double> jsonNumber(const std::string &json,
                                 const std::string &key);

} // namespace resnetrt::test

#endif // RESNETRT_TEST_TESTUTIL_H
