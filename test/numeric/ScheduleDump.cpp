//===- ScheduleDump.cpp - the learning rate of every step of a run --------===//
//
// Prints resnetrt::learningRate (runtime/lib/Schedule.cpp, as libresnetrt
// compiles it) for each step of a run, so that schedule_test.py can compare
// every step with torch.optim.lr_scheduler:
//
//   schedule-dump --schedule=KIND --steps=N --steps-per-epoch=E [--lr=X]
//                 [--schedule-at=A,B,...] [--schedule-factor=X]
//                 [--warmup-epochs=X] [--min-lr=X] [--cosine-period=N]
//                 [--cosine-period-mult=N] [--max-lr=X] [--pct-start=X]
//
// The option names and defaults are train's (runtime/lib/Flags.cpp); --steps
// is the run's length and --steps-per-epoch its epoch, as train derives them
// from the data. Output: one line per 1-based step, the rate in full double
// precision. Exit status 2 after a bad option.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Error.h"
#include "resnetrt/Schedule.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace resnetrt;

namespace {

double number(std::string_view name, const std::string &text) {
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0')
    usageError("--{}: expected a number, got '{}'", name, text);
  return value;
}

int64_t integer(std::string_view name, const std::string &text) {
  double value = number(name, text);
  if (value != double(int64_t(value)) || value < 1)
    usageError("--{}: expected a positive integer, got '{}'", name, text);
  return int64_t(value);
}

std::vector<int64_t> milestones(const std::string &text) {
  std::vector<int64_t> at;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    at.push_back(integer("schedule-at", text.substr(start, comma - start)));
    start = comma + 1;
  }
  return at;
}

int run(int argc, char **argv) {
  Schedule schedule;
  int64_t steps = 0, stepsPerEpoch = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    size_t equals = arg.find('=');
    if (arg.substr(0, 2) != "--" || equals == std::string_view::npos)
      usageError("expected --name=value, got '{}'", arg);
    std::string_view name = arg.substr(2, equals - 2);
    std::string value(arg.substr(equals + 1));
    if (name == "schedule")
      schedule.kind = parseScheduleKind(value);
    else if (name == "lr")
      schedule.lr = number(name, value);
    else if (name == "schedule-at")
      schedule.at = milestones(value);
    else if (name == "schedule-factor")
      schedule.factor = number(name, value);
    else if (name == "warmup-epochs")
      schedule.warmupEpochs = number(name, value);
    else if (name == "min-lr")
      schedule.minLr = number(name, value);
    else if (name == "max-lr")
      schedule.maxLr = number(name, value);
    else if (name == "pct-start")
      schedule.pctStart = number(name, value);
    else if (name == "cosine-period")
      schedule.period = integer(name, value);
    else if (name == "cosine-period-mult")
      schedule.periodMult = integer(name, value);
    else if (name == "steps")
      steps = integer(name, value);
    else if (name == "steps-per-epoch")
      stepsPerEpoch = integer(name, value);
    else
      usageError("unknown option --{}", name);
  }
  if (steps == 0 || stepsPerEpoch == 0)
    usageError("--steps and --steps-per-epoch are required");
  for (int64_t step = 1; step <= steps; ++step)
    std::printf("%.17g\n",
                learningRate(schedule, step, stepsPerEpoch, steps));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return reportErrors("schedule-dump", stderr,
                      [&] { return run(argc, argv); });
}
