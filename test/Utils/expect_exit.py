#!/usr/bin/env python3
"""Runs a command and succeeds only if it exits with the expected code.

    expect_exit.py CODE COMMAND [ARGS...]

lit's internal shell has no `$?`, and `not` accepts any non-zero code, so a
test that must see exactly `resnetc`'s user-error code (1), and never a
crash, runs it through this (the `%exit` substitution in lit.cfg.py):

    RUN: %exit 1 resnetc %s --summary 2>&1 | FileCheck %s

The command's output passes through unchanged. A mismatch, a signal or a
missing program is reported on stderr and makes this exit with 1.
"""
import signal
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 3:
        sys.stderr.write("usage: expect_exit.py CODE COMMAND [ARGS...]\n")
        return 2
    want = int(sys.argv[1])
    try:
        got = subprocess.call(sys.argv[2:])
    except OSError as e:
        sys.stderr.write(f"expect_exit: cannot run {sys.argv[2]}: {e}\n")
        return 1
    if got == want:
        return 0
    if got < 0:
        name = signal.Signals(-got).name if -got in signal.valid_signals() else str(-got)
        sys.stderr.write(f"expect_exit: {sys.argv[2]} was killed by {name}, "
                         f"expected exit code {want}\n")
    else:
        sys.stderr.write(f"expect_exit: {sys.argv[2]} exited with {got}, "
                         f"expected {want}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
