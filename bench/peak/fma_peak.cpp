//===- fma_peak.cpp - this machine's peak of fused multiply-adds ----------===//
//
// What "share of the FMA peak" is measured against (issue 13): every
// thread runs independent vector FMAs, enough of them in flight to hide the
// instruction's latency on both FMA ports, and nothing else. Prints one
// JSON line: the instruction set, threads, GFLOP/s (two per FMA lane) in
// all and per thread, for 1 thread and for --threads (default: one per
// hardware thread).
//
//   fma_peak [--threads=N] [--seconds=S]
//
//===----------------------------------------------------------------------===//

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 16; ///< independent accumulators per thread
constexpr long kRound = 1 << 16; ///< iterations between clock reads

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// FMAs per second of one thread for `seconds`, kChains accumulators of one
// vector each (16: four cycles of latency on two ports, twice over). The whole loop is compiled for its instruction set (a call
// per FMA would measure calls); the accumulators' sum goes to `sink` so
// that the compiler keeps the work.

__attribute__((target("avx512f"))) double
fmasPerSecond512(double seconds, std::atomic<float> &sink) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  long rounds = 0;
  Clock::time_point start = Clock::now();
  double elapsed;
  do {
    for (long r = 0; r < kRound; ++r)
#pragma GCC unroll 16 // the accumulators stay in registers
      for (int i = 0; i < kChains; ++i)
        acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    ++rounds;
  } while ((elapsed = secondsSince(start)) < seconds);
  __m512 total = acc[0];
  for (int i = 1; i < kChains; ++i)
    total = _mm512_add_ps(total, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, total);
  sink.store(lanes[0]);
  return double(rounds) * kRound * kChains * 16 / elapsed;
}

__attribute__((target("avx2,fma"))) double
fmasPerSecond256(double seconds, std::atomic<float> &sink) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  long rounds = 0;
  Clock::time_point start = Clock::now();
  double elapsed;
  do {
    for (long r = 0; r < kRound; ++r)
#pragma GCC unroll 16
      for (int i = 0; i < kChains; ++i)
        acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    ++rounds;
  } while ((elapsed = secondsSince(start)) < seconds);
  __m256 total = acc[0];
  for (int i = 1; i < kChains; ++i)
    total = _mm256_add_ps(total, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, total);
  sink.store(lanes[0]);
  return double(rounds) * kRound * kChains * 8 / elapsed;
}

/// GFLOP/s of `threads` threads running at once.
double gflops(int threads, double seconds, bool avx512) {
  std::vector<double> rates(size_t(threads), 0.0);
  std::atomic<float> sink{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      rates[size_t(t)] = avx512 ? fmasPerSecond512(seconds, sink)
                                : fmasPerSecond256(seconds, sink);
    });
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
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "fma_peak: this CPU has no FMA instructions\n");
    return 1;
  }
  double one = gflops(1, seconds, avx512);
  double all = gflops(threads, seconds, avx512);
  std::printf("{\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.1f,"
              "\"gflops_per_thread\":%.1f,\"gflops_one_thread\":%.1f}\n",
              avx512 ? "avx512" : "avx2", threads, all, all / threads, one);
  return 0;
}
