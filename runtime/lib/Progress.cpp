//===- Progress.cpp - what a run shows while it works ---------------------===//

#include "resnetrt/Progress.h"

#include <algorithm>
#include <cmath>

#include <sys/ioctl.h>
#include <unistd.h>

namespace resnetrt {

/// "1:02:13" or "4:05".
static std::string formatDuration(double seconds) {
  auto total = int64_t(std::max(0.0, std::round(seconds)));
  if (total >= 3600)
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60,
                       total % 60);
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

Progress::Progress(FILE *out, ProgressMode mode, int64_t every)
    : out(out), resolved(mode), every(every) {
  if (mode == ProgressMode::Auto)
    resolved = isatty(fileno(out)) ? ProgressMode::Bar : ProgressMode::Plain;
}

void Progress::clear() {
  if (!barShown)
    return;
  fmt::print(out, "\r\033[K");
  barShown = false;
}

void Progress::step(const StepReport &report) {
  if (resolved == ProgressMode::Plain && report.step % every == 0) {
    fmt::print(out,
               "epoch {}/{} step {}/{} loss {:.4f} acc {:.1f}% lr {:.4g} "
               "{:.0f} img/s ETA {}\n",
               report.epoch, report.epochs, report.batch, report.batches,
               report.loss, 100 * report.accuracy, report.lr,
               report.imagesPerSecond, formatDuration(report.etaSeconds));
    std::fflush(out);
    return;
  }
  if (resolved != ProgressMode::Bar)
    return;
  auto now = std::chrono::steady_clock::now();
  bool last = report.batch == report.batches || report.step == report.steps;
  if (barShown && !last && now - lastDraw < std::chrono::milliseconds(200))
    return;
  lastDraw = now;
  drawBar(report);
}

void Progress::drawBar(const StepReport &report) {
  std::string head = fmt::format("epoch {}/{} ", report.epoch, report.epochs);
  std::string tail = fmt::format(
      " {}/{} loss {:.4f} acc {:.1f}% {:.0f} img/s ETA {}", report.batch,
      report.batches, report.loss, 100 * report.accuracy,
      report.imagesPerSecond, formatDuration(report.etaSeconds));
  winsize size{};
  int columns = ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0
                    ? size.ws_col
                    : 80;
  // The bar takes what is left of the line, within reason; one column stays
  // free so the terminal never wraps.
  int width =
      std::clamp(columns - 1 - int(head.size() + tail.size()) - 2, 0, 40);
  std::string bar;
  if (width >= 5) {
    int filled = int(double(width) * report.batch / report.batches);
    bar = "[" + std::string(size_t(filled), '=') +
          std::string(size_t(width - filled), ' ') + "]";
  }
  std::string text = head + bar + tail;
  text.resize(std::min(text.size(), size_t(std::max(columns - 1, 1))));
  fmt::print(out, "\r\033[K{}", text);
  std::fflush(out);
  barShown = true;
}

void printResult(FILE *out, Progress &progress, const JsonObject &result) {
  progress.clear();
  fmt::print(out, "{}\n", result.str());
  std::fflush(out);
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double mebibytes(int64_t bytes) { return double(bytes) / (1 << 20); }

int64_t residentBytes() {
  // statm: sizes in pages; the second is the resident set.
  FILE *statm = std::fopen("/proc/self/statm", "r");
  long long size = 0, resident = 0;
  bool ok = statm && std::fscanf(statm, "%lld %lld", &size, &resident) == 2;
  if (statm)
    std::fclose(statm);
  return ok ? resident * sysconf(_SC_PAGESIZE) : 0;
}

} // namespace resnetrt
