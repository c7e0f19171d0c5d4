//===- KernelCompiler.h - kernels to object files, cached, in parallel -*- C++ -*-===//
//
// Compiles the kernels of a program ahead of time: each distinct KernelSpec
// once, on several threads, reusing objects from a disk cache keyed by the
// spec, the target, the scheduler and the resnetc binary that built them;
// plus one standalone Halide runtime for the target. No exception leaves
// this interface: failures come back as messages.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELCOMPILER_H
#define RESNETC_CODEGEN_KERNELCOMPILER_H

#include "resnetc/Codegen/KernelSpec.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace resnetc::kernels {

/// The pinned Halide target for `name`: "cpu" (or "host": "avx512" if this
/// machine has it, else "avx2"), "avx512", "avx2", "cuda" (NVIDIA GPUs),
/// "opencl" (the same GPU schedules through OpenCL: pocl runs them on the
/// CPU, for tests) or a full Halide target string. Empty when the name is
/// unknown.
std::string resolveTarget(const std::string &name);

/// The device API a resolved target's kernels run on: "cuda", "opencl", or
/// "" for the CPU.
std::string deviceApi(const std::string &target);

struct CompileOptions {
  std::string target;       ///< A resolved Halide target string.
  Scheduler scheduler = Scheduler::Hand;
  std::string cacheDir;     ///< Empty: no cache.
  std::string workDir;      ///< Where uncached objects are written.
  unsigned jobs = 0;        ///< 0: one per hardware thread.
  std::string compilerId;   ///< Identifies this resnetc build.
};

struct CompiledKernels {
  std::vector<std::string> objects; ///< One per distinct spec, then the runtime.
  unsigned distinct = 0, fromCache = 0;
  double seconds = 0;
  std::optional<std::string> error;
};

/// Compiles `specs` (duplicates once) and the Halide runtime. `progress`
/// is called after each kernel with (done, total).
CompiledKernels
compileKernels(const std::vector<KernelSpec> &specs,
               const CompileOptions &options,
               const std::function<void(size_t, size_t)> &progress);

/// Halide's lowered statement of one kernel (`resnetc --emit=halide`), or
/// the error.
std::string loweredStatement(const KernelSpec &spec,
                             const CompileOptions &options);

/// The device code of one kernel for a GPU target: PTX for CUDA
/// (`resnetc --emit=ptx`), OpenCL C for OpenCL; or the error.
std::string deviceCode(const KernelSpec &spec, const CompileOptions &options);

} // namespace resnetc::kernels

#endif // RESNETC_CODEGEN_KERNELCOMPILER_H
