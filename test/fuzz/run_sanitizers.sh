#!/bin/bash
# run_sanitizers.sh SOURCE_DIR MAIN_BUILD_DIR [FUZZ_SECONDS]
#
# Builds resnetc's runtime, front end, runtime tests and fuzzers with Clang's
# AddressSanitizer + UndefinedBehaviorSanitizer (RESNETC_SANITIZE, the "asan"
# preset) in MAIN_BUILD_DIR/asan, then, failing on the first report:
#   1. runs the runtime's GoogleTest suite;
#   2. runs each fuzzer over its regressions (test/fuzz/regressions/NAME, the
#      inputs that once crashed), then fuzzes it for FUZZ_SECONDS (60) from
#      its seed corpus (test/fuzz/corpus/NAME; the examples for the DSL);
#   3. links the default example, compiled by MAIN_BUILD_DIR's resnetc, with
#      the sanitized runtime, trains 20 steps with a checkpoint, resumes for
#      10 more and classifies with it.
# A fuzzer's crash leaves its input in MAIN_BUILD_DIR/asan/fuzz-work/NAME/;
# the line printed says how to rerun it. Copy it into
# test/fuzz/regressions/NAME/ once fixed.
set -euo pipefail
src=$(cd "$1" && pwd)
main=$(cd "$2" && pwd)
seconds=${3:-60}
asan=$main/asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

step() { current="$*"; echo; echo "== sanitizers: $* ($(date +%T))"; }
# CI keeps only the head and tail of a long log: say which step failed last.
trap 'rc=$?; ((rc == 0)) || echo "== sanitizers: FAILED in: ${current:-setup} (exit $rc)"' EXIT

step "configuring $asan (clang-19, ASan + UBSan)"
cmake --preset asan -S "$src" -B "$asan" > "$asan.configure.log" 2>&1 ||
  { cat "$asan.configure.log"; exit 1; }
step "building the runtime, its tests and the fuzzers"
# The build's warnings would push a failure's report out of CI's log.
cmake --build "$asan" --target runtime-tests logistic-train \
  logistic-classify resnetrt resnetrt-classify fuzzers -- -j2 \
  > "$asan.build.log" 2>&1 || { tail -n 60 "$asan.build.log"; false; }

step "runtime tests"
(cd "$asan/test/unit/runtime" && ./runtime-tests --gtest_brief=1)

for name in dsl idx cifar checkpoint safetensors; do
  fuzzer=$asan/test/fuzz/fuzz-$name
  work=$asan/fuzz-work/$name
  rm -rf "$work" && mkdir -p "$work/corpus"
  regressions=$src/test/fuzz/regressions/$name
  if compgen -G "$regressions/*" > /dev/null; then
    step "fuzz-$name: regressions"
    "$fuzzer" "$regressions"/*
  fi
  seeds=("$src/test/fuzz/corpus/$name")
  [[ $name == dsl ]] && seeds+=("$src/examples")
  step "fuzz-$name: ${seconds} s from ${seeds[*]}"
  # An input that reaches the front end's limits (a `repeat` building
  # 100,000 layers) takes 11 s under ASan on an idle core here; CI's cores,
  # shared with other tests, take about twice that: 60 s leaves room.
  if ! "$fuzzer" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 \
       -artifact_prefix="$work/" -print_final_stats=1 \
       "$work/corpus" "${seeds[@]}" > "$work/log" 2>&1; then
    tail -n 60 "$work/log"
    echo "fuzz-$name found a bug; rerun: $fuzzer $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1)"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" || true
done

step "a compiled training run on the sanitized runtime"
run=$asan/train-run
rm -rf "$run" && mkdir -p "$run"
printf '#!/bin/sh\nexec clang++-19 -fsanitize=address,undefined "$@"\n' > "$run/link"
chmod +x "$run/link"
model=$src/examples/fashion_mnist_resnet.dsl
CXX=$run/link RESNETC_RUNTIME=$asan/lib/libresnetrt.a \
  "$main/bin/resnetc" "$model" -o "$run/train"
CXX=$run/link RESNETC_RUNTIME_CLASSIFY=$asan/lib/libresnetrt-classify.a \
  "$main/bin/resnetc" "$model" --mode=infer -o "$run/classify"
"$run/train" --steps=20 --batch=32 --threads=2 --progress=plain \
  --log-every=10 --checkpoint="$run/model.ckpt" --log-dir="$run"
"$run/train" --steps=30 --batch=32 --threads=2 --progress=plain \
  --log-every=10 --checkpoint="$run/model.ckpt" --resume="$run/model.ckpt"
"$run/classify" --checkpoint="$run/model.ckpt" --batch=100 --threads=2
"$run/classify" --checkpoint="$run/model.ckpt" --export="$run/model.safetensors"
"$run/train" --eval-only --init-from="$run/model.safetensors" --batch=100 \
  --threads=2
step "clean: no sanitizer reports"
