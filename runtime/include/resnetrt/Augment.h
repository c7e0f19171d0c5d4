//===- Augment.h - per-sample augmentation and normalisation ----*- C++ -*-===//
//
// Turns one stored image (HWC, u8) into one input of the model (HWC, f32):
// the geometric ops of --augment in order, then scaling to [0, 1] and the
// per-channel normalisation of --normalize.
//
//   random_crop(SIZE, pad=P)  pad each side with P black pixels, then take a
//                             SIZE x SIZE window at a random position
//   central_crop(SIZE)        the centred SIZE x SIZE window (top-left offset
//                             rounded down)
//   flip_horizontal           mirror left-right with probability 1/2
//
// Evaluation applies the deterministic part only: random_crop becomes the
// centred window of the padded image (the identity when SIZE is the image's
// size), central_crop stays, flip_horizontal is skipped. Padding is black
// before scaling, as torchvision's RandomCrop ahead of Normalize.
//
// Crops and flips move whole rows and columns, so however they are chained,
// each output coordinate comes from one source coordinate per axis through
// src = ±u + offset, or from the padding outside an interval. A sample's
// transform is composed once into those two axis maps and then copied in a
// single pass.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_AUGMENT_H
#define RESNETRT_AUGMENT_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resnetrt {

struct AugmentOp {
  enum Kind { RandomCrop, CentralCrop, FlipHorizontal };
  Kind kind;
  int32_t size = 0; ///< crops
  int32_t pad = 0;  ///< random_crop
};

/// Parses a comma-separated list of ops, or "none". Throws a usage Error
/// that names what is accepted.
std::vector<AugmentOp> parseAugment(std::string_view text);

/// Per-channel constants on the [0, 1] scale: x' = (x / 255 - mean) / std.
/// Empty: scaling to [0, 1] only.
struct Normalize {
  std::vector<double> mean, stddev;
};

/// Parses "none" or "MEANS/STDS", each a comma-separated list of one value
/// (for every channel) or one per channel.
Normalize parseNormalize(std::string_view text);

/// Normalises `image` ([H, W, C] floats on the [0, 1] scale, `pixels` of
/// `channels`) in place, as --normalize says; a usage Error when it has
/// neither one value nor one per channel.
void normalizeImage(const Normalize &normalize, float *image, int64_t pixels,
                    int32_t channels);

struct ImageShape {
  int32_t height = 0, width = 0, channels = 0;
  bool operator==(const ImageShape &other) const {
    return height == other.height && width == other.width &&
           channels == other.channels;
  }
  /// "HxWxC", as messages show shapes.
  std::string str() const;
};

class Augmenter {
public:
  /// Checks that every op fits the image it receives and that --normalize
  /// has a value for every channel; throws a usage Error otherwise.
  Augmenter(std::vector<AugmentOp> ops, const Normalize &normalize,
            ImageShape input);

  ImageShape outputShape() const { return output; }

  /// Writes the model input for `image` ([H, W, C] u8) to `out`
  /// ([H', W', C] f32). Training draws the random choices from `key`.
  void apply(const uint8_t *image, float *out, bool training,
             uint64_t key) const;

private:
  struct Stage {
    AugmentOp op;
    ImageShape in; ///< what the op receives
  };
  std::vector<Stage> stages;
  ImageShape input, output;
  /// value[c * 256 + v]: the model input for byte v of channel c.
  std::vector<float> value;
};

} // namespace resnetrt

#endif // RESNETRT_AUGMENT_H
