//===- Main.cpp - the entry point of every train --------------------------===//
//
// The only file that names rn_program_info: everything else takes the
// program as an argument, so tests drive the runtime with programs of
// their own.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Trainer.h"

int main(int argc, char **argv) {
  return resnetrt::trainMain(rn_program_info, argc, argv);
}
