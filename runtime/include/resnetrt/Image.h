//===- Image.h - PNG and JPEG files as model inputs -------------*- C++ -*-===//
//
// classify --image and image folders (Data.h) read the user's own pictures: PNG through libpng, JPEG
// through libjpeg, told apart by their first bytes, not their names. They
// reach the model as Keras's image_dataset_from_directory gives them:
// RGB (alpha dropped) or grayscale (tf.image.rgb_to_grayscale's weights),
// resized bilinearly to the model's input with half-pixel centres and no
// antialiasing (tf.image.resize's default, and PyTorch's interpolate with
// align_corners=False), scaled to [0, 1].
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_IMAGE_H
#define RESNETRT_IMAGE_H

#include <cstdint>
#include <string>
#include <vector>

namespace resnetrt {

/// 8-bit RGB pixels, rows top to bottom, channels interleaved.
struct RgbImage {
  int32_t width = 0, height = 0;
  std::vector<uint8_t> pixels; ///< height * width * 3
};

/// Decodes the PNG or JPEG `bytes` of the file `path` (named in errors).
/// Throws an Error for anything else, or a file the library refuses.
RgbImage decodeImage(const std::string &path, const std::vector<uint8_t> &bytes);

/// `image` at `height` x `width` with `channels` (1: grayscale, 3: RGB), as
/// floats in [0, 1], HWC.
std::vector<float> resizeImage(const RgbImage &image, int32_t height,
                               int32_t width, int32_t channels);

/// `source`, HWC floats of `sourceHeight` x `sourceWidth` x `channels`,
/// resized bilinearly (half-pixel centres, no antialiasing) to `height` x
/// `width`.
std::vector<float> resizeBilinear(const float *source, int32_t sourceHeight,
                                  int32_t sourceWidth, int32_t channels,
                                  int32_t height, int32_t width);

} // namespace resnetrt

#endif // RESNETRT_IMAGE_H
