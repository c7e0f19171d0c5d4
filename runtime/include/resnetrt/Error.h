//===- Error.h - errors the user of train can act on ------------*- C++ -*-===//
//
// Every problem `train` meets at run time (a bad flag, a malformed data file,
// a checkpoint for another model, a diverging loss) is an Error carrying the
// message to print and the exit status to leave with. reportErrors, at the
// top of train and classify, is the one place that catches them, so library
// code and tests see ordinary exceptions and nothing calls exit() behind
// their back.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_ERROR_H
#define RESNETRT_ERROR_H

#include <fmt/format.h>

#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace resnetrt {

/// Exit statuses of `train`, part of its command-line contract.
enum ExitCode : int {
  ExitOk = 0,
  ExitFailure = 1,      ///< data, checkpoint or I/O problem
  ExitUsage = 2,        ///< a bad flag or flag value
  ExitDiverged = 3,     ///< the loss became NaN or infinite
  // A run a signal stopped exits with 128 + the signal's number, as shells
  // report it: 130 SIGINT, 143 SIGTERM, 129 SIGHUP (interruptedStatus()).
};

class Error : public std::runtime_error {
public:
  /// `everyRank`: raised by every rank of a distributed run at the same
  /// point, from values they all share (a diverged loss), so that rank 0
  /// alone reports it and no rank needs to end the others.
  Error(int exitCode, const std::string &message, bool everyRank = false)
      : std::runtime_error(message), code(exitCode), shared(everyRank) {}
  int exitCode() const { return code; }
  bool onEveryRank() const { return shared; }

private:
  int code;
  bool shared;
};

/// Throws an Error that exits with ExitFailure.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args &&...args) {
  throw Error(ExitFailure, fmt::format(format, std::forward<Args>(args)...));
}

/// Throws an Error that exits with ExitUsage.
template <typename... Args>
[[noreturn]] void usageError(fmt::format_string<Args...> format,
                             Args &&...args) {
  throw Error(ExitUsage, fmt::format(format, std::forward<Args>(args)...));
}

/// Runs `body`, which returns an exit status, and turns what it throws into
/// a line `<tool>: error: <message>` on `err` and the Error's exit status.
template <typename Body>
int reportErrors(std::string_view tool, FILE *err, Body body) {
  try {
    return body();
  } catch (const Error &error) {
    fmt::print(err, "{}: error: {}\n", tool, error.what());
    return error.exitCode();
  } catch (const std::bad_alloc &) {
    fmt::print(err, "{}: error: out of memory; use a smaller --batch\n", tool);
    return ExitFailure;
  }
}

} // namespace resnetrt

#endif // RESNETRT_ERROR_H
