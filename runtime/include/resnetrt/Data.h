//===- Data.h - finding and loading data sets -------------------*- C++ -*-===//
//
// `--data DIR` may hold any of the standard distributions; the format is
// recognised from the files present:
//   MNIST / Fashion-MNIST IDX   train-images-idx3-ubyte, train-labels-idx1-
//                               ubyte, t10k-images-idx3-ubyte, t10k-labels-
//                               idx1-ubyte, each plain or gzip (.gz; gzip is
//                               recognised by its magic bytes)
//   CIFAR-10 binary             data_batch_1.bin .. data_batch_5.bin,
//                               test_batch.bin
//   CIFAR-100 binary            train.bin, test.bin (fine labels)
//   image folders               train/CLASS/*.png|jpg|jpeg and test/CLASS/...
//                               (or val/ or validation/ for test/), Keras's
//                               image_dataset_from_directory layout: one
//                               folder per class, classes in the sorted
//                               order of train/'s folders
// Everything is checked (magic numbers, sizes, counts, label ranges) and a
// problem is an Error that names the file and what is wrong with it.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_DATA_H
#define RESNETRT_DATA_H

#include "resnetrt/Augment.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resnetrt {

enum class DataFormat { Idx, Cifar10, Cifar100, ImageFolder };

/// "MNIST/Fashion-MNIST IDX", "CIFAR-10 binary", "CIFAR-100 binary",
/// "image folders".
std::string_view formatName(DataFormat format);

/// The format a --dataset name (fashion_mnist, mnist, cifar10, cifar100,
/// folder) comes in; throws a usage Error for others.
DataFormat datasetFormat(std::string_view dataset);

/// Where a data set is looked for when --data is not given:
/// fashion_mnist -> /usr/share/datasets/fashion-mnist (Debian's
/// dataset-fashion-mnist), mnist -> /usr/share/datasets/mnist, cifar10 ->
/// ./cifar-10-batches-bin, cifar100 -> ./cifar-100-binary; a folder has
/// no usual place (throws a usage Error asking for --data).
std::string defaultDataDir(std::string_view dataset);

/// One split of a data set in memory: images [N, H, W, C] u8, back to back.
struct Dataset {
  ImageShape shape;
  int32_t numClasses = 0;
  std::vector<uint8_t> pixels;
  std::vector<int32_t> labels;

  int64_t size() const { return int64_t(labels.size()); }
  const uint8_t *image(int64_t index) const {
    return pixels.data() + size_t(index) * imageBytes();
  }
  size_t imageBytes() const {
    return size_t(shape.height) * shape.width * shape.channels;
  }
};

enum class Split { Train, Test };

/// The files of a data set found in a directory.
struct DataSource {
  DataFormat format;
  std::string dir;
  /// IDX: {images, labels}; CIFAR: the record files in order; image
  /// folders: every image, by class, then by name.
  std::vector<std::string> train, test;
  /// Image folders: each image's class, and the classes' names.
  std::vector<int32_t> trainLabels, testLabels;
  std::vector<std::string> classNames;
};

/// Recognises the data set in `dir`; throws an Error when there is none, or
/// when part of one is missing.
DataSource findData(const std::string &dir);

/// Reads and checks one split. Image folders' images, of any sizes, are
/// decoded (Image.h) and resized to `folderShape`'s height and width, in
/// its channels (1: grayscale, 3: RGB); other formats ignore it.
Dataset loadSplit(const DataSource &source, Split split,
                  const ImageShape &folderShape = {});

/// Resizes every image of `data` to `height` x `width` (bilinear, as
/// tf.image.resize), rounding back to 8 bits.
void resizeDataset(Dataset &data, int32_t height, int32_t width);

// loadSplit's parts, on bytes already read (`path` names them in errors);
// the fuzzers (test/fuzz) call them. Each throws an Error on bad data.

/// `bytes`, inflated when they start with gzip's magic bytes.
std::vector<uint8_t> decodeDataFile(const std::string &path,
                                    std::vector<uint8_t> bytes);
/// An IDX image file and its label file, decoded.
Dataset parseIdx(const std::string &imagesPath,
                 const std::vector<uint8_t> &images,
                 const std::string &labelsPath,
                 const std::vector<uint8_t> &labels);
/// A CIFAR data set with no images yet, for appendCifar.
Dataset emptyCifar(DataFormat format);
/// Appends the records of one decoded CIFAR-10/100 binary file.
void appendCifar(Dataset &data, const std::string &path,
                 const std::vector<uint8_t> &bytes, DataFormat format);

} // namespace resnetrt

#endif // RESNETRT_DATA_H
