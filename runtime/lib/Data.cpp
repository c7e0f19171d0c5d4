//===- Data.cpp - finding and loading data sets ---------------------------===//

#include "resnetrt/Data.h"

#include "resnetrt/Error.h"
#include "resnetrt/File.h"
#include "resnetrt/Image.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace resnetrt {

std::string_view formatName(DataFormat format) {
  switch (format) {
  case DataFormat::Idx:
    return "MNIST/Fashion-MNIST IDX";
  case DataFormat::Cifar10:
    return "CIFAR-10 binary";
  case DataFormat::Cifar100:
    return "CIFAR-100 binary";
  case DataFormat::ImageFolder:
    return "image folders";
  }
  return "?";
}

DataFormat datasetFormat(std::string_view dataset) {
  if (dataset == "fashion_mnist" || dataset == "mnist")
    return DataFormat::Idx;
  if (dataset == "cifar10")
    return DataFormat::Cifar10;
  if (dataset == "cifar100")
    return DataFormat::Cifar100;
  if (dataset == "folder")
    return DataFormat::ImageFolder;
  usageError("expected one of fashion_mnist, mnist, cifar10, cifar100, "
             "folder");
}

std::string defaultDataDir(std::string_view dataset) {
  if (dataset == "fashion_mnist")
    return "/usr/share/datasets/fashion-mnist";
  if (dataset == "mnist")
    return "/usr/share/datasets/mnist";
  if (dataset == "cifar10")
    return "cifar-10-batches-bin";
  if (dataset == "folder")
    usageError("--dataset=folder reads image folders from --data=DIR "
               "(DIR/train/CLASS/*.png and DIR/test/CLASS/*.png); pass it");
  return "cifar-100-binary";
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

/// Inflates every gzip member of `compressed`.
static std::vector<uint8_t> gunzip(const std::string &path,
                                   const std::vector<uint8_t> &compressed) {
  // The last four bytes hold the (first member's) size modulo 2^32: a good
  // first guess for the buffer, but only a guess (a damaged or hostile file
  // can say anything), so never above what deflate can expand to (1032:1).
  size_t guess = compressed.size() * 4;
  if (compressed.size() >= 18) {
    const uint8_t *tail = compressed.data() + compressed.size() - 4;
    guess = std::max<size_t>(guess, tail[0] | tail[1] << 8 | tail[2] << 16 |
                                        uint32_t(tail[3]) << 24);
    guess = std::min<size_t>(guess, compressed.size() * 1032);
  }
  std::vector<uint8_t> out(guess);

  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
    fail("{}: zlib could not start inflating", path);
  stream.next_in = const_cast<Bytef *>(compressed.data());
  stream.avail_in = uInt(compressed.size());
  size_t produced = 0;
  int status = Z_OK;
  while (true) {
    if (produced == out.size())
      out.resize(out.size() * 2);
    stream.next_out = out.data() + produced;
    stream.avail_out = uInt(std::min<size_t>(out.size() - produced, 1u << 30));
    uInt before = stream.avail_out;
    status = inflate(&stream, Z_NO_FLUSH);
    produced += before - stream.avail_out;
    if (status == Z_STREAM_END) {
      if (stream.avail_in == 0)
        break;
      inflateReset(&stream); // another gzip member follows
      continue;
    }
    if (status == Z_OK)
      continue;
    if (status == Z_BUF_ERROR && stream.avail_in == 0)
      break; // input ended inside a member
    std::string reason = stream.msg ? stream.msg : "corrupt data";
    inflateEnd(&stream);
    fail("{}: the gzip data is damaged ({}); download the file again", path,
         reason);
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END)
    fail("{}: the gzip data ends early (truncated download?); download the "
         "file again",
         path);
  out.resize(produced);
  return out;
}

std::vector<uint8_t> decodeDataFile(const std::string &path,
                                    std::vector<uint8_t> bytes) {
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
    return gunzip(path, bytes);
  return bytes;
}

/// The bytes of a file, inflated if it starts with gzip's magic bytes.
static std::vector<uint8_t> readDataFile(const std::string &path) {
  return decodeDataFile(path, readWholeFile(path, "data file"));
}

//===----------------------------------------------------------------------===//
// Finding a data set
//===----------------------------------------------------------------------===//

static const char *const kIdxNames[] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
static const char *const kCifar10Names[] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
    "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
static const char *const kCifar100Names[] = {"train.bin", "test.bin"};

static constexpr const char *kExpected =
    "expected MNIST/Fashion-MNIST IDX files (train-images-idx3-ubyte, "
    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, "
    "each optionally .gz), CIFAR-10 binary (data_batch_1.bin .. "
    "data_batch_5.bin, test_batch.bin), CIFAR-100 binary (train.bin, "
    "test.bin) or image folders (train/CLASS/*.png|jpg and test/CLASS/...)";

/// The path of `name` in `dir`, or of `name.gz` when `gzipToo`; empty when
/// neither exists.
static std::string present(const std::string &dir, const std::string &name,
                           bool gzipToo) {
  for (std::string candidate : {name, name + ".gz"}) {
    fs::path path = fs::path(dir) / candidate;
    if (fs::is_regular_file(path))
      return path.string();
    if (!gzipToo)
      break;
  }
  return {};
}

/// All of `names` in `dir` when any is there; throws when only some are.
template <size_t N>
static std::vector<std::string> findAll(const std::string &dir,
                                        const char *const (&names)[N],
                                        bool gzipToo, DataFormat format) {
  std::vector<std::string> paths;
  std::string missing;
  for (const char *name : names) {
    std::string path = present(dir, name, gzipToo);
    if (path.empty())
      missing += fmt::format("{}{}{}", missing.empty() ? "" : ", ", name,
                             gzipToo ? "[.gz]" : "");
    else
      paths.push_back(path);
  }
  if (paths.empty())
    return paths;
  if (!missing.empty())
    fail("{} holds part of a {} data set but lacks {}", dir, formatName(format),
         missing);
  return paths;
}

//===----------------------------------------------------------------------===//
// Image folders
//===----------------------------------------------------------------------===//

/// Sorted names of the subfolders of `dir`.
static std::vector<std::string> subfolders(const fs::path &dir) {
  std::vector<std::string> names;
  for (const fs::directory_entry &entry : fs::directory_iterator(dir))
    if (entry.is_directory())
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// The images of one split: every .png, .jpg and .jpeg (any case) in each
/// class folder, by class, then by name; other files are skipped, as Keras
/// skips them.
static void listImages(const fs::path &split,
                       const std::vector<std::string> &classes,
                       std::vector<std::string> &files,
                       std::vector<int32_t> &labels) {
  for (const std::string &name : subfolders(split)) {
    auto found = std::find(classes.begin(), classes.end(), name);
    if (found == classes.end())
      fail("{} has a class folder {} that {} lacks; every class of the test "
           "split must be one of the training split",
           split.string(), name, (split.parent_path() / "train").string());
    std::vector<std::string> images;
    for (const fs::directory_entry &entry :
         fs::directory_iterator(split / name)) {
      std::string extension = entry.path().extension().string();
      std::transform(extension.begin(), extension.end(), extension.begin(),
                     [](unsigned char c) { return char(std::tolower(c)); });
      if (entry.is_regular_file() &&
          (extension == ".png" || extension == ".jpg" || extension == ".jpeg"))
        images.push_back(entry.path().string());
    }
    std::sort(images.begin(), images.end());
    files.insert(files.end(), images.begin(), images.end());
    labels.insert(labels.end(), images.size(),
                  int32_t(found - classes.begin()));
  }
}

static DataSource findImageFolders(const std::string &dir) {
  DataSource source{DataFormat::ImageFolder, dir, {}, {}, {}, {}, {}};
  fs::path root(dir);
  source.classNames = subfolders(root / "train");
  if (source.classNames.empty())
    fail("{} has no class folders; image folders are DIR/train/CLASS/*.png "
         "(or .jpg), one folder per class",
         (root / "train").string());
  fs::path test;
  for (const char *name : {"test", "val", "validation"})
    if (test.empty() && fs::is_directory(root / name))
      test = root / name;
  if (test.empty())
    fail("{} has train/ but no test/ (or val/, validation/) folder; put the "
         "images to evaluate on in {}/test/CLASS/",
         dir, dir);
  listImages(root / "train", source.classNames, source.train,
             source.trainLabels);
  listImages(test, source.classNames, source.test, source.testLabels);
  for (const auto &[split, files] : {std::pair{root / "train", &source.train},
                                     std::pair{test, &source.test}})
    if (files->empty())
      fail("{} holds no .png, .jpg or .jpeg image in its class folders",
           split.string());
  return source;
}

/// Decodes and resizes the images of one split of image folders.
static Dataset loadImageFolder(const std::vector<std::string> &files,
                               const std::vector<int32_t> &labels,
                               int32_t classes, const ImageShape &shape) {
  Dataset data;
  data.shape = shape;
  data.numClasses = classes;
  data.labels = labels;
  data.pixels.resize(files.size() * data.imageBytes());
  for (size_t i = 0; i < files.size(); ++i) {
    std::vector<float> image =
        resizeImage(decodeImage(files[i], readWholeFile(files[i], "image")),
                    shape.height, shape.width, shape.channels);
    uint8_t *out = data.pixels.data() + i * data.imageBytes();
    for (size_t k = 0; k < image.size(); ++k)
      out[k] = uint8_t(std::lround(std::clamp(image[k], 0.0f, 1.0f) * 255));
  }
  return data;
}

void resizeDataset(Dataset &data, int32_t height, int32_t width) {
  const ImageShape from = data.shape;
  if (from.height == height && from.width == width)
    return;
  Dataset resized;
  resized.shape = {height, width, from.channels};
  std::vector<uint8_t> pixels(size_t(data.size()) * resized.imageBytes());
  std::vector<float> source(data.imageBytes());
  for (int64_t i = 0; i < data.size(); ++i) {
    const uint8_t *in = data.image(i);
    for (size_t k = 0; k < source.size(); ++k)
      source[k] = float(in[k]);
    std::vector<float> image = resizeBilinear(
        source.data(), from.height, from.width, from.channels, height, width);
    uint8_t *out = pixels.data() + size_t(i) * resized.imageBytes();
    for (size_t k = 0; k < image.size(); ++k)
      out[k] = uint8_t(std::lround(std::clamp(image[k], 0.0f, 255.0f)));
  }
  data.pixels = std::move(pixels);
  data.shape = resized.shape;
}

DataSource findData(const std::string &dir) {
  if (!fs::is_directory(dir))
    fail("data directory {} does not exist; pass --data DIR naming a "
         "directory with the data set's files ({})",
         dir, kExpected);
  DataSource source{DataFormat::Idx, dir, {}, {}, {}, {}, {}};
  std::vector<std::string> files;
  if (!(files = findAll(dir, kIdxNames, true, DataFormat::Idx)).empty()) {
    source.train = {files[0], files[1]};
    source.test = {files[2], files[3]};
    return source;
  }
  if (!(files = findAll(dir, kCifar10Names, false, DataFormat::Cifar10))
           .empty()) {
    source.format = DataFormat::Cifar10;
    source.test = {files.back()};
    files.pop_back();
    source.train = files;
    return source;
  }
  if (!(files = findAll(dir, kCifar100Names, false, DataFormat::Cifar100))
           .empty()) {
    source.format = DataFormat::Cifar100;
    source.train = {files[0]};
    source.test = {files[1]};
    return source;
  }
  if (fs::is_directory(fs::path(dir) / "train"))
    return findImageFolders(dir);
  fail("found no data set in {}: {}", dir, kExpected);
}

//===----------------------------------------------------------------------===//
// IDX (MNIST, Fashion-MNIST)
//===----------------------------------------------------------------------===//

static uint32_t bigEndian32(const uint8_t *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 |
         p[3];
}

/// Checks an IDX header of unsigned bytes with `rank` dimensions and returns
/// them; the payload must be exactly their product.
static std::vector<uint32_t> idxDims(const std::string &path,
                                     const std::vector<uint8_t> &bytes,
                                     uint32_t rank, const char *what) {
  uint32_t magic = 0x0800 | rank;
  size_t header = 4 + 4 * size_t(rank);
  if (bytes.size() < header)
    fail("{}: {} bytes is too short for an IDX {} file; the file is "
         "truncated or not IDX",
         path, bytes.size(), what);
  if (bigEndian32(bytes.data()) != magic)
    fail("{}: not an IDX {} file: it starts with 0x{:08x}, expected "
         "0x{:08x}",
         path, what, bigEndian32(bytes.data()), magic);
  std::vector<uint32_t> dims;
  uint64_t payload = 1;
  for (uint32_t d = 0; d < rank; ++d) {
    dims.push_back(bigEndian32(bytes.data() + 4 + 4 * d));
    if (__builtin_mul_overflow(payload, dims.back(), &payload))
      payload = UINT64_MAX; // reported as truncated below
  }
  if (payload == 0)
    fail("{}: the IDX header has a zero dimension; the file holds no data",
         path);
  uint64_t actual = bytes.size() - header;
  if (actual < payload)
    fail("{}: truncated: the header promises {} bytes of data but the file "
         "holds {}; download it again",
         path, payload, actual);
  if (actual > payload)
    fail("{}: {} unexpected bytes after the {} bytes the header promises; "
         "the file is damaged or not IDX",
         path, actual - payload, payload);
  return dims;
}

Dataset parseIdx(const std::string &imagesPath,
                 const std::vector<uint8_t> &images,
                 const std::string &labelsPath,
                 const std::vector<uint8_t> &labels) {
  std::vector<uint32_t> dims = idxDims(imagesPath, images, 3, "image");
  if (dims[1] > 65536 || dims[2] > 65536)
    fail("{}: images of {}x{} pixels; an IDX image file of this runtime "
         "holds images of at most 65536x65536",
         imagesPath, dims[1], dims[2]);
  uint32_t count = idxDims(labelsPath, labels, 1, "label")[0];
  if (count != dims[0])
    fail("{} holds {} labels but {} holds {} images; the two must come from "
         "the same split",
         labelsPath, count, imagesPath, dims[0]);

  Dataset data;
  data.shape = {int32_t(dims[1]), int32_t(dims[2]), 1};
  data.numClasses = 10;
  data.pixels.assign(images.begin() + 16, images.end());
  data.labels.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t label = labels[8 + i];
    if (label >= data.numClasses)
      fail("{}: label {} of image {} is out of range; MNIST and "
           "Fashion-MNIST labels are 0..9",
           labelsPath, label, i);
    data.labels[i] = label;
  }
  return data;
}

//===----------------------------------------------------------------------===//
// CIFAR-10 / CIFAR-100 binary
//===----------------------------------------------------------------------===//

/// Appends the records of one file: `labelBytes` label bytes (the last one
/// is the class) then 32x32 pixels of R, G and B planes, stored here HWC.
Dataset emptyCifar(DataFormat format) {
  Dataset data;
  data.shape = {32, 32, 3};
  data.numClasses = format == DataFormat::Cifar100 ? 100 : 10;
  return data;
}

void appendCifar(Dataset &data, const std::string &path,
                 const std::vector<uint8_t> &bytes, DataFormat format) {
  const size_t labelBytes = format == DataFormat::Cifar100 ? 2 : 1;
  const size_t planes = 32 * 32, record = labelBytes + 3 * planes;
  if (bytes.empty() || bytes.size() % record != 0)
    fail("{}: {} bytes is not a whole number of {}-byte {} records ({} label "
         "byte(s) + 3072 pixel bytes); the file is truncated or not {}",
         path, bytes.size(), record, formatName(format), labelBytes,
         formatName(format));
  size_t count = bytes.size() / record;
  size_t first = data.labels.size();
  data.labels.resize(first + count);
  data.pixels.resize((first + count) * 3 * planes);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t *in = bytes.data() + i * record;
    if (format == DataFormat::Cifar100 && in[0] >= 20)
      fail("{}: record {} has coarse label {}; CIFAR-100 coarse labels are "
           "0..19, so this is not CIFAR-100 binary",
           path, i, in[0]);
    int32_t label = in[labelBytes - 1];
    if (label >= data.numClasses)
      fail("{}: record {} has label {}; {} labels are 0..{}", path, i, label,
           formatName(format), data.numClasses - 1);
    data.labels[first + i] = label;
    const uint8_t *planar = in + labelBytes;
    uint8_t *out = data.pixels.data() + (first + i) * 3 * planes;
    for (size_t p = 0; p < planes; ++p)
      for (size_t c = 0; c < 3; ++c)
        out[p * 3 + c] = planar[c * planes + p];
  }
}

Dataset loadSplit(const DataSource &source, Split split,
                  const ImageShape &folderShape) {
  const std::vector<std::string> &files =
      split == Split::Train ? source.train : source.test;
  if (source.format == DataFormat::ImageFolder)
    return loadImageFolder(
        files, split == Split::Train ? source.trainLabels : source.testLabels,
        int32_t(source.classNames.size()), folderShape);
  if (source.format == DataFormat::Idx)
    return parseIdx(files[0], readDataFile(files[0]), files[1],
                    readDataFile(files[1]));
  Dataset data = emptyCifar(source.format);
  for (const std::string &path : files)
    appendCifar(data, path, readDataFile(path), source.format);
  return data;
}

} // namespace resnetrt
