//===- Arena.h - the one allocation a training run makes --------*- C++ -*-===//
//
// The arena holds every tensor of a step: the variables and scalars in its
// fixed region, then the per-sample tensors (images, labels, activations)
// for the largest batch the run uses. It is allocated, zeroed (so its pages
// are touched once, up front) and checked against the program table before
// the first step, and never reallocated: allocating per step is what makes
// a framework's step slower than its kernels.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_ARENA_H
#define RESNETRT_ARENA_H

#include "resnetrt/Program.h"

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace resnetrt {

/// Elements of a variable (the product of its shape).
int64_t elementCount(const rn_variable &variable);

/// Checks that the program table is one this runtime can use: the ABI
/// version, positive shapes, known variable roles (and a prepare_eval when
/// some are derived), and every offset inside its region. Throws an Error
/// that names the entry; such an error is a compiler bug.
void checkProgram(const rn_program &program);

class Arena {
public:
  /// Allocates fixed_bytes + maxBatch * per_sample_bytes, 64-byte aligned.
  Arena(const rn_program &program, int32_t maxBatch);

  uint8_t *data() { return memory.get(); }
  int64_t bytes() const { return size; }
  int32_t maxBatch() const { return capacity; }

  /// The per-sample slots of a call with `batch` images (Program.h).
  float *images(int32_t batch);
  int32_t *labels(int32_t batch);
  float loss() const;
  int32_t correct() const;
  float *variable(const rn_variable &variable);

private:
  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  const rn_program &program;
  std::unique_ptr<uint8_t, Free> memory;
  int64_t size;
  int32_t capacity;
};

} // namespace resnetrt

#endif // RESNETRT_ARENA_H
