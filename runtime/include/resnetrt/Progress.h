//===- Progress.h - what a run shows while it works -------------*- C++ -*-===//
//
// On a terminal: one line redrawn in place, at most five times a second
//   epoch 3/160 [=======>      ] 120/390 loss 0.4123 acc 85.2% 2310 img/s ETA
//   1:02:13
// Elsewhere (CI logs, pipes): a plain line every --log-every steps. Either
// way, lines that stay (settings, per-epoch results) are printed in full.
// `--progress=none` prints none of it; the final JSON line is not the
// reporter's business and is always printed.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_PROGRESS_H
#define RESNETRT_PROGRESS_H

#include "resnetrt/Flags.h"
#include "resnetrt/Metrics.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace resnetrt {

/// Where a run is after a step; counts are 1-based, loss and accuracy the
/// means over the epoch so far.
struct StepReport {
  int64_t epoch, epochs;
  int64_t batch, batches;
  int64_t step, steps;
  double loss, accuracy, lr;
  double imagesPerSecond;
  double etaSeconds;
};

class Progress {
public:
  /// Auto becomes Bar when `out` is a terminal, Plain otherwise.
  Progress(FILE *out, ProgressMode mode, int64_t every);

  /// Prints a line that stays.
  template <typename... Args>
  void line(fmt::format_string<Args...> format, Args &&...args) {
    if (resolved == ProgressMode::None)
      return;
    clear();
    fmt::print(out, "{}\n", fmt::format(format, std::forward<Args>(args)...));
    std::fflush(out);
  }

  void step(const StepReport &report);
  /// Erases the bar, if one is shown.
  void clear();

private:
  void drawBar(const StepReport &report);

  FILE *out;
  ProgressMode resolved;
  int64_t every;
  bool barShown = false;
  std::chrono::steady_clock::time_point lastDraw;
};

/// Prints the final JSON line of a run, after erasing the bar: always, as
/// scripts read it whatever --progress says.
void printResult(FILE *out, Progress &progress, const JsonObject &result);

using Clock = std::chrono::steady_clock;

/// Seconds from `start` to now.
double secondsSince(Clock::time_point start);

/// `bytes` in MiB, as messages show sizes.
double mebibytes(int64_t bytes);

/// This process's resident memory now, in bytes (0 if unknown).
int64_t residentBytes();

} // namespace resnetrt

#endif // RESNETRT_PROGRESS_H
