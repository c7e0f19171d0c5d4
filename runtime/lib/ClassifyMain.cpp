//===- ClassifyMain.cpp - the entry point of every classify ---------------===//
//
// As Main.cpp for train: the only file of libresnetrt-classify.a that names
// rn_program_info.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Classify.h"

int main(int argc, char **argv) {
  return resnetrt::classifyMain(rn_program_info, argc, argv);
}
