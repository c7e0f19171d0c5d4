#!/usr/bin/env python3
"""What data-parallel training costs on this machine, and a model of it on K
nodes.

  bench/distributed.py --resnetc build/bin/resnetc [--rounds 3] [--steps 20]
                       [--models resnet20_cifar10 fashion_mnist_resnet]
                       [--workdir DIR] [--node-images-per-s resnet50=1500 ...]

Measured, alternating, medians of --rounds rounds: `train --benchmark` of
each model at its recipe's batch on one process with 2 threads, and under
`mpirun -np 2` with one thread per rank (the same 2 cores), built as usual
(BatchNorm per rank) and with --sync-batch-norm (its cost): step time,
images/s, and per step the all-reduce time the backward pass did not hide
(`allreduce_exposed_ms_per_step`: waiting before the update), the time
buckets were in flight while kernels ran (`allreduce_overlapped_ms_per_step`)
and, built with --sync-batch-norm, the time in its all-reduces of the
BatchNorm sums, which nothing overlaps (`sync_batch_norm_ms_per_step`).
On one machine the "network" is shared memory (Open MPI's vader), so this
measures the software's cost, not a network's.

Then the step time on K nodes for ResNet-20 (CIFAR) and ResNet-50
(ImageNet), global batch fixed (strong scaling): each rank computes B/K
images and sends and receives 2 (K - 1) / K of the gradients (a ring
all-reduce) plus 2 (K - 1) latencies per bucket, at 25 and 100 Gb/s. Compute
per image is this machine's measured figure unless --node-images-per-s
gives a node's own (for a faster node, e.g. a GPU: an assumption, say so).
The step is bound by communication from the K where the all-reduce takes
longer than the backward pass it overlaps (two thirds of the compute).
"""

import argparse
import json
import pathlib
import shutil
import statistics
import subprocess
import sys

MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--mca", "btl",
          "self,vader", "--bind-to", "none"]
ROOT = pathlib.Path(__file__).resolve().parent.parent

# (name, parameters, global batch, images/s of one process here): ResNet-50's
# speed is seed 004's at 64x64 (27 img/s, README) scaled by its FLOPs at
# 224x224 (12.25x).
MODELS = {
    "resnet20": (269_722, 128, None),
    "resnet50": (25_557_032, 256, 27 / 12.25),
}
LATENCY_S = 10e-6  # one message over TCP on a 25-100 Gb/s Ethernet
BUCKETS = 4


def benchmark(program, ranks, steps):
    command = [str(program), "--benchmark", f"--steps={steps}", "--warmup=3",
               "--progress=none", f"--threads={2 if ranks == 1 else 1}"]
    if ranks > 1:
        command = MPIRUN + ["-np", str(ranks)] + command
    out = subprocess.run(command, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def model_table(measured_images_per_s, node_speeds):
    print("\nStep time on K nodes, global batch fixed (ring all-reduce, "
          f"{BUCKETS} buckets, {LATENCY_S * 1e6:.0f} us per message):")
    print(f"{'model':10} {'grad MB':>8} {'node img/s':>10} {'Gb/s':>5} "
          + " ".join(f"{'K=' + str(k):>9}" for k in (1, 2, 4, 8, 16, 32))
          + "  comm-bound from")
    for name, (parameters, batch, images_per_s) in MODELS.items():
        speeds = [images_per_s or measured_images_per_s.get(name),
                  node_speeds.get(name)]
        gradient = 4 * parameters
        for speed, gbps in ((s, g) for s in speeds if s for g in (25, 100)):
            bandwidth = gbps * 1e9 / 8
            cells, bound = [], None
            for k in range(1, 257):
                compute = batch / k / speed
                comm = 0 if k == 1 else (2 * (k - 1) / k * gradient /
                                         bandwidth +
                                         BUCKETS * 2 * (k - 1) * LATENCY_S)
                step = max(compute, compute / 3 + comm)
                if bound is None and comm > 2 * compute / 3:
                    bound = k
                if k in (1, 2, 4, 8, 16, 32):
                    cells.append(f"{1e3 * step:8.1f}ms")
            print(f"{name:10} {gradient / 1e6:8.1f} {speed:10.1f} {gbps:5} "
                  + " ".join(cells) +
                  (f"  K={bound}" if bound else "  not below K=256"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--resnetc", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", nargs="*",
                        default=["resnet20_cifar10", "fashion_mnist_resnet"])
    parser.add_argument("--workdir", default="/tmp/resnetc-bench-distributed")
    parser.add_argument("--node-images-per-s", nargs="*", default=[],
                        help="name=images/s of one node, e.g. resnet50=1500")
    args = parser.parse_args()
    if shutil.which("mpirun") is None:
        sys.exit("bench/distributed.py needs mpirun (openmpi-bin)")
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    measured = {}
    print(f"{'model':22} {'BatchNorm':9} {'ranks':>5} {'step ms':>8} "
          f"{'img/s':>7} {'exposed ms':>10} {'overlapped ms':>13} "
          f"{'buckets':>7} {'sync BN ms':>10}")
    for model in args.models:
        source = str(ROOT / "examples" / f"{model}.dsl")
        programs = {"per rank": work / model, "sync": work / f"{model}-sync"}
        subprocess.run([args.resnetc, source, "-o", str(programs["per rank"])],
                       check=True, capture_output=True)
        subprocess.run([args.resnetc, source, "--sync-batch-norm", "-o",
                        str(programs["sync"])], check=True,
                       capture_output=True)
        configurations = [("per rank", 1), ("per rank", 2), ("sync", 1),
                          ("sync", 2)]
        runs = {c: [] for c in configurations}
        for _ in range(args.rounds):
            for batch_norm, ranks in configurations:
                runs[(batch_norm, ranks)].append(
                    benchmark(programs[batch_norm], ranks, args.steps))
        for (batch_norm, ranks), results in runs.items():
            med = lambda key: statistics.median(r.get(key, 0) for r in results)
            print(f"{model:22} {batch_norm:9} {ranks:5} "
                  f"{med('step_ms_median'):8.1f} {med('images_per_s'):7.0f} "
                  f"{med('allreduce_exposed_ms_per_step'):10.2f} "
                  f"{med('allreduce_overlapped_ms_per_step'):13.2f} "
                  f"{int(med('allreduce_buckets')):7} "
                  f"{med('sync_batch_norm_ms_per_step'):10.2f}")
        measured[model.split("_")[0]] = statistics.median(
            r["images_per_s"] for r in runs[("per rank", 1)])
    node_speeds = {k: float(v) for k, v in
                   (item.split("=") for item in args.node_images_per_s)}
    model_table(measured, node_speeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
