//===- Device.h - the GPU a program's kernels run on ------------*- C++ -*-===//
//
// A program built for a GPU target (resnetc --target=cuda or opencl) keeps
// its whole arena in one allocation of device memory, made once, and its
// generated step functions hand each kernel views into it (rn_device_views):
// no tensor ever moves during a step but the input batch, going up, and the
// loss and correct count, coming down. The host keeps a mirror of the arena
// for what the runtime reads and writes there (variables, batches, scalars)
// and copies exactly those ranges (Arena.h says when).
//
// Halide's runtime, linked into the program for the target, drives the
// device: it loads the driver library (libcuda, libOpenCL) when first used.
// This file resolves the driver's symbols for it (trying the versioned
// library names a driver installs, not only the development symlink), and
// counts every host<->device copy at the driver's API, so a test can prove
// the copies a step makes, Halide's own included.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_DEVICE_H
#define RESNETRT_DEVICE_H

#include "resnetrt/Program.h"

#include "HalideRuntime.h"

#include <cstdint>
#include <string>

extern "C" {

/// Called by the step functions of GPU programs before each kernel call:
/// points each of the `count` buffers `views` (types and dimensions filled
/// in, no host memory) at byte `offsets[i]` of the device arena `arena`
/// (the buffer DeviceMemory::buffer returns). Returns 0 or a Halide error
/// code.
int32_t rn_device_views(const halide_buffer_t *arena, halide_buffer_t *views,
                        const int64_t *offsets, int32_t count);

/// Releases views made by rn_device_views once their kernel is queued.
int32_t rn_device_release_views(halide_buffer_t *views, int32_t count);

} // extern "C"

namespace resnetrt {

/// Copies the dense tensor a view of the device arena holds (a GPU kernel's
/// output, as rn_kernel_hook gets it) to `host`, which has room for it, or
/// from `host` back. Each returns 0 or a Halide error code.
int32_t copyViewToHost(const halide_buffer_t &view, void *host);
int32_t copyViewToDevice(const void *host, halide_buffer_t &view);

/// The device a GPU program runs on, as told to its user.
struct DeviceInfo {
  std::string api;       ///< "cuda" or "opencl"
  int32_t index;         ///< among the API's devices, from 0
  std::string name;      ///< e.g. "NVIDIA H100 80GB HBM3"
  int64_t memoryBytes;   ///< global memory
  int64_t maxAllocation; ///< largest single allocation
  std::string describe() const;
};

/// Finds device `index` of `api` through its driver library and has
/// Halide's runtime use that one. Throws an Error that names what is missing
/// (the library, a device) and what to do. A rank of an MPI job takes the
/// device its place on the machine gives: index + its local rank, modulo
/// the devices, so `mpirun -np K` spreads K ranks over a machine's GPUs.
DeviceInfo probeDevice(const std::string &api, int32_t index = 0);

/// What `program`'s kernels run on, as one line: the GPU of a GPU program
/// (probed: an Error if it is missing), or the CPU with `threads` threads.
std::string describeDevice(const rn_program &program, int32_t gpu,
                           int32_t threads);

/// Host<->device copies made in this process so far, counted where they
/// reach the driver (clEnqueue{Read,Write}Buffer[Rect], cuMemcpy{HtoD,DtoH}).
struct Transfers {
  int64_t toDevice = 0, toHost = 0;
  int64_t bytesToDevice = 0, bytesToHost = 0;
};
Transfers transfers();

/// One allocation of `bytes` of device memory, made through `interface`
/// (the program's), and copies between ranges of it and host memory.
class DeviceMemory {
public:
  /// Allocates the memory; throws an Error naming the size and the device
  /// when it does not fit.
  DeviceMemory(const halide_device_interface_t *interface, int64_t bytes,
               const DeviceInfo &device);
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory &) = delete;
  DeviceMemory &operator=(const DeviceMemory &) = delete;

  /// The whole allocation as a Halide buffer: what GPU step functions take
  /// as their arena, and what rn_device_views makes views of.
  const halide_buffer_t *buffer() const { return &whole; }

  /// Copies `bytes` at byte `offset` between `host` and device memory.
  void upload(const uint8_t *host, int64_t offset, int64_t bytes);
  void download(uint8_t *host, int64_t offset, int64_t bytes);

  /// Waits until every kernel queued so far has finished.
  void synchronize();

private:
  /// Copies [offset, offset + bytes) in the rectangles of the 2-D layout.
  void copy(uint8_t *host, int64_t offset, int64_t bytes, bool toDevice);

  halide_buffer_t whole{};
  halide_dimension_t dims[2]{};
};

} // namespace resnetrt

#endif // RESNETRT_DEVICE_H
