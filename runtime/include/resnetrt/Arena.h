//===- Arena.h - the one allocation a training run makes --------*- C++ -*-===//
//
// The arena holds every tensor of a step: the variables and scalars in its
// fixed region, then the per-sample tensors (images, labels, activations)
// for the largest batch the run uses. It is allocated, zeroed (so its pages
// are touched once, up front) and checked against the program table before
// the first step, and never reallocated: allocating per step is what makes
// a framework's step slower than its kernels.
//
// For a GPU program the arena the steps use is in device memory (Device.h),
// and the host memory here is its mirror for what the runtime reads and
// writes. The runtime says when the two must agree: after writing a batch
// (uploadBatch) or the variables (uploadVariables), before reading the
// variables (downloadVariables); each step brings back its loss and correct
// count. For the CPU these calls do nothing. A step thus moves only its
// batch up and two scalars down.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_ARENA_H
#define RESNETRT_ARENA_H

#include "resnetrt/Device.h"
#include "resnetrt/Program.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>

namespace resnetrt {

/// Elements of a variable (the product of its shape).
int64_t elementCount(const rn_variable &variable);

/// The device an arena's steps run on, for results: the GPU's name, or "cpu".
std::string deviceName(const class Arena &arena);

/// Checks that the program table is one this runtime can use: the ABI
/// version, positive shapes, known variable roles (and a prepare_eval when
/// some are derived), and every offset inside its region. Throws an Error
/// that names the entry; such an error is a compiler bug.
void checkProgram(const rn_program &program);

class Arena {
public:
  /// Allocates fixed_bytes + maxBatch * per_sample_bytes, 128-byte aligned;
  /// for a GPU program, the same on its device number `gpu` (finding it
  /// first: an Error says what is missing).
  Arena(const rn_program &program, int32_t maxBatch, int32_t gpu = 0);

  /// The host memory (for a GPU program, the mirror).
  uint8_t *data() { return memory.get(); }
  int64_t bytes() const { return size; }
  int32_t maxBatch() const { return capacity; }
  /// The device of a GPU program; null for the CPU.
  const DeviceInfo *device() const { return info ? &*info : nullptr; }

  /// The per-sample slots of a call with `batch` images (Program.h).
  float *images(int32_t batch);
  int32_t *labels(int32_t batch);
  /// The logits of the last eval_step of `batch` images, [batch, classes]
  /// (copied from the device for a GPU program).
  const float *logits(int32_t batch);
  float loss() const;
  int32_t correct() const;
  float *variable(const rn_variable &variable);

  /// The program's step functions on this arena; each returns 0 or a Halide
  /// error code, and leaves the loss and correct count in host memory.
  int32_t trainStep(int32_t batch, const rn_step_params &params);
  int32_t evalStep(int32_t batch);
  int32_t prepareEval();

  /// A GPU program's copies (nothing for the CPU): the images and labels of
  /// a call of `batch`, after writing them; the variables (with the
  /// gradients of the last step, which lie among them), after initialising
  /// or loading them, and before reading them (a copy only if a step changed
  /// them since).
  void uploadBatch(int32_t batch);
  void uploadVariables();
  void downloadVariables();
  /// The whole arena, every tensor of the last step, to host memory (for
  /// tests and debugging: the step driver's dump).
  void downloadAll();
  /// Brings the loss and correct count of the last step to host memory
  /// (the step functions above do, when they succeed).
  void downloadResults();
  /// Waits until a GPU program's queued kernels have finished.
  void synchronize();
  /// Bytes [offset, offset + bytes) of a GPU program's arena, one copy to
  /// or from its mirror (the gradient buckets of a run on several ranks).
  void download(int64_t offset, int64_t bytes);
  void upload(int64_t offset, int64_t bytes);

private:
  /// The first argument of the step functions.
  void *stepArena();

  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  const rn_program &program;
  std::unique_ptr<uint8_t, Free> memory;
  int64_t size;
  int32_t capacity;
  /// Bytes [0, variablesEnd) hold the variables and the gradients.
  int64_t variablesEnd = 0;
  bool variablesOnHost = true; ///< Whether host memory has their values.
  std::optional<DeviceInfo> info;
  std::unique_ptr<DeviceMemory> deviceMemory;
};

} // namespace resnetrt

#endif // RESNETRT_ARENA_H
