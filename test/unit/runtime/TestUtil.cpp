//===- TestUtil.cpp - files and runs for runtime tests --------------------===//

#include "TestUtil.h"

#include "resnetrt/Classify.h"
#include "resnetrt/Random.h"
#include "resnetrt/Trainer.h"

#include <png.h>
#include <zlib.h>
// jpeglib.h needs FILE and size_t declared before it.
#include <cstdio>
#include <jpeglib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace resnetrt::test {

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes,
               bool gzip) {
  if (gzip) {
    gzFile file = gzopen(path.c_str(), "wb");
    gzwrite(file, bytes.data(), unsigned(bytes.size()));
    gzclose(file);
    return;
  }
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char *>(bytes.data()),
             std::streamsize(bytes.size()));
}

Images syntheticImages(int64_t count, int32_t height, int32_t width,
                       int32_t channels, int32_t classes, uint64_t seed) {
  Images images{height, width, channels, {}, {}};
  Rng rng(seed);
  size_t pixels = size_t(height) * width * channels;
  images.pixels.resize(size_t(count) * pixels);
  for (int64_t n = 0; n < count; ++n) {
    auto label = int32_t(rng.below(uint64_t(classes)));
    images.labels.push_back(uint8_t(label));
    uint8_t *image = images.pixels.data() + n * pixels;
    for (int32_t y = 0; y < height; ++y)
      for (int32_t x = 0; x < width; ++x)
        for (int32_t c = 0; c < channels; ++c) {
          bool band = y * classes / height == label && c == label % channels;
          image[(size_t(y) * width + x) * channels + c] =
              uint8_t(rng.below(96) + (band ? 150 : 0));
        }
  }
  return images;
}

static void appendBigEndian(std::vector<uint8_t> &bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(uint8_t(value >> shift));
}

std::vector<uint8_t> idxImages(const Images &images) {
  std::vector<uint8_t> bytes;
  appendBigEndian(bytes, 0x803);
  appendBigEndian(bytes, uint32_t(images.labels.size()));
  appendBigEndian(bytes, uint32_t(images.height));
  appendBigEndian(bytes, uint32_t(images.width));
  bytes.insert(bytes.end(), images.pixels.begin(), images.pixels.end());
  return bytes;
}

std::vector<uint8_t> idxLabels(const Images &images) {
  std::vector<uint8_t> bytes;
  appendBigEndian(bytes, 0x801);
  appendBigEndian(bytes, uint32_t(images.labels.size()));
  bytes.insert(bytes.end(), images.labels.begin(), images.labels.end());
  return bytes;
}

void writeMnist(const std::string &dir, int64_t trainCount, int64_t testCount,
                bool gzip) {
  std::string suffix = gzip ? ".gz" : "";
  Images train = syntheticImages(trainCount, 28, 28, 1, 10, 1);
  Images test = syntheticImages(testCount, 28, 28, 1, 10, 2);
  writeFile(dir + "/train-images-idx3-ubyte" + suffix, idxImages(train), gzip);
  writeFile(dir + "/train-labels-idx1-ubyte" + suffix, idxLabels(train), gzip);
  writeFile(dir + "/t10k-images-idx3-ubyte" + suffix, idxImages(test), gzip);
  writeFile(dir + "/t10k-labels-idx1-ubyte" + suffix, idxLabels(test), gzip);
}

std::vector<uint8_t> cifarRecords(const Images &images, bool cifar100) {
  std::vector<uint8_t> bytes;
  const size_t planes = 32 * 32;
  for (size_t n = 0; n < images.labels.size(); ++n) {
    if (cifar100)
      bytes.push_back(images.labels[n] / 5); // coarse label
    bytes.push_back(images.labels[n]);
    const uint8_t *image = images.pixels.data() + n * 3 * planes;
    for (size_t c = 0; c < 3; ++c)
      for (size_t p = 0; p < planes; ++p)
        bytes.push_back(image[p * 3 + c]);
  }
  return bytes;
}

void writeCifar10(const std::string &dir, int64_t perBatch) {
  for (int b = 1; b <= 5; ++b)
    writeFile(dir + "/data_batch_" + std::to_string(b) + ".bin",
              cifarRecords(syntheticImages(perBatch, 32, 32, 3, 10, b), false));
  writeFile(dir + "/test_batch.bin",
            cifarRecords(syntheticImages(perBatch, 32, 32, 3, 10, 9), false));
}

void writeCifar100(const std::string &dir, int64_t trainCount,
                   int64_t testCount) {
  writeFile(dir + "/train.bin",
            cifarRecords(syntheticImages(trainCount, 32, 32, 3, 100, 1), true));
  writeFile(dir + "/test.bin",
            cifarRecords(syntheticImages(testCount, 32, 32, 3, 100, 2), true));
}

std::string RunResult::lastLine() const {
  std::string text = out;
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

/// Runs an entry point like runTrain, capturing what it prints.
template <typename Run>
static RunResult capture(Run run, const rn_program &program,
                         const std::vector<std::string> &args) {
  char *outText = nullptr, *errText = nullptr;
  size_t outSize = 0, errSize = 0;
  FILE *out = open_memstream(&outText, &outSize);
  FILE *err = open_memstream(&errText, &errSize);
  int status = run(program, args, out, err);
  std::fclose(out);
  std::fclose(err);
  RunResult result{status, std::string(outText, outSize),
                   std::string(errText, errSize)};
  std::free(outText);
  std::free(errText);
  return result;
}

RunResult runTrain(const rn_program &program,
                   const std::vector<std::string> &args) {
  return capture(resnetrt::runTrain, program, args);
}

RunResult runClassify(const rn_program &program,
                      const std::vector<std::string> &args) {
  return capture(resnetrt::runClassify, program, args);
}

std::optional<double> jsonNumber(const std::string &json,
                                 const std::string &key) {
  std::smatch match;
  if (!std::regex_search(json, match,
                         std::regex("\"" + key + "\":(-?[0-9.eE+-]+)")))
    return std::nullopt;
  return std::stod(match[1]);
}

std::vector<uint8_t> pngFile(int width, int height, uint32_t format,
                         const std::vector<uint8_t> &pixels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = uint32_t(width);
  image.height = uint32_t(height);
  image.format = format;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(image, size, 0, pixels.data(), 0,
                                       nullptr))
    throw std::runtime_error(image.message);
  std::vector<uint8_t> bytes(size);
  if (!png_image_write_to_memory(&image, bytes.data(), &size, 0,
                                 pixels.data(), 0, nullptr))
    throw std::runtime_error(image.message);
  bytes.resize(size);
  return bytes;
}

std::vector<uint8_t> jpegFile(int width, int height,
                          const std::vector<uint8_t> &pixels) {
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char *buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = JDIMENSION(width);
  info.image_height = JDIMENSION(height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 100, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(
        &pixels[size_t(info.next_scanline) * width * 3]);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

} // namespace resnetrt::test
