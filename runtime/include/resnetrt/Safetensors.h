//===- Safetensors.h - weights in the safetensors format --------*- C++ -*-===//
//
// The format other tools read weights in (PyTorch through the safetensors
// package or a plain reader, Hugging Face, ...): a little-endian u64 N, N
// bytes of JSON naming each tensor's dtype, shape and [begin, end) byte
// range in the data that follows, then the data, row-major little-endian.
// `train --export` and `classify --export` write a model's parameters and
// state (BatchNorm running statistics), not its optimizer's slots, named as
// the DSL names them (`stage1.block0.conv.weight`, `bn.running_var`).
// resnetc's layouts are PyTorch's: convolution weights OIHW, dense weights
// [out, in] as torch.nn.Linear's; BatchNorm's scale and shift are `gamma`
// and `beta` (PyTorch's `weight` and `bias`). `train --init-from` reads such
// a file back: every parameter and state tensor of the model must be there,
// as F32 of the model's shape, and nothing else.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_SAFETENSORS_H
#define RESNETRT_SAFETENSORS_H

#include "resnetrt/Program.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace resnetrt {

class Arena;

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

/// The bytes of the file of these tensors, in the order given.
std::string
serializeSafetensors(const std::vector<std::pair<std::string, StoredTensor>>
                         &tensors,
                     const std::map<std::string, std::string> &metadata);

/// Writes the arena's parameters and state to `path`, atomically. Returns
/// the number of tensors.
int exportWeights(const std::string &path, const rn_program &program,
                  Arena &arena);

/// Loads every parameter and state variable of the program from `path`;
/// the optimizer's slots are left as they are. Returns the number of
/// tensors.
int importWeights(const std::string &path, const rn_program &program,
                  Arena &arena);

} // namespace resnetrt

#endif // RESNETRT_SAFETENSORS_H
