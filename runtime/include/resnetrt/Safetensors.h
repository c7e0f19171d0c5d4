//===- Safetensors.h - weights in the safetensors format --------*- C++ -*-===//
//
// The format other tools read weights in (PyTorch through the safetensors
// package or a plain reader, Hugging Face, ...): a little-endian u64 N, N
// bytes of JSON naming each tensor's dtype, shape and [begin, end) byte
// range in the data that follows, then the data, row-major little-endian.
// resnetc's layouts are PyTorch's: convolution weights OIHW, dense weights
// [out, in] as torch.nn.Linear's; BatchNorm's scale and shift are `gamma`
// and `beta` (PyTorch's `weight` and `bias`).
//
// `train --export` and `classify --export` write a model's parameters and
// state (BatchNorm running statistics), not its optimizer's slots, named as
// the DSL names them (`stage1.block0.conv.weight`, `bn.running_var`);
// `train --init-from` (Weights.h) and `resnetc --emit=onnx --weights` read
// such a file back: every parameter and state tensor of the model must be
// there, as F32 of the model's shape, and nothing else.
//
// This part of the runtime knows nothing of programs or arenas (it is the
// library resnetrt-safetensors), so that resnetc links it too.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_SAFETENSORS_H
#define RESNETRT_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace resnetrt {

/// One tensor of a file: its dtype ("F32", "F16", ...), shape, and bytes.
struct StoredTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// A parsed file: its tensors by name and its __metadata__ strings.
struct Safetensors {
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Parses the bytes of the file at `path` (named in errors). Throws an
/// Error for anything the format does not allow: a header past the file,
/// JSON that is not the format's, ranges outside the data, overlapping or
/// leaving holes, sizes that disagree with dtype and shape.
Safetensors parseSafetensors(const std::string &path,
                             const std::vector<uint8_t> &bytes);

/// The weights file at `path`, read and parsed; throws an Error naming it.
Safetensors readSafetensors(const std::string &path);

/// Throws an Error if `file` (read from `path`) does not hold exactly the
/// tensors of `expected` (name, shape) as F32 of those shapes, for model
/// `model`: the message names every missing, misshapen or extra tensor.
void checkWeights(
    const std::string &path, const std::string &model, const Safetensors &file,
    const std::vector<std::pair<std::string, std::vector<int64_t>>> &expected);

/// The bytes of the file of these tensors, in the order given.
std::string
serializeSafetensors(const std::vector<std::pair<std::string, StoredTensor>>
                         &tensors,
                     const std::map<std::string, std::string> &metadata);

} // namespace resnetrt

#endif // RESNETRT_SAFETENSORS_H
