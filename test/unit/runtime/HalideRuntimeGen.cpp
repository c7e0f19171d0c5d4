//===- HalideRuntimeGen.cpp - a Halide runtime object for the tests -------===//
//
// Every train links one standalone Halide runtime (thread pool, error
// handling), which resnetc emits with the kernels. The runtime tests have no
// kernels, so the build makes the same object with this program.
//
//===----------------------------------------------------------------------===//

#include "Halide.h"

#include <cstdio>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.o\n", argv[0]);
    return 2;
  }
  Halide::compile_standalone_runtime(argv[1], Halide::get_host_target());
  return 0;
}
