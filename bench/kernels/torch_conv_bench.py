#!/usr/bin/python3
"""torch_conv_bench.py - PyTorch (oneDNN) on the kernels conv-bench times.

Times forward, grad-input and grad-weight of every conv of ResNet-20 and the
CIFAR ResNet-18 (and their dense layers) at batch 128 with the same number
of threads, in NCHW and in channels_last, and keeps the faster of the two.
The layer table mirrors bench/kernels/conv_bench.cpp.

With --ours build/bench/conv-bench, it interleaves rounds of our benchmark
and of PyTorch in one run (the machine is shared and drifts), takes the
median over rounds of each one's median, and prints both side by side with
the spread between rounds as a measure of the noise. Next to wall-clock
time it reports the share of the cores' FMA peak per CPU-second received
(process CPU time), which other processes taking turns on the cores do not
move; with several threads it also counts threads spinning at barriers.

    /usr/bin/python3 bench/kernels/torch_conv_bench.py \
        [--ours build/bench/conv-bench] [--rounds 3] [--threads 2]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

# (model, layer, C, H, W, O, K, stride): as convLayers in conv_bench.cpp.
CONV_LAYERS = [
    ("resnet20", "stem 3->16 32px", 3, 32, 32, 16, 3, 1),
    ("resnet20", "16->16 32px", 16, 32, 32, 16, 3, 1),
    ("resnet20", "16->32 s2", 16, 32, 32, 32, 3, 2),
    ("resnet20", "proj 16->32 s2", 16, 32, 32, 32, 1, 2),
    ("resnet20", "32->32 16px", 32, 16, 16, 32, 3, 1),
    ("resnet20", "32->64 s2", 32, 16, 16, 64, 3, 2),
    ("resnet20", "proj 32->64 s2", 32, 16, 16, 64, 1, 2),
    ("resnet20", "64->64 8px", 64, 8, 8, 64, 3, 1),
    ("resnet18", "stem 3->64 32px", 3, 32, 32, 64, 3, 1),
    ("resnet18", "64->64 32px", 64, 32, 32, 64, 3, 1),
    ("resnet18", "64->128 s2", 64, 32, 32, 128, 3, 2),
    ("resnet18", "proj 64->128 s2", 64, 32, 32, 128, 1, 2),
    ("resnet18", "128->128 16px", 128, 16, 16, 128, 3, 1),
    ("resnet18", "128->256 s2", 128, 16, 16, 256, 3, 2),
    ("resnet18", "proj 128->256 s2", 128, 16, 16, 256, 1, 2),
    ("resnet18", "256->256 8px", 256, 8, 8, 256, 3, 1),
    ("resnet18", "256->512 s2", 256, 8, 8, 512, 3, 2),
    ("resnet18", "proj 256->512 s2", 256, 8, 8, 512, 1, 2),
    ("resnet18", "512->512 4px", 512, 4, 4, 512, 3, 1),
]

# (model, layer, K, M): as denseLayers in conv_bench.cpp.
DENSE_LAYERS = [
    ("resnet20", "dense 64->10", 64, 10),
    ("resnet18", "dense 512->10", 512, 10),
]


def median_ms(fn, reps):
    """Median wall-clock and process CPU milliseconds of a call."""
    fn()  # warm-up: oneDNN picks and caches its kernel on the first call
    wall, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1e3)
        cpu.append((time.process_time() - start_cpu) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def conv_cases(batch):
    """Yields (model, layer, kernel, flops, {format: thunk})."""
    for model, layer, C, H, W, O, K, s in CONV_LAYERS:
        p = K // 2
        Ho, Wo = (H + 2 * p - K) // s + 1, (W + 2 * p - K) // s + 1
        flops = 2.0 * batch * O * Ho * Wo * C * K * K
        thunks = {"fwd": {}, "bwd-data": {}, "bwd-filter": {}}
        for fmt, memory_format in (("nchw", torch.contiguous_format),
                                   ("nhwc", torch.channels_last)):
            x = torch.randn(batch, C, H, W).to(memory_format=memory_format)
            w = torch.randn(O, C, K, K).to(memory_format=memory_format)
            dy = torch.randn(batch, O, Ho, Wo).to(memory_format=memory_format)

            def backward(mask, x=x, w=w, dy=dy):
                return torch.ops.aten.convolution_backward(
                    dy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1,
                    mask)

            thunks["fwd"][fmt] = (
                lambda x=x, w=w: F.conv2d(x, w, None, s, p))
            thunks["bwd-data"][fmt] = (
                lambda backward=backward: backward([True, False, False]))
            thunks["bwd-filter"][fmt] = (
                lambda backward=backward: backward([False, True, False]))
        for kernel in ("fwd", "bwd-data", "bwd-filter"):
            # No gradient flows into the image: conv-bench skips it too.
            if kernel == "bwd-data" and C == 3:
                continue
            yield model, layer, kernel, flops, thunks[kernel]
    for model, layer, K, M in DENSE_LAYERS:
        x, w, dy = torch.randn(batch, K), torch.randn(M, K), torch.randn(batch, M)
        flops = 2.0 * batch * K * M
        yield model, layer, "fwd", flops, {"nchw": lambda: F.linear(x, w)}
        yield model, layer, "bwd-data", flops, {"nchw": lambda: dy @ w}
        yield model, layer, "bwd-filter", flops, {"nchw": lambda: dy.t() @ x}


def torch_round(batch, reps):
    """{(model, layer, kernel): (ms, cpu ms, flops, format)} for one round,
    the faster format by wall-clock time."""
    result = {}
    for model, layer, kernel, flops, thunks in conv_cases(batch):
        (ms, cpu_ms), fmt = min(
            (median_ms(fn, reps), fmt) for fmt, fn in thunks.items())
        result[(model, layer, kernel)] = (ms, cpu_ms, flops, fmt)
    return result


def ours_round(binary, threads, batch, reps):
    """{(model, layer, kernel): (ms, cpu ms)}, and the FMA peak, from
    conv-bench --csv."""
    out = subprocess.run(
        [binary, "--csv", "--threads", str(threads), "--batch", str(batch),
         "--reps", str(reps)], check=True, capture_output=True, text=True).stdout
    result, peak = {}, None
    for line in out.splitlines():
        if line.startswith("# peak"):
            peak = float(line.split()[2])
            continue
        fields = line.split(",")
        result[tuple(fields[:3])] = (float(fields[3]), float(fields[6]))
    return result, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ours", help="path of conv-bench, to interleave")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    torch_rounds, our_rounds, peaks = [], [], []
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}, load average "
              f"{os.getloadavg()[0]:.1f}", file=sys.stderr)
        if args.ours:
            ours, peak = ours_round(args.ours, args.threads, args.batch,
                                    args.reps)
            our_rounds.append(ours)
            peaks.append(peak)
        torch_rounds.append(torch_round(args.batch, args.reps))

    # The peak is the machine's: the best measured in any round.
    peak = max(peaks) if peaks else None
    print(f"torch {torch.__version__}, {args.threads} threads, batch "
          f"{args.batch}, {args.rounds} rounds of {args.reps} reps"
          + (f", FP32 FMA peak {peak:.0f} GFLOP/s" if peak else ""))
    print("ms: median wall-clock; %pk: of the peak, wall-clock; %cpu: of the "
          "peak per CPU-second received; spread: between rounds")
    side = f" {'ms':>8} {'GFLOP/s':>7}" + (f" {'%pk':>5} {'%cpu':>5}" if peak else "")
    header = f"{'model':9} {'layer':18} {'kernel':10} |torch{side} {'fmt':4} {'spread':>6}"
    if args.ours:
        header += f" |ours{side} {'spread':>6} | speedup wall cpu"
    print(header)

    def spread(values):
        return 100 * (max(values) - min(values)) / statistics.median(values)

    def figures(ms, cpu_ms, flops):
        text = f" {ms:8.3f} {flops / ms / 1e6:7.1f}"
        if peak:
            text += (f" {100 * flops / ms / 1e6 / peak:4.0f}%"
                     f" {100 * flops / cpu_ms / 1e6 / (peak / args.threads):4.0f}%")
        return text

    for key, (_, _, flops, _) in torch_rounds[0].items():
        torch_ms = [rnd[key][0] for rnd in torch_rounds]
        t = statistics.median(torch_ms)
        t_cpu = statistics.median(rnd[key][1] for rnd in torch_rounds)
        fmt = torch_rounds[-1][key][3]
        line = (f"{key[0]:9} {key[1]:18} {key[2]:10} |     "
                f"{figures(t, t_cpu, flops)} {fmt:4} {spread(torch_ms):5.0f}%")
        if args.ours and key in our_rounds[0]:
            ours_ms = [rnd[key][0] for rnd in our_rounds]
            o = statistics.median(ours_ms)
            o_cpu = statistics.median(rnd[key][1] for rnd in our_rounds)
            line += (f" |    {figures(o, o_cpu, flops)} {spread(ours_ms):5.0f}%"
                     f" | {t / o:5.2f}x {t_cpu / o_cpu:5.2f}x")
        print(line)


if __name__ == "__main__":
    main()
