//===- Numerics.cpp - finding the kernel that first breaks the numbers ----===//

#include "resnetrt/Numerics.h"

#include "resnetrt/Device.h"
#include "resnetrt/Error.h"

#include "HalideRuntime.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace resnetrt {
namespace {

std::string report; ///< what the last check found

/// The values of a dense f32 buffer in host memory (copied to `scratch`
/// from a GPU program's device view: 0 or a Halide error in `status`), or
/// null for other types; their number in `count`.
const float *hostValues(const halide_buffer_t &buffer,
                        std::vector<float> &scratch, int64_t &count,
                        int32_t &status) {
  status = 0;
  if (buffer.type.code != halide_type_float || buffer.type.bits != 32)
    return nullptr;
  count = int64_t(buffer.number_of_elements());
  if (buffer.host)
    return reinterpret_cast<const float *>(buffer.host);
  scratch.resize(size_t(count));
  status = copyViewToHost(buffer, scratch.data());
  return scratch.data();
}

} // namespace

NumericsCheck::NumericsCheck(const rn_program &program) : program(program) {
  report.clear();
}

NumericsCheck::~NumericsCheck() = default;

int32_t NumericsCheck::afterKernel(int32_t site, halide_buffer_t *outputs,
                                   int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    int64_t elements = 0;
    int32_t status = 0;
    const float *values = hostValues(outputs[i], scratch, elements, status);
    if (status)
      return status;
    if (!values)
      continue;
    const float *found = std::find_if(values, values + elements, [](float v) {
      return !std::isfinite(v);
    });
    if (found == values + elements)
      continue;
    int64_t bad = found - values;
    float value = *found;
    rn_kernel_site where{"", "", "", ""};
    if (site >= 0 && site < program.num_kernel_sites)
      where = program.kernel_sites[site];
    report = fmt::format(
        "kernel {} of {} (layer {} at {}) wrote {} to element {} of its "
        "output {} of {}",
        where.kernel, where.step, *where.layer ? where.layer : "?",
        *where.location ? where.location : "?", value, bad, i + 1, count);
    return kNonFiniteStatus;
  }
  return 0;
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
