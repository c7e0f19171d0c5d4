//===- KernelRunner.cpp - run one AOT kernel on its device, for tests -----===//
//
// The kernel tests run a family's GPU schedule in a process of its own that
// does not load libHalide (pocl's LLVM and Halide's cannot share a process):
// the harness links this file with the target's Halide runtime into a
// program once (exporting the runtime's symbols), compiles each kernel
// ahead of time as `kernel` into a shared object, and runs it with
//
//   runner KERNEL.so IN OUT
//
// or, to keep one device context for many kernels, starts `runner` with no
// arguments and writes it one line `KERNEL.so IN OUT` per kernel, reading
// back a line with the exit status each would have had.
//
// IN holds every argument of `kernel` in its order (kernel_metadata says
// which are buffers and scalars); OUT receives the output buffers. Each
// buffer lives in device memory inside a margin of a known pattern, as the
// runtime's arena hands kernels views of one allocation (Device.h): after
// the call the margins are checked, so a kernel that writes outside its
// buffer fails the test.
//
//   IN:  per argument, in order:
//          input buffer:  u32 dims, i32 extents[dims], u64 bytes, the bytes
//          scalar:        u64 (the value's bits, low bytes first)
//          output buffer: u32 dims, i32 extents[dims], i32 alias (the index
//                         of the input buffer argument it shares, or -1)
//   OUT: per output buffer, in order: u64 bytes, the bytes
//
// Exit status: 0 done; 1 a bad file or a kernel error (printed); 3 a write
// outside a buffer.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Device.h"
#include "resnetrt/Error.h"

#include "HalideRuntime.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

extern "C" {
// The runtime linked in has the interface of its target's device API only.
__attribute__((weak)) const halide_device_interface_t *
halide_opencl_device_interface();
__attribute__((weak)) const halide_device_interface_t *
halide_cuda_device_interface();
}

namespace {

using resnetrt::DeviceMemory;
using resnetrt::fail;

const int64_t kMargin = 4096;
constexpr uint8_t kPattern = 0xa5;

template <typename T> T read(FILE *in) {
  T value;
  if (std::fread(&value, sizeof value, 1, in) != 1)
    fail("the input file ends early");
  return value;
}

/// One buffer argument, in device memory with margins.
struct DeviceBuffer {
  std::vector<halide_dimension_t> dims;
  int64_t bytes = 0;
  std::shared_ptr<DeviceMemory> memory;
  halide_buffer_t view{};
};

int run(const char *kernelPath, const char *inPath, const char *outPath) {
  // The kernel's calls into Halide's runtime resolve to this program's.
  void *library = dlopen(kernelPath, RTLD_NOW);
  if (!library)
    fail("cannot load {}: {}", kernelPath, dlerror());
  auto kernel_argv =
      reinterpret_cast<int (*)(void **)>(dlsym(library, "kernel_argv"));
  auto kernel_metadata = reinterpret_cast<const halide_filter_metadata_t *(*)()>(
      dlsym(library, "kernel_metadata"));
  if (!kernel_argv || !kernel_metadata)
    fail("{} has no kernel_argv and kernel_metadata", kernelPath);
  const halide_filter_metadata_t *metadata = kernel_metadata();
  std::string target = metadata->target;
  const bool cuda = target.find("cuda") != std::string::npos;
  const halide_device_interface_t *interface =
      cuda ? halide_cuda_device_interface() : halide_opencl_device_interface();
  resnetrt::DeviceInfo device = resnetrt::probeDevice(cuda ? "cuda" : "opencl");

  FILE *in = std::fopen(inPath, "rb");
  if (!in)
    fail("cannot read {}", inPath);
  const int count = metadata->num_arguments;
  std::vector<DeviceBuffer> buffers(count);
  std::vector<uint64_t> scalars(count);
  std::vector<void *> args(count);
  std::vector<int> outputs;
  for (int i = 0; i < count; ++i) {
    const halide_filter_argument_t &arg = metadata->arguments[i];
    if (arg.kind == halide_argument_kind_input_scalar) {
      scalars[i] = read<uint64_t>(in);
      args[i] = &scalars[i];
      continue;
    }
    DeviceBuffer &b = buffers[i];
    b.dims.resize(read<uint32_t>(in));
    int64_t stride = 1;
    for (halide_dimension_t &d : b.dims) {
      d = {0, read<int32_t>(in), int32_t(stride), 0};
      stride *= d.extent;
    }
    b.bytes = stride * arg.type.bytes();
    b.view.type = arg.type;
    b.view.dimensions = int32_t(b.dims.size());
    b.view.dim = b.dims.data();
    if (arg.kind == halide_argument_kind_input_buffer) {
      if (read<uint64_t>(in) != uint64_t(b.bytes))
        fail("argument {} ({}) has the wrong size", i, arg.name);
      std::vector<uint8_t> host(b.bytes + 2 * kMargin, kPattern);
      if (std::fread(host.data() + kMargin, 1, b.bytes, in) != size_t(b.bytes))
        fail("the input file ends early");
      b.memory = std::make_shared<DeviceMemory>(
          interface, int64_t(host.size()), device);
      b.memory->upload(host.data(), 0, int64_t(host.size()));
    } else {
      int32_t alias = read<int32_t>(in);
      if (alias >= 0) {
        b.memory = buffers.at(alias).memory;
      } else {
        std::vector<uint8_t> host(b.bytes + 2 * kMargin, kPattern);
        b.memory = std::make_shared<DeviceMemory>(
            interface, int64_t(host.size()), device);
        b.memory->upload(host.data(), 0, int64_t(host.size()));
      }
      outputs.push_back(i);
    }
    if (rn_device_views(b.memory->buffer(), &b.view, &kMargin, 1))
      fail("cannot make a view of argument {}", i);
    args[i] = &b.view;
  }
  std::fclose(in);

  if (int status = kernel_argv(args.data()))
    fail("the kernel failed with Halide error {}", status);
  for (DeviceBuffer &b : buffers)
    if (b.memory)
      rn_device_release_views(&b.view, 1);

  // Every buffer's margins, inputs too (an aliased input is written).
  bool intact = true;
  std::vector<std::vector<uint8_t>> results(count);
  for (int i = 0; i < count; ++i) {
    DeviceBuffer &b = buffers[i];
    if (!b.memory)
      continue;
    std::vector<uint8_t> host(b.bytes + 2 * kMargin);
    b.memory->download(host.data(), 0, int64_t(host.size()));
    for (size_t k = 0; k < size_t(kMargin); ++k)
      intact = intact && host[k] == kPattern &&
               host[host.size() - 1 - k] == kPattern;
    results[i].assign(host.begin() + kMargin, host.end() - kMargin);
  }
  if (!intact) {
    std::fprintf(stderr, "runner: the kernel wrote outside a buffer\n");
    return 3;
  }
  FILE *out = std::fopen(outPath, "wb");
  if (!out)
    fail("cannot write {}", outPath);
  for (int i : outputs) {
    uint64_t bytes = results[i].size();
    std::fwrite(&bytes, sizeof bytes, 1, out);
    std::fwrite(results[i].data(), 1, bytes, out);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  auto runOne = [](const char *kernel, const char *in, const char *out) {
    return resnetrt::reportErrors("runner", stderr,
                                  [&] { return run(kernel, in, out); });
  };
  if (argc == 4)
    return runOne(argv[1], argv[2], argv[3]);
  if (argc != 1) {
    std::fprintf(stderr, "usage: %s [KERNEL.so IN OUT]\n", argv[0]);
    return 2;
  }
  char kernel[4096], in[4096], out[4096];
  while (std::scanf("%4095s %4095s %4095s", kernel, in, out) == 3) {
    int status = runOne(kernel, in, out);
    std::fflush(stderr);
    std::printf("%d\n", status);
    std::fflush(stdout);
  }
  return 0;
}
