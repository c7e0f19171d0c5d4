//===- KernelHarness.cpp - run a kernel family on the host for tests -------===//

#include "KernelHarness.h"

#include "TempDir.h"
#include "resnetc/Codegen/KernelCompiler.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>

using namespace Halide;

namespace resnetc::kernels::test {

static size_t elementCount(const Shape &shape) {
  size_t n = 1;
  for (int64_t d : shape)
    n *= size_t(d);
  return n;
}

HostTensor::HostTensor(Shape shape)
    : shape(std::move(shape)), data(elementCount(this->shape), 0.0) {}

static size_t linearIndex(const Shape &shape,
                          std::initializer_list<int64_t> index) {
  if (index.size() != shape.size())
    throw std::invalid_argument("HostTensor::at: wrong number of indices");
  size_t linear = 0, d = 0;
  for (int64_t i : index)
    linear = linear * size_t(shape[d++]) + size_t(i);
  return linear;
}

double &HostTensor::at(std::initializer_list<int64_t> index) {
  return data[linearIndex(shape, index)];
}

double HostTensor::at(std::initializer_list<int64_t> index) const {
  return data[linearIndex(shape, index)];
}

HostTensor randomTensor(const Shape &shape, std::mt19937 &rng, double lo,
                        double hi) {
  HostTensor t(shape);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &v : t.data)
    v = float(dist(rng));
  return t;
}

static Type halideType(ElemType type) {
  return type == ElemType::F32 ? Float(32)
         : type == ElemType::I32 ? Int(32)
                                 : UInt(32);
}

/// Offset in a kernel buffer (dense, Halide order) of logical element `i`.
static size_t bufferOffset(const TensorSpec &spec, size_t i) {
  if (spec.kind != TensorKind::Activation || spec.shape.size() != 4)
    return i; // row-major logical order is the buffer's order
  const Shape &s = spec.shape; // [N, C, H, W] -> (c, x, y, n)
  size_t x = i % s[3], y = (i / s[3]) % s[2], c = (i / (s[3] * s[2])) % s[1],
         n = i / (s[3] * s[2] * s[1]);
  return ((n * s[2] + y) * s[3] + x) * s[1] + c;
}

/// `spec` with the shape `shape`, which may differ from it in the batch of
/// an activation only.
static TensorSpec withShape(const TensorSpec &spec, const Shape &shape) {
  bool sameStatic =
      shape.size() == spec.shape.size() &&
      (shape.empty() ||
       std::equal(shape.begin() + 1, shape.end(), spec.shape.begin() + 1)) &&
      (spec.kind == TensorKind::Activation || shape == spec.shape);
  if (!sameStatic)
    throw std::invalid_argument("runKernel: input shape differs from spec");
  TensorSpec actual = spec;
  actual.shape = shape;
  return actual;
}

/// A kernel's buffer in the middle of a larger allocation whose margins
/// hold a known pattern: a kernel that writes past either end of one of its
/// buffers (as a lost tail guard would) changes the pattern. The buffer is
/// aligned as the contract requires (Kernels.h), and no more.
class GuardedBuffer {
public:
  GuardedBuffer(Type type, const std::vector<int> &extents) {
    size_t elements = 1;
    for (int e : extents)
      elements *= size_t(e);
    bytes = elements * size_t(type.bytes());
    storage = std::make_shared<std::vector<uint8_t>>(
        bytes + 2 * margin + alignment, pattern);
    uintptr_t start = reinterpret_cast<uintptr_t>(storage->data());
    offset = (alignment - start % alignment) % alignment + margin;
    buffer = Buffer<>(type, storage->data() + offset, extents);
  }

  bool marginsIntact() const {
    auto intact = [&](size_t from, size_t to) {
      return std::all_of(storage->begin() + from, storage->begin() + to,
                         [](uint8_t b) { return b == pattern; });
    };
    return intact(0, offset) && intact(offset + bytes, storage->size());
  }

  Buffer<> buffer;

private:
  static constexpr size_t margin = 4096, alignment = 128;
  static constexpr uint8_t pattern = 0xa5;
  std::shared_ptr<std::vector<uint8_t>> storage;
  size_t bytes, offset;
};

static GuardedBuffer toBuffer(const HostTensor &t, const TensorSpec &spec) {
  GuardedBuffer guarded(halideType(spec.type), halideExtents(spec));
  Buffer<> &buf = guarded.buffer;
  for (size_t i = 0; i < t.size(); ++i) {
    size_t o = bufferOffset(spec, i);
    switch (spec.type) {
    case ElemType::F32:
      static_cast<float *>(buf.data())[o] = float(t[i]);
      break;
    case ElemType::I32:
      static_cast<int32_t *>(buf.data())[o] = int32_t(t[i]);
      break;
    case ElemType::U32:
      static_cast<uint32_t *>(buf.data())[o] = uint32_t(t[i]);
      break;
    }
  }
  return guarded;
}

static HostTensor fromBuffer(const Buffer<> &buf, const TensorSpec &spec) {
  HostTensor t(spec.shape);
  for (size_t i = 0; i < t.size(); ++i) {
    size_t o = bufferOffset(spec, i);
    switch (spec.type) {
    case ElemType::F32:
      t[i] = static_cast<const float *>(buf.data())[o];
      break;
    case ElemType::I32:
      t[i] = static_cast<const int32_t *>(buf.data())[o];
      break;
    case ElemType::U32:
      t[i] = static_cast<const uint32_t *>(buf.data())[o];
      break;
    }
  }
  return t;
}

//===----------------------------------------------------------------------===//
// On a GPU target: an AOT kernel in a process of its own (KernelRunner.cpp)
//===----------------------------------------------------------------------===//

namespace {

/// A directory of this process's, removed when it exits.
std::filesystem::path workDirectory() {
  static resnetc::test::TempDir directory;
  return directory.path();
}

void check(bool ok, const std::string &what) {
  if (!ok)
    throw std::runtime_error("runKernel: " + what);
}

void runCommand(const std::string &command) {
  check(std::system(command.c_str()) == 0, "failed: " + command);
}

/// The runner program for `target` (KernelRunner.cpp with the target's
/// Halide runtime, its symbols exported for the kernels it loads), linked
/// once per process and kept running: starting the device for each kernel
/// took longer than running it. A runner that died is started again.
class Runner {
public:
  /// Runs `library` on `in`, writing `out`; returns the runner's status for
  /// it (KernelRunner.cpp), or -1 if it died.
  int run(const Target &target, const std::string &library,
          const std::string &in, const std::string &out) {
    if (!requests)
      start(target);
    std::fprintf(requests, "%s %s %s\n", library.c_str(), in.c_str(),
                 out.c_str());
    std::fflush(requests);
    int status = -1;
    if (std::fscanf(replies, "%d", &status) != 1) {
      stop();
      return -1;
    }
    return status;
  }
  ~Runner() { stop(); }

private:
  void start(const Target &target) {
    std::filesystem::path program = workDirectory() / "runner";
    if (!std::filesystem::exists(program)) {
      std::filesystem::path runtime = workDirectory() / "runtime.o";
      compile_standalone_runtime(runtime.string(), target);
      runCommand(std::string(RESNETC_CXX) + " -rdynamic -o " +
                 program.string() + " " + runtime.string() + " " +
                 KERNEL_RUNNER_LIBRARY + " -lz -lpthread -ldl");
    }
    int toRunner[2], fromRunner[2];
    check(pipe(toRunner) == 0 && pipe(fromRunner) == 0, "pipe failed");
    child = fork();
    check(child >= 0, "fork failed");
    if (child == 0) {
      dup2(toRunner[0], 0);
      dup2(fromRunner[1], 1);
      close(toRunner[1]);
      close(fromRunner[0]);
      execl(program.c_str(), program.c_str(), (char *)nullptr);
      _exit(127);
    }
    close(toRunner[0]);
    close(fromRunner[1]);
    requests = fdopen(toRunner[1], "w");
    replies = fdopen(fromRunner[0], "r");
  }
  void stop() {
    if (requests)
      std::fclose(requests);
    if (replies)
      std::fclose(replies);
    if (child > 0)
      waitpid(child, nullptr, 0);
    requests = replies = nullptr;
    child = -1;
  }

  FILE *requests = nullptr, *replies = nullptr;
  pid_t child = -1;
};

/// `kernel` compiled for `target` as the shared object the runner loads
/// (once per kernel).
std::string sharedObject(const KernelSpec &spec, Kernel &kernel,
                         const Target &target) {
  static std::map<std::string, std::string> built;
  auto found = built.find(spec.key());
  if (found != built.end())
    return found->second;
  std::filesystem::path base =
      workDirectory() / ("kernel" + std::to_string(built.size()));
  std::string object = base.string() + ".o", library = base.string() + ".so";
  kernel.pipeline.compile_to_object(object, kernel.arguments(), "kernel",
                                    target.with_feature(Target::NoRuntime));
  runCommand("ld -shared -o " + library + " " + object);
  return built[spec.key()] = library;
}

template <typename T> void write(FILE *out, const T &value) {
  std::fwrite(&value, sizeof value, 1, out);
}

void writeDims(FILE *out, const std::vector<int> &extents) {
  write(out, uint32_t(extents.size()));
  for (int e : extents)
    write(out, int32_t(e));
}

} // namespace

/// Runs `kernel` through its runner: `in` are the input buffers (kernel
/// layout), `scalarValues` the scalars in the kernel's order; returns the
/// outputs' bytes.
static std::vector<std::vector<uint8_t>>
runOnDevice(const KernelSpec &spec, Kernel &kernel, const Target &target,
            const std::vector<Buffer<>> &in,
            const std::vector<uint64_t> &scalarValues,
            const std::vector<std::vector<int>> &outputExtents,
            const std::map<size_t, size_t> &aliases) {
  std::string library = sharedObject(spec, kernel, target);
  std::filesystem::path inPath = library + ".in", outPath = library + ".out";
  FILE *file = std::fopen(inPath.c_str(), "wb");
  check(file != nullptr, "cannot write " + inPath.string());
  for (const Buffer<> &b : in) {
    std::vector<int> extents;
    for (int d = 0; d < b.dimensions(); ++d)
      extents.push_back(b.dim(d).extent());
    writeDims(file, extents);
    write(file, uint64_t(b.size_in_bytes()));
    std::fwrite(b.data(), 1, b.size_in_bytes(), file);
  }
  for (uint64_t value : scalarValues)
    write(file, value);
  for (size_t i = 0; i < outputExtents.size(); ++i) {
    writeDims(file, outputExtents[i]);
    auto alias = aliases.find(i);
    write(file, int32_t(alias == aliases.end() ? -1 : int(alias->second)));
  }
  std::fclose(file);
  static Runner runner;
  int status = runner.run(target, library, inPath.string(), outPath.string());
  check(status != 3, spec.family + " wrote outside one of its buffers");
  check(status == 0, spec.family + " failed on the device (see above)");
  file = std::fopen(outPath.c_str(), "rb");
  check(file != nullptr, "no output from the runner for " + library);
  std::vector<std::vector<uint8_t>> outputs;
  for (size_t i = 0; i < outputExtents.size(); ++i) {
    uint64_t bytes = 0;
    check(std::fread(&bytes, sizeof bytes, 1, file) == 1, "short output");
    outputs.emplace_back(bytes);
    check(std::fread(outputs.back().data(), 1, bytes, file) == bytes,
          "short output");
  }
  std::fclose(file);
  return outputs;
}

/// The target the tests build for: the host, or the one named by
/// RESNETC_KERNEL_TEST_TARGET (opencl, cuda: resnetc's --target names).
static Target testTarget() {
  if (const char *name = std::getenv("RESNETC_KERNEL_TEST_TARGET")) {
    std::string resolved = resolveTarget(name);
    check(!resolved.empty(), std::string("unknown target ") + name);
    return Target(resolved);
  }
  return get_jit_target_from_environment();
}

static std::vector<HostTensor>
run(const KernelSpec &spec, const std::vector<HostTensor> &inputs,
    const std::map<std::string, double> &scalars, Scheduler scheduler,
    const std::map<size_t, size_t> &aliases) {
  Target target = testTarget();
  // JIT compilation dominates a test's time: each spec and scheduler is
  // built and compiled once, then run as often as the test likes.
  static std::map<std::string, Kernel> compiled;
  std::string key = spec.key() + "|scheduler=" + std::to_string(int(scheduler));
  auto found = compiled.find(key);
  if (found == compiled.end())
    found = compiled.emplace(key, buildKernel(spec, target, scheduler)).first;
  Kernel &kernel = found->second;
  if (inputs.size() != spec.inputs.size())
    throw std::invalid_argument("runKernel: wrong number of inputs");

  std::vector<GuardedBuffer> inputBuffers;
  std::optional<int64_t> batch;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorSpec actual = withShape(spec.inputs[i], inputs[i].shape);
    if (actual.kind == TensorKind::Activation && !batch &&
        !actual.shape.empty())
      batch = actual.shape[0];
    inputBuffers.push_back(toBuffer(inputs[i], actual));
    kernel.inputs[i].set(inputBuffers.back().buffer);
  }
  std::vector<uint64_t> scalarBits;
  for (Internal::Parameter &p : kernel.scalars) {
    auto it = scalars.find(p.name());
    if (it == scalars.end())
      throw std::invalid_argument("runKernel: no value for scalar " + p.name());
    uint64_t bits = 0;
    if (p.type() == Float(32)) {
      float value = float(it->second);
      p.set_scalar<float>(value);
      std::memcpy(&bits, &value, sizeof value);
    } else if (p.type() == Int(32)) {
      int32_t value = int32_t(it->second);
      p.set_scalar<int32_t>(value);
      std::memcpy(&bits, &value, sizeof value);
    } else {
      uint32_t value = uint32_t(it->second);
      p.set_scalar<uint32_t>(value);
      std::memcpy(&bits, &value, sizeof value);
    }
    scalarBits.push_back(bits);
  }

  std::vector<TensorSpec> outputs = spec.outputs;
  for (TensorSpec &output : outputs)
    if (output.kind == TensorKind::Activation && batch)
      output.shape[0] = *batch;
  if (target.has_gpu_feature()) {
    std::vector<Buffer<>> in;
    for (const GuardedBuffer &b : inputBuffers)
      in.push_back(b.buffer);
    std::vector<std::vector<int>> extents;
    for (const TensorSpec &output : outputs)
      extents.push_back(halideExtents(output));
    std::vector<std::vector<uint8_t>> bytes = runOnDevice(
        spec, kernel, target, in, scalarBits, extents, aliases);
    std::vector<HostTensor> results;
    for (size_t i = 0; i < outputs.size(); ++i) {
      Buffer<> buffer(halideType(outputs[i].type), extents[i]);
      check(bytes[i].size() == buffer.size_in_bytes(), "wrong output size");
      std::memcpy(buffer.data(), bytes[i].data(), bytes[i].size());
      results.push_back(fromBuffer(buffer, outputs[i]));
    }
    return results;
  }

  std::vector<GuardedBuffer> outputBuffers;
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto alias = aliases.find(i);
    if (alias != aliases.end())
      outputBuffers.push_back(inputBuffers.at(alias->second));
    else
      outputBuffers.emplace_back(halideType(outputs[i].type),
                                 halideExtents(outputs[i]));
  }
  std::vector<Buffer<>> views;
  for (const GuardedBuffer &b : outputBuffers)
    views.push_back(b.buffer);
  Realization realization(views);
  kernel.pipeline.realize(realization, target);

  for (const std::vector<GuardedBuffer> *buffers :
       {&inputBuffers, &outputBuffers})
    for (const GuardedBuffer &b : *buffers)
      if (!b.marginsIntact())
        throw std::runtime_error("runKernel: " + spec.family +
                                 " wrote outside one of its buffers");
  std::vector<HostTensor> results;
  for (size_t i = 0; i < outputs.size(); ++i)
    results.push_back(fromBuffer(outputBuffers[i].buffer, outputs[i]));
  return results;
}

std::vector<HostTensor> runKernel(const KernelSpec &spec,
                                  const std::vector<HostTensor> &inputs,
                                  const std::map<std::string, double> &scalars,
                                  Scheduler scheduler) {
  return run(spec, inputs, scalars, scheduler, {});
}

std::vector<HostTensor>
runKernelInPlace(const KernelSpec &spec, const std::vector<HostTensor> &inputs,
                 const std::map<std::string, double> &scalars,
                 const std::map<size_t, size_t> &aliases) {
  return run(spec, inputs, scalars, Scheduler::Hand, aliases);
}

double relativeError(const HostTensor &a, const HostTensor &b) {
  if (a.shape != b.shape)
    return INFINITY;
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

HostTensor finiteDifferenceGradient(
    const std::function<HostTensor(const HostTensor &)> &forward,
    const HostTensor &x, const HostTensor &weights, double step) {
  auto objective = [&](const HostTensor &input) {
    HostTensor y = forward(input);
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i)
      sum += y[i] * weights[i];
    return sum;
  };
  HostTensor grad(x.shape), probe = x;
  for (size_t i = 0; i < x.size(); ++i) {
    probe[i] = x[i] + step;
    double up = objective(probe);
    probe[i] = x[i] - step;
    double down = objective(probe);
    probe[i] = x[i];
    grad[i] = (up - down) / (2 * step);
  }
  return grad;
}

//===----------------------------------------------------------------------===//
// Specs and references more than one family's tests use
//===----------------------------------------------------------------------===//

TensorSpec perChannel(int64_t channels) {
  return {{channels}, TensorKind::Weight};
}

KernelSpec batchNormTrainSpec(const Shape &shape, double epsilon,
                              double momentum) {
  KernelSpec spec;
  spec.family = "batch_norm_train";
  TensorSpec c = perChannel(shape[1]);
  spec.inputs = {{shape}, c, c, c, c};
  spec.outputs = {{shape}, c, c, c, c};
  spec.floats = {{"epsilon", epsilon}, {"momentum", momentum}};
  return spec;
}

KernelSpec batchNormInferenceSpec(const Shape &shape, double epsilon) {
  KernelSpec spec;
  spec.family = "batch_norm";
  TensorSpec c = perChannel(shape[1]);
  spec.inputs = {{shape}, c, c, c, c};
  spec.outputs = {{shape}};
  spec.floats = {{"epsilon", epsilon}};
  return spec;
}

KernelSpec batchNormBackwardSpec(const Shape &shape) {
  KernelSpec spec;
  spec.family = "batch_norm_backward";
  TensorSpec c = perChannel(shape[1]);
  spec.inputs = {{shape}, {shape}, c, c, c};
  spec.outputs = {{shape}, c, c};
  return spec;
}

HostTensor referenceConv2d(const HostTensor &x, const HostTensor &w,
                           const HostTensor *b,
                           const std::vector<int64_t> &strides,
                           const std::vector<int64_t> &padding,
                           const std::vector<int64_t> &dilations,
                           int64_t groups) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2],
                W = x.shape[3];
  const int64_t O = w.shape[0], KH = w.shape[2], KW = w.shape[3];
  const int64_t strideY = strides[0], strideX = strides[1];
  const int64_t padTop = padding[0], padLeft = padding[1];
  const int64_t dilationY = dilations[0], dilationX = dilations[1];
  const int64_t ho =
      (H + padTop + padding[2] - dilationY * (KH - 1) - 1) / strideY + 1;
  const int64_t wo =
      (W + padLeft + padding[3] - dilationX * (KW - 1) - 1) / strideX + 1;
  HostTensor y({N, O, ho, wo});
  const int64_t inPerGroup = C / groups, outPerGroup = O / groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t yo = 0; yo < ho; ++yo)
        for (int64_t xo = 0; xo < wo; ++xo) {
          double sum = b ? (*b)[o] : 0.0;
          for (int64_t i = 0; i < inPerGroup; ++i) {
            int64_t c = (o / outPerGroup) * inPerGroup + i;
            const double *xPlane = &x.data[(n * C + c) * H * W];
            const double *wPlane = &w.data[(o * inPerGroup + i) * KH * KW];
            for (int64_t ky = 0; ky < KH; ++ky) {
              int64_t yi = yo * strideY + ky * dilationY - padTop;
              if (yi < 0 || yi >= H)
                continue;
              for (int64_t kx = 0; kx < KW; ++kx) {
                int64_t xi = xo * strideX + kx * dilationX - padLeft;
                if (xi >= 0 && xi < W)
                  sum += xPlane[yi * W + xi] * wPlane[ky * KW + kx];
              }
            }
          }
          y.data[((n * O + o) * ho + yo) * wo + xo] = sum;
        }
  return y;
}

} // namespace resnetc::kernels::test
