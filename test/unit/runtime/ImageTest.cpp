//===- ImageTest.cpp - PNG and JPEG decoding, resizing --------------------===//
//
// The files are made here with libpng's and libjpeg's own writers.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "resnetrt/Error.h"
#include "resnetrt/Image.h"

#include <gtest/gtest.h>

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

std::vector<uint8_t> randomPixels(size_t count, unsigned seed) {
  std::vector<uint8_t> pixels(count);
  for (uint8_t &p : pixels)
    p = uint8_t(rand_r(&seed));
  return pixels;
}

std::string refusal(const std::vector<uint8_t> &bytes) {
  try {
    decodeImage("photo.png", bytes);
    return "";
  } catch (const Error &error) {
    return error.what();
  }
}

} // namespace

TEST(ImageTest, PngKeepsEveryPixelAndDropsAlpha) {
  std::vector<uint8_t> rgb = randomPixels(5 * 3 * 3, 1);
  RgbImage image = decodeImage("a.png", pngFile(5, 3, PNG_FORMAT_RGB, rgb));
  EXPECT_EQ(image.width, 5);
  EXPECT_EQ(image.height, 3);
  EXPECT_EQ(image.pixels, rgb);

  std::vector<uint8_t> rgba = randomPixels(4 * 2 * 4, 2);
  RgbImage alpha = decodeImage("b.png", pngFile(4, 2, PNG_FORMAT_RGBA, rgba));
  for (size_t i = 0; i < 8; ++i)
    for (size_t c = 0; c < 3; ++c)
      EXPECT_EQ(alpha.pixels[3 * i + c], rgba[4 * i + c]);

  std::vector<uint8_t> gray = randomPixels(6, 3);
  RgbImage grey = decodeImage("c.png", pngFile(3, 2, PNG_FORMAT_GRAY, gray));
  for (size_t i = 0; i < 6; ++i)
    for (size_t c = 0; c < 3; ++c)
      EXPECT_EQ(grey.pixels[3 * i + c], gray[i]);
}

TEST(ImageTest, JpegComesBackCloseToItsPixels) {
  // A smooth picture: JPEG at quality 100 keeps it within a few levels.
  std::vector<uint8_t> rgb(16 * 8 * 3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c)
        rgb[size_t((y * 16 + x) * 3 + c)] = uint8_t(20 + 6 * x + 8 * y + 20 * c);
  RgbImage image = decodeImage("a.jpg", jpegFile(16, 8, rgb));
  ASSERT_EQ(image.width, 16);
  ASSERT_EQ(image.height, 8);
  for (size_t i = 0; i < rgb.size(); ++i)
    EXPECT_NEAR(image.pixels[i], rgb[i], 4) << i;
}

TEST(ImageTest, RefusesWhatIsNotAnImage) {
  EXPECT_EQ(refusal({'h', 'i', '\n'}),
            "photo.png is neither a PNG nor a JPEG file");
  std::vector<uint8_t> cut = pngFile(5, 3, PNG_FORMAT_RGB, randomPixels(45, 4));
  cut.resize(cut.size() / 2);
  EXPECT_CONTAINS(refusal(cut), "photo.png: libpng cannot read it");
  std::vector<uint8_t> jpegCut = jpegFile(16, 8, randomPixels(16 * 8 * 3, 5));
  jpegCut.resize(40);
  EXPECT_CONTAINS(refusal(jpegCut), "photo.png: libjpeg cannot read it");
}

TEST(ImageTest, ResizesBilinearlyWithHalfPixelCentres) {
  // Bilinear interpolation reproduces a linear function exactly, so every
  // output pixel is the function at its centre mapped into the source,
  // (o + 0.5) * in / out - 0.5, clamped to the image.
  RgbImage image;
  image.width = 8;
  image.height = 6;
  auto f = [](double y, double x, int c) { return 4 * (3 * y + x) + 20 * c; };
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c)
        image.pixels.push_back(uint8_t(f(y, x, c)));
  auto source = [](int o, int out, int in) {
    return std::clamp((o + 0.5) * in / out - 0.5, 0.0, double(in - 1));
  };
  for (auto [h, w] : {std::pair{6, 8}, {3, 5}, {11, 13}}) {
    std::vector<float> out = resizeImage(image, h, w, 3);
    ASSERT_EQ(out.size(), size_t(h * w * 3));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c)
          EXPECT_NEAR(out[size_t((y * w + x) * 3 + c)] * 255,
                      f(source(y, h, 6), source(x, w, 8), c), 1e-3)
              << h << "x" << w << " at " << y << "," << x << "," << c;
  }
  // One channel: tf.image.rgb_to_grayscale's weights.
  std::vector<float> gray = resizeImage(image, 6, 8, 1);
  EXPECT_NEAR(gray[9] * 255,
              0.2989 * f(1, 1, 0) + 0.5870 * f(1, 1, 1) + 0.1140 * f(1, 1, 2),
              1e-3);
}
