//===- PrepareEvalTest.cpp - derived variables before every evaluation ----===//
//
// The folded logistic program evaluates with copies of its weights that
// only prepare_eval writes, as a model with BatchNorm folded into its
// convolutions does: evaluating without a fresh prepare_eval would show up
// as a wrong accuracy, and the recorded calls show the order.
//
//===----------------------------------------------------------------------===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Error.h"

#include <gtest/gtest.h>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

std::string programError(const rn_program &program) {
  try {
    checkProgram(program);
  } catch (const Error &error) {
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

class PrepareEval : public ::testing::Test {
protected:
  void SetUp() override {
    writeMnist(data.path(), 640, 200, true);
    hooks.calls = &calls;
  }
  void TearDown() override { hooks = {}; }

  RunResult train(const rn_program &program, std::vector<std::string> args) {
    args.insert(args.begin(), "--data=" + data.path());
    calls.clear();
    return runTrain(program, args);
  }

  TempDir data;
  std::string calls;
};

} // namespace

TEST(ProgramCheck, DerivedVariablesNeedAPrepareEval) {
  EXPECT_NO_THROW(checkProgram(mnistLogisticFolded()));
  rn_program program = mnistLogisticFolded();
  program.prepare_eval = nullptr;
  EXPECT_CONTAINS(programError(program), "variable dense.folded_weight is "
                                         "derived but prepare_eval is missing");
  // Without derived variables, none is needed.
  EXPECT_EQ(mnistLogistic().prepare_eval, nullptr);
  EXPECT_NO_THROW(checkProgram(mnistLogistic()));
}

TEST(ProgramCheck, UnknownRolesAreRejected) {
  rn_program program = mnistLogistic();
  std::vector<rn_variable> variables(program.variables,
                                     program.variables + program.num_variables);
  variables[1].role = 7;
  program.variables = variables.data();
  EXPECT_CONTAINS(programError(program),
                  "variable dense.bias has role 7, which is none of 0..3");
}

TEST_F(PrepareEval, EveryEvaluationRecomputesTheDerivedVariablesFirst) {
  RunResult result =
      train(mnistLogisticFolded(), {"--epochs=2", "--validation-split=0.25"});
  ASSERT_EQ(result.status, 0) << result.err;
  // Per epoch: 7 steps, then validation (160 images, 3 batches) and test
  // (200 images, 4 batches), each after its own prepare_eval.
  std::string epoch =
      std::string(7, 't') + "p" + std::string(3, 'e') + "p" + "eeee";
  EXPECT_EQ(calls, epoch + epoch);
}

TEST_F(PrepareEval, FoldedAndPlainProgramsReportTheSameResults) {
  RunResult plain = train(mnistLogistic(), {"--epochs=2"});
  RunResult folded = train(mnistLogisticFolded(), {"--epochs=2"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  ASSERT_EQ(folded.status, 0) << folded.err;
  // Trained well, so stale (zero) derived weights would show.
  EXPECT_GT(*jsonNumber(folded.lastLine(), "test_accuracy"), 0.9);
  for (const char *key : {"test_accuracy", "test_loss", "train_loss"})
    EXPECT_EQ(*jsonNumber(folded.lastLine(), key),
              *jsonNumber(plain.lastLine(), key))
        << key;
}

TEST_F(PrepareEval, EvalOnlyPreparesOnceAfterLoading) {
  TempDir work;
  std::string checkpoint = work / "plain.ckpt";
  ASSERT_EQ(train(mnistLogistic(), {"--checkpoint=" + checkpoint}).status, 0);
  RunResult result =
      train(mnistLogisticFolded(), {"--eval-only", "--resume=" + checkpoint});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(calls, "peeee");
  EXPECT_GT(*jsonNumber(result.lastLine(), "test_accuracy"), 0.9);
}

TEST_F(PrepareEval, FailureStopsTheRunWithTheHalideError) {
  hooks.prepareEvalStatus = -27;
  RunResult result = train(mnistLogisticFolded(), {"--epochs=1"});
  EXPECT_EQ(result.status, ExitFailure);
  EXPECT_EQ(result.err, "train: error: prepare_eval failed with Halide error "
                        "-27 (see the message above)\n");
  EXPECT_EQ(calls, std::string(10, 't') + "p");
}
