#!/usr/bin/env python3
"""The hand schedules against Halide's autoschedulers, kernel by kernel.

Runs conv-bench (build it first: `ninja -C build conv-bench`) on each conv
and dense kernel of ResNet-20 and the CIFAR ResNet-18 at batch 128, once
per scheduler and round, the schedulers in turn (each round in another
order), one process per kernel and scheduler, and prints for every kernel
the median milliseconds of each scheduler, the fastest, and how far the
hand schedule is from it. A kernel an autoscheduler cannot schedule shows
"fails": Halide refuses it, its search needs more than --memory-gib or
--timeout seconds (Adams2019 searches the Winograd kernels for minutes and
tens of GiB), or the program dies.

  bench/schedulers.py [--rounds R] [--reps N] [--filter TEXT ...]
                      [--schedulers hand,adams2019,li2018,mullapudi2016]

The kernels resnetc builds keep the hand schedules where this table says
they are the fastest; README's "Measured" section quotes a run.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys

SCHEDULERS = ["hand", "adams2019", "li2018", "mullapudi2016"]


def run_bench(binary, scheduler, label, args):
    """{(model, layer, kernel): ms or None} from one conv-bench run on the
    kernels whose label contains `label`."""

    def limit_memory():
        limit = int(args.memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [binary, "--csv", "--scheduler", scheduler, "--reps",
               str(args.reps), "--threads", str(args.threads)]
    if label:
        command += ["--filter", label]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              preexec_fn=limit_memory, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        print(f"  {label} {scheduler}: no result within {args.timeout} s",
              file=sys.stderr)
        return {}
    if done.returncode != 0:
        print(f"  {label} {scheduler}: conv-bench exited with "
              f"{done.returncode}: {done.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
    times = {}
    for line in done.stdout.splitlines():
        if line.startswith("#") or line.count(",") < 6:
            continue
        model, layer, kernel, ms = line.split(",")[:4]
        times[(model, layer, kernel)] = None if ms == "fails" else float(ms)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=5,
                        help="calls timed per kernel and run (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--filter", action="append", default=[],
                        help="only kernels whose 'model layer kernel' "
                             "contains this (repeatable: any of them)")
    parser.add_argument("--schedulers", default=",".join(SCHEDULERS))
    parser.add_argument("--memory-gib", type=float, default=12,
                        help="address space of one conv-bench run "
                             "(Adams2019's search can take tens of GiB)")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds one kernel may take to schedule, "
                             "build and time")
    parser.add_argument("--binary", default=os.path.join(
        os.path.dirname(__file__), "..", "build", "bench", "conv-bench"))
    args = parser.parse_args()
    schedulers = args.schedulers.split(",")
    for s in schedulers:
        if s not in SCHEDULERS:
            parser.error(f"unknown scheduler {s}; expected one of "
                         f"{', '.join(SCHEDULERS)}")
    if not os.path.exists(args.binary):
        sys.exit(f"schedulers.py: {args.binary} is missing; build it with "
                 "`ninja -C build conv-bench`")

    # The kernels, from a run of the hand schedules (one call each).
    listing = argparse.Namespace(**{**vars(args), "reps": 1})
    order = []
    for text in args.filter or [""]:
        order += [key for key in run_bench(args.binary, "hand", text, listing)
                  if key not in order]
    print(f"median ms of {args.rounds} rounds, {args.reps} calls each, "
          f"{args.threads} threads, batch 128")
    print(f"{'model':9} {'layer':18} {'kernel':10} " +
          " ".join(f"{s:>13}" for s in schedulers) +
          f" {'fastest':>13} {'hand/fastest':>12}", flush=True)
    hand_fastest = 0
    for key in order:
        label = " ".join(key)
        samples = {s: [] for s in schedulers}  # None marks a failure
        for r in range(args.rounds):
            print(f"{label}: round {r + 1}/{args.rounds}", file=sys.stderr,
                  flush=True)
            k = r % len(schedulers)
            for s in schedulers[k:] + schedulers[:k]:
                samples[s].append(run_bench(args.binary, s, label, args)
                                  .get(key))
        ms = {s: None if None in v else statistics.median(v)
              for s, v in samples.items()}
        built = {s: v for s, v in ms.items() if v is not None}
        if not built:
            continue
        fastest = min(built, key=built.get)
        cells = " ".join(f"{'fails':>13}" if ms[s] is None else
                         f"{ms[s]:13.3f}" for s in schedulers)
        ratio = ""
        if "hand" in built:
            ratio = f"{built['hand'] / built[fastest]:12.2f}"
            hand_fastest += fastest == "hand"
        print(f"{key[0]:9} {key[1]:18} {key[2]:10} {cells} {fastest:>13} "
              f"{ratio}", flush=True)
    print(f"the hand schedule is the fastest for {hand_fastest} of "
          f"{len(order)} kernels")


if __name__ == "__main__":
    main()
