//===- FuzzCheckpoint.cpp - libFuzzer target: the checkpoint reader -------===//
//
// [u8 mode][file]: with mode's low bit set the target appends the file's
// CRC-32 itself, so the fuzzer reaches the parser behind the checksum (a
// hostile file can carry a right checksum too). A bad file must end in
// resnetrt::Error; an accepted one must be consistent.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Checkpoint.h"
#include "resnetrt/Error.h"

#include <zlib.h>

#include <cstdlib>

using namespace resnetrt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  std::vector<uint8_t> file(data + 1, data + size);
  if (data[0] & 1) {
    uint32_t crc =
        uint32_t(crc32_z(crc32_z(0, nullptr, 0), file.data(), file.size()));
    for (int i = 0; i < 4; ++i)
      file.push_back(uint8_t(crc >> (8 * i)));
  }
  try {
    Checkpoint checkpoint = parseCheckpoint("fuzz.ckpt", std::move(file));
    for (const StoredVariable &variable : checkpoint.variables) {
      size_t elements = 1;
      for (int64_t extent : variable.shape)
        elements *= size_t(extent);
      if (elements != variable.values.size())
        std::abort();
    }
  } catch (const Error &) {
  }
  return 0;
}
