//===- Interrupt.h - stopping a run cleanly on a signal ---------*- C++ -*-===//
//
// train and classify stop between steps, not inside one, when SIGINT (Ctrl-C),
// SIGTERM (what batch schedulers and preempted cloud machines send) or SIGHUP
// (a closed terminal) comes: train then saves its checkpoint, and both leave
// with status 128 + the signal's number (130, 143, 129), as a shell reports a
// process the signal killed. The loops poll interruptRequested() after each
// step. A second signal ends the process at once, with the same status.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_INTERRUPT_H
#define RESNETRT_INTERRUPT_H

#include <csignal>
#include <string>
#include <vector>

namespace resnetrt {

/// While alive, the first SIGINT, SIGTERM or SIGHUP asks the run to stop
/// after the step in progress; the next one ends the process at once.
class InterruptScope {
public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope &) = delete;
  InterruptScope &operator=(const InterruptScope &) = delete;

private:
  struct sigaction previous[3] {};
};

/// Whether a signal came since the latest InterruptScope began.
bool interruptRequested();

/// The exit status of a run the signal stopped: 128 + its number.
int interruptedStatus();

/// The signal's name, e.g. "SIGTERM".
std::string interruptName();

/// The ranks of a distributed run stop together when any of them gets a
/// signal: each contributes signalCounts() (1 for the signal it got, per
/// stopping signal), they sum them, and adoptSignal() of the sums takes
/// the first signal some rank got as this rank's own, and says whether
/// there is one.
std::vector<double> signalCounts();
bool adoptSignal(const std::vector<double> &counts);

} // namespace resnetrt

#endif // RESNETRT_INTERRUPT_H
