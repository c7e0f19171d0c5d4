//===- Interrupt.h - stopping a run cleanly on Ctrl-C -----------*- C++ -*-===//
//
// train and classify stop between steps, not inside one, when SIGINT comes:
// train then saves its checkpoint, and both leave with status 130. The loops
// poll interruptRequested() after each step.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_INTERRUPT_H
#define RESNETRT_INTERRUPT_H

#include <csignal>

namespace resnetrt {

/// While alive, the first SIGINT asks the run to stop after the step in
/// progress; the handler then resets itself, so a second one ends the
/// process at once as usual.
class InterruptScope {
public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope &) = delete;
  InterruptScope &operator=(const InterruptScope &) = delete;

private:
  struct sigaction previous {};
};

/// Whether SIGINT came since the latest InterruptScope began.
bool interruptRequested();

} // namespace resnetrt

#endif // RESNETRT_INTERRUPT_H
