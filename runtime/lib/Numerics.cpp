//===- Numerics.cpp - finding the kernel that first breaks the numbers ----===//

#include "resnetrt/Numerics.h"

#include "resnetrt/Error.h"

#include "HalideRuntime.h"

#include <fmt/format.h>

#include <cmath>

extern "C" {
int32_t (*rn_kernel_hook)(int32_t, halide_buffer_t *, int32_t) = nullptr;
}

namespace resnetrt {
namespace {

const rn_program *checked = nullptr;
std::string report;

/// The first non-finite f32 of a dense host buffer, or -1.
int64_t firstNonFinite(const halide_buffer_t &buffer) {
  if (buffer.type.code != halide_type_float || buffer.type.bits != 32 ||
      !buffer.host)
    return -1;
  int64_t elements = 1;
  for (int32_t d = 0; d < buffer.dimensions; ++d)
    elements *= buffer.dim[d].extent;
  const float *values = reinterpret_cast<const float *>(buffer.host);
  for (int64_t i = 0; i < elements; ++i)
    if (!std::isfinite(values[i]))
      return i;
  return -1;
}

extern "C" int32_t checkOutputs(int32_t site, halide_buffer_t *outputs,
                                int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    int64_t bad = firstNonFinite(outputs[i]);
    if (bad < 0)
      continue;
    float value = reinterpret_cast<const float *>(outputs[i].host)[bad];
    rn_kernel_site where{"", "", "", ""};
    if (site >= 0 && site < checked->num_kernel_sites)
      where = checked->kernel_sites[site];
    report = fmt::format(
        "kernel {} of {} (layer {} at {}) wrote {} to element {} of its "
        "output {} of {}",
        where.kernel, where.step, *where.layer ? where.layer : "?",
        *where.location ? where.location : "?", value, bad, i + 1, count);
    return kNonFiniteStatus;
  }
  return 0;
}

} // namespace

NumericsCheck::NumericsCheck(const rn_program &program) {
  checked = &program;
  report.clear();
  rn_kernel_hook = checkOutputs;
}

NumericsCheck::~NumericsCheck() {
  rn_kernel_hook = nullptr;
  checked = nullptr;
}

std::string nonFiniteReport() { return report; }

void failedStep(std::string_view step, int32_t status, std::string_view where) {
  if (status == kNonFiniteStatus)
    throw Error(ExitDiverged,
                fmt::format("{}{} stopped: {}", step, where, report));
  fail("{} failed{} with Halide error {} (see the message above)", step,
       where, status);
}

double gradientNorm(const rn_program &program, const uint8_t *arena) {
  const float *gradients =
      reinterpret_cast<const float *>(arena + program.gradients_offset);
  double sum = 0;
  for (int64_t i = 0, n = program.parameters_bytes / 4; i < n; ++i)
    sum += double(gradients[i]) * gradients[i];
  return std::sqrt(sum);
}

} // namespace resnetrt
