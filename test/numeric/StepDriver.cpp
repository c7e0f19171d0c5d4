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
//                             epsilon label_smoothing [keras_epsilon]
//                             (keras_epsilon 1: epsilon is added before
//                             Adam's bias correction, as train's
//                             --keras-epsilon)
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
//   OUT/arena-<k>.bin         with STEPDRIVER_DUMP_ARENA=every: the arena
//                             after each step k (1-based) instead
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Arena.h"
#include "resnetrt/Error.h"
#include "resnetrt/Schedule.h"

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

void dumpVariables(const rn_program &p, resnetrt::Arena &arena,
                   const fs::path &dir) {
  arena.downloadVariables();
  for (int i = 0; i < p.num_variables; ++i) {
    const rn_variable &v = p.variables[i];
    writeFile(dir / (std::string(v.name) + ".bin"), arena.variable(v),
              4 * resnetrt::elementCount(v));
  }
}

int run(int argc, char **argv) {
  if (argc != 4)
    die("usage: stepdriver IN OUT STEPS");
  const rn_program &p = rn_program_info;
  if (p.abi_version != RN_PROGRAM_ABI_VERSION)
    die("program ABI mismatch");
  fs::path in = argv[1], out = argv[2];
  int steps = std::atoi(argv[3]);
  int32_t n = p.compiled_batch;
  int64_t c = p.input_channels, h = p.input_height, w = p.input_width;

  // The runtime's arena: on a GPU program's device, with its host mirror.
  resnetrt::Arena arena(p, n);
  for (int i = 0; i < p.num_variables; ++i) {
    const rn_variable &v = p.variables[i];
    if (v.role == RN_OPTIMIZER_SLOT || v.role == RN_DERIVED)
      continue;
    std::vector<char> data =
        readFile(in / "variables" / (std::string(v.name) + ".bin"),
                 4 * resnetrt::elementCount(v));
    std::memcpy(arena.variable(v), data.data(), data.size());
  }
  arena.uploadVariables();
  size_t imageFloats = size_t(n) * c * h * w;
  std::vector<char> images =
      readFile(in / "images.bin", 4 * imageFloats * steps);
  std::vector<char> labels = readFile(in / "labels.bin", 4 * size_t(n) * steps);
  rn_step_params params{};
  double beta2 = 0, epsilon = 0;
  std::ifstream text(in / "params.txt");
  if (!(text >> params.lr >> params.momentum >> params.weight_decay >>
        params.nesterov >> params.beta1 >> beta2 >> epsilon >>
        params.label_smoothing))
    die("cannot read params.txt");
  params.beta2 = float(beta2);
  int kerasEpsilon = 0;
  if (!(text >> kerasEpsilon) && !text.eof())
    die("cannot read keras_epsilon from params.txt");
  const char *dumpArena = std::getenv("STEPDRIVER_DUMP_ARENA");
  const bool dumpEvery = dumpArena && std::string(dumpArena) == "every";

  // NCHW batches -> the program's NHWC image slot.
  auto loadBatch = [&](int s) {
    const float *src = reinterpret_cast<const float *>(images.data()) +
                       s * imageFloats;
    float *dst = arena.images(n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x)
            dst[((i * h + y) * w + x) * c + ch] =
                src[((i * c + ch) * h + y) * w + x];
    std::memcpy(arena.labels(n), labels.data() + 4 * size_t(n) * s,
                4 * size_t(n));
    arena.uploadBatch(n);
  };

  std::ofstream losses(out / "losses.txt");
  for (int s = 0; s < steps; ++s) {
    loadBatch(s);
    params.step = s + 1;
    params.seed = 1000 + s;
    params.epsilon = float(
        resnetrt::adamEpsilon(epsilon, beta2, s + 1, kerasEpsilon != 0));
    if (int status = arena.trainStep(n, params))
      die("train_step failed with Halide error " + std::to_string(status));
    char line[64];
    std::snprintf(line, sizeof(line), "%.9g\n", arena.loss());
    losses << line;
    if (dumpEvery) {
      arena.downloadAll();
      writeFile(out / ("arena-" + std::to_string(s + 1) + ".bin"),
                arena.data(), p.fixed_bytes + n * p.per_sample_bytes);
    }
    if (s > 0)
      continue;
    // The gradients lie beside the variables (Arena.h).
    dumpVariables(p, arena, out / "step1" / "variables");
    for (int i = 0; i < p.num_variables; ++i) {
      const rn_variable &v = p.variables[i];
      if (v.role != RN_PARAMETER)
        continue;
      writeFile(out / "step1" / "gradients" / (std::string(v.name) + ".bin"),
                arena.data() + p.gradients_offset +
                    (v.offset - p.parameters_offset),
                4 * resnetrt::elementCount(v));
    }
    if (dumpArena && !dumpEvery) {
      arena.downloadAll();
      writeFile(out / "arena.bin", arena.data(),
                p.fixed_bytes + n * p.per_sample_bytes);
    }
  }
  dumpVariables(p, arena, out / "final" / "variables");
  loadBatch(0);
  if (int status = arena.prepareEval())
    die("prepare_eval failed with Halide error " + std::to_string(status));
  if (int status = arena.evalStep(n))
    die("eval_step failed with Halide error " + std::to_string(status));
  char line[64];
  std::snprintf(line, sizeof(line), "%.9g %d\n", arena.loss(),
                arena.correct());
  std::ofstream(out / "eval.txt") << line;
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return resnetrt::reportErrors("stepdriver", stderr,
                                [&] { return run(argc, argv); });
}
