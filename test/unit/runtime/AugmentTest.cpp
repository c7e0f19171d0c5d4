//===- AugmentTest.cpp - crops, flips and normalisation, exactly ----------===//
//
// Small images with known pixels, and a slow reference that applies each op
// to a whole image in turn (drawing the same random numbers), against the
// fast composed transform.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "resnetrt/Augment.h"
#include "resnetrt/Error.h"
#include "resnetrt/Random.h"

#include <gtest/gtest.h>

#include <functional>

#include <numeric>
#include <set>

using namespace resnetrt;

namespace {

/// An HWC u8 image with pixel i = first + i.
std::vector<uint8_t> rampImage(ImageShape shape, int first = 1) {
  std::vector<uint8_t> image(size_t(shape.height) * shape.width *
                             shape.channels);
  std::iota(image.begin(), image.end(), uint8_t(first));
  return image;
}

std::vector<float> apply(const Augmenter &augmenter,
                         const std::vector<uint8_t> &image, bool training,
                         uint64_t key) {
  ImageShape out = augmenter.outputShape();
  std::vector<float> result(size_t(out.height) * out.width * out.channels);
  augmenter.apply(image.data(), result.data(), training, key);
  return result;
}

/// The slow reference: a float image ([H, W, C]) and one function per op,
/// drawing random numbers in the order Augmenter documents.
struct RefImage {
  int32_t h, w, c;
  std::vector<float> v; // raw byte values, 0 for padding
  float at(int32_t y, int32_t x, int32_t k) const {
    if (y < 0 || y >= h || x < 0 || x >= w)
      return 0;
    return v[(size_t(y) * w + x) * c + k];
  }
};

RefImage crop(const RefImage &in, int32_t top, int32_t left, int32_t size) {
  RefImage out{size, size, in.c, {}};
  for (int32_t y = 0; y < size; ++y)
    for (int32_t x = 0; x < size; ++x)
      for (int32_t k = 0; k < in.c; ++k)
        out.v.push_back(in.at(y + top, x + left, k));
  return out;
}

RefImage mirror(const RefImage &in) {
  RefImage out = in;
  for (int32_t y = 0; y < in.h; ++y)
    for (int32_t x = 0; x < in.w; ++x)
      for (int32_t k = 0; k < in.c; ++k)
        out.v[(size_t(y) * in.w + x) * in.c + k] = in.at(y, in.w - 1 - x, k);
  return out;
}

std::vector<float> reference(const std::vector<AugmentOp> &ops,
                             const Normalize &normalize,
                             const std::vector<uint8_t> &image,
                             ImageShape shape, bool training, uint64_t key) {
  RefImage img{shape.height, shape.width, shape.channels,
               std::vector<float>(image.begin(), image.end())};
  Rng rng(key);
  for (const AugmentOp &op : ops) {
    if (op.kind == AugmentOp::FlipHorizontal) {
      if (training && (rng.next() >> 63))
        img = mirror(img);
      continue;
    }
    int32_t pad = op.kind == AugmentOp::RandomCrop ? op.pad : 0;
    int32_t spanY = img.h + 2 * pad - op.size,
            spanX = img.w + 2 * pad - op.size;
    bool random = training && op.kind == AugmentOp::RandomCrop;
    int32_t top = random ? int32_t(rng.below(spanY + 1)) : spanY / 2;
    int32_t left = random ? int32_t(rng.below(spanX + 1)) : spanX / 2;
    img = crop(img, top - pad, left - pad, op.size);
  }
  std::vector<float> out;
  for (size_t i = 0; i < img.v.size(); ++i) {
    size_t k = i % img.c;
    auto channel = [&](const std::vector<double> &values, double none) {
      return values.empty() ? none : values[values.size() == 1 ? 0 : k];
    };
    double mean = channel(normalize.mean, 0),
           stddev = channel(normalize.stddev, 1);
    out.push_back(float((img.v[i] / 255.0 - mean) / stddev));
  }
  return out;
}

std::string messageOf(const std::function<void()> &action) {
  try {
    action();
  } catch (const Error &error) {
    EXPECT_EQ(error.exitCode(), ExitUsage);
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

} // namespace

TEST(AugmentTest, ParsesTheRecipeForms) {
  std::vector<AugmentOp> ops =
      parseAugment("random_crop(32,pad=4), flip_horizontal,central_crop(24)");
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].kind, AugmentOp::RandomCrop);
  EXPECT_EQ(ops[0].size, 32);
  EXPECT_EQ(ops[0].pad, 4);
  EXPECT_EQ(ops[1].kind, AugmentOp::FlipHorizontal);
  EXPECT_EQ(ops[2].kind, AugmentOp::CentralCrop);
  EXPECT_EQ(ops[2].size, 24);
  ops = parseAugment("random_crop(size = 28)");
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].pad, 0);
  EXPECT_TRUE(parseAugment("none").empty());
  EXPECT_TRUE(parseAugment("").empty());
}

TEST(AugmentTest, RejectsMalformedListsNamingTheProblem) {
  EXPECT_CONTAINS(messageOf([] { parseAugment("rotate(10)"); }),
                  "unknown augmentation 'rotate'");
  EXPECT_CONTAINS(messageOf([] { parseAugment("random_crop(0)"); }),
                  "size must be an integer >= 1");
  EXPECT_CONTAINS(messageOf([] { parseAugment("random_crop(32,pd=4)"); }),
                  "has no argument 'pd'");
  EXPECT_CONTAINS(messageOf([] { parseAugment("central_crop"); }),
                  "needs a size");
  EXPECT_CONTAINS(messageOf([] { parseAugment("random_crop(32"); }),
                  "closing parenthesis");
  EXPECT_CONTAINS(
      messageOf([] { parseAugment("flip_horizontal,,central_crop(3)"); }),
      "empty item");
}

TEST(AugmentTest, ParsesNormalization) {
  Normalize one = parseNormalize("0.5/0.25");
  EXPECT_EQ(one.mean, std::vector<double>{0.5});
  EXPECT_EQ(one.stddev, std::vector<double>{0.25});
  Normalize three = parseNormalize("0.1,0.2,0.3/0.4,0.5,0.6");
  EXPECT_EQ(three.mean.size(), 3u);
  EXPECT_EQ(three.stddev[2], 0.6);
  EXPECT_TRUE(parseNormalize("none").mean.empty());
  EXPECT_CONTAINS(messageOf([] { parseNormalize("0.5"); }), "MEANS/STDS");
  EXPECT_CONTAINS(messageOf([] { parseNormalize("0.5/0"); }), "must be > 0");
  EXPECT_CONTAINS(messageOf([] { parseNormalize("a/b"); }), "MEANS/STDS");
}

TEST(AugmentTest, ScalesToUnitRangeByDefault) {
  ImageShape shape{2, 3, 1};
  Augmenter augmenter({}, {}, shape);
  std::vector<float> out =
      apply(augmenter, {0, 51, 102, 153, 204, 255}, true, 7);
  EXPECT_EQ(out, (std::vector<float>{0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f}));
}

TEST(AugmentTest, NormalizesPerChannel) {
  ImageShape shape{1, 2, 2};
  Augmenter augmenter({}, parseNormalize("0.5,0/0.25,2"), shape);
  std::vector<float> out = apply(augmenter, {255, 255, 0, 51}, false, 0);
  EXPECT_EQ(out, (std::vector<float>{2.0f, 0.5f, -2.0f, 0.1f}));
}

TEST(AugmentTest, CentralCropTakesTheMiddle) {
  ImageShape shape{4, 4, 1};
  Augmenter augmenter(parseAugment("central_crop(2)"), {}, shape);
  std::vector<float> out = apply(augmenter, rampImage(shape, 0), true, 1);
  EXPECT_EQ(out,
            (std::vector<float>{5 / 255.f, 6 / 255.f, 9 / 255.f, 10 / 255.f}));
  // An odd margin rounds the offset down.
  Augmenter odd(parseAugment("central_crop(2)"), {}, {5, 5, 1});
  EXPECT_EQ(apply(odd, rampImage({5, 5, 1}, 0), false, 0),
            (std::vector<float>{6 / 255.f, 7 / 255.f, 11 / 255.f, 12 / 255.f}));
}

TEST(AugmentTest, RandomCropVisitsEveryWindowOfThePaddedImage) {
  ImageShape shape{4, 4, 1};
  Augmenter augmenter(parseAugment("random_crop(4,pad=1)"), {}, shape);
  std::vector<uint8_t> image = rampImage(shape);
  std::set<std::pair<int, int>> seen;
  for (uint64_t key = 0; key < 300; ++key) {
    std::vector<float> out = apply(augmenter, image, true, key);
    // Find the window: pixel (0,0) of the output is padded-image (ty, tx).
    bool matched = false;
    for (int ty = 0; ty <= 2 && !matched; ++ty)
      for (int tx = 0; tx <= 2 && !matched; ++tx) {
        bool all = true;
        for (int y = 0; y < 4; ++y)
          for (int x = 0; x < 4; ++x) {
            int sy = y + ty - 1, sx = x + tx - 1;
            float expected = sy < 0 || sy >= 4 || sx < 0 || sx >= 4
                                 ? 0.0f
                                 : image[sy * 4 + sx] / 255.0f;
            all = all && out[y * 4 + x] == expected;
          }
        if (all) {
          seen.insert({ty, tx});
          matched = true;
        }
      }
    ASSERT_TRUE(matched) << "key " << key;
  }
  EXPECT_EQ(seen.size(), 9u);
  // Evaluation takes the centred window: the image itself.
  std::vector<float> identity;
  for (uint8_t v : image)
    identity.push_back(v / 255.0f);
  EXPECT_EQ(apply(augmenter, image, false, 5), identity);
}

TEST(AugmentTest, FlipMirrorsAboutHalfTheTimeAndNeverInEvaluation) {
  ImageShape shape{2, 3, 2};
  Augmenter augmenter(parseAugment("flip_horizontal"), {}, shape);
  std::vector<uint8_t> image = rampImage(shape);
  std::vector<float> plain, mirrored;
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 2; ++c) {
        plain.push_back(image[(y * 3 + x) * 2 + c] / 255.0f);
        mirrored.push_back(image[(y * 3 + 2 - x) * 2 + c] / 255.0f);
      }
  int flips = 0;
  for (uint64_t key = 0; key < 1000; ++key) {
    std::vector<float> out = apply(augmenter, image, true, key);
    ASSERT_TRUE(out == plain || out == mirrored);
    flips += out == mirrored;
    EXPECT_EQ(apply(augmenter, image, false, key), plain);
  }
  EXPECT_GT(flips, 430);
  EXPECT_LT(flips, 570);
}

TEST(AugmentTest, ChainsMatchTheSlowReference) {
  struct Case {
    const char *ops;
    ImageShape shape;
    const char *normalize;
  };
  const Case cases[] = {
      {"random_crop(6,pad=2),flip_horizontal",
       {6, 6, 3},
       "0.4,0.5,0.6/0.2,0.3,0.4"},
      {"flip_horizontal,random_crop(5,pad=3),central_crop(3)",
       {7, 5, 1},
       "none"},
      {"central_crop(5),random_crop(4,pad=1),flip_horizontal",
       {8, 6, 2},
       "0.5/0.5"},
      {"random_crop(3,pad=0),flip_horizontal,flip_horizontal",
       {4, 4, 1},
       "none"},
  };
  for (const Case &c : cases) {
    std::vector<AugmentOp> ops = parseAugment(c.ops);
    Normalize normalize = parseNormalize(c.normalize);
    Augmenter augmenter(ops, normalize, c.shape);
    std::vector<uint8_t> image = rampImage(c.shape, 3);
    for (uint64_t key = 0; key < 50; ++key)
      for (bool training : {true, false})
        ASSERT_EQ(apply(augmenter, image, training, key),
                  reference(ops, normalize, image, c.shape, training, key))
            << c.ops << " key " << key << " training " << training;
  }
}

TEST(AugmentTest, PaddingIsBlackBeforeNormalization) {
  ImageShape shape{1, 1, 1};
  Augmenter augmenter(parseAugment("random_crop(3,pad=1)"),
                      parseNormalize("0.5/0.25"), shape);
  std::vector<float> out = apply(augmenter, {255}, true, 0);
  EXPECT_EQ(out[0], -2.0f); // (0 - 0.5) / 0.25
  EXPECT_EQ(out[4], 2.0f);  // the one pixel, centred
}

TEST(AugmentTest, SameKeySameOutput) {
  ImageShape shape{8, 8, 3};
  Augmenter augmenter(parseAugment("random_crop(8,pad=2),flip_horizontal"), {},
                      shape);
  std::vector<uint8_t> image = rampImage(shape);
  EXPECT_EQ(apply(augmenter, image, true, 42),
            apply(augmenter, image, true, 42));
  int differ = 0;
  for (uint64_t key = 1; key < 20; ++key)
    differ +=
        apply(augmenter, image, true, key) != apply(augmenter, image, true, 0);
  EXPECT_GT(differ, 10);
}

TEST(AugmentTest, RejectsOpsThatDoNotFit) {
  EXPECT_CONTAINS(
      messageOf([] {
        Augmenter(parseAugment("random_crop(40,pad=4)"), {}, {28, 28, 1});
      }),
      "a 40x40 crop does not fit 28x28 images padded by 4");
  EXPECT_CONTAINS(
      messageOf([] {
        Augmenter(parseAugment("central_crop(30)"), {}, {28, 28, 1});
      }),
      "does not fit 28x28 images");
  EXPECT_CONTAINS(
      messageOf([] {
        Augmenter({}, parseNormalize("0.1,0.2/0.3,0.4"), {32, 32, 3});
      }),
      "--normalize has 2 values where the images have 3");
  Augmenter shrink(parseAugment("random_crop(36,pad=4),central_crop(24)"), {},
                   {32, 32, 3});
  EXPECT_EQ(shrink.outputShape(), (ImageShape{24, 24, 3}));
}
