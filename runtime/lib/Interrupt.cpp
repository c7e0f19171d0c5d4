//===- Interrupt.cpp - stopping a run cleanly on Ctrl-C -------------------===//

#include "resnetrt/Interrupt.h"

#include <atomic>

namespace resnetrt {

static std::atomic<bool> requested{false};

extern "C" {
static void onInterrupt(int) { requested = true; }
}

InterruptScope::InterruptScope() {
  requested = false;
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous);
}

InterruptScope::~InterruptScope() { sigaction(SIGINT, &previous, nullptr); }

bool interruptRequested() { return requested; }

} // namespace resnetrt
