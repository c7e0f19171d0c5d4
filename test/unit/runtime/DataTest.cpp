//===- DataTest.cpp - loaders, and every malformed file they reject -------===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include "resnetrt/Data.h"
#include "resnetrt/Error.h"
#include "resnetrt/File.h"

#include <gtest/gtest.h>

#include <png.h>

#include <cmath>
#include <filesystem>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

/// The message of the Error that loading `dir` (both splits) throws.
std::string loadError(const std::string &dir) {
  try {
    DataSource source = findData(dir);
    loadSplit(source, Split::Train);
    loadSplit(source, Split::Test);
  } catch (const Error &error) {
    EXPECT_EQ(error.exitCode(), ExitFailure);
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

class IdxFiles : public ::testing::Test {
protected:
  void SetUp() override { writeMnist(dir.path(), 30, 10, false); }
  std::string images() const { return dir / "train-images-idx3-ubyte"; }
  std::string labels() const { return dir / "train-labels-idx1-ubyte"; }
  TempDir dir;
};

} // namespace

TEST(DataTest, LoadsPlainIdx) {
  TempDir dir;
  writeMnist(dir.path(), 30, 10, false);
  DataSource source = findData(dir.path());
  EXPECT_EQ(source.format, DataFormat::Idx);
  Dataset train = loadSplit(source, Split::Train);
  Images expected = syntheticImages(30, 28, 28, 1, 10, 1);
  EXPECT_EQ(train.shape, (ImageShape{28, 28, 1}));
  EXPECT_EQ(train.numClasses, 10);
  EXPECT_EQ(train.pixels, expected.pixels);
  EXPECT_EQ(train.labels, std::vector<int32_t>(expected.labels.begin(),
                                               expected.labels.end()));
  EXPECT_EQ(loadSplit(source, Split::Test).size(), 10);
}

TEST(DataTest, LoadsGzipIdxLikePlain) {
  TempDir plain, gzip;
  writeMnist(plain.path(), 30, 10, false);
  writeMnist(gzip.path(), 30, 10, true);
  DataSource source = findData(gzip.path());
  EXPECT_EQ(source.train[0], gzip / "train-images-idx3-ubyte.gz");
  Dataset a = loadSplit(findData(plain.path()), Split::Train);
  Dataset b = loadSplit(source, Split::Train);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
}

TEST(DataTest, LoadsCifar10AsHwc) {
  TempDir dir;
  writeCifar10(dir.path(), 7);
  DataSource source = findData(dir.path());
  EXPECT_EQ(source.format, DataFormat::Cifar10);
  Dataset train = loadSplit(source, Split::Train);
  EXPECT_EQ(train.size(), 35);
  EXPECT_EQ(train.shape, (ImageShape{32, 32, 3}));
  // Records keep their file order: batch 2's first image is image 7.
  Images second = syntheticImages(7, 32, 32, 3, 10, 2);
  EXPECT_EQ(std::vector<uint8_t>(train.image(7), train.image(8)),
            std::vector<uint8_t>(second.pixels.begin(),
                                 second.pixels.begin() + 3072));
  EXPECT_EQ(train.labels[7], second.labels[0]);
  EXPECT_EQ(loadSplit(source, Split::Test).size(), 7);
}

TEST(DataTest, LoadsCifar100FineLabels) {
  TempDir dir;
  writeCifar100(dir.path(), 40, 12);
  DataSource source = findData(dir.path());
  EXPECT_EQ(source.format, DataFormat::Cifar100);
  Dataset train = loadSplit(source, Split::Train);
  Images expected = syntheticImages(40, 32, 32, 3, 100, 1);
  EXPECT_EQ(train.numClasses, 100);
  EXPECT_EQ(train.labels, std::vector<int32_t>(expected.labels.begin(),
                                               expected.labels.end()));
  EXPECT_EQ(train.pixels, expected.pixels);
}

TEST(DataTest, DefaultDirectoriesFollowTheDataset) {
  EXPECT_EQ(defaultDataDir("fashion_mnist"),
            "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(defaultDataDir("mnist"), "/usr/share/datasets/mnist");
  EXPECT_EQ(defaultDataDir("cifar10"), "cifar-10-batches-bin");
  EXPECT_EQ(defaultDataDir("cifar100"), "cifar-100-binary");
}

TEST(DataTest, MissingOrEmptyDirectory) {
  TempDir dir;
  EXPECT_CONTAINS(loadError(dir / "nope"), "does not exist");
  std::string empty = loadError(dir.path());
  EXPECT_CONTAINS(empty, "found no data set in " + dir.path());
  EXPECT_CONTAINS(empty, "data_batch_1.bin");
}

TEST_F(IdxFiles, MissingFileOfTheSet) {
  std::filesystem::remove(dir / "t10k-labels-idx1-ubyte");
  EXPECT_CONTAINS(loadError(dir.path()), "lacks t10k-labels-idx1-ubyte[.gz]");
}

TEST_F(IdxFiles, WrongMagic) {
  writeFile(images(), readWholeFile(labels(), "file"));
  EXPECT_CONTAINS(loadError(dir.path()),
                  images() + ": not an IDX image file: it starts with "
                             "0x00000801, expected 0x00000803");
}

TEST_F(IdxFiles, TooShortForAHeader) {
  writeFile(images(), {0, 0, 8, 3, 0});
  EXPECT_CONTAINS(loadError(dir.path()), "5 bytes is too short");
}

TEST_F(IdxFiles, Truncated) {
  std::vector<uint8_t> bytes = readWholeFile(images(), "file");
  bytes.resize(bytes.size() - 10);
  writeFile(images(), bytes);
  EXPECT_CONTAINS(loadError(dir.path()),
                  images() + ": truncated: the header promises 23520 bytes "
                             "of data but the file holds 23510");
}

TEST_F(IdxFiles, TrailingBytes) {
  std::vector<uint8_t> bytes = readWholeFile(labels(), "file");
  bytes.push_back(0);
  writeFile(labels(), bytes);
  EXPECT_CONTAINS(loadError(dir.path()), labels() + ": 1 unexpected bytes");
}

TEST_F(IdxFiles, ZeroImages) {
  writeFile(images(), {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28});
  EXPECT_CONTAINS(loadError(dir.path()), "zero dimension");
}

TEST_F(IdxFiles, CountsDisagree) {
  Images fewer = syntheticImages(29, 28, 28, 1, 10, 1);
  writeFile(labels(), idxLabels(fewer));
  EXPECT_CONTAINS(loadError(dir.path()), labels() + " holds 29 labels but " +
                                             images() + " holds 30 images");
}

TEST_F(IdxFiles, LabelOutOfRange) {
  std::vector<uint8_t> bytes = readWholeFile(labels(), "file");
  bytes[8 + 4] = 10;
  writeFile(labels(), bytes);
  EXPECT_CONTAINS(loadError(dir.path()),
                  labels() + ": label 10 of image 4 is out of range");
}

TEST(DataTest, DamagedGzip) {
  TempDir dir;
  writeMnist(dir.path(), 30, 10, true);
  std::string path = dir / "train-images-idx3-ubyte.gz";
  std::vector<uint8_t> bytes = readWholeFile(path, "file");
  for (size_t i = 20; i < 60; ++i)
    bytes[i] ^= 0x5a;
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(dir.path()), path + ": the gzip data is damaged");
}

TEST(DataTest, TruncatedGzip) {
  TempDir dir;
  writeMnist(dir.path(), 30, 10, true);
  std::string path = dir / "t10k-labels-idx1-ubyte.gz";
  std::vector<uint8_t> bytes = readWholeFile(path, "file");
  bytes.resize(bytes.size() / 2);
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(dir.path()), path + ": the gzip data ends early");
}

TEST(DataTest, CifarRecordsCutShort) {
  TempDir dir;
  writeCifar10(dir.path(), 3);
  std::string path = dir / "data_batch_4.bin";
  std::vector<uint8_t> bytes = readWholeFile(path, "file");
  bytes.resize(bytes.size() - 100);
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(dir.path()),
                  path + ": 9119 bytes is not a whole number of 3073-byte "
                         "CIFAR-10 binary records");
  writeFile(path, {});
  EXPECT_CONTAINS(loadError(dir.path()), path + ": 0 bytes");
}

TEST(DataTest, CifarLabelOutOfRange) {
  TempDir dir;
  writeCifar10(dir.path(), 3);
  std::string path = dir / "test_batch.bin";
  std::vector<uint8_t> bytes = readWholeFile(path, "file");
  bytes[3073] = 12;
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(dir.path()),
                  path + ": record 1 has label 12; CIFAR-10 binary labels "
                         "are 0..9");
}

TEST(DataTest, Cifar100CoarseLabelOutOfRange) {
  TempDir dir;
  writeCifar100(dir.path(), 4, 4);
  std::string path = dir / "train.bin";
  std::vector<uint8_t> bytes = readWholeFile(path, "file");
  bytes[2 * 3074] = 20;
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(dir.path()),
                  path + ": record 2 has coarse label 20");
}

TEST(DataTest, PartialCifar10) {
  TempDir dir;
  writeCifar10(dir.path(), 2);
  std::filesystem::remove(dir / "data_batch_3.bin");
  EXPECT_CONTAINS(loadError(dir.path()),
                  "holds part of a CIFAR-10 binary data set but lacks "
                  "data_batch_3.bin");
}

TEST(DataTest, RealCifar10MatchesItsPublishedStatistics) {
  // The copy beside the project (shared/datasets), when there is one.
  std::string dir = RESNETC_SHARED_DATASETS "/cifar-10-batches-bin";
  if (!std::filesystem::exists(dir + "/data_batch_1.bin"))
    GTEST_SKIP() << dir << " is absent";
  DataSource source = findData(dir);
  Dataset train = loadSplit(source, Split::Train);
  EXPECT_EQ(train.size(), 50000);
  EXPECT_EQ(loadSplit(source, Split::Test).size(), 10000);
  std::vector<int64_t> perClass(10);
  for (int32_t label : train.labels)
    ++perClass[label];
  EXPECT_EQ(perClass, std::vector<int64_t>(10, 5000));
  // Channel means on the 0..255 scale, as published: they come out right
  // only if the planes were interleaved into HWC correctly.
  double sums[3] = {0, 0, 0};
  for (size_t i = 0; i < train.pixels.size(); ++i)
    sums[i % 3] += train.pixels[i];
  double count = double(train.pixels.size()) / 3;
  EXPECT_NEAR(sums[0] / count, 125.307, 0.001);
  EXPECT_NEAR(sums[1] / count, 122.950, 0.001);
  EXPECT_NEAR(sums[2] / count, 113.865, 0.001);
}

//===----------------------------------------------------------------------===//
// Data against the program, through train
//===----------------------------------------------------------------------===//

TEST(DataTest, ImageShapeMustMatchTheModel) {
  TempDir dir;
  writeMnist(dir.path(), 30, 10, false);
  RunResult run =
      runTrain(cifarLogistic(), {"--data=" + dir.path(), "--dataset=mnist"});
  EXPECT_EQ(run.status, 1);
  EXPECT_CONTAINS(run.err, "images of 28x28x1 (HxWxC), but model "
                           "logistic_cifar takes 32x32x3");

  run = runTrain(mnistLogistic(),
                 {"--data=" + dir.path(), "--augment=central_crop(24)"});
  EXPECT_EQ(run.status, 1);
  EXPECT_CONTAINS(run.err, "images of 28x28x1 (HxWxC) (--augment=central_"
                           "crop(24) makes them 24x24x1), but model "
                           "logistic_mnist takes 28x28x1");
}

TEST(DataTest, DatasetFlagMustMatchTheFiles) {
  TempDir dir;
  writeMnist(dir.path(), 30, 10, false);
  RunResult run = runTrain(cifarLogistic(), {"--data=" + dir.path()});
  EXPECT_EQ(run.status, 1);
  EXPECT_CONTAINS(run.err, "--dataset=cifar10 expects CIFAR-10 binary files, "
                           "but " +
                               dir.path() +
                               " holds MNIST/Fashion-MNIST IDX files");
}

TEST(DataTest, ClassesMustMatchTheModel) {
  TempDir dir;
  writeCifar100(dir.path(), 40, 10);
  RunResult run =
      runTrain(cifarLogistic(), {"--data=" + dir.path(), "--dataset=cifar100"});
  EXPECT_EQ(run.status, 1);
  EXPECT_CONTAINS(run.err, "CIFAR-100 binary with 100 classes, but model "
                           "logistic_cifar was compiled for 10 classes");
}

TEST(DataTest, TrainingSetSmallerThanABatch) {
  TempDir dir;
  writeMnist(dir.path(), 30, 10, false);
  RunResult run = runTrain(mnistLogistic(),
                           {"--data=" + dir.path(), "--validation-split=0.5"});
  EXPECT_EQ(run.status, 1);
  EXPECT_CONTAINS(run.err, "the training set has 15 images after holding out "
                           "15 for validation, fewer than one batch of 64");
}

//===----------------------------------------------------------------------===//
// Image folders
//===----------------------------------------------------------------------===//

namespace {

/// What `f` throws.
template <typename F> std::string errorOf(F f) {
  try {
    f();
  } catch (const Error &error) {
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

/// A solid RGB PNG of `width` x `height` at `path`.
void solidPng(const std::string &path, int width, int height, uint8_t r,
              uint8_t g, uint8_t b) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < width * height; ++i)
    pixels.insert(pixels.end(), {r, g, b});
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  writeFile(path, pngFile(width, height, PNG_FORMAT_RGB, pixels));
}

} // namespace

TEST(ImageFolderTest, ClassesAreTheSortedFoldersOfTrain) {
  TempDir dir;
  // Images of any size; a file that is no image by its name is skipped.
  solidPng(dir / "train/dog/2.png", 10, 6, 200, 100, 0);
  solidPng(dir / "train/dog/1.PNG", 4, 4, 0, 0, 255);
  solidPng(dir / "train/cat/x.png", 7, 9, 10, 20, 30);
  writeFile(dir / "train/cat/notes.txt", {'h', 'i'});
  writeFile(dir / "train/cat/y.jpeg",
            jpegFile(8, 8, std::vector<uint8_t>(8 * 8 * 3, 128)));
  solidPng(dir / "val/dog/3.png", 5, 5, 1, 2, 3);
  DataSource source = findData(dir.path());
  EXPECT_EQ(source.format, DataFormat::ImageFolder);
  EXPECT_EQ(source.classNames, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(source.trainLabels, (std::vector<int32_t>{0, 0, 1, 1}));
  EXPECT_EQ(source.testLabels, (std::vector<int32_t>{1}));

  Dataset train = loadSplit(source, Split::Train, {3, 5, 3});
  EXPECT_EQ(train.shape, (ImageShape{3, 5, 3}));
  EXPECT_EQ(train.numClasses, 2);
  ASSERT_EQ(train.size(), 4);
  // Solid images stay solid at any size: cat/x.png, then dog/1.PNG (sorted
  // by name, capitals first) and dog/2.png.
  const uint8_t *x = train.image(0), *one = train.image(2),
                *two = train.image(3);
  for (size_t i = 0; i < train.imageBytes(); i += 3) {
    EXPECT_EQ((std::vector<uint8_t>{x[i], x[i + 1], x[i + 2]}),
              (std::vector<uint8_t>{10, 20, 30}));
    EXPECT_EQ((std::vector<uint8_t>{one[i], one[i + 1], one[i + 2]}),
              (std::vector<uint8_t>{0, 0, 255}));
    EXPECT_EQ((std::vector<uint8_t>{two[i], two[i + 1], two[i + 2]}),
              (std::vector<uint8_t>{200, 100, 0}));
  }
  // Grayscale by tf.image.rgb_to_grayscale's weights.
  Dataset gray = loadSplit(source, Split::Test, {2, 2, 1});
  EXPECT_EQ(gray.image(0)[0], uint8_t(std::lround(0.2989 * 1 + 0.5870 * 2 +
                                                  0.1140 * 3)));
}

TEST(ImageFolderTest, LayoutProblemsAreNamed) {
  TempDir dir;
  solidPng(dir / "train/a/1.png", 4, 4, 0, 0, 0);
  EXPECT_CONTAINS(errorOf([&] { findData(dir.path()); }),
                  "has train/ but no test/ (or val/, validation/) folder");
  solidPng(dir / "test/b/1.png", 4, 4, 0, 0, 0);
  EXPECT_CONTAINS(errorOf([&] { findData(dir.path()); }),
                  "has a class folder b that " + (dir / "train") + " lacks");
  std::filesystem::remove_all(dir / "test/b");
  std::filesystem::create_directories(dir / "test/a");
  EXPECT_CONTAINS(errorOf([&] { findData(dir.path()); }),
                  "holds no .png, .jpg or .jpeg image");
  writeFile(dir / "test/a/broken.png", {'n', 'o'});
  DataSource source = findData(dir.path());
  EXPECT_CONTAINS(errorOf([&] { loadSplit(source, Split::Test, {4, 4, 3}); }),
                  dir / "test/a/broken.png");
}

TEST(ResizeDatasetTest, BilinearWithHalfPixelCentres) {
  Dataset data;
  data.shape = {1, 2, 1};
  data.numClasses = 1;
  data.pixels = {0, 255};
  data.labels = {0};
  resizeDataset(data, 1, 4);
  // Columns sample x' = (x + 0.5) / 2 - 0.5: -0.25 (clamped), 0.25, 0.75,
  // 1.25 (clamped).
  EXPECT_EQ(data.shape, (ImageShape{1, 4, 1}));
  EXPECT_EQ(data.pixels, (std::vector<uint8_t>{0, 64, 191, 255}));
}
