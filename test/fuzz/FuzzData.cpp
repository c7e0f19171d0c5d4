//===- FuzzData.cpp - libFuzzer targets: the IDX and CIFAR readers --------===//
//
// Built twice: FUZZ_IDX reads [u16 split][image file][label file], each
// part inflated if it is gzip, as train reads Fashion-MNIST; FUZZ_CIFAR
// reads [u8 kind][file], kind's low bit choosing CIFAR-10 or CIFAR-100.
// Bad data must end in resnetrt::Error, nothing else; accepted data must be
// consistent (every label in range, the pixels all there).
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Data.h"
#include "resnetrt/Error.h"

#include <cstdlib>

using namespace resnetrt;

static void check(const Dataset &data) {
  if (data.pixels.size() != size_t(data.size()) * data.imageBytes())
    std::abort();
  for (int32_t label : data.labels)
    if (label < 0 || label >= data.numClasses)
      std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  try {
#ifdef FUZZ_IDX
    size_t split = std::min<size_t>(size - 2, data[0] | data[1] << 8);
    const uint8_t *rest = data + 2;
    std::vector<uint8_t> images =
        decodeDataFile("images", {rest, rest + split});
    std::vector<uint8_t> labels =
        decodeDataFile("labels", {rest + split, data + size});
    check(parseIdx("images", images, "labels", labels));
#else
    DataFormat format = data[0] & 1 ? DataFormat::Cifar100 : DataFormat::Cifar10;
    Dataset dataset = emptyCifar(format);
    appendCifar(dataset, "records", decodeDataFile("records", {data + 1, data + size}),
                format);
    check(dataset);
#endif
  } catch (const Error &) {
  }
  return 0;
}
