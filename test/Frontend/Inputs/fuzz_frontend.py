#!/usr/bin/env python3
"""Mutation fuzzing of resnetc's front end.

    fuzz_frontend.py --resnetc PATH --examples DIR --out DIR [--count N]
                     [--seed S] [--jobs J] [--timeout SECONDS]

Takes every example model, applies a few random mutations to each copy
(delete, insert, duplicate, swap or replace tokens; insert, delete or flip
bytes; truncate; move or duplicate lines), and runs `resnetc FILE --summary`
on it. The mutants are the same on every run: each is drawn from its own
random.Random seeded by (seed, example, index), whatever the job count.

A run passes if resnetc exits with 0 (and printed a summary) or with 1 (and
printed an error), within the timeout. Anything else -- a signal, another
exit code, a hang, a crash report, a silent failure -- is a bug: the input
is saved under --out and the script exits with 1 after listing them all.

The timeout is CPU time (RLIMIT_CPU), so that a busy shared machine does
not turn a slow run into a "hang"; a run also gets six times as long in
wall-clock time before it is stopped.
"""
import argparse
import concurrent.futures
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time

TOKEN = re.compile(
    rb'[A-Za-z_][A-Za-z0-9_]*|\d+\.?\d*(?:[eE][+-]?\d+)?|"(?:[^"\\\n]|\\.)*"'
    rb'|#[^\n]*|\|>|==|!=|<=|>=|[ \t]+|\n|.', re.S)

# Tokens a mutation may insert: the DSL's words, punctuation and edge-case
# values (limits, huge, tiny and malformed numbers, odd strings).
VOCABULARY = [w.encode() for w in (
    "model block for in repeat as if else return train and or not true false "
    "none same valid fan_in fan_out fan_avg input classes init image x y "
    "conv dense bn relu leaky_relu sigmoid tanh gelu softmax add concat "
    "max_pool avg_pool global_avg_pool global_max_pool zero_pad subsample "
    "zero_pad_shortcut flatten dropout dropblock channels height width range "
    "min max len int float str he_normal he_uniform glorot_normal "
    "glorot_uniform lecun_normal zeros ones constant normal uniform "
    "filters kernel stride padding dilation groups bias activation name "
    "momentum epsilon rate size alpha count_include_pad mode seed "
    "data batch epochs steps optimizer schedule loss augment path "
    "validation_split sgd adam adamw lr nesterov weight_decay beta1 beta2 "
    "step at factor warmup cosine min_lr period period_mult one_cycle max_lr "
    "pct_start cross_entropy label_smoothing mnist fashion_mnist cifar10 cifar100 "
    "random_crop central_crop flip_horizontal normalize mean std pad").split()] + [
    b"(", b")", b"[", b"]", b"{", b"}", b",", b";", b":", b"?", b"=", b"|>",
    b"+", b"-", b"*", b"/", b"%", b"==", b"!=", b"<", b"<=", b">", b">=",
    b"!", b"|", b".", b"\n", b" ", b"#", b'"', b"\\",
    b"0", b"1", b"-1", b"2", b"3", b"7", b"1024", b"65536", b"65537",
    b"16384", b"1000000", b"1000001", b"9223372036854775807",
    b"-9223372036854775808", b"99999999999999999999", b"0.0", b"0.5",
    b"1.0", b"1.", b".5", b"1e308", b"1e-320", b"1e999", b"-0.0", b"1e",
    b'""', b'"a"', b'"x y"', b'"\\n"', b"\xc3\xa9", b"\xff", b"\x00"]

NUMBERS = [b"0", b"-1", b"1", b"65536", b"65537", b"1000001", b"2147483648",
           b"9223372036854775807", b"99999999999999999999", b"0.5", b"1e308",
           b"1e999", b"-3", b"100000"]


def mutate(data, rng):
    """Applies one random mutation to `data` (bytes)."""
    tokens = TOKEN.findall(data) or [b""]
    kind = rng.randrange(14)
    i = rng.randrange(len(tokens))
    if kind == 0:                      # delete a token
        del tokens[i]
    elif kind == 1:                    # duplicate a token
        tokens.insert(i, tokens[i])
    elif kind == 2:                    # swap two tokens
        j = rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif kind == 3:                    # replace a token by a DSL token
        tokens[i] = rng.choice(VOCABULARY)
    elif kind == 4:                    # insert a DSL token
        tokens.insert(i, rng.choice(VOCABULARY))
    elif kind == 5:                    # replace a number by an edge case
        numbers = [k for k, t in enumerate(tokens) if t[:1].isdigit()]
        if numbers:
            tokens[rng.choice(numbers)] = rng.choice(NUMBERS)
    elif kind == 6:                    # replace a token by another of the file
        tokens[i] = rng.choice(tokens)
    else:
        data = b"".join(tokens)
        n = len(data)
        p = rng.randrange(n + 1)
        if kind == 7 and n:            # delete a few bytes
            return data[:p] + data[p + rng.randint(1, 4):]
        if kind == 8:                  # insert a random byte
            return data[:p] + bytes([rng.randrange(256)]) + data[p:]
        if kind == 9 and n:            # flip a bit
            p = min(p, n - 1)
            return data[:p] + bytes([data[p] ^ (1 << rng.randrange(8))]) + data[p + 1:]
        if kind == 10:                 # truncate
            return data[:p]
        lines = data.split(b"\n")
        a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
        if kind == 11:                 # duplicate a line
            lines.insert(b, lines[a])
        elif kind == 12:               # move a line
            lines.insert(b, lines.pop(a))
        else:                          # copy a span of lines elsewhere
            span = lines[a:a + rng.randint(1, 8)]
            lines[b:b] = span
        return b"\n".join(lines)
    return b"".join(tokens)


def make_mutant(seed, name, index, source):
    rng = random.Random("%d:%s:%d" % (seed, name, index))
    data = source
    for _ in range(rng.randint(1, 4)):
        data = mutate(data, rng)
    return data


def run_one(args, name, index, data):
    """Runs resnetc on one mutant; returns None or a description of the bug."""
    path = os.path.join(args.out, "%s.%05d.dsl" % (name, index))
    with open(path, "wb") as f:
        f.write(data)
    def limit_cpu():
        # Soft = hard: the kernel kills with SIGKILL at the limit (resnetc's
        # crash handler would catch the SIGXCPU of a lower soft limit).
        seconds = int(args.timeout + 0.999)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))

    try:
        p = subprocess.run([args.resnetc, path, "--summary"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=6 * args.timeout, preexec_fn=limit_cpu)
    except subprocess.TimeoutExpired:
        return path, "hung (no answer in %g s)" % (6 * args.timeout)
    err = p.stderr.decode("utf-8", "replace")
    problem = None
    if p.returncode == -signal.SIGKILL:
        problem = "hung (over %g s of CPU time)" % args.timeout
    elif p.returncode < 0:
        problem = "killed by signal %d" % -p.returncode
    elif p.returncode not in (0, 1):
        problem = "exit code %d" % p.returncode
    elif "Stack dump" in err or "PLEASE submit a bug report" in err:
        problem = "printed a crash report"
    elif p.returncode == 1 and "error:" not in err:
        problem = "exit code 1 without an error message"
    elif p.returncode == 0 and b"Total params:" not in p.stdout:
        problem = "exit code 0 without a summary"
    if problem is None:
        os.remove(path)
        return None, p.returncode
    return path, problem + (": " + err.strip().splitlines()[-1] if err.strip() else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resnetc", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--out", required=True, help="where failing inputs go")
    ap.add_argument("--count", type=int, default=2400, help="mutants in all")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10,
                    help="seconds of CPU time a run may take")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    examples = sorted(f for f in os.listdir(args.examples) if f.endswith(".dsl"))
    if not examples:
        sys.exit("no .dsl files in " + args.examples)
    sources = {f[:-4]: open(os.path.join(args.examples, f), "rb").read()
               for f in examples}
    work = [(name, i) for i in range(args.count // len(sources) + 1)
            for name in sorted(sources)][:args.count]

    start = time.time()
    bugs, codes = [], {0: 0, 1: 0}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, args, name, i,
                               make_mutant(args.seed, name, i, sources[name]))
                   for name, i in work]
        for future in futures:
            path, result = future.result()
            if path is None:
                codes[result] += 1
            else:
                bugs.append((path, result))
    print("fuzz_frontend: %d mutants of %d examples in %.0f s: %d compiled, "
          "%d rejected with an error, %d bugs"
          % (len(work), len(sources), time.time() - start, codes[0], codes[1],
             len(bugs)))
    for path, problem in bugs:
        print("BUG: %s: %s" % (path, problem))
        print("  reproduce: %s %s --summary" % (args.resnetc, path))
    sys.exit(1 if bugs else 0)


if __name__ == "__main__":
    main()
