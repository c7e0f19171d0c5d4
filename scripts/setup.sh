#!/usr/bin/env bash
# Installs every Debian 12 package resnetc needs to build, test and train.
# Idempotent: it installs only what is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ python3
  # compiler: MLIR/LLVM 19 (headers, CMake config, mlir-tblgen), Halide 14;
  # Halide's CMake package refuses to load without PNG and JPEG headers
  llvm-19-dev libmlir-19-dev mlir-19-tools libhalide14-0-dev libpng-dev libjpeg-dev
  # runtime: fmt (header-only use), zlib; Open MPI, which every train links
  # for data-parallel training (mpirun -np K ./train)
  libfmt-dev zlib1g-dev libopenmpi-dev openmpi-bin
  # tests: lit and FileCheck, GoogleTest; PyTorch as numeric oracle and
  # benchmark peer (never used by train); OpenCL on the CPU (pocl), which
  # runs the GPU schedules in CI
  llvm-19-tools libgtest-dev python3-torch pocl-opencl-icd ocl-icd-libopencl1
  # independent readers of --log-dir: TensorBoard's records (protobuf, CRC-32C)
  # and curves.svg (rsvg-convert)
  python3-protobuf python3-crcmod librsvg2-bin
  # the sanitizer build and the fuzzers (test/fuzz): Clang 19, its ASan and
  # UBSan runtimes, libFuzzer
  clang-19 libclang-rt-19-dev libfuzzer-19-dev
  # resnetc --emit=onnx: ONNX's protobuf classes (libonnx-dev; its CMake
  # package needs protobuf's, libprotobuf-dev); python3-onnx checks the
  # models it writes in the tests
  libonnx-dev libprotobuf-dev python3-onnx
  # the default example's data set
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
