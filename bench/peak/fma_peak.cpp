//===- fma_peak.cpp - this machine's peak of fused multiply-adds ----------===//
//
// What "share of the FMA peak" is measured against (issue 13): every
// thread runs independent vector FMAs, enough of them in flight to hide the
// instruction's latency on both FMA ports, and nothing else. Built for the
// machine it runs on (-march=native): AVX-512 vectors where it has them,
// else AVX2's. Prints one JSON line: the vector width, threads, GFLOP/s
// (two per FMA lane) in all and per thread, and for one thread alone.
//
//   fma_peak [--threads=N] [--seconds=S]   (default: one per hardware thread, 1 s)
//
//===----------------------------------------------------------------------===//

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

#ifdef __AVX512F__
constexpr int kLanes = 16;
#else
constexpr int kLanes = 8;
#endif
using Vector = float __attribute__((vector_size(4 * kLanes)));

/// Independent accumulators per thread: four cycles of FMA latency on two
/// ports, twice over.
constexpr int kChains = 16;
constexpr long kRound = 1 << 16; ///< iterations between clock reads

using Clock = std::chrono::steady_clock;

/// FMAs per second of one thread for `seconds`. The accumulators' sum goes
/// to `sink` so that the compiler keeps the work.
double fmasPerSecond(double seconds, std::atomic<float> &sink) {
  Vector acc[kChains];
  for (int i = 0; i < kChains; ++i)
    for (int lane = 0; lane < kLanes; ++lane)
      acc[i][lane] = float(i) * 1e-3f;
  Vector a, b;
  for (int lane = 0; lane < kLanes; ++lane) {
    a[lane] = 0.999999f;
    b[lane] = 1e-7f;
  }
  long rounds = 0;
  Clock::time_point start = Clock::now();
  double elapsed;
  do {
    for (long r = 0; r < kRound; ++r)
#pragma GCC unroll 16 // the accumulators stay in registers
      for (int i = 0; i < kChains; ++i)
        acc[i] = acc[i] * a + b; // one FMA (-ffp-contract=fast)
    ++rounds;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  float total = 0;
  for (int i = 0; i < kChains; ++i)
    total += acc[i][0];
  sink.store(total);
  return double(rounds) * kRound * kChains * kLanes / elapsed;
}

/// GFLOP/s of `threads` threads running at once.
double gflops(int threads, double seconds) {
  std::vector<double> rates(size_t(threads), 0.0);
  std::atomic<float> sink{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back(
        [&, t] { rates[size_t(t)] = fmasPerSecond(seconds, sink); });
  for (std::thread &worker : workers)
    worker.join();
  double total = 0;
  for (double rate : rates)
    total += rate;
  return 2 * total / 1e9;
}

} // namespace

int main(int argc, char **argv) {
  int threads = int(std::thread::hardware_concurrency());
  double seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      threads = std::atoi(argv[i] + 10);
    else if (std::strncmp(argv[i], "--seconds=", 10) == 0)
      seconds = std::atof(argv[i] + 10);
    else {
      std::fprintf(stderr, "usage: fma_peak [--threads=N] [--seconds=S]\n");
      return 2;
    }
  }
  if (threads < 1 || !(seconds > 0)) {
    std::fprintf(stderr, "fma_peak: --threads must be >= 1, --seconds > 0\n");
    return 2;
  }
  double one = gflops(1, seconds);
  double all = gflops(threads, seconds);
  std::printf("{\"vector_bits\":%d,\"threads\":%d,\"gflops\":%.1f,"
              "\"gflops_per_thread\":%.1f,\"gflops_one_thread\":%.1f}\n",
              32 * kLanes, threads, all, all / threads, one);
  return 0;
}
