//===- FixtureMain.cpp - rn_program_info of the test programs -------------===//
//
// Makes `logistic-train`, a train built as resnetc builds one: this table,
// libresnetrt.a (which brings main) and a Halide runtime object; and
// `logistic-classify`, the same with libresnetrt-classify.a.
//
//===----------------------------------------------------------------------===//

#include "LogisticProgram.h"

extern "C" const rn_program rn_program_info = resnetrt::test::mnistLogistic();
