//===- Arena.cpp - the one allocation a training run makes ----------------===//

#include "resnetrt/Arena.h"

#include "resnetrt/Error.h"

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
/// at a multiple of `alignment`: 64 for the slots the runtime fills, 4 for
/// variables (the plan packs each kind of variable densely, so that the
/// optimizer's one flat update walks them together).
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

  int64_t imageBytes = int64_t(sizeof(float)) * program.input_height *
                       program.input_width * program.input_channels;
  checkSlot(program, "the images slot", program.images_offset, imageBytes,
            program.per_sample_bytes);
  checkSlot(program, "the labels slot", program.labels_offset, sizeof(int32_t),
            program.per_sample_bytes);
  checkSlot(program, "the loss", program.loss_offset, sizeof(float),
            program.fixed_bytes);
  checkSlot(program, "the correct count", program.correct_offset,
            sizeof(int32_t), program.fixed_bytes);
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
              program.fixed_bytes, sizeof(float));
  }
}

Arena::Arena(const rn_program &program, int32_t maxBatch)
    : program(program),
      size(program.fixed_bytes + int64_t(maxBatch) * program.per_sample_bytes),
      capacity(maxBatch) {
  // aligned_alloc wants a multiple of the alignment.
  size_t rounded = size_t(size + 63) / 64 * 64;
  memory.reset(static_cast<uint8_t *>(std::aligned_alloc(64, rounded)));
  if (!memory)
    fail("cannot allocate the {:.1f} MiB arena for batch {}; use a smaller "
         "--batch",
         double(size) / (1 << 20), maxBatch);
  std::memset(memory.get(), 0, rounded);
}

float *Arena::images(int32_t batch) {
  return reinterpret_cast<float *>(data() + program.fixed_bytes +
                                   int64_t(batch) * program.images_offset);
}

int32_t *Arena::labels(int32_t batch) {
  return reinterpret_cast<int32_t *>(data() + program.fixed_bytes +
                                     int64_t(batch) * program.labels_offset);
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

} // namespace resnetrt
