//===- Image.cpp - PNG and JPEG files as model inputs ---------------------===//

#include "resnetrt/Image.h"

#include "resnetrt/Error.h"

#include <png.h>
// jpeglib.h needs FILE and size_t declared before it.
#include <cstdio>
#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>

namespace resnetrt {

/// Larger images are refused before any pixel is allocated.
static constexpr int64_t kMaxPixels = int64_t(1) << 28;

static RgbImage decodePng(const std::string &path,
                          const std::vector<uint8_t> &bytes) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
    fail("{}: not a PNG file libpng can read: {}", path, png.message);
  if (int64_t(png.width) * png.height > kMaxPixels) {
    png_image_free(&png);
    fail("{}: {}x{} pixels is larger than classify reads", path, png.width,
         png.height);
  }
  // RGBA, then the alpha dropped, as Keras's decode with channels=3 does
  // (asking libpng for RGB would blend transparent pixels into a background).
  png.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, rgba.data(), 0, nullptr))
    fail("{}: libpng cannot read it: {}", path, png.message);
  RgbImage image;
  image.width = int32_t(png.width);
  image.height = int32_t(png.height);
  image.pixels.resize(size_t(image.width) * image.height * 3);
  for (size_t i = 0, n = size_t(image.width) * image.height; i < n; ++i)
    std::memcpy(&image.pixels[3 * i], &rgba[4 * i], 3);
  return image;
}

namespace {
/// libjpeg reports errors through a callback that must not return.
struct JpegErrors {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" void jpegFailed(j_common_ptr info) {
  auto *errors = reinterpret_cast<JpegErrors *>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

extern "C" void jpegWarning(j_common_ptr, int) {}
} // namespace

static RgbImage decodeJpeg(const std::string &path,
                           const std::vector<uint8_t> &bytes) {
  RgbImage image;
  jpeg_decompress_struct info;
  JpegErrors errors;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpegFailed;
  errors.manager.emit_message = jpegWarning;
  // Only C frames lie between here and the longjmp, and `image` is declared
  // above, so nothing is left undestroyed.
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    fail("{}: libjpeg cannot read it: {}", path, errors.message);
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  if (int64_t(info.image_width) * info.image_height > kMaxPixels) {
    std::snprintf(errors.message, sizeof errors.message,
                  "%ux%u pixels is larger than classify reads",
                  info.image_width, info.image_height);
    std::longjmp(errors.jump, 1);
  }
  info.out_color_space = JCS_RGB;
  jpeg_start_decompress(&info);
  image.width = int32_t(info.output_width);
  image.height = int32_t(info.output_height);
  image.pixels.resize(size_t(image.width) * image.height * 3);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = &image.pixels[size_t(info.output_scanline) * image.width * 3];
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return image;
}

RgbImage decodeImage(const std::string &path,
                     const std::vector<uint8_t> &bytes) {
  static const uint8_t pngSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n',
                                         0x1a, '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), pngSignature, 8) == 0)
    return decodePng(path, bytes);
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 &&
      bytes[2] == 0xff)
    return decodeJpeg(path, bytes);
  fail("{} is neither a PNG nor a JPEG file", path);
}

std::vector<float> resizeImage(const RgbImage &image, int32_t height,
                               int32_t width, int32_t channels) {
  // Channels first, at the source size: both steps are linear, so their
  // order changes nothing but the work.
  const int64_t sourcePixels = int64_t(image.width) * image.height;
  std::vector<float> source(size_t(sourcePixels) * channels);
  for (int64_t i = 0; i < sourcePixels; ++i) {
    const uint8_t *rgb = &image.pixels[size_t(3 * i)];
    if (channels == 1)
      source[size_t(i)] =
          (0.2989f * rgb[0] + 0.5870f * rgb[1] + 0.1140f * rgb[2]) / 255.0f;
    else
      for (int c = 0; c < 3; ++c)
        source[size_t(3 * i + c)] = rgb[c] / 255.0f;
  }
  return resizeBilinear(source.data(), image.height, image.width, channels,
                        height, width);
}

std::vector<float> resizeBilinear(const float *source, int32_t sourceHeight,
                                  int32_t sourceWidth, int32_t channels,
                                  int32_t height, int32_t width) {
  // Output pixel centre y + 0.5 maps to source y' = (y + 0.5) * scale - 0.5,
  // clamped to the image; the two nearest rows and columns are blended.
  auto taps = [](int32_t out, int32_t in) {
    std::vector<std::pair<int32_t, float>> lower(static_cast<size_t>(out));
    const float scale = float(in) / float(out);
    for (int32_t o = 0; o < out; ++o) {
      float position =
          std::clamp((float(o) + 0.5f) * scale - 0.5f, 0.0f, float(in - 1));
      int32_t low = std::min(int32_t(position), in - 1);
      lower[size_t(o)] = {low, position - float(low)};
    }
    return lower;
  };
  auto rows = taps(height, sourceHeight), columns = taps(width, sourceWidth);
  std::vector<float> out(size_t(height) * width * channels);
  for (int32_t y = 0; y < height; ++y) {
    auto [y0, fy] = rows[size_t(y)];
    int32_t y1 = std::min(y0 + 1, sourceHeight - 1);
    for (int32_t x = 0; x < width; ++x) {
      auto [x0, fx] = columns[size_t(x)];
      int32_t x1 = std::min(x0 + 1, sourceWidth - 1);
      for (int32_t c = 0; c < channels; ++c) {
        auto at = [&](int32_t sy, int32_t sx) {
          return source[(size_t(sy) * sourceWidth + sx) * channels + c];
        };
        float top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
        float bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
        out[(size_t(y) * width + x) * channels + c] =
            top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

} // namespace resnetrt
