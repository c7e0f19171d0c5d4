//===- Compile.cpp - kernels to object files, cached, in parallel -----------===//
//
// Halide's compiler is thread-safe for independent pipelines, so workers
// take kernels from a shared counter. A cached object is named by a hash of
// everything that decides its code; it is written to a temporary name and
// renamed, so concurrent resnetc runs never see half an object.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Codegen/KernelCompiler.h"
#include "resnetc/Codegen/Kernels.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

using namespace Halide;
namespace fs = std::filesystem;

namespace resnetc::kernels {

namespace {

const char *const kAvx512 =
    "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake";
const char *const kAvx2 = "x86-64-linux-sse41-avx-avx2-fma-f16c";
// GPU targets: the host side (launches, the step) needs no more than AVX2,
// so a GPU program runs on any recent x86-64 host. PTX for compute
// capability 8.0 (Halide 14 knows up to 8.6); the driver JIT-compiles it
// for newer GPUs (Hopper).
const char *const kCuda =
    "x86-64-linux-sse41-avx-avx2-fma-f16c-cuda-cuda_capability_80";
// The statistics sum in double (as the CPU kernels do): cl_doubles.
const char *const kOpenCL =
    "x86-64-linux-sse41-avx-avx2-fma-f16c-opencl-cl_doubles";

uint64_t fnv1a(const std::string &text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof(text), "%016llx", (unsigned long long)value);
  return text;
}

/// Writes `path` through `write(temporary)`, then renames it into place.
/// The temporary is named by process and thread: thread ids alone repeat
/// across processes.
void writeAtomically(const fs::path &path,
                     const std::function<void(const std::string &)> &write) {
  fs::path temporary = path;
  temporary += ".tmp" + std::to_string(getpid()) + "." +
               std::to_string(std::hash<std::thread::id>()(
                   std::this_thread::get_id()));
  write(temporary.string());
  fs::rename(temporary, path);
}

} // namespace

std::string resolveTarget(const std::string &name) {
  if (name == "avx512")
    return kAvx512;
  if (name == "avx2")
    return kAvx2;
  if (name == "cpu" || name == "host")
    return get_host_target().has_feature(Target::AVX512_Skylake) ? kAvx512
                                                                 : kAvx2;
  if (name == "cuda")
    return kCuda;
  if (name == "opencl")
    return kOpenCL;
  return Target::validate_target_string(name) ? name : std::string();
}

std::string deviceApi(const std::string &target) {
  Target t(target);
  if (t.has_feature(Target::CUDA))
    return "cuda";
  if (t.has_feature(Target::OpenCL))
    return "opencl";
  return "";
}

CompiledKernels compileKernels(const std::vector<KernelSpec> &specs,
                               const CompileOptions &options,
                               const std::function<void(size_t, size_t)> &progress) {
  auto start = std::chrono::steady_clock::now();
  CompiledKernels result;
  // One job per distinct kernel, then the runtime.
  std::map<std::string, const KernelSpec *> distinct;
  for (const KernelSpec &spec : specs)
    distinct.emplace(spec.symbolName(), &spec);
  std::vector<const KernelSpec *> jobs;
  for (auto &entry : distinct)
    jobs.push_back(entry.second);
  result.distinct = jobs.size();

  Target kernelTarget = Target(options.target).with_feature(Target::NoRuntime);
  Target runtimeTarget(options.target);
  auto objectPath = [&](const std::string &name, const std::string &key) {
    std::string identity = key + "|" + options.target + "|" +
                           schedulerName(options.scheduler) + "|" +
                           options.compilerId;
    fs::path dir = options.cacheDir.empty() ? fs::path(options.workDir)
                                            : fs::path(options.cacheDir);
    return dir / (name + "-" + hex(fnv1a(identity)) + ".o");
  };

  std::error_code ec;
  fs::create_directories(options.cacheDir.empty() ? options.workDir
                                                  : options.cacheDir,
                         ec);
  if (ec) {
    result.error = "cannot create the kernel directory: " + ec.message();
    return result;
  }

  result.objects.resize(jobs.size() + 1);
  std::atomic<size_t> next{0}, done{0}, cached{0};
  std::mutex lock;
  auto work = [&]() {
    for (size_t i; (i = next.fetch_add(1)) <= jobs.size();) {
      bool isRuntime = i == jobs.size();
      std::string name = isRuntime ? "halide_runtime" : jobs[i]->symbolName();
      fs::path path = objectPath(name, isRuntime ? "runtime" : jobs[i]->key());
      try {
        if (fs::exists(path) && !options.cacheDir.empty()) {
          cached += !isRuntime; // the count is of kernels
        } else if (isRuntime) {
          writeAtomically(path, [&](const std::string &tmp) {
            compile_standalone_runtime(tmp, runtimeTarget);
          });
        } else {
          Kernel kernel = buildKernel(*jobs[i], kernelTarget, options.scheduler);
          writeAtomically(path, [&](const std::string &tmp) {
            kernel.pipeline.compile_to_object(tmp, kernel.arguments(), name,
                                              kernelTarget);
          });
        }
      } catch (const std::exception &e) {
        std::lock_guard<std::mutex> guard(lock);
        if (!result.error)
          result.error = "kernel " + name + ": " + e.what();
        continue;
      }
      result.objects[i] = path.string();
      std::lock_guard<std::mutex> guard(lock);
      if (!isRuntime && progress)
        progress(++done, jobs.size());
    }
  };
  unsigned threads = options.jobs ? options.jobs : std::thread::hardware_concurrency();
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < std::max(1u, threads); ++t)
    workers.emplace_back(work);
  work();
  for (std::thread &t : workers)
    t.join();
  result.fromCache = cached;
  result.seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  return result;
}

namespace {

/// What `write` writes to a file of its choosing, read back: Halide's
/// text outputs go to files. The file is this process's own (mkstemp), so
/// concurrent resnetc runs never share one.
std::string throughFile(const std::function<void(const std::string &)> &write) {
  std::string path =
      (fs::temp_directory_path() / "resnetc-kernel-XXXXXX").string();
  int fd = mkstemp(path.data());
  if (fd < 0)
    throw std::runtime_error("cannot create a temporary file in " +
                             fs::temp_directory_path().string());
  close(fd);
  std::string text;
  try {
    write(path);
    std::FILE *file = std::fopen(path.c_str(), "r");
    for (int c; file && (c = std::fgetc(file)) != EOF;)
      text += char(c);
    if (file)
      std::fclose(file);
  } catch (...) {
    fs::remove(path);
    throw;
  }
  fs::remove(path);
  return text;
}

/// The text of the LLVM string constant `@name` in LLVM assembly `ir`.
std::string stringConstant(const std::string &ir, const std::string &name) {
  size_t at = ir.find("@" + name + " = ");
  size_t open = at == std::string::npos ? at : ir.find("c\"", at);
  if (open == std::string::npos)
    return "";
  std::string text;
  for (size_t i = open + 2; i < ir.size() && ir[i] != '"'; ++i) {
    if (ir[i] == '\\' && i + 2 < ir.size()) {
      text += char(std::stoi(ir.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      text += ir[i];
    }
  }
  // The constant ends with the terminating zero.
  while (!text.empty() && text.back() == '\0')
    text.pop_back();
  return text;
}

} // namespace

std::string loweredStatement(const KernelSpec &spec,
                             const CompileOptions &options) {
  try {
    Target target = Target(options.target).with_feature(Target::NoRuntime);
    Kernel kernel = buildKernel(spec, target, options.scheduler);
    return throughFile([&](const std::string &path) {
      kernel.pipeline.compile_to_lowered_stmt(path, kernel.arguments(),
                                              StmtOutputFormat::Text, target);
    });
  } catch (const std::exception &e) {
    return std::string("error: ") + e.what() + "\n";
  }
}

std::string deviceCode(const KernelSpec &spec, const CompileOptions &options) {
  try {
    Target target = Target(options.target).with_feature(Target::NoRuntime);
    std::string api = deviceApi(options.target);
    if (api.empty())
      return "error: the target has no device code (use --target=cuda)\n";
    Kernel kernel = buildKernel(spec, target, options.scheduler);
    std::string ir = throughFile([&](const std::string &path) {
      kernel.pipeline.compile_to_llvm_assembly(path, kernel.arguments(),
                                               spec.symbolName(), target);
    });
    // Halide embeds the device code in the host code as a constant.
    std::string code = stringConstant(ir, api + "_gpu_source_kernels.data");
    return code.empty() ? "error: no device code found in the kernel\n"
                        : code;
  } catch (const std::exception &e) {
    return std::string("error: ") + e.what() + "\n";
  }
}

} // namespace resnetc::kernels
