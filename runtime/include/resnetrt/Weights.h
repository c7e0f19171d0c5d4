//===- Weights.h - a program's weights to and from safetensors --*- C++ -*-===//
//
// `train --export`, `classify --export` and `train --init-from`: the
// parameters and state of a program's arena as a safetensors file
// (Safetensors.h), named as the program table names them.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_WEIGHTS_H
#define RESNETRT_WEIGHTS_H

#include "resnetrt/Program.h"

#include <string>

namespace resnetrt {

class Arena;

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

#endif // RESNETRT_WEIGHTS_H
