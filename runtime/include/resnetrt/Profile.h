//===- Profile.h - where a step's time goes, kernel by kernel ---*- C++ -*-===//
//
// train --profile: the time of every kernel call of train_step, from the
// kernel hook (each call's time is the time since the previous kernel's
// hook, or since the step function was called), summed over the profiled
// calls and printed slowest first with what the program's site table says
// each kernel costs: its share of the step, milliseconds per step, GFLOP/s
// (two per multiply-add), bytes moved (the tensors it reads and writes)
// and the bandwidth that makes, and the DSL layer it serves. On the CPU a
// kernel is done when its hook runs; a GPU program only queues its kernels,
// so the profile refuses GPU builds.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_PROFILE_H
#define RESNETRT_PROFILE_H

#include "resnetrt/KernelHook.h"
#include "resnetrt/Program.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace resnetrt {

class KernelProfile : public KernelHook {
public:
  /// Profiles the calls of `step` (RN_TRAIN_STEP or RN_EVAL_STEP).
  KernelProfile(const rn_program &program, std::string step);

  /// Around each profiled call of the step function, of `images` images.
  void beginCall();
  void endCall(int64_t images);

  int32_t afterKernel(int32_t site, halide_buffer_t *outputs,
                      int32_t count) override;

  /// The table, slowest kernel call first; nothing if no call was
  /// profiled.
  void print(FILE *out) const;

private:
  using Clock = std::chrono::steady_clock;
  const rn_program &program;
  const std::string step;
  std::vector<double> seconds; ///< per site, over the profiled calls
  double callSeconds = 0;      ///< the step function's, in all
  int64_t calls = 0, images = 0;
  bool inCall = false;
  Clock::time_point callStart, last;
};

} // namespace resnetrt

#endif // RESNETRT_PROFILE_H
