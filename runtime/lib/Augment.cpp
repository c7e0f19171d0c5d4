//===- Augment.cpp - per-sample augmentation and normalisation ------------===//

#include "resnetrt/Augment.h"

#include "resnetrt/Error.h"
#include "resnetrt/Random.h"
#include "resnetrt/Text.h"

#include <algorithm>

namespace resnetrt {

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

static constexpr const char *kAugmentForms =
    "expected a comma-separated list of random_crop(SIZE,pad=P), "
    "central_crop(SIZE) and flip_horizontal, or none";

/// A positive size, or the usage error that names the op and the value.
static int32_t parseSize(std::string_view op, std::string_view name,
                         std::string_view text, int64_t minimum) {
  std::optional<int64_t> value = parseInteger(text);
  if (!value || *value < minimum || *value > (1 << 20))
    usageError("{}: {} must be an integer >= {}, got '{}'", op, name, minimum,
               text);
  return int32_t(*value);
}

static AugmentOp parseOp(std::string_view text) {
  size_t open = text.find('(');
  std::string_view name = trim(text.substr(0, open));
  std::vector<std::string_view> args;
  if (open != std::string_view::npos) {
    if (text.back() != ')')
      usageError("'{}' lacks its closing parenthesis; {}", text, kAugmentForms);
    args = splitList(text.substr(open + 1, text.size() - open - 2));
  }

  if (name == "flip_horizontal") {
    if (!args.empty())
      usageError("flip_horizontal takes no arguments");
    return {AugmentOp::FlipHorizontal};
  }
  if (name != "random_crop" && name != "central_crop")
    usageError("unknown augmentation '{}'; {}", name, kAugmentForms);

  AugmentOp op{name == "random_crop" ? AugmentOp::RandomCrop
                                     : AugmentOp::CentralCrop};
  bool haveSize = false;
  for (std::string_view arg : args) {
    size_t equals = arg.find('=');
    std::string_view key =
        equals == std::string_view::npos ? "size" : trim(arg.substr(0, equals));
    std::string_view value =
        equals == std::string_view::npos ? arg : trim(arg.substr(equals + 1));
    if (key == "size") {
      op.size = parseSize(name, "size", value, 1);
      haveSize = true;
    } else if (key == "pad" && op.kind == AugmentOp::RandomCrop) {
      op.pad = parseSize(name, "pad", value, 0);
    } else {
      usageError("{} has no argument '{}'; {}", name, key, kAugmentForms);
    }
  }
  if (!haveSize)
    usageError("{} needs a size, e.g. {}(32); {}", name, name, kAugmentForms);
  return op;
}

std::vector<AugmentOp> parseAugment(std::string_view text) {
  std::vector<AugmentOp> ops;
  if (trim(text) == "none")
    return ops;
  for (std::string_view piece : splitList(text)) {
    if (piece.empty())
      usageError("empty item in the list; {}", kAugmentForms);
    ops.push_back(parseOp(piece));
  }
  return ops;
}

Normalize parseNormalize(std::string_view text) {
  text = trim(text);
  if (text.empty() || text == "none")
    return {};
  static constexpr const char *forms =
      "expected MEANS/STDS on the [0,1] scale, one value or one per channel, "
      "e.g. 0.4914,0.4822,0.4465/0.2470,0.2435,0.2616, or none";
  size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    usageError("{}", forms);
  std::optional<std::vector<double>> mean =
      parseNumberList(text.substr(0, slash));
  std::optional<std::vector<double>> stddev =
      parseNumberList(text.substr(slash + 1));
  if (!mean || !stddev || mean->empty() || stddev->empty())
    usageError("{}", forms);
  if (std::any_of(stddev->begin(), stddev->end(),
                  [](double s) { return s <= 0; }))
    usageError("every standard deviation must be > 0");
  return {*mean, *stddev};
}

std::string ImageShape::str() const {
  return fmt::format("{}x{}x{}", height, width, channels);
}

//===----------------------------------------------------------------------===//
// Applying
//===----------------------------------------------------------------------===//

/// Per-channel constant: the single value of `values` or its c-th.
static double channelValue(const std::vector<double> &values, int32_t c) {
  return values.size() == 1 ? values[0] : values[c];
}

static void checkNormalize(const Normalize &normalize, int32_t channels) {
  for (const std::vector<double> *values : {&normalize.mean, &normalize.stddev})
    if (values->size() > 1 && values->size() != size_t(channels))
      usageError("--normalize has {} values where the images have {} "
                 "channel(s); give one value or one per channel",
                 values->size(), channels);
}

void normalizeImage(const Normalize &normalize, float *image, int64_t pixels,
                    int32_t channels) {
  checkNormalize(normalize, channels);
  if (normalize.mean.empty())
    return;
  for (int64_t i = 0; i < pixels; ++i)
    for (int32_t c = 0; c < channels; ++c) {
      float &value = image[i * channels + c];
      value = float((value - channelValue(normalize.mean, c)) /
                    channelValue(normalize.stddev, c));
    }
}

Augmenter::Augmenter(std::vector<AugmentOp> ops, const Normalize &normalize,
                     ImageShape input)
    : input(input), output(input) {
  for (const AugmentOp &op : ops) {
    stages.push_back({op, output});
    if (op.kind == AugmentOp::FlipHorizontal)
      continue;
    int32_t pad = op.kind == AugmentOp::RandomCrop ? op.pad : 0;
    if (op.size > output.height + 2 * pad || op.size > output.width + 2 * pad)
      usageError("--augment: a {}x{} crop does not fit {}x{} images{}", op.size,
                 op.size, output.height, output.width,
                 pad ? fmt::format(" padded by {}", pad) : std::string());
    output.height = output.width = op.size;
  }

  checkNormalize(normalize, input.channels);

  value.resize(size_t(input.channels) * 256);
  for (int32_t c = 0; c < input.channels; ++c) {
    double mean = normalize.mean.empty() ? 0 : channelValue(normalize.mean, c);
    double stddev =
        normalize.stddev.empty() ? 1 : channelValue(normalize.stddev, c);
    for (int v = 0; v < 256; ++v)
      value[c * 256 + v] = float((v / 255.0 - mean) / stddev);
  }
}

namespace {
/// One axis of a composed transform: output coordinate u reads source
/// coordinate sign * u + offset where lo <= u < hi, and padding elsewhere.
struct AxisMap {
  int32_t sign = 1, offset = 0, lo = 0, hi;

  /// Appends a crop whose window starts at `start` in its (padded) input;
  /// `start` is negative into the padding.
  void crop(int32_t start, int32_t size) {
    lo = std::max(lo - start, 0);
    hi = std::min(hi - start, size);
    offset += sign * start;
  }
  /// Appends a mirror of an axis of `extent` coordinates.
  void flip(int32_t extent) {
    int32_t newLo = extent - hi, newHi = extent - lo;
    lo = newLo;
    hi = newHi;
    offset += sign * (extent - 1);
    sign = -sign;
  }
  bool inside(int32_t u) const { return u >= lo && u < hi; }
  int32_t source(int32_t u) const { return sign * u + offset; }
};
} // namespace

void Augmenter::apply(const uint8_t *image, float *out, bool training,
                      uint64_t key) const {
  // Maps start as the identity on the source and take each op in turn, so
  // random choices are drawn in the order the ops are written.
  AxisMap rows{1, 0, 0, input.height}, cols{1, 0, 0, input.width};
  Rng rng(key);
  for (const Stage &stage : stages) {
    const AugmentOp &op = stage.op;
    if (op.kind == AugmentOp::FlipHorizontal) {
      if (training && (rng.next() >> 63))
        cols.flip(stage.in.width);
      continue;
    }
    int32_t pad = op.kind == AugmentOp::RandomCrop ? op.pad : 0;
    int32_t spanY = stage.in.height + 2 * pad - op.size;
    int32_t spanX = stage.in.width + 2 * pad - op.size;
    bool random = training && op.kind == AugmentOp::RandomCrop;
    int32_t top = random ? int32_t(rng.below(uint64_t(spanY) + 1)) : spanY / 2;
    int32_t left = random ? int32_t(rng.below(uint64_t(spanX) + 1)) : spanX / 2;
    rows.crop(top - pad, op.size);
    cols.crop(left - pad, op.size);
  }

  const int32_t channels = input.channels;
  const size_t sourceRow = size_t(input.width) * channels;
  for (int32_t y = 0; y < output.height; ++y) {
    const uint8_t *row =
        rows.inside(y) ? image + size_t(rows.source(y)) * sourceRow : nullptr;
    for (int32_t x = 0; x < output.width; ++x, out += channels) {
      const uint8_t *pixel = row && cols.inside(x)
                                 ? row + size_t(cols.source(x)) * channels
                                 : nullptr;
      for (int32_t c = 0; c < channels; ++c)
        out[c] = value[c * 256 + (pixel ? pixel[c] : 0)];
    }
  }
}

} // namespace resnetrt
