//===- KernelHook.h - looking at each kernel's outputs ----------*- C++ -*-===//
//
// The step functions call rn_kernel_hook (Program.h) after every kernel.
// Several parts of the runtime want it at once (--check-numerics, the
// gradient all-reduce on several ranks, --accumulate): each derives from
// KernelHook, which while it lives is called after every kernel, in the
// order the hooks were made; the first non-zero status stops the step.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_KERNELHOOK_H
#define RESNETRT_KERNELHOOK_H

#include <cstdint>

struct halide_buffer_t;

namespace resnetrt {

class KernelHook {
public:
  KernelHook();
  virtual ~KernelHook();
  KernelHook(const KernelHook &) = delete;
  KernelHook &operator=(const KernelHook &) = delete;

  /// After kernel call `site` (rn_program.kernel_sites) with its `count`
  /// output descriptors: 0 to go on, else the status the step returns.
  /// Must not throw (it runs inside the generated step).
  virtual int32_t afterKernel(int32_t site, halide_buffer_t *outputs,
                              int32_t count) = 0;
};

} // namespace resnetrt

#endif // RESNETRT_KERNELHOOK_H
