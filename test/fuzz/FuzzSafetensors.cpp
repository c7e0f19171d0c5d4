//===- FuzzSafetensors.cpp - libFuzzer target: the safetensors reader -----===//
//
// The input is the file. A bad file must end in resnetrt::Error; an
// accepted one must be consistent (each tensor's bytes fit its dtype and
// shape) and must serialize to a file that parses to the same tensors.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Error.h"
#include "resnetrt/Safetensors.h"

#include <cstdlib>

using namespace resnetrt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Safetensors file;
  try {
    file = parseSafetensors("fuzz.safetensors",
                            std::vector<uint8_t>(data, data + size));
  } catch (const Error &) {
    return 0;
  }
  std::vector<std::pair<std::string, StoredTensor>> tensors(
      file.tensors.begin(), file.tensors.end());
  std::string again = serializeSafetensors(tensors, file.metadata);
  Safetensors back = parseSafetensors(
      "again.safetensors", std::vector<uint8_t>(again.begin(), again.end()));
  if (back.metadata != file.metadata ||
      back.tensors.size() != file.tensors.size())
    std::abort();
  for (const auto &[name, tensor] : file.tensors) {
    const StoredTensor &other = back.tensors.at(name);
    if (other.dtype != tensor.dtype || other.shape != tensor.shape ||
        other.data != tensor.data)
      std::abort();
  }
  return 0;
}
