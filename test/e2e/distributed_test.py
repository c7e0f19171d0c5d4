#!/usr/bin/env python3
"""Data-parallel training under mpirun (runtime/include/resnetrt/Distributed.h).

  distributed_test.py --resnetc RESNETC --no-bn-model M.dsl
                      --bn-model M.dsl --workdir DIR

On Fashion-MNIST (Debian's dataset-fashion-mnist; exit 77 without it or
without mpirun; its first 12,800 training and 2,000 test images but for
the one-epoch runs), 2 cores, ranks of one thread each:
  1. A model without BatchNorm (nothing in it depends on which images share
     a call): `mpirun -np 1` gives the plain run's weights bit for bit;
     2 ranks, and 3 (a batch of 32 split 10/11/11), give them within 1e-5
     relative after 20 steps, and the same test loss (sharded evaluation).
  2. Resume with another K: 10 steps on 2 ranks then 10 on 1, and 10 on 1
     then 10 on 3, end where the straight 20 steps end (1e-5).
  3. SIGTERM to one rank: every rank stops after the same step, rank 0
     saves, and resuming on 2 ranks ends on the straight 2-rank run's
     weights, bit for bit.
  4. kill -9 of one rank, and a rank that cannot read its data: the job
     ends within 30 s with a message, no hang.
  5. The default example (BatchNorm per rank) for one epoch on 2 ranks:
     one progress stream, one checkpoint, identical weights on both ranks
     (train checks them itself), test accuracy within 2 points of one
     rank's (seeds differ by about 1).
  6. BatchNorm per rank against its single-process reference, --accumulate
     (BatchNorm over each half of the batch, the halves' gradients summed):
     the default example, and ResNet-20 on CIFAR-10 where --cifar10 exists,
     50 steps on 2 ranks give the same weights bit for bit and the same
     running statistics within 1e-6; and --accumulate resumes exactly.
  7. Synchronised BatchNorm (resnetc --sync-batch-norm), the default
     example: one step on 2 ranks gives one process's weights within 1e-4,
     two steps within 1e-3 (BatchNorm per rank: 20 times further at
     least). The global statistics are summed in another order on 2 ranks,
     and one float32 rounding that moves with it reaches every weight of
     the step: a BatchNorm beta's gradient is a sum that nearly cancels.
     With the Winograd convolutions (CPU builds) this parts the runs by
     1.6e-5 after one step, as far as the Winograd build is from the
     direct one on a single process (7.6e-6); the direct kernels had
     happened to round alike (2e-8). Longer runs part as any two float32
     programs do (README).
  8. The GPU build (resnetc --target=opencl, run on pocl), whose gradients
     go through host memory: 2 ranks train the model without BatchNorm as
     one process does (1e-5), with one copy of each bucket each way per
     step and nothing else (train --benchmark counts every copy); 2 ranks
     and --accumulate=2 give the same weights bit for bit; synchronised
     BatchNorm gives one process's weights after one step (1e-6). On 1,280
     training and 256 test images, pocl being slow.
Prints one line per check and a closing `N passed, M failed` line.
"""

import argparse
import gzip
import json
import os
import pathlib
import shutil
import signal
import struct
import subprocess
import sys
import time

import numpy as np

FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--mca", "btl",
          "self,vader", "--bind-to", "none"]

passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    if ok:
        passed += 1
    else:
        failed += 1


def load_safetensors(path):
    data = pathlib.Path(path).read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    return {name: np.frombuffer(body[t["data_offsets"][0]:
                                     t["data_offsets"][1]], dtype=np.float32)
            for name, t in header.items() if name != "__metadata__"}


def relative_tensors(a, b):
    """||a - b|| / ||a|| over every tensor of two {name: array} maps."""
    assert a.keys() == b.keys()
    num = sum(np.sum((a[k].astype(np.float64) - b[k]) ** 2) for k in a)
    den = sum(np.sum(a[k].astype(np.float64) ** 2) for k in a)
    return float(np.sqrt(num / den))


def relative(a, b):
    """relative_tensors of two weight files."""
    return relative_tensors(load_safetensors(a), load_safetensors(b))


def small_fashion(directory, train=12800, test=2000):
    """The first `train` training and `test` test images of Fashion-MNIST
    (IDX files), so that loading and evaluating do not dominate the short
    runs; the one-epoch runs read the whole set."""
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        for kind, header, item in (("images-idx3", 16, 784),
                                   ("labels-idx1", 8, 1)):
            name = f"{prefix}-{kind}-ubyte"
            with gzip.open(FASHION / f"{name}.gz") as f:
                data = f.read()
            head = bytearray(data[:header])
            head[4:8] = struct.pack(">I", count)
            (directory / name).write_bytes(
                bytes(head) + data[header:header + count * item])
    return directory


def split_state(path):
    """(weights, BatchNorm running statistics) of a weight file."""
    tensors = load_safetensors(path)
    state = {k for k in tensors if k.endswith(("running_mean", "running_var"))}
    return ({k: v for k, v in tensors.items() if k not in state},
            {k: v for k, v in tensors.items() if k in state})


def against_accumulate(program, flags, workdir, name):
    """2 ranks against --accumulate=2 on one process: (weights identical,
    relative difference of the running statistics)."""
    train(program, 2, flags + [f"--export={workdir}/{name}-ranks.st"])
    train(program, None, flags + ["--accumulate=2",
                                  f"--export={workdir}/{name}-acc.st"])
    (wr, sr), (wa, sa) = (split_state(workdir / f"{name}-ranks.st"),
                          split_state(workdir / f"{name}-acc.st"))
    same = wr.keys() == wa.keys() and all(
        np.array_equal(wr[k], wa[k]) for k in wr)
    num = sum(np.sum((sr[k].astype(np.float64) - sa[k]) ** 2) for k in sr)
    den = sum(np.sum(sa[k].astype(np.float64) ** 2) for k in sa)
    return same, float(np.sqrt(num / den))


def against_sync(sync, local, flags, workdir, name):
    """One process against 2 ranks of the --sync-batch-norm build `sync`,
    and 2 ranks of the per-rank build `local`: (relative difference of the
    weights from one process's, synchronised and per rank)."""
    runs = {"sync-1": (sync, None), "sync-2": (sync, 2), "local-2": (local, 2)}
    for run, (built, ranks) in runs.items():
        train(built, ranks, flags + [f"--export={workdir}/{name}-{run}.st"])
    weights = [split_state(workdir / f"{name}-{run}.st")[0] for run in runs]
    return (relative_tensors(weights[0], weights[1]),
            relative_tensors(weights[0], weights[2]))


def identical(a, b):
    return pathlib.Path(a).read_bytes() == pathlib.Path(b).read_bytes()


def result_line(text):
    return json.loads(text.strip().splitlines()[-1])


SMALL = []  # --data=DIR of small_fashion(), once made


def train(program, ranks, flags, timeout=600, ok=(0,)):
    """Runs `program` on `ranks` ranks (None: without mpirun) on the small
    data set unless `flags` name one; returns (status, stdout, stderr)."""
    if not any(f.startswith("--data=") for f in flags):
        flags = SMALL + flags
    command = [str(program), "--progress=plain", "--threads=" +
               ("2" if ranks is None else "1")] + flags
    if ranks is not None:
        command = MPIRUN + ["-np", str(ranks)] + command
    run = subprocess.run(command, capture_output=True, text=True,
                         timeout=timeout)
    if run.returncode not in ok:
        print(" ".join(command), "\n", run.stdout[-3000:], run.stderr[-3000:])
    return run.returncode, run.stdout, run.stderr


def rank_pids(mpirun_pid):
    """{rank: pid} of the processes mpirun started."""
    pids = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent != mpirun_pid:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for variable in environ:
            if variable.startswith(b"OMPI_COMM_WORLD_RANK="):
                pids[int(variable.split(b"=")[1])] = int(entry.name)
    return pids


def start_and_signal(program, flags, rank, sig, workdir):
    """Starts a long run on 2 ranks, sends `sig` to rank `rank` once the
    run has made a few steps, and returns (status, seconds to end, output)."""
    log = workdir / f"signal-{sig}.log"
    with open(log, "w") as out:
        job = subprocess.Popen(
            MPIRUN + ["-np", "2", str(program), "--threads=1",
                      "--progress=plain", "--log-every=1"] + SMALL + flags,
            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline and "step 5/" not in log.read_text():
            time.sleep(0.2)
        pids = rank_pids(job.pid)
        os.kill(pids[rank], sig)
        sent = time.time()
        try:
            status = job.wait(timeout=60)
        except subprocess.TimeoutExpired:
            job.kill()
            status = None
    return status, time.time() - sent, log.read_text()


def build(resnetc, model, output, *flags):
    subprocess.run([resnetc, str(model), "-o", str(output), *flags],
                   check=True, capture_output=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--resnetc", required=True)
    parser.add_argument("--no-bn-model", required=True)
    parser.add_argument("--bn-model", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--resnet20", help="examples/resnet20_cifar10.dsl")
    parser.add_argument("--cifar10", help="CIFAR-10 binaries (optional)")
    args = parser.parse_args()
    if not (FASHION / "train-images-idx3-ubyte.gz").exists() or \
            shutil.which("mpirun") is None:
        print("skipped: needs Fashion-MNIST (dataset-fashion-mnist) and "
              "mpirun (openmpi-bin)")
        return 77
    work = pathlib.Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    SMALL.append(f"--data={small_fashion(work / 'fashion-small')}")
    program = work / "train"
    build(args.resnetc, args.no_bn_model, program)
    common = ["--seed=5", "--steps=20"]

    # 1. K ranks train as one process does.
    status, out, _ = train(program, None, common + [f"--export={work}/plain.st"])
    plain = result_line(out)
    train(program, 1, common + [f"--export={work}/k1.st"])
    check(identical(work / "plain.st", work / "k1.st"),
          "mpirun -np 1 trains the plain run's weights, bit for bit")
    for k in (2, 3):
        status, out, _ = train(program, k, common + [f"--export={work}/k{k}.st"])
        result = result_line(out)
        diff = relative(work / "plain.st", work / f"k{k}.st")
        check(status == 0 and diff <= 1e-5 and result.get("ranks") == k,
              f"{k} ranks: weights after 20 steps within {diff:.2e} of one "
              "process's (bound 1e-5)")
        loss = abs(result["test_loss"] - plain["test_loss"]) / plain["test_loss"]
        check(loss <= 1e-4 and result["test_accuracy"] ==
              plain["test_accuracy"],
              f"{k} ranks: test loss {result['test_loss']:.6f} (one process "
              f"{plain['test_loss']:.6f}), accuracy "
              f"{result['test_accuracy']} ({plain['test_accuracy']})")

    # 2. Resume with another number of ranks.
    for first, second in ((2, 1), (1, 3)):
        ckpt = work / f"resume-{first}-{second}.ckpt"
        train(program, first, ["--seed=5", "--steps=10", f"--checkpoint={ckpt}"])
        status, out, err = train(program, second, common + [
            f"--resume={ckpt}", f"--export={work}/resumed.st"])
        diff = relative(work / "plain.st", work / "resumed.st")
        check(status == 0 and diff <= 1e-5,
              f"10 steps on {first} rank(s), resumed on {second}: within "
              f"{diff:.2e} of the straight run (bound 1e-5)")

    # 3. SIGTERM to one rank: all stop together, rank 0 saves, resume.
    ckpt = work / "signal.ckpt"
    status, seconds, text = start_and_signal(
        program, ["--seed=5", "--steps=100", f"--checkpoint={ckpt}",
                  f"--export={work}/never.st"], 1, signal.SIGTERM, work)
    check(status not in (0, None) and ckpt.exists() and
          "resume with --resume" in text,
          f"SIGTERM to rank 1: the job stopped in {seconds:.1f} s with a "
          f"checkpoint (mpirun status {status})")
    train(program, 2, ["--seed=5", "--steps=100",
                       f"--export={work}/straight.st"], timeout=900)
    status, out, _ = train(program, 2, ["--seed=5", "--steps=100",
                                        f"--resume={ckpt}",
                                        f"--export={work}/resumed.st"],
                           timeout=900)
    check(status == 0 and identical(work / "straight.st", work / "resumed.st"),
          "resumed on 2 ranks: the straight 2-rank run's weights, bit for bit")

    # 4. A rank killed, a rank that fails: the job ends, no hang.
    status, seconds, text = start_and_signal(
        program, ["--seed=5", "--steps=100000"], 1, signal.SIGKILL, work)
    check(status not in (0, None) and seconds <= 30 and "signal 9" in text,
          f"kill -9 of rank 1: the job ended in {seconds:.1f} s (bound 30) "
          "and mpirun names the signal")
    start = time.time()
    run = subprocess.run(
        MPIRUN + ["-np", "1", str(program), "--threads=1", "--steps=50",
                  SMALL[0], ":",
                  "-np", "1", str(program), "--threads=1", "--steps=50",
                  f"--data={work}/no-such-dir"],
        capture_output=True, text=True, timeout=120)
    seconds = time.time() - start
    text = run.stdout + run.stderr
    check(run.returncode != 0 and seconds <= 30 and
          "train: error: rank 1 of 2:" in text and "no-such-dir" in text,
          f"a rank without its data: the job ended in {seconds:.1f} s with "
          "`train: error: rank 1 of 2: ...`")

    # 5. The default example with BatchNorm on each rank's images.
    program = work / "default"
    build(args.resnetc, args.bn_model, program)
    # One epoch of a one-cycle schedule, which ends at a low rate: 87.3%
    # on one process, 87.5% on 2 ranks, 88.3% with another seed.
    flags = ["--seed=1", "--epochs=1", "--batch=128", "--schedule=one_cycle",
             "--max-lr=0.1", "--pct-start=0.25", "--log-every=100",
             f"--data={FASHION}"]
    status, out, _ = train(program, None, flags)
    one = result_line(out)
    ckpt_dir = work / "ckpt"
    ckpt_dir.mkdir()
    status, out, err = train(program, 2, flags + [
        f"--checkpoint={ckpt_dir}/default.ckpt"])
    two = result_line(out)
    steps = out.count("epoch 1/1 step ")
    check(status == 0 and out.count("ranks: 2 MPI processes") == 1 and
          steps == one["steps"] // 100 and out.count('{"model"') == 1,
          f"2 ranks: one progress stream ({steps} step lines) and one result")
    check(sorted(p.name for p in ckpt_dir.iterdir()) == ["default.ckpt"],
          "2 ranks: one checkpoint, written by rank 0")
    check(abs(two["test_accuracy"] - one["test_accuracy"]) <= 0.02,
          f"default example, one epoch: test accuracy {two['test_accuracy']} "
          f"on 2 ranks, {one['test_accuracy']} on one (within 0.02)")

    # 6. Per-rank BatchNorm against the single-process reference.
    flags = ["--seed=3", "--steps=50", "--batch=128"]
    same, state = against_accumulate(program, flags, work, "default")
    check(same and state <= 1e-6,
          "default example, 50 steps: 2 ranks and --accumulate=2 give the "
          f"same weights bit for bit, running statistics within {state:.1e}")
    ckpt = work / "accumulate.ckpt"
    train(program, None, ["--seed=3", "--steps=25", "--batch=128",
                          "--accumulate=2", f"--checkpoint={ckpt}"])
    train(program, None, flags + ["--accumulate=2", f"--resume={ckpt}",
                                  f"--export={work}/acc-resumed.st"])
    check(identical(work / "default-acc.st", work / "acc-resumed.st"),
          "--accumulate=2 resumed at step 25 ends on the straight run's "
          "weights, bit for bit")
    if args.cifar10 and pathlib.Path(args.cifar10).is_dir():
        program = work / "resnet20"
        build(args.resnetc, args.resnet20, program)
        same, state = against_accumulate(
            program, flags + [f"--data={args.cifar10}"], work, "resnet20")
        check(same and state <= 1e-6,
              "ResNet-20 on CIFAR-10, 50 steps: 2 ranks and --accumulate=2 "
              "give the same weights bit for bit, running statistics within "
              f"{state:.1e}")
    else:
        print("skipped: ResNet-20 (no --cifar10 directory)")

    # 7. Synchronised BatchNorm against one process.
    default, sync = work / "default", work / "sync"
    build(args.resnetc, args.bn_model, sync, "--sync-batch-norm")
    for steps, bound in ((1, 1e-4), (2, 1e-3)):
        same, local = against_sync(sync, default,
                                   ["--seed=3", f"--steps={steps}",
                                    "--batch=128"], work, "default")
        check(same <= bound and local >= 20 * same,
              f"--sync-batch-norm, {steps} step(s): 2 ranks' weights within "
              f"{same:.1e} of one process's (bound {bound:.0e}; BatchNorm "
              f"per rank {local:.1e})")

    # 8. The GPU build, through OpenCL on the CPU.
    tiny = [f"--data={small_fashion(work / 'fashion-tiny', 1280, 256)}"]
    program = work / "no-bn-opencl"
    build(args.resnetc, args.no_bn_model, program, "--target=opencl")
    flags = tiny + ["--seed=5", "--steps=10"]
    train(program, None, flags + [f"--export={work}/plain-opencl.st"])
    status, out, _ = train(program, 2, flags + [f"--export={work}/k2-opencl.st"])
    diff = relative(work / "plain-opencl.st", work / "k2-opencl.st")
    check(status == 0 and diff <= 1e-5 and "through host memory" in out,
          f"OpenCL build, 2 ranks: weights after 10 steps within {diff:.2e} "
          "of one process's (bound 1e-5)")
    status, out, _ = train(program, 2, ["--benchmark", "--steps=3",
                                        "--warmup=1"])
    result = result_line(out)
    copies, buckets = (result.get("host_device_copies_per_step"),
                       result.get("allreduce_buckets"))
    check(status == 0 and copies == 2 + 2 * buckets,
          f"OpenCL build, 2 ranks: {copies} host-device copies per step: its "
          f"batch, its loss and one of each of its {buckets} buckets each way")
    default = work / "default-opencl"
    build(args.resnetc, args.bn_model, default, "--target=opencl")
    same, state = against_accumulate(default, tiny + ["--seed=3", "--steps=5"],
                                     work, "default-opencl")
    check(same and state <= 1e-6,
          "OpenCL build of the default example, 5 steps: 2 ranks and "
          "--accumulate=2 give the same weights bit for bit, running "
          f"statistics within {state:.1e}")
    sync = work / "sync-opencl"
    build(args.resnetc, args.bn_model, sync, "--target=opencl",
          "--sync-batch-norm")
    same, local = against_sync(sync, default, tiny + ["--seed=3", "--steps=1"],
                               work, "opencl")
    check(same <= 1e-6 and local >= 100 * same,
          f"OpenCL build, --sync-batch-norm, 1 step: 2 ranks' weights within "
          f"{same:.1e} of one process's (bound 1e-6; BatchNorm per rank "
          f"{local:.1e})")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
