//===- Numerics.h - finding the kernel that first breaks the numbers --*- C++ -*-===//
//
// train --check-numerics: after every kernel of every step the runtime
// scans the kernel's f32 outputs (on a GPU, copied to host memory first:
// much slower steps), and the first NaN or infinity
// stops the step, naming the step function, the kernel, the DSL layer it
// serves and where that layer is written (rn_program.kernel_sites). The
// scan reads every output once more, so a step takes longer (measured in
// docs/reliability.md); without the flag train checks the loss and the
// gradients' norm after each step and points here.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_NUMERICS_H
#define RESNETRT_NUMERICS_H

#include "resnetrt/KernelHook.h"
#include "resnetrt/Program.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resnetrt {

/// The status a step returns when the check found a non-finite value.
constexpr int32_t kNonFiniteStatus = 0x4e614e; // "NaN"

/// While alive, every kernel's f32 outputs are checked for NaN and
/// infinity (a KernelHook).
class NumericsCheck : public KernelHook {
public:
  explicit NumericsCheck(const rn_program &program);
  ~NumericsCheck() override;

  int32_t afterKernel(int32_t site, halide_buffer_t *outputs,
                      int32_t count) override;

private:
  const rn_program &program;
  std::vector<float> scratch; ///< a GPU kernel's output, in host memory
};

/// What the check found last, e.g. "kernel rn_conv2d_stats_12ab of
/// train_step (layer basic.conv + basic.bn at model.dsl:28:9) wrote nan to
/// element 17 of its output 1 of 3".
std::string nonFiniteReport();

/// Stops the run after a step function (`step`, e.g. "eval_step") returned
/// `status`: a non-finite value the check found (exit status 3), or a
/// Halide error, whose message Halide printed already. `where` follows the
/// step's name, e.g. " at step 12".
[[noreturn]] void failedStep(std::string_view step, int32_t status,
                             std::string_view where = "");

/// The L2 norm of the gradients a CPU program's train_step left in `arena`
/// (rn_program.gradients_offset), in double precision.
double gradientNorm(const rn_program &program, const uint8_t *arena);

} // namespace resnetrt

#endif // RESNETRT_NUMERICS_H
