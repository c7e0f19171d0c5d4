//===- Init.h - initial values of a program's variables ---------*- C++ -*-===//
//
// Each variable's initialiser comes from the program table, with PyTorch's
// definitions (torch.nn.init):
//   zeros, ones, constant(value)
//   normal        N(0, value^2)              uniform   U(-value, value)
//   he_normal     N(0, 2 / fan)              he_uniform  U(+-sqrt(6 / fan))
//                 (kaiming_*_ with the ReLU gain sqrt(2); fan by the mode)
//   glorot_normal N(0, 2 / (fan_in + fan_out))
//   glorot_uniform U(+-sqrt(6 / (fan_in + fan_out)))   (xavier_*_)
//   lecun_normal  N(0, 1 / fan_in)
// with the fans the compiler computed. A variable's numbers come from its
// own stream: init_seed when the model fixes one, else hash(run seed, name),
// so adding a layer leaves the other layers' initial values alone.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_INIT_H
#define RESNETRT_INIT_H

#include "resnetrt/Program.h"

#include <cstdint>

namespace resnetrt {

class Arena;

/// Fills `data` (elementCount(variable) floats) with its initial values.
void initVariable(const rn_variable &variable, uint64_t runSeed, float *data);

/// Initialises every variable of the program in the arena; derived ones
/// (RN_DERIVED) are zeroed, not drawn from their init.
void initVariables(const rn_program &program, uint64_t runSeed, Arena &arena);

} // namespace resnetrt

#endif // RESNETRT_INIT_H
