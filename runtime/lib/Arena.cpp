//===- Arena.cpp - the one allocation a training run makes ----------------===//

#include "resnetrt/Arena.h"

#include "resnetrt/Error.h"

#include <algorithm>
#include <cstring>

namespace resnetrt {

int64_t elementCount(const rn_variable &variable) {
  int64_t count = 1;
  for (int32_t d = 0; d < variable.rank; ++d)
    count *= variable.shape[d];
  return count;
}

/// A contract violation by the compiled program.
template <typename... Args>
[[noreturn]] static void badProgram(const rn_program &program,
                                    fmt::format_string<Args...> format,
                                    Args &&...args) {
  fail("the compiled program {} is inconsistent: {}; this is a resnetc bug, "
       "please report it with the model",
       program.model_name ? program.model_name : "(unnamed)",
       fmt::format(format, std::forward<Args>(args)...));
}

/// Checks that [offset, offset + bytes) lies in a region of `limit` bytes,
/// at a multiple of `alignment`: the program's for the slots the runtime
/// fills; for variables, 4 on the CPU (the plan packs each kind of variable
/// densely, so that the optimizer's one flat update walks them together)
/// and the program's on a GPU.
static void checkSlot(const rn_program &program, const char *what,
                      int64_t offset, int64_t bytes, int64_t limit,
                      int64_t alignment = 64) {
  if (offset < 0 || offset % alignment != 0 || bytes < 0 ||
      offset + bytes > limit)
    badProgram(program,
               "{} at offset {} ({} bytes) is outside its {}-byte region or "
               "not {}-byte aligned",
               what, offset, bytes, limit, alignment);
}

void checkProgram(const rn_program &program) {
  if (program.abi_version != RN_PROGRAM_ABI_VERSION)
    fail("the program was compiled for runtime ABI {} but this runtime has "
         "ABI {}; rebuild it with the resnetc that ships this runtime",
         program.abi_version, RN_PROGRAM_ABI_VERSION);
  if (!program.model_name || !program.optimizer || !program.train_step ||
      !program.eval_step || (program.num_variables > 0 && !program.variables))
    badProgram(program, "a name, the optimizer or a step function is missing");
  if (program.input_height <= 0 || program.input_width <= 0 ||
      program.input_channels <= 0 || program.num_classes <= 1 ||
      program.compiled_batch <= 0 || program.fixed_bytes < 0 ||
      program.per_sample_bytes <= 0)
    badProgram(program, "a shape or size is not positive");

  const bool gpu = program.device_api != nullptr;
  if (gpu != (program.device_interface != nullptr) ||
      (program.alignment != 64 && program.alignment != 256))
    badProgram(program, "its device or alignment is inconsistent");
  const int64_t alignment = program.alignment;
  int64_t imageBytes = int64_t(sizeof(float)) * program.input_height *
                       program.input_width * program.input_channels;
  checkSlot(program, "the images slot", program.images_offset, imageBytes,
            program.per_sample_bytes, alignment);
  checkSlot(program, "the labels slot", program.labels_offset, sizeof(int32_t),
            program.per_sample_bytes, alignment);
  checkSlot(program, "the logits slot", program.logits_offset,
            int64_t(sizeof(float)) * program.num_classes,
            program.per_sample_bytes, alignment);
  checkSlot(program, "the loss", program.loss_offset, sizeof(float),
            program.fixed_bytes, alignment);
  checkSlot(program, "the correct count", program.correct_offset,
            sizeof(int32_t), program.fixed_bytes, alignment);
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (!variable.name || variable.rank < 0 || variable.rank > 4)
      badProgram(program, "variable {} has no name or a rank outside 0..4", i);
    if (variable.role < RN_PARAMETER || variable.role > RN_DERIVED)
      badProgram(program, "variable {} has role {}, which is none of 0..3",
                 variable.name, variable.role);
    // Nothing else would ever compute them: eval_step would read zeros.
    if (variable.role == RN_DERIVED && !program.prepare_eval)
      badProgram(program, "variable {} is derived but prepare_eval is missing",
                 variable.name);
    for (int32_t d = 0; d < variable.rank; ++d)
      if (variable.shape[d] <= 0)
        badProgram(program, "variable {} has a non-positive extent",
                   variable.name);
    checkSlot(program, variable.name, variable.offset,
              int64_t(sizeof(float)) * elementCount(variable),
              program.fixed_bytes, gpu ? alignment : int64_t(sizeof(float)));
  }
}

Arena::Arena(const rn_program &program, int32_t maxBatch, int32_t gpu)
    : program(program),
      size(program.fixed_bytes + int64_t(maxBatch) * program.per_sample_bytes),
      capacity(maxBatch) {
  variablesEnd = program.gradients_offset + program.parameters_bytes;
  for (int32_t i = 0; i < program.num_variables; ++i)
    variablesEnd = std::max(variablesEnd,
                            program.variables[i].offset +
                                int64_t(sizeof(float)) *
                                    elementCount(program.variables[i]));
  // Found first: a machine without the device fails before the host
  // allocation. Its arena then holds every tensor of the steps.
  if (program.device_api) {
    info = probeDevice(program.device_api, gpu);
    deviceMemory = std::make_unique<DeviceMemory>(program.device_interface(),
                                                  size, *info);
  }
  // aligned_alloc wants a multiple of the alignment. 128 bytes: Halide may
  // use aligned vector accesses on the buffers (Kernels.h).
  size_t rounded = size_t(size + 127) / 128 * 128;
  memory.reset(static_cast<uint8_t *>(std::aligned_alloc(128, rounded)));
  if (!memory)
    fail("cannot allocate the {:.1f} MiB arena for batch {}; use a smaller "
         "--batch",
         double(size) / (1 << 20), maxBatch);
  std::memset(memory.get(), 0, rounded);
  // Between the variables lie zeros (a GPU plan's gaps), which the updates
  // keep: the device has them from here on.
  uploadVariables();
}

float *Arena::images(int32_t batch) {
  return reinterpret_cast<float *>(data() + program.fixed_bytes +
                                   int64_t(batch) * program.images_offset);
}

int32_t *Arena::labels(int32_t batch) {
  return reinterpret_cast<int32_t *>(data() + program.fixed_bytes +
                                     int64_t(batch) * program.labels_offset);
}

const float *Arena::logits(int32_t batch) {
  int64_t offset = program.fixed_bytes + int64_t(batch) * program.logits_offset;
  if (deviceMemory)
    deviceMemory->download(data() + offset, offset,
                           int64_t(batch) * program.num_classes *
                               int64_t(sizeof(float)));
  return reinterpret_cast<const float *>(data() + offset);
}

float Arena::loss() const {
  float value;
  std::memcpy(&value, memory.get() + program.loss_offset, sizeof value);
  return value;
}

int32_t Arena::correct() const {
  int32_t value;
  std::memcpy(&value, memory.get() + program.correct_offset, sizeof value);
  return value;
}

float *Arena::variable(const rn_variable &variable) {
  return reinterpret_cast<float *>(data() + variable.offset);
}

std::string deviceName(const Arena &arena) {
  return arena.device() ? arena.device()->name : "cpu";
}

void *Arena::stepArena() {
  if (deviceMemory)
    return const_cast<halide_buffer_t *>(deviceMemory->buffer());
  return data();
}

int32_t Arena::trainStep(int32_t batch, const rn_step_params &params) {
  variablesOnHost = !deviceMemory;
  int32_t status = program.train_step(stepArena(), batch, &params);
  if (status == 0)
    downloadResults();
  return status;
}

int32_t Arena::evalStep(int32_t batch) {
  int32_t status = program.eval_step(stepArena(), batch);
  if (status == 0)
    downloadResults();
  return status;
}

int32_t Arena::prepareEval() {
  return program.prepare_eval ? program.prepare_eval(stepArena(), 0) : 0;
}

void Arena::downloadResults() {
  if (!deviceMemory)
    return;
  int64_t first = std::min(program.loss_offset, program.correct_offset);
  int64_t end = std::max(program.loss_offset + int64_t(sizeof(float)),
                         program.correct_offset + int64_t(sizeof(int32_t)));
  deviceMemory->download(data() + first, first, end - first);
}

void Arena::uploadBatch(int32_t batch) {
  if (!deviceMemory)
    return;
  // One copy from the first to the end of the last: the plan puts the
  // two slots first in the per-sample region, side by side, and the bytes
  // between the two tensors are the padding of the first one's slot.
  int64_t images = program.fixed_bytes + int64_t(batch) * program.images_offset;
  int64_t labels = program.fixed_bytes + int64_t(batch) * program.labels_offset;
  int64_t imageBytes = int64_t(sizeof(float)) * batch * program.input_channels *
                       program.input_height * program.input_width;
  int64_t labelBytes = int64_t(sizeof(int32_t)) * batch;
  int64_t first = std::min(images, labels);
  int64_t end = std::max(images + imageBytes, labels + labelBytes);
  deviceMemory->upload(data() + first, first, end - first);
}

void Arena::uploadVariables() {
  if (deviceMemory)
    deviceMemory->upload(data(), 0, variablesEnd);
  variablesOnHost = true;
}

void Arena::downloadAll() {
  if (deviceMemory)
    deviceMemory->download(data(), 0, size);
  variablesOnHost = true;
}

void Arena::synchronize() {
  if (deviceMemory)
    deviceMemory->synchronize();
}

void Arena::download(int64_t offset, int64_t bytes) {
  if (deviceMemory)
    deviceMemory->download(data() + offset, offset, bytes);
}

void Arena::upload(int64_t offset, int64_t bytes) {
  if (deviceMemory)
    deviceMemory->upload(data() + offset, offset, bytes);
}

void Arena::downloadVariables() {
  if (variablesOnHost)
    return;
  deviceMemory->download(data(), 0, variablesEnd);
  variablesOnHost = true;
}

} // namespace resnetrt
