//===- StepDriver.cpp - runs a compiled program's steps on given data -------===//
//
// Linked instead of libresnetrt's main (RESNETC_RUNTIME=libstepdriver.a), it
// lets a test run exactly the generated training step on weights and
// batches the test chose, and read back what the step computed:
//
//   stepdriver IN OUT STEPS
//   IN/variables/<name>.bin   f32, the variable's logical (rn) layout; every
//                             parameter and state variable, optimizer slots
//                             start at zero, derived variables (folded
//                             BatchNorm) come from prepare_eval
//   IN/images.bin             f32 [STEPS, N, C, H, W] (PyTorch's NCHW)
//   IN/labels.bin             i32 [STEPS, N]
//   IN/params.txt             lr momentum weight_decay nesterov beta1 beta2
//                             epsilon label_smoothing
//   OUT/losses.txt            the loss of each step
//   OUT/step1/gradients/<name>.bin, OUT/step1/variables/<name>.bin
//                             gradients and variables after the first step
//   OUT/final/variables/<name>.bin   variables after the last step
//   OUT/eval.txt              eval_step's loss and correct count on the
//                             first batch after the last step
//   OUT/arena.bin             with STEPDRIVER_DUMP_ARENA set: the whole
//                             arena after the first step, to compare any
//                             planned tensor (resnetc --emit=train shows
//                             its slot)
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Program.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "stepdriver: %s\n", message.c_str());
  std::exit(1);
}

std::vector<char> readFile(const fs::path &path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> data(bytes);
  if (!in.read(data.data(), bytes) || in.peek() != EOF)
    die("cannot read " + std::to_string(bytes) + " bytes from " +
        path.string());
  return data;
}

void writeFile(const fs::path &path, const void *data, size_t bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  if (!out.write(static_cast<const char *>(data), bytes))
    die("cannot write " + path.string());
}

size_t elements(const rn_variable &v) {
  size_t n = 1;
  for (int d = 0; d < v.rank; ++d)
    n *= v.shape[d];
  return n;
}

void dumpVariables(const rn_program &p, const uint8_t *arena,
                   const fs::path &dir) {
  for (int i = 0; i < p.num_variables; ++i) {
    const rn_variable &v = p.variables[i];
    writeFile(dir / (std::string(v.name) + ".bin"), arena + v.offset,
              4 * elements(v));
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 4)
    die("usage: stepdriver IN OUT STEPS");
  const rn_program &p = rn_program_info;
  if (p.abi_version != RN_PROGRAM_ABI_VERSION)
    die("program ABI mismatch");
  fs::path in = argv[1], out = argv[2];
  int steps = std::atoi(argv[3]);
  int32_t n = p.compiled_batch;
  int64_t c = p.input_channels, h = p.input_height, w = p.input_width;

  // 128-byte aligned, as the runtime's arena: kernels may use aligned
  // vector accesses (Kernels.h).
  std::vector<uint8_t> arenaStorage(p.fixed_bytes + n * p.per_sample_bytes +
                                    128);
  uint8_t *arena = arenaStorage.data() +
                   (128 - reinterpret_cast<uintptr_t>(arenaStorage.data()) % 128) % 128;
  for (int i = 0; i < p.num_variables; ++i) {
    const rn_variable &v = p.variables[i];
    if (v.role == RN_OPTIMIZER_SLOT || v.role == RN_DERIVED)
      continue;
    std::vector<char> data =
        readFile(in / "variables" / (std::string(v.name) + ".bin"),
                 4 * elements(v));
    std::memcpy(arena + v.offset, data.data(), data.size());
  }
  size_t imageFloats = size_t(n) * c * h * w;
  std::vector<char> images =
      readFile(in / "images.bin", 4 * imageFloats * steps);
  std::vector<char> labels = readFile(in / "labels.bin", 4 * size_t(n) * steps);
  rn_step_params params{};
  std::ifstream text(in / "params.txt");
  if (!(text >> params.lr >> params.momentum >> params.weight_decay >>
        params.nesterov >> params.beta1 >> params.beta2 >> params.epsilon >>
        params.label_smoothing))
    die("cannot read params.txt");

  // NCHW batches -> the program's NHWC image slot.
  auto loadBatch = [&](int s) {
    const float *src = reinterpret_cast<const float *>(images.data()) +
                       s * imageFloats;
    float *dst = reinterpret_cast<float *>(arena + p.fixed_bytes +
                                           n * p.images_offset);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x)
            dst[((i * h + y) * w + x) * c + ch] =
                src[((i * c + ch) * h + y) * w + x];
    std::memcpy(arena + p.fixed_bytes + n * p.labels_offset,
                labels.data() + 4 * size_t(n) * s, 4 * size_t(n));
  };

  std::ofstream losses(out / "losses.txt");
  for (int s = 0; s < steps; ++s) {
    loadBatch(s);
    params.step = s + 1;
    params.seed = 1000 + s;
    if (int status = p.train_step(arena, n, &params))
      die("train_step failed with Halide error " + std::to_string(status));
    float loss;
    std::memcpy(&loss, arena + p.loss_offset, 4);
    char line[64];
    std::snprintf(line, sizeof(line), "%.9g\n", loss);
    losses << line;
    if (s > 0)
      continue;
    for (int i = 0; i < p.num_variables; ++i) {
      const rn_variable &v = p.variables[i];
      if (v.role != RN_PARAMETER)
        continue;
      writeFile(out / "step1" / "gradients" / (std::string(v.name) + ".bin"),
                arena + p.gradients_offset + (v.offset - p.parameters_offset),
                4 * elements(v));
    }
    dumpVariables(p, arena, out / "step1" / "variables");
    if (std::getenv("STEPDRIVER_DUMP_ARENA"))
      writeFile(out / "arena.bin", arena, p.fixed_bytes + n * p.per_sample_bytes);
  }
  dumpVariables(p, arena, out / "final" / "variables");
  loadBatch(0);
  if (p.prepare_eval)
    if (int status = p.prepare_eval(arena, 0))
      die("prepare_eval failed with Halide error " + std::to_string(status));
  if (int status = p.eval_step(arena, n))
    die("eval_step failed with Halide error " + std::to_string(status));
  float loss;
  int32_t correct;
  std::memcpy(&loss, arena + p.loss_offset, 4);
  std::memcpy(&correct, arena + p.correct_offset, 4);
  std::ofstream(out / "eval.txt") << loss << " " << correct << "\n";
  return 0;
}
