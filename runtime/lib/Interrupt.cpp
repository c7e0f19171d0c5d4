//===- Interrupt.cpp - stopping a run cleanly on a signal -----------------===//

#include "resnetrt/Interrupt.h"

#include <atomic>
#include <cstring>

#include <unistd.h>

namespace resnetrt {

static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
static std::atomic<int> received{0};

extern "C" {
static void onSignal(int signal) {
  // A second signal means "now": no checkpoint, no destructors.
  if (received.exchange(signal) != 0)
    _exit(128 + signal);
}
}

InterruptScope::InterruptScope() {
  received = 0;
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < 3; ++i)
    sigaction(kSignals[i], &action, &previous[i]);
}

InterruptScope::~InterruptScope() {
  for (int i = 0; i < 3; ++i)
    sigaction(kSignals[i], &previous[i], nullptr);
}

bool interruptRequested() { return received != 0; }

int interruptedStatus() { return 128 + (received ? int(received) : SIGINT); }

std::vector<double> signalCounts() {
  std::vector<double> counts;
  for (int signal : kSignals)
    counts.push_back(received == signal ? 1 : 0);
  return counts;
}

bool adoptSignal(const std::vector<double> &counts) {
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) {
      int none = 0;
      received.compare_exchange_strong(none, kSignals[i]);
      return true;
    }
  return false;
}

std::string interruptName() {
  return std::string("SIG") + sigabbrev_np(received ? int(received) : SIGINT);
}

} // namespace resnetrt
