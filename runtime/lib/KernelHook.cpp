//===- KernelHook.cpp - the hooks behind rn_kernel_hook -------------------===//

#include "resnetrt/KernelHook.h"

#include "resnetrt/Program.h"

#include <algorithm>
#include <vector>

extern "C" {
int32_t (*rn_kernel_hook)(int32_t, halide_buffer_t *, int32_t) = nullptr;
}

namespace resnetrt {
namespace {

std::vector<KernelHook *> &hooks() {
  static std::vector<KernelHook *> live;
  return live;
}

extern "C" int32_t callHooks(int32_t site, halide_buffer_t *outputs,
                             int32_t count) {
  for (KernelHook *hook : hooks())
    if (int32_t status = hook->afterKernel(site, outputs, count))
      return status;
  return 0;
}

} // namespace

KernelHook::KernelHook() {
  hooks().push_back(this);
  rn_kernel_hook = callHooks;
}

KernelHook::~KernelHook() {
  auto &live = hooks();
  live.erase(std::remove(live.begin(), live.end(), this), live.end());
  // No hook: the steps skip the call altogether.
  if (live.empty())
    rn_kernel_hook = nullptr;
}

} // namespace resnetrt
