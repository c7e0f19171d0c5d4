//===- conv_bench.cpp - ResNet-20/18 conv and dense kernels at batch 128 --===//
//
// Builds every conv2d, conv2d_backward_data and conv2d_backward_filter kernel
// of ResNet-20 and the CIFAR ResNet-18 (and their dense layers) with the
// hand schedules, JIT-compiles them for the host, and times them at batch
// 128 on 2 threads. Prints, per layer and kernel, the median time, GFLOP/s
// and the share of this machine's FP32 peak, which it measures first with
// an FMA-throughput loop on the same number of threads.
//
//   conv-bench [--threads T] [--batch N] [--reps R] [--filter TEXT]
//              [--scheduler hand|adams2019|li2018|mullapudi2016] [--csv]
//
// This machine is shared: other processes take turns on its cores. Next to
// the wall-clock figures (median of --reps calls, and the spread between the
// fastest and the slowest), %cpu-pk divides the work by the CPU time the
// kernel's threads actually received, against one core's peak: a figure
// that does not move when another process takes a core for a while, which
// is what tuning needs. The stem's backward-data kernel is left out: no
// gradient flows into the image. --scheduler schedules every kernel with one
// of Halide's autoschedulers instead of the hand schedules; a kernel it
// cannot schedule prints the reason. --csv prints
// "model,layer,kernel,ms,gflops,cpu-peak-share,cpu-ms" lines (ms "fails"
// for a kernel that did not build) for bench/schedulers.py, which runs this
// program once per kernel and scheduler, alternating, and prints the
// fastest per kernel.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Codegen/Kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace Halide;
using namespace resnetc::kernels;

namespace {

//===----------------------------------------------------------------------===//
// Peak
//===----------------------------------------------------------------------===//

/// 24 independent chains of 16-lane FMAs: more than FMA latency times the
/// number of FMA ports, so the loop runs at the FMA throughput.
__attribute__((target("avx512f,fma"))) float fmaLoop(long iterations) {
  constexpr int chains = 24;
  __m512 acc[chains];
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < chains; ++i)
    acc[i] = _mm512_set1_ps(float(i));
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < chains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  float lanes[16], sum = 0;
  for (int i = 0; i < chains; ++i) {
    _mm512_storeu_ps(lanes, acc[i]);
    sum += lanes[0];
  }
  return sum;
}

double cpuSeconds(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/// FP32 FMA peak of one core in GFLOP/s, per second of CPU time the thread
/// received: other processes on this shared machine take turns on the
/// cores, but do not slow a core down while it runs this thread. The best
/// of a few runs on `threads` threads at once (all-core clock).
double measureCorePeak(int threads) {
  const long iterations = 20'000'000;
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    std::vector<std::thread> workers;
    std::vector<double> rates(threads);
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        double start = cpuSeconds(CLOCK_THREAD_CPUTIME_ID);
        volatile float sink = fmaLoop(iterations);
        (void)sink;
        double seconds = cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - start;
        rates[t] = iterations * 24.0 * 16 * 2 / seconds / 1e9;
      });
    for (std::thread &w : workers)
      w.join();
    best = std::max(best, *std::min_element(rates.begin(), rates.end()));
  }
  return best;
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

struct ConvLayer {
  const char *model, *name;
  int C, H, W, O, K, stride;
  int count; ///< How many convs of this shape the model has.
  int padding = -1; ///< -1: K / 2 ("same").
  int pad() const { return padding < 0 ? K / 2 : padding; }
  int Ho() const { return (H + 2 * pad() - K) / stride + 1; }
  int Wo() const { return (W + 2 * pad() - K) / stride + 1; }
};

// ResNet-20 (He et al., CIFAR) with 1x1 projection shortcuts, the CIFAR
// ResNet-18 (3x3 stem, no max-pool), and seed 000's Keras net
// (keras_cifar10_resblocks.dsl: its valid second conv and the 6x6 blocks;
// it trains at batch 64). One row per distinct shape.
const ConvLayer convLayers[] = {
    {"resnet20", "stem 3->16 32px", 3, 32, 32, 16, 3, 1, 1},
    {"resnet20", "16->16 32px", 16, 32, 32, 16, 3, 1, 6},
    {"resnet20", "16->32 s2", 16, 32, 32, 32, 3, 2, 1},
    {"resnet20", "proj 16->32 s2", 16, 32, 32, 32, 1, 2, 1},
    {"resnet20", "32->32 16px", 32, 16, 16, 32, 3, 1, 5},
    {"resnet20", "32->64 s2", 32, 16, 16, 64, 3, 2, 1},
    {"resnet20", "proj 32->64 s2", 32, 16, 16, 64, 1, 2, 1},
    {"resnet20", "64->64 8px", 64, 8, 8, 64, 3, 1, 5},
    {"resnet18", "stem 3->64 32px", 3, 32, 32, 64, 3, 1, 1},
    {"resnet18", "64->64 32px", 64, 32, 32, 64, 3, 1, 4},
    {"resnet18", "64->128 s2", 64, 32, 32, 128, 3, 2, 1},
    {"resnet18", "proj 64->128 s2", 64, 32, 32, 128, 1, 2, 1},
    {"resnet18", "128->128 16px", 128, 16, 16, 128, 3, 1, 3},
    {"resnet18", "128->256 s2", 128, 16, 16, 256, 3, 2, 1},
    {"resnet18", "proj 128->256 s2", 128, 16, 16, 256, 1, 2, 1},
    {"resnet18", "256->256 8px", 256, 8, 8, 256, 3, 1, 3},
    {"resnet18", "256->512 s2", 256, 8, 8, 512, 3, 2, 1},
    {"resnet18", "proj 256->512 s2", 256, 8, 8, 512, 1, 2, 1},
    {"resnet18", "512->512 4px", 512, 4, 4, 512, 3, 1, 3},
    {"seed000", "32->64 22px valid", 32, 22, 22, 64, 3, 1, 1, 0},
    {"seed000", "64->64 6px", 64, 6, 6, 64, 3, 1, 20},
};

struct DenseLayer {
  const char *model, *name;
  int K, M;
};

const DenseLayer denseLayers[] = {
    {"resnet20", "dense 64->10", 64, 10},
    {"resnet18", "dense 512->10", 512, 10},
};

/// One kernel to time: its spec and the multiply-adds it does, times two.
struct Case {
  std::string model, layer, kernel;
  KernelSpec spec;
  double flops;
};

std::vector<Case> cases(int batch) {
  std::vector<Case> result;
  for (const ConvLayer &l : convLayers) {
    int64_t N = batch, p = l.pad();
    TensorSpec x{{N, l.C, l.H, l.W}}, y{{N, l.O, l.Ho(), l.Wo()}},
        w{{l.O, l.C, l.K, l.K}, TensorKind::Weight};
    std::map<std::string, std::vector<int64_t>> ints = {
        {"strides", {l.stride, l.stride}},
        {"padding", {p, p, p, p}},
        {"dilations", {1, 1}},
        {"groups", {1}}};
    double flops = 2.0 * N * l.O * l.Ho() * l.Wo() * l.C * l.K * l.K;
    result.push_back(
        {l.model, l.name, "fwd", {"conv2d", {x, w}, {y}, ints}, flops});
    if (l.C != 3)
      result.push_back({l.model,
                        l.name,
                        "bwd-data",
                        {"conv2d_backward_data", {y, w}, {x}, ints},
                        flops});
    result.push_back({l.model,
                      l.name,
                      "bwd-filter",
                      {"conv2d_backward_filter", {x, y}, {w}, ints},
                      flops});
  }
  for (const DenseLayer &l : denseLayers) {
    int64_t N = batch;
    TensorSpec x{{N, l.K}}, y{{N, l.M}}, w{{l.M, l.K}, TensorKind::Weight};
    double flops = 2.0 * N * l.K * l.M;
    result.push_back({l.model, l.name, "fwd", {"dense", {x, w}, {y}}, flops});
    result.push_back({l.model,
                      l.name,
                      "bwd-data",
                      {"dense_backward_data", {y, w}, {x}},
                      flops});
    result.push_back({l.model,
                      l.name,
                      "bwd-filter",
                      {"dense_backward_weights", {x, y}, {w}},
                      flops});
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

struct Timing {
  double median, low, high; ///< Wall-clock milliseconds.
  double cpuMedian;         ///< Milliseconds of CPU time, all threads.
};

/// Compiles `c`, fills its inputs with random values and times `reps` calls
/// after a warm-up call.
Timing timeKernel(const Case &c, const Target &target, Scheduler scheduler,
                 int reps) {
  Kernel kernel = buildKernel(c.spec, target, scheduler);
  kernel.pipeline.compile_jit(target);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<Buffer<float>> inputs;
  for (size_t i = 0; i < c.spec.inputs.size(); ++i) {
    Buffer<float> b(halideExtents(c.spec.inputs[i]));
    b.for_each_value([&](float &v) { v = dist(rng); });
    kernel.inputs[i].set(b);
    inputs.push_back(b);
  }
  std::vector<Buffer<>> outputs;
  for (const TensorSpec &t : c.spec.outputs)
    outputs.push_back(Buffer<float>(halideExtents(t)));
  Realization realization(outputs);
  kernel.pipeline.realize(realization, target);
  std::vector<double> ms, cpuMs;
  for (int r = 0; r < reps; ++r) {
    double cpuStart = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    auto start = std::chrono::steady_clock::now();
    kernel.pipeline.realize(realization, target);
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
    cpuMs.push_back(1e3 * (cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpuStart));
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpuMs.begin(), cpuMs.end());
  return {ms[ms.size() / 2], ms.front(), ms.back(), cpuMs[cpuMs.size() / 2]};
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2, batch = 128, reps = 15;
  Scheduler scheduler = Scheduler::Hand;
  bool csv = false;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "conv-bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (arg == "--threads")
      threads = std::stoi(value());
    else if (arg == "--batch")
      batch = std::stoi(value());
    else if (arg == "--reps")
      reps = std::stoi(value());
    else if (arg == "--filter")
      filter = value();
    else if (arg == "--scheduler") {
      std::string name = value();
      const std::pair<const char *, Scheduler> names[] = {
          {"hand", Scheduler::Hand},
          {"adams2019", Scheduler::Adams2019},
          {"li2018", Scheduler::Li2018},
          {"mullapudi2016", Scheduler::Mullapudi2016}};
      auto it = std::find_if(std::begin(names), std::end(names),
                             [&](const auto &n) { return name == n.first; });
      if (it == std::end(names)) {
        std::fprintf(stderr, "conv-bench: unknown scheduler '%s'\n",
                     name.c_str());
        return 2;
      }
      scheduler = it->second;
    } else if (arg == "--csv")
      csv = true;
    else {
      std::fprintf(stderr,
                   "usage: conv-bench [--threads T] [--batch N] [--reps R] "
                   "[--filter TEXT] [--scheduler NAME] [--csv]\n");
      return 2;
    }
  }
  // Halide's JIT thread pool reads this when it starts.
  setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
  Target target = get_jit_target_from_environment();

  double corePeak = measureCorePeak(threads), peak = threads * corePeak;
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  if (!csv)
    std::printf("target %s\n%d threads, batch %d, FP32 FMA peak %.0f GFLOP/s "
                "(%.0f per core), load average %.1f\n"
                "%-9s %-18s %-10s %9s %9s %7s %7s %7s  %s\n",
                target.to_string().c_str(), threads, batch, peak, corePeak,
                load[0], "model", "layer", "kernel", "ms", "GFLOP/s", "%peak",
                "%cpu-pk", "spread", "(min..max ms)");
  else
    std::printf("# peak %.1f load %.1f\n", peak, load[0]);
  for (const Case &c : cases(batch)) {
    std::string label = c.model + " " + c.layer + " " + c.kernel;
    if (!filter.empty() && label.find(filter) == std::string::npos)
      continue;
    Timing t;
    try {
      t = timeKernel(c, target, scheduler, reps);
    } catch (const std::exception &e) {
      // Halide's errors span lines; the first says what went wrong.
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      if (csv)
        std::printf("%s,%s,%s,fails,,,\n", c.model.c_str(), c.layer.c_str(),
                    c.kernel.c_str());
      else
        std::printf("%-9s %-18s %-10s fails: %s\n", c.model.c_str(),
                    c.layer.c_str(), c.kernel.c_str(), what.c_str());
      std::fflush(stdout);
      continue;
    }
    double gflops = c.flops / t.median / 1e6;
    // Throughput per CPU-second received, against one core's peak.
    double cpuShare = 100 * c.flops / t.cpuMedian / 1e6 / corePeak;
    if (csv) {
      std::printf("%s,%s,%s,%.4f,%.2f,%.1f,%.4f\n", c.model.c_str(),
                  c.layer.c_str(), c.kernel.c_str(), t.median, gflops, cpuShare,
                  t.cpuMedian);
    } else {
      std::printf("%-9s %-18s %-10s %9.3f %9.1f %6.1f%% %6.1f%% %6.0f%%  "
                  "(%.3f..%.3f)\n",
                  c.model.c_str(), c.layer.c_str(), c.kernel.c_str(), t.median,
                  gflops, 100 * gflops / peak, cpuShare,
                  100 * (t.high - t.low) / t.median, t.low, t.high);
    }
    std::fflush(stdout);
  }
  return 0;
}
