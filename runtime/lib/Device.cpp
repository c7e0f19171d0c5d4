//===- Device.cpp - the GPU a program's kernels run on --------------------===//

#include "resnetrt/Device.h"

#include "resnetrt/Error.h"
#include "resnetrt/Launcher.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstring>

//===----------------------------------------------------------------------===//
// The driver libraries, and the copies made through them
//===----------------------------------------------------------------------===//

namespace {

/// dlopen of the first of `names` that loads, or null.
void *openLibrary(std::initializer_list<const char *> names) {
  for (const char *name : names)
    if (void *library = dlopen(name, RTLD_LAZY | RTLD_GLOBAL))
      return library;
  return nullptr;
}

void *openCuda() {
  static void *library = openLibrary({"libcuda.so.1", "libcuda.so"});
  return library;
}

void *openOpenCL() {
  static void *library = openLibrary({"libOpenCL.so.1", "libOpenCL.so"});
  return library;
}

std::atomic<int64_t> toDevice{0}, toHost{0}, bytesToDevice{0}, bytesToHost{0};

void countToDevice(int64_t bytes) {
  ++toDevice;
  bytesToDevice += bytes;
}
void countToHost(int64_t bytes) {
  ++toHost;
  bytesToHost += bytes;
}

// The copy entry points, wrapped to count. OpenCL handles and CUDA device
// pointers are opaque here; the argument lists are the APIs' own.
using ClEnqueueBuffer = int32_t (*)(void *, void *, uint32_t, size_t, size_t,
                                    void *, uint32_t, const void *, void *);
using ClEnqueueBufferRect = int32_t (*)(void *, void *, uint32_t,
                                        const size_t *, const size_t *,
                                        const size_t *, size_t, size_t, size_t,
                                        size_t, void *, uint32_t, const void *,
                                        void *);
ClEnqueueBuffer clRead, clWrite;
ClEnqueueBufferRect clReadRect, clWriteRect;

int32_t countedClRead(void *q, void *mem, uint32_t blocking, size_t offset,
                      size_t bytes, void *host, uint32_t events,
                      const void *wait, void *event) {
  countToHost(int64_t(bytes));
  return clRead(q, mem, blocking, offset, bytes, host, events, wait, event);
}
int32_t countedClWrite(void *q, void *mem, uint32_t blocking, size_t offset,
                       size_t bytes, void *host, uint32_t events,
                       const void *wait, void *event) {
  countToDevice(int64_t(bytes));
  return clWrite(q, mem, blocking, offset, bytes, host, events, wait, event);
}
int64_t rectBytes(const size_t *region) {
  return int64_t(region[0] * region[1] * region[2]);
}
int32_t countedClReadRect(void *q, void *mem, uint32_t blocking,
                          const size_t *bufferOrigin, const size_t *hostOrigin,
                          const size_t *region, size_t bufferRow,
                          size_t bufferSlice, size_t hostRow, size_t hostSlice,
                          void *host, uint32_t events, const void *wait,
                          void *event) {
  countToHost(rectBytes(region));
  return clReadRect(q, mem, blocking, bufferOrigin, hostOrigin, region,
                    bufferRow, bufferSlice, hostRow, hostSlice, host, events,
                    wait, event);
}
int32_t countedClWriteRect(void *q, void *mem, uint32_t blocking,
                           const size_t *bufferOrigin, const size_t *hostOrigin,
                           const size_t *region, size_t bufferRow,
                           size_t bufferSlice, size_t hostRow, size_t hostSlice,
                           void *host, uint32_t events, const void *wait,
                           void *event) {
  countToDevice(rectBytes(region));
  return clWriteRect(q, mem, blocking, bufferOrigin, hostOrigin, region,
                     bufferRow, bufferSlice, hostRow, hostSlice, host, events,
                     wait, event);
}

using CuCopyToDevice = int32_t (*)(uint64_t, const void *, size_t);
using CuCopyToHost = int32_t (*)(void *, uint64_t, size_t);
using CuCopyToDeviceAsync = int32_t (*)(uint64_t, const void *, size_t, void *);
using CuCopyToHostAsync = int32_t (*)(void *, uint64_t, size_t, void *);
CuCopyToDevice cuToDevice;
CuCopyToHost cuToHost;
CuCopyToDeviceAsync cuToDeviceAsync;
CuCopyToHostAsync cuToHostAsync;

int32_t countedCuToDevice(uint64_t dst, const void *src, size_t bytes) {
  countToDevice(int64_t(bytes));
  return cuToDevice(dst, src, bytes);
}
int32_t countedCuToHost(void *dst, uint64_t src, size_t bytes) {
  countToHost(int64_t(bytes));
  return cuToHost(dst, src, bytes);
}
int32_t countedCuToDeviceAsync(uint64_t dst, const void *src, size_t bytes,
                               void *stream) {
  countToDevice(int64_t(bytes));
  return cuToDeviceAsync(dst, src, bytes, stream);
}
int32_t countedCuToHostAsync(void *dst, uint64_t src, size_t bytes,
                             void *stream) {
  countToHost(int64_t(bytes));
  return cuToHostAsync(dst, src, bytes, stream);
}

/// `real` resolved from `library`, or, for the copy entry points, a
/// counting wrapper that calls it.
template <typename Fn>
void *wrap(void *real, Fn &slot, Fn wrapper) {
  if (!real)
    return nullptr;
  slot = reinterpret_cast<Fn>(real);
  return reinterpret_cast<void *>(wrapper);
}

} // namespace

// Halide's GPU runtimes look every driver function up through these (weak in
// the runtime, so ours are the ones linked).
extern "C" void *halide_opencl_get_symbol(void *, const char *name) {
  void *real = openOpenCL() ? dlsym(openOpenCL(), name) : nullptr;
  if (!std::strcmp(name, "clEnqueueReadBuffer"))
    return wrap(real, clRead, countedClRead);
  if (!std::strcmp(name, "clEnqueueWriteBuffer"))
    return wrap(real, clWrite, countedClWrite);
  if (!std::strcmp(name, "clEnqueueReadBufferRect"))
    return wrap(real, clReadRect, countedClReadRect);
  if (!std::strcmp(name, "clEnqueueWriteBufferRect"))
    return wrap(real, clWriteRect, countedClWriteRect);
  return real;
}

extern "C" void *halide_cuda_get_symbol(void *, const char *name) {
  void *real = openCuda() ? dlsym(openCuda(), name) : nullptr;
  std::string_view n(name);
  if (n.rfind("cuMemcpyHtoDAsync", 0) == 0)
    return wrap(real, cuToDeviceAsync, countedCuToDeviceAsync);
  if (n.rfind("cuMemcpyDtoHAsync", 0) == 0)
    return wrap(real, cuToHostAsync, countedCuToHostAsync);
  if (n.rfind("cuMemcpyHtoD", 0) == 0)
    return wrap(real, cuToDevice, countedCuToDevice);
  if (n.rfind("cuMemcpyDtoH", 0) == 0)
    return wrap(real, cuToHost, countedCuToHost);
  return real;
}

//===----------------------------------------------------------------------===//
// Views of the arena
//===----------------------------------------------------------------------===//

namespace {

/// The arena is a 2-D buffer of bytes, rows of kRow bytes: a byte offset
/// of any size is a position in it (Halide's extents are 32-bit).
constexpr int64_t kRow = int64_t(1) << 20;

/// A window of `arena` starting at byte `offset`: `width` bytes of one row,
/// or whole rows from there.
int32_t window(const halide_buffer_t *arena, int64_t offset, int64_t width,
               int64_t rows, halide_buffer_t *out, halide_dimension_t *dims) {
  const int64_t row = arena->dim[1].stride;
  dims[0] = {int32_t(offset % row), int32_t(width), 1, 0};
  dims[1] = {int32_t(offset / row), int32_t(rows), int32_t(row), 0};
  *out = halide_buffer_t{};
  out->type = arena->type;
  out->dimensions = 2;
  out->dim = dims;
  return halide_device_crop(nullptr, arena, out);
}

} // namespace

extern "C" int32_t rn_device_views(const halide_buffer_t *arena,
                                   halide_buffer_t *views,
                                   const int64_t *offsets, int32_t count) {
  for (int32_t i = 0; i < count; ++i) {
    halide_dimension_t dims[2];
    halide_buffer_t crop;
    if (int32_t status = window(arena, offsets[i], 1, 1, &crop, dims))
      return status;
    views[i].device = crop.device;
    views[i].device_interface = crop.device_interface;
    views[i].host = nullptr;
    views[i].flags = 0;
  }
  return 0;
}

extern "C" int32_t rn_device_release_views(halide_buffer_t *views,
                                           int32_t count) {
  int32_t status = 0;
  for (int32_t i = 0; i < count; ++i)
    if (int32_t released = halide_device_release_crop(nullptr, &views[i]))
      status = released;
  return status;
}

namespace resnetrt {

/// `view`'s shape in the host memory `host`.
static halide_buffer_t hostTwin(const halide_buffer_t &view, void *host) {
  halide_buffer_t twin = view;
  twin.device = 0;
  twin.device_interface = nullptr;
  twin.host = static_cast<uint8_t *>(host);
  twin.flags = 0;
  return twin;
}

int32_t copyViewToHost(const halide_buffer_t &view, void *host) {
  halide_buffer_t twin = hostTwin(view, host);
  return halide_buffer_copy(nullptr, const_cast<halide_buffer_t *>(&view),
                            nullptr, &twin);
}

int32_t copyViewToDevice(const void *host, halide_buffer_t &view) {
  halide_buffer_t twin = hostTwin(view, const_cast<void *>(host));
  return halide_buffer_copy(nullptr, &twin, view.device_interface, &view);
}

Transfers transfers() {
  return {toDevice.load(), toHost.load(), bytesToDevice.load(),
          bytesToHost.load()};
}

//===----------------------------------------------------------------------===//
// The device
//===----------------------------------------------------------------------===//

std::string DeviceInfo::describe() const {
  return fmt::format("{} ({}, device {}, {:.1f} GiB)", name,
                     api == "cuda" ? "CUDA" : "OpenCL", index,
                     double(memoryBytes) / (int64_t(1) << 30));
}

namespace {

template <typename Fn> Fn symbol(void *library, const char *name) {
  return reinterpret_cast<Fn>(dlsym(library, name));
}

/// The device of `devices` this process takes for --gpu=`index`: a rank of
/// an MPI job the index + its place on the machine, modulo the devices.
int32_t rankDevice(int32_t index, int64_t devices) {
  return int32_t((index + launcherLocalRank()) % devices);
}

DeviceInfo probeCuda(int32_t index) {
  void *cuda = openCuda();
  if (!cuda)
    fail("this train was built for NVIDIA GPUs (resnetc --target=cuda), but "
         "this machine has no NVIDIA driver (libcuda.so.1 is missing); run it "
         "on a machine with an NVIDIA GPU and its driver, or rebuild it with "
         "resnetc --target=cpu");
  auto init = symbol<int (*)(unsigned)>(cuda, "cuInit");
  auto count = symbol<int (*)(int *)>(cuda, "cuDeviceGetCount");
  auto get = symbol<int (*)(int *, int)>(cuda, "cuDeviceGet");
  auto getName = symbol<int (*)(char *, int, int)>(cuda, "cuDeviceGetName");
  auto totalMem = symbol<int (*)(size_t *, int)>(cuda, "cuDeviceTotalMem_v2");
  int devices = 0;
  if (!init || !count || !get || !getName || !totalMem)
    fail("libcuda.so.1 lacks the CUDA driver API this train needs; update "
         "the NVIDIA driver");
  if (int status = init(0))
    fail("the NVIDIA driver failed to start (cuInit returned {}); check "
         "nvidia-smi, or rebuild with resnetc --target=cpu",
         status);
  if (count(&devices) || devices == 0)
    fail("the NVIDIA driver found no GPU; run on a machine with one, or "
         "rebuild with resnetc --target=cpu");
  if (index >= devices)
    fail("--gpu={}, but this machine has {} GPU(s), numbered from 0", index,
         devices);
  index = rankDevice(index, devices);
  int device = 0;
  char name[256] = {};
  size_t bytes = 0;
  get(&device, index);
  getName(name, sizeof name, device);
  totalMem(&bytes, device);
  return {"cuda", index, name, int64_t(bytes), int64_t(bytes)};
}

DeviceInfo probeOpenCL(int32_t index) {
  void *cl = openOpenCL();
  if (!cl)
    fail("this train was built for OpenCL (resnetc --target=opencl), but "
         "this machine has no OpenCL loader (libOpenCL.so.1); install "
         "ocl-icd-libopencl1 and a driver (pocl-opencl-icd runs on the CPU), "
         "or rebuild with resnetc --target=cpu");
  auto platforms = symbol<int32_t (*)(uint32_t, void **, uint32_t *)>(
      cl, "clGetPlatformIDs");
  auto devices = symbol<int32_t (*)(void *, uint64_t, uint32_t, void **,
                                    uint32_t *)>(cl, "clGetDeviceIDs");
  auto info = symbol<int32_t (*)(void *, uint32_t, size_t, void *, size_t *)>(
      cl, "clGetDeviceInfo");
  if (!platforms || !devices || !info)
    fail("libOpenCL.so.1 lacks the OpenCL API this train needs");
  // Halide's runtime takes the first platform, and its devices by index.
  void *platform = nullptr;
  uint32_t found = 0;
  if (platforms(1, &platform, &found) || found == 0)
    fail("no OpenCL platform is installed; install pocl-opencl-icd (OpenCL "
         "on the CPU) or a GPU's OpenCL driver, or rebuild with resnetc "
         "--target=cpu");
  const uint64_t allDevices = 0xFFFFFFFF; // CL_DEVICE_TYPE_ALL
  void *list[64] = {};
  if (devices(platform, allDevices, 64, list, &found) || found == 0)
    fail("the OpenCL platform has no device; rebuild with resnetc "
         "--target=cpu");
  if (uint32_t(index) >= found)
    fail("--gpu={}, but the OpenCL platform has {} device(s), numbered from "
         "0",
         index, found);
  index = rankDevice(index, found);
  void *device = list[index];
  char name[256] = {};
  uint64_t memory = 0, maxAllocation = 0;
  info(device, 0x102B /* CL_DEVICE_NAME */, sizeof name - 1, name, nullptr);
  info(device, 0x101F /* CL_DEVICE_GLOBAL_MEM_SIZE */, sizeof memory,
       &memory, nullptr);
  info(device, 0x1010 /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */,
       sizeof maxAllocation, &maxAllocation, nullptr);
  return {"opencl", index, name, int64_t(memory), int64_t(maxAllocation)};
}

} // namespace

DeviceInfo probeDevice(const std::string &api, int32_t index) {
  if (api != "cuda" && api != "opencl")
    fail("the program names device API '{}', which this runtime does not "
         "know; rebuild it with the resnetc that ships this runtime",
         api);
  DeviceInfo info = api == "cuda" ? probeCuda(index) : probeOpenCL(index);
  // Otherwise Halide picks the device with the most cores.
  halide_set_gpu_device(info.index);
  return info;
}

std::string describeDevice(const rn_program &program, int32_t gpu,
                           int32_t threads) {
  if (program.device_api)
    return probeDevice(program.device_api, gpu).describe();
  return fmt::format("CPU, {} thread(s) (kernels built for {})", threads,
                     program.target);
}

//===----------------------------------------------------------------------===//
// DeviceMemory
//===----------------------------------------------------------------------===//

DeviceMemory::DeviceMemory(const halide_device_interface_t *interface,
                           int64_t bytes, const DeviceInfo &device) {
  const int64_t row = std::min(kRow, (bytes + 255) / 256 * 256);
  const int64_t rows = (bytes + row - 1) / row;
  dims[0] = {0, int32_t(row), 1, 0};
  dims[1] = {0, int32_t(rows), int32_t(row), 0};
  whole.type = halide_type_t(halide_type_uint, 8);
  whole.dimensions = 2;
  whole.dim = dims;
  const double gib = double(row * rows) / (int64_t(1) << 30);
  if (row * rows > device.maxAllocation)
    fail("the arena takes {:.2f} GiB, more than the {:.2f} GiB {} allocates "
         "at once; use a smaller --batch",
         gib, double(device.maxAllocation) / (int64_t(1) << 30), device.name);
  // Kernels allocate their scratch per call: let Halide keep and reuse it.
  halide_reuse_device_allocations(nullptr, true);
  if (halide_device_malloc(nullptr, &whole, interface))
    fail("cannot allocate the {:.2f} GiB arena on {}; use a smaller --batch",
         gib, device.describe());
}

DeviceMemory::~DeviceMemory() { halide_device_free(nullptr, &whole); }

void DeviceMemory::copy(uint8_t *host, int64_t offset, int64_t bytes,
                        bool toDevice) {
  const int64_t row = whole.dim[1].stride;
  while (bytes > 0) {
    // A piece of one row up to its end, or the whole rows that follow.
    const int64_t column = offset % row;
    const bool wholeRows = column == 0 && bytes >= row;
    const int64_t width = wholeRows ? row : std::min(bytes, row - column);
    const int64_t rows = wholeRows ? bytes / row : 1;
    halide_dimension_t deviceDims[2], hostDims[2];
    halide_buffer_t device;
    if (window(&whole, offset, width, rows, &device, deviceDims))
      fail("cannot address bytes {} to {} of the device arena", offset,
           offset + width * rows);
    halide_buffer_t mirror = hostTwin(device, host);
    std::copy(deviceDims, deviceDims + 2, hostDims);
    mirror.dim = hostDims;
    int status = toDevice ? halide_buffer_copy(nullptr, &mirror,
                                               whole.device_interface, &device)
                          : halide_buffer_copy(nullptr, &device, nullptr,
                                               &mirror);
    halide_device_release_crop(nullptr, &device);
    if (status)
      fail("copying {} bytes {} the device failed (Halide error {})",
           width * rows, toDevice ? "to" : "from", status);
    host += width * rows;
    offset += width * rows;
    bytes -= width * rows;
  }
}

void DeviceMemory::upload(const uint8_t *host, int64_t offset, int64_t bytes) {
  copy(const_cast<uint8_t *>(host), offset, bytes, true);
}

void DeviceMemory::download(uint8_t *host, int64_t offset, int64_t bytes) {
  copy(host, offset, bytes, false);
}

void DeviceMemory::synchronize() {
  if (int status = halide_device_sync(nullptr, &whole))
    fail("the device failed while running the step (Halide error {})",
         status);
}

} // namespace resnetrt
