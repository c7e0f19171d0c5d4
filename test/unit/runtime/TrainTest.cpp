//===- TrainTest.cpp - whole runs of train on a small data set ------------===//
//
// A synthetic MNIST-format data set (640 training images, 200 test images)
// and the logistic program: 10 steps per epoch at batch 64, so every run
// takes milliseconds and the checks are about the runtime, not the model.
//
//===----------------------------------------------------------------------===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include "resnetrt/Checkpoint.h"
#include "resnetrt/Error.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

class TrainRun : public ::testing::Test {
protected:
  void SetUp() override { writeMnist(data.path(), 640, 200, true); }
  void TearDown() override { hooks = {}; }

  /// Runs train on the data set with `args` after the defaults.
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin(), "--data=" + data.path());
    return runTrain(mnistLogistic(), args);
  }

  TempDir data, work;
};

std::vector<StoredVariable> variablesOf(const std::string &path) {
  return readCheckpoint(path).variables;
}

void expectSameVariables(const std::string &a, const std::string &b) {
  std::vector<StoredVariable> left = variablesOf(a), right = variablesOf(b);
  ASSERT_EQ(left.size(), right.size());
  for (size_t i = 0; i < left.size(); ++i) {
    EXPECT_EQ(left[i].name, right[i].name);
    // Bit-identical, not merely close.
    EXPECT_EQ(0, std::memcmp(left[i].values.data(), right[i].values.data(),
                             4 * left[i].values.size()))
        << left[i].name;
  }
}

} // namespace

TEST_F(TrainRun, EndsWithOneJsonLine) {
  RunResult result = run({"--epochs=2"});
  ASSERT_EQ(result.status, 0) << result.err;
  std::string last = result.lastLine();
  EXPECT_EQ(last.front(), '{');
  EXPECT_EQ(last.back(), '}');
  EXPECT_GT(*jsonNumber(last, "test_accuracy"), 0.9);
  EXPECT_LT(*jsonNumber(last, "test_loss"), 0.5);
  EXPECT_EQ(*jsonNumber(last, "epochs"), 2);
  EXPECT_EQ(*jsonNumber(last, "steps"), 20);
  EXPECT_EQ(*jsonNumber(last, "batch"), 64);
  EXPECT_GE(*jsonNumber(last, "threads"), 1);
  EXPECT_GT(*jsonNumber(last, "images_per_s"), 0);
  EXPECT_GT(*jsonNumber(last, "train_seconds"), 0);
  EXPECT_CONTAINS(last, "\"model\":\"logistic_mnist\"");
  EXPECT_CONTAINS(result.out, "arena: ");
  EXPECT_CONTAINS(result.out, "MiB, allocated once");
  EXPECT_CONTAINS(result.out, "epoch 2/2: train loss");
  EXPECT_EQ(result.err, "");
}

TEST_F(TrainRun, StepParametersFollowTheFlags) {
  std::vector<rn_step_params> steps;
  hooks.steps = &steps;
  RunResult result =
      run({"--epochs=2", "--schedule=step", "--schedule-at=1",
           "--schedule-factor=0.5", "--lr=0.2", "--momentum=0.8", "--nesterov",
           "--weight-decay=0.001", "--label-smoothing=0.1"});
  ASSERT_EQ(result.status, 0) << result.err;
  ASSERT_EQ(steps.size(), 20u);
  std::set<uint32_t> seeds;
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].step, int32_t(i + 1));
    EXPECT_FLOAT_EQ(steps[i].lr, i < 10 ? 0.2f : 0.1f);
    EXPECT_FLOAT_EQ(steps[i].momentum, 0.8f);
    EXPECT_EQ(steps[i].nesterov, 1);
    EXPECT_FLOAT_EQ(steps[i].weight_decay, 0.001f);
    EXPECT_FLOAT_EQ(steps[i].label_smoothing, 0.1f);
    seeds.insert(steps[i].seed);
  }
  EXPECT_EQ(seeds.size(), steps.size());
}

TEST_F(TrainRun, KerasEpsilonIsPyTorchsScaledByTheBiasCorrection) {
  // The runtime passes the kernels, which follow torch.optim.Adam, the
  // epsilon that makes their update Keras's. Both updates in double, on
  // the same gradients: the same weights after 200 steps.
  const double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-7;
  double kerasW = 0.5, torchW = 0.5, mK = 0, vK = 0, mT = 0, vT = 0;
  unsigned seed = 7;
  for (int t = 1; t <= 200; ++t) {
    // The gradient of 0.05 w^2 plus noise, at each one's own weights.
    double noise = double(rand_r(&seed)) / RAND_MAX - 0.5;
    double gK = noise + 0.1 * kerasW, gT = noise + 0.1 * torchW;
    mK = beta1 * mK + (1 - beta1) * gK;
    vK = beta2 * vK + (1 - beta2) * gK * gK;
    kerasW -= lr * std::sqrt(1 - std::pow(beta2, t)) /
              (1 - std::pow(beta1, t)) * mK / (std::sqrt(vK) + eps);
    mT = beta1 * mT + (1 - beta1) * gT;
    vT = beta2 * vT + (1 - beta2) * gT * gT;
    double scaled = eps / std::sqrt(1 - std::pow(beta2, t));
    torchW -= lr * (mT / (1 - std::pow(beta1, t))) /
              (std::sqrt(vT / (1 - std::pow(beta2, t))) + scaled);
  }
  EXPECT_NEAR(torchW, kerasW, 1e-12);

  rn_program adam = mnistLogistic();
  adam.optimizer = "adam";
  std::vector<rn_step_params> steps;
  hooks.steps = &steps;
  RunResult result =
      runTrain(adam, {"--data=" + data.path(), "--optimizer=adam",
                      "--steps=3", "--eps=1e-7", "--keras-epsilon"});
  ASSERT_EQ(result.status, 0) << result.err;
  ASSERT_EQ(steps.size(), 3u);
  for (int t = 1; t <= 3; ++t)
    EXPECT_FLOAT_EQ(steps[t - 1].epsilon,
                    float(1e-7 / std::sqrt(1 - std::pow(0.999, t))));
  steps.clear();
  ASSERT_EQ(runTrain(adam, {"--data=" + data.path(), "--optimizer=adam",
                            "--steps=2", "--eps=1e-7"})
                .status,
            0);
  EXPECT_FLOAT_EQ(steps[1].epsilon, 1e-7f);
}

TEST_F(TrainRun, StepsOverrideEpochs) {
  RunResult result = run({"--epochs=9", "--steps=15"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 15);
  EXPECT_EQ(*jsonNumber(result.lastLine(), "epochs"), 2);
  EXPECT_CONTAINS(result.out, "2 epoch(s) of 10 steps (15 steps)");
}

TEST_F(TrainRun, ValidationSplitIsHeldOutAndEvaluated) {
  RunResult result = run({"--epochs=2", "--validation-split=0.25"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "480 training images after holding out 160 for "
                              "validation");
  EXPECT_CONTAINS(result.out, "| val loss ");
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 14); // 7 per epoch
  EXPECT_GT(*jsonNumber(result.lastLine(), "val_accuracy"), 0.8);
  EXPECT_GE(*jsonNumber(result.lastLine(), "best_val_accuracy"),
            *jsonNumber(result.lastLine(), "val_accuracy"));
}

TEST_F(TrainRun, PlainProgressEveryNSteps) {
  RunResult result = run({"--epochs=1", "--log-every=5", "--progress=plain"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "epoch 1/1 step 5/10 loss ");
  EXPECT_CONTAINS(result.out, "epoch 1/1 step 10/10 loss ");
  EXPECT_EQ(result.out.find("step 3/10"), std::string::npos);
}

TEST_F(TrainRun, ProgressBarRedrawsOneLine) {
  RunResult result = run({"--epochs=1", "--progress=bar"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "\r\033[Kepoch 1/1 [");
  EXPECT_CONTAINS(result.out, "] 10/10 loss ");
  EXPECT_CONTAINS(result.out, " img/s ETA 0:00");
  EXPECT_EQ(result.lastLine().front(), '{');
}

TEST_F(TrainRun, NoProgressPrintsOnlyTheResult) {
  RunResult result = run({"--epochs=1", "--progress=none"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, result.lastLine() + "\n");
}

TEST_F(TrainRun, MetricsGoToJsonLines) {
  RunResult result =
      run({"--epochs=2", "--log-every=5", "--log-dir=" + (work / "logs"),
           "--validation-split=0.2"});
  ASSERT_EQ(result.status, 0) << result.err;
  std::ifstream file(work / "logs/metrics.jsonl");
  std::vector<std::string> steps, epochs;
  for (std::string line; std::getline(file, line);) {
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    (line.find("\"type\":\"step\"") != std::string::npos ? steps : epochs)
        .push_back(line);
  }
  ASSERT_EQ(epochs.size(), 2u);
  ASSERT_EQ(steps.size(), 16u / 5); // 8 steps per epoch, one record per 5
  EXPECT_EQ(*jsonNumber(steps[0], "step"), 5);
  for (const char *key : {"loss", "lr", "images_per_s", "epoch"})
    EXPECT_TRUE(jsonNumber(steps[0], key)) << key;
  for (const char *key :
       {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
        "test_loss", "test_accuracy", "seconds", "images_per_s", "lr"})
    EXPECT_TRUE(jsonNumber(epochs[1], key)) << key;
  EXPECT_EQ(*jsonNumber(epochs[1], "epoch"), 2);
  EXPECT_EQ(*jsonNumber(epochs[1], "test_accuracy"),
            *jsonNumber(result.lastLine(), "test_accuracy"));
}

TEST_F(TrainRun, ResumeAtAnEpochBoundaryMatchesAStraightRun) {
  std::vector<std::string> recipe = {
      "--augment=random_crop(28,pad=2),flip_horizontal",
      "--normalize=0.2/0.3",
      "--schedule=step",
      "--schedule-at=1",
      "--validation-split=0.1",
      "--seed=5"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), recipe.begin(), recipe.end());
    return args;
  };
  std::string straight = work / "straight.ckpt", resumed = work / "b.ckpt";
  ASSERT_EQ(run(with({"--epochs=2", "--checkpoint=" + straight})).status, 0);
  ASSERT_EQ(run(with({"--epochs=1", "--checkpoint=" + resumed})).status, 0);
  EXPECT_EQ(readCheckpoint(resumed).info.state.step, 9);
  RunResult second = run(
      with({"--epochs=2", "--resume=" + resumed, "--checkpoint=" + resumed}));
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_CONTAINS(second.out, "resumed from " + resumed + " at step 9");
  EXPECT_EQ(*jsonNumber(second.lastLine(), "steps"), 18);
  expectSameVariables(straight, resumed);
}

TEST_F(TrainRun, ResumeAfterCtrlCMidEpochMatchesAStraightRun) {
  std::vector<std::string> args = {"--epochs=3", "--schedule=cosine",
                                   "--warmup-epochs=1",
                                   "--augment=random_crop(28,pad=3)"};
  auto with = [&](std::string checkpoint, std::vector<std::string> extra = {}) {
    std::vector<std::string> all = args;
    all.push_back("--checkpoint=" + checkpoint);
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  std::string straight = work / "straight.ckpt", resumed = work / "r.ckpt";
  RunResult reference = run(with(straight));
  ASSERT_EQ(reference.status, 0) << reference.err;

  hooks.interruptAtStep = 14;
  RunResult stopped = run(with(resumed));
  EXPECT_EQ(stopped.status, 128 + SIGINT);
  EXPECT_CONTAINS(stopped.err, "train: interrupted (SIGINT) at step 14; "
                               "resume with "
                               "--resume=" +
                                   resumed);
  Checkpoint saved = readCheckpoint(resumed);
  EXPECT_EQ(saved.info.state.step, 14);
  EXPECT_EQ(saved.info.state.epoch, 1);
  EXPECT_EQ(saved.info.state.batchInEpoch, 4);

  hooks.interruptAtStep = 0;
  RunResult finished = run(with(resumed, {"--resume=" + resumed}));
  ASSERT_EQ(finished.status, 0) << finished.err;
  EXPECT_EQ(*jsonNumber(finished.lastLine(), "steps"), 30);
  expectSameVariables(straight, resumed);
  EXPECT_EQ(*jsonNumber(finished.lastLine(), "test_accuracy"),
            *jsonNumber(reference.lastLine(), "test_accuracy"));
}

TEST_F(TrainRun, CtrlCWithoutCheckpointSaysHowToKeepProgress) {
  hooks.interruptAtStep = 3;
  RunResult result = run({"--epochs=2"});
  EXPECT_EQ(result.status, 128 + SIGINT);
  EXPECT_CONTAINS(result.err, "interrupted (SIGINT) at step 3; pass "
                              "--checkpoint=PATH to keep progress");
}

TEST_F(TrainRun, SigtermInTheLastStepOfAnEpochResumesExactly) {
  std::string straight = work / "straight.ckpt", resumed = work / "r.ckpt";
  ASSERT_EQ(run({"--epochs=2", "--checkpoint=" + straight}).status, 0);
  hooks.interruptAtStep = 10; // the last of epoch 1
  hooks.interruptSignal = SIGTERM;
  RunResult stopped = run({"--epochs=2", "--checkpoint=" + resumed});
  EXPECT_EQ(stopped.status, 128 + SIGTERM);
  EXPECT_CONTAINS(stopped.err, "train: interrupted (SIGTERM) at step 10");
  TrainingState saved = readCheckpoint(resumed).info.state;
  EXPECT_EQ(saved.step, 10);
  EXPECT_EQ(saved.epoch, 1);
  EXPECT_EQ(saved.batchInEpoch, 0);
  hooks = {};
  RunResult finished = run(
      {"--epochs=2", "--resume=" + resumed, "--checkpoint=" + resumed});
  ASSERT_EQ(finished.status, 0) << finished.err;
  expectSameVariables(straight, resumed);
}

TEST_F(TrainRun, ResumeNeedsTheSameTrajectoryFlags) {
  std::string path = work / "a.ckpt";
  ASSERT_EQ(run({"--epochs=2", "--checkpoint=" + path}).status, 0);
  RunResult result = run({"--epochs=2", "--resume=" + path, "--seed=3"});
  EXPECT_EQ(result.status, 1);
  EXPECT_CONTAINS(result.err, "was made with --seed=0, this run has --seed=3; "
                              "resume with --seed=0");
  result = run({"--epochs=2", "--resume=" + path, "--batch=32"});
  EXPECT_CONTAINS(result.err, "--batch=64");
  result = run({"--epochs=2", "--resume=" + path, "--lr=0.05",
                "--momentum=0.5", "--augment=flip_horizontal"});
  EXPECT_EQ(result.status, 1);
  EXPECT_CONTAINS(result.err,
                  "was made with --augment=none, this run has "
                  "--augment=flip_horizontal; --lr=0.02, this run has "
                  "--lr=0.05; --momentum=0.9, this run has --momentum=0.5; "
                  "resume with --augment=none --lr=0.02 --momentum=0.9");
  // The recipe's cosine schedule depends on the run's length.
  result = run({"--epochs=3", "--resume=" + path});
  EXPECT_CONTAINS(result.err, "--epochs=2, this run has --epochs=3");
  // Values written differently are the same value.
  result = run({"--epochs=2", "--resume=" + path, "--lr=2e-2", "--threads=2",
                "--progress=none", "--log-every=3"});
  EXPECT_EQ(result.status, 0) << result.err;
}

TEST_F(TrainRun, AStepScheduleRunMayBeExtendedOnResume) {
  std::string path = work / "a.ckpt";
  ASSERT_EQ(run({"--epochs=1", "--schedule=step", "--checkpoint=" + path})
                .status,
            0);
  RunResult result = run({"--epochs=2", "--schedule=step", "--resume=" + path});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 20);
}

TEST_F(TrainRun, ACosineWithAPeriodMayBeExtendedOnResume) {
  // Its cycles do not depend on the run's length; their period does.
  std::string path = work / "a.ckpt";
  ASSERT_EQ(run({"--epochs=1", "--cosine-period=1", "--checkpoint=" + path})
                .status,
            0);
  RunResult result =
      run({"--epochs=2", "--cosine-period=1", "--resume=" + path});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 20);
  result = run({"--epochs=2", "--cosine-period=2", "--resume=" + path});
  EXPECT_EQ(result.status, 1);
  EXPECT_CONTAINS(result.err,
                  "--cosine-period=1, this run has --cosine-period=2");
}

TEST_F(TrainRun, ResumeNeedsTheSameBuild) {
  std::string path = work / "a.ckpt";
  ASSERT_EQ(run({"--epochs=2", "--checkpoint=" + path}).status, 0);
  rn_program rebuilt = mnistLogistic();
  rebuilt.fingerprint = "0123456789abcdef";
  RunResult result = runTrain(
      rebuilt, {"--data=" + data.path(), "--epochs=2", "--resume=" + path});
  EXPECT_EQ(result.status, 1);
  EXPECT_CONTAINS(result.err,
                  "was made by another build of model logistic_mnist: its "
                  "planned training step (layers, fusion, memory plan, "
                  "compiled batch, kernel scheduler) differs (fingerprint "
                  "logistic there, 0123456789abcdef here)");
  rebuilt = mnistLogistic();
  rebuilt.target = "x86-64-linux-opencl";
  result = runTrain(rebuilt, {"--data=" + data.path(), "--epochs=2",
                              "--resume=" + path});
  EXPECT_CONTAINS(result.err, "was trained by a build for host, this program "
                              "is built for x86-64-linux-opencl");
  // Evaluating needs only the same variables.
  result = runTrain(rebuilt, {"--data=" + data.path(), "--eval-only",
                              "--resume=" + path});
  EXPECT_EQ(result.status, 0) << result.err;
}

TEST_F(TrainRun, CheckpointEveryNStepsKeepsTheLastK) {
  std::string path = work / "k.ckpt";
  RunResult result = run({"--epochs=2", "--checkpoint=" + path,
                          "--checkpoint-every=3", "--keep=20"});
  ASSERT_EQ(result.status, 0) << result.err;
  // Every 3 steps inside the epochs, and at both ends of epochs.
  std::vector<int64_t> steps;
  for (int i = 0; i < 20; ++i) {
    std::string kept = i == 0 ? path : path + "." + std::to_string(i);
    if (!std::filesystem::exists(kept))
      break;
    steps.push_back(readCheckpoint(kept).info.state.step);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{20, 18, 15, 12, 10, 9, 6, 3}));

  std::string few = work / "few.ckpt";
  ASSERT_EQ(run({"--epochs=2", "--checkpoint=" + few, "--checkpoint-every=3",
                 "--keep=2"})
                .status,
            0);
  EXPECT_EQ(readCheckpoint(few).info.state.step, 20);
  EXPECT_EQ(readCheckpoint(few + ".1").info.state.step, 18);
  EXPECT_FALSE(std::filesystem::exists(few + ".2"));
  for (const auto &entry : std::filesystem::directory_iterator(work.path()))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos)
        << entry.path();
}

TEST_F(TrainRun, CheckpointMinutesSavesWhenTheTimeHasPassed) {
  std::string path = work / "m.ckpt";
  // A time that has always passed: a save after every step.
  RunResult result = run({"--epochs=1", "--checkpoint=" + path,
                          "--checkpoint-minutes=1e-9", "--keep=12"});
  ASSERT_EQ(result.status, 0) << result.err;
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(readCheckpoint(i == 0 ? path : path + "." + std::to_string(i))
                  .info.state.step,
              10 - i);
  EXPECT_FALSE(std::filesystem::exists(path + ".10"));
}

TEST_F(TrainRun, SaveBestKeepsTheBestValidationAccuracy) {
  std::string best = work / "best.ckpt";
  RunResult result = run({"--epochs=4", "--validation-split=0.2",
                          "--save-best=" + best, "--lr=0.5"});
  ASSERT_EQ(result.status, 0) << result.err;
  Checkpoint saved = readCheckpoint(best);
  EXPECT_EQ(saved.info.state.bestValAccuracy,
            *jsonNumber(result.lastLine(), "best_val_accuracy"));
  EXPECT_CONTAINS(result.out, "best validation accuracy so far");

  result = run({"--epochs=1", "--save-best=" + best});
  EXPECT_EQ(result.status, ExitUsage);
  EXPECT_CONTAINS(result.err, "add --validation-split");
  result = run({"--epochs=1", "--validation-split=0.1",
                "--checkpoint=" + best, "--save-best=" + best});
  EXPECT_EQ(result.status, ExitUsage);
  EXPECT_CONTAINS(result.err, "must be another file than --checkpoint");
  result = run({"--epochs=1", "--keep=3"});
  EXPECT_EQ(result.status, ExitUsage);
  EXPECT_CONTAINS(result.err, "--keep=3: needs --checkpoint=PATH");
}

TEST_F(TrainRun, AnUnwritableCheckpointPlaceFailsBeforeTraining) {
  std::string file = work / "file";
  writeFile(file, {'x'});
  RunResult result = run({"--epochs=1", "--checkpoint=" + file + "/x.ckpt"});
  EXPECT_EQ(result.status, ExitFailure);
  EXPECT_CONTAINS(result.err, "cannot create the checkpoint directory " + file);
  EXPECT_EQ(result.out.find("epoch 1/"), std::string::npos) << result.out;
}

TEST_F(TrainRun, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
  std::string path = work / "c.ckpt";
  hooks.nanAtStep = 15;
  RunResult result = run({"--epochs=3", "--checkpoint=" + path});
  EXPECT_EQ(result.status, ExitDiverged);
  EXPECT_CONTAINS(result.err, "the loss is nan at step 15: training diverged "
                              "and stopped. The last good checkpoint, " +
                                  path +
                                  ", is kept. Try a lower learning "
                                  "rate, e.g. --lr=0.002.");
  EXPECT_EQ(readCheckpoint(path).info.state.step, 10);
  EXPECT_EQ(result.out.find("\"test_accuracy\""), std::string::npos);
}

TEST_F(TrainRun, RealDivergenceIsCaught) {
  // Weights of ~1e36 overflow the logits within two steps.
  RunResult result = run({"--epochs=2", "--lr=1e38"});
  EXPECT_EQ(result.status, ExitDiverged);
  EXPECT_CONTAINS(result.err, "training diverged and stopped");
  EXPECT_CONTAINS(result.err, "--lr=1e+37");
}

/// The epoch records of a run's metrics.jsonl.
std::vector<std::string> epochRecords(const std::string &dir) {
  std::ifstream file(dir + "/metrics.jsonl");
  std::vector<std::string> epochs;
  for (std::string line; std::getline(file, line);)
    if (line.find("\"type\":\"epoch\"") != std::string::npos)
      epochs.push_back(line);
  return epochs;
}

TEST_F(TrainRun, StepsPerEpochSplitsTheSameStreamOfBatches) {
  // 10 batches a pass; epochs of 4 steps cut across passes without
  // changing what each step sees.
  std::string short_ = work / "short.ckpt", plain = work / "plain.ckpt";
  RunResult result =
      run({"--epochs=5", "--steps-per-epoch=4", "--checkpoint=" + short_,
           "--augment=random_crop(28,pad=2)", "--log-dir=" + (work / "a")});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "training: 5 epoch(s) of 4 steps (20 steps)");
  EXPECT_CONTAINS(result.out, "epoch 5/5: train loss");
  EXPECT_EQ(epochRecords(work / "a").size(), 5u);
  ASSERT_EQ(run({"--steps=20", "--checkpoint=" + plain,
                 "--augment=random_crop(28,pad=2)"})
                .status,
            0);
  expectSameVariables(short_, plain);
}

TEST_F(TrainRun, ValidationStepsEvaluateTheFirstBatches) {
  RunResult result = run({"--epochs=1", "--validation-split=0.25",
                          "--validation-steps=1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "(first 64 images)");
}

TEST_F(TrainRun, EarlyStoppingStopsAndRestoresTheBestEpoch) {
  // Accuracy never rises by more than 1: epoch 1 is the best, and patience
  // 2 stops after epoch 3.
  std::vector<std::string> stop = {"--schedule=constant",
                                   "--early-stopping=accuracy",
                                   "--early-stopping-min-delta=1",
                                   "--early-stopping-patience=2",
                                   "--restore-best"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), stop.begin(), stop.end());
    return args;
  };
  std::string stopped = work / "stopped.ckpt", first = work / "first.ckpt";
  RunResult result =
      run(with({"--epochs=10", "--checkpoint=" + stopped}));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "early stopping: accuracy has not improved "
                              "for 2 epoch(s)");
  EXPECT_CONTAINS(result.out, "stopping after epoch 3");
  EXPECT_CONTAINS(result.out, "restored the weights of epoch 1");
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 30);
  EXPECT_EQ(*jsonNumber(result.lastLine(), "epochs"), 3);
  EXPECT_EQ(*jsonNumber(result.lastLine(), "best_epoch"), 1);
  EXPECT_CONTAINS(result.lastLine(), "\"stopped_early\":true");

  // The weights are epoch 1's, and so is the final test accuracy.
  RunResult one =
      run({"--epochs=1", "--schedule=constant", "--checkpoint=" + first});
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(*jsonNumber(result.lastLine(), "test_accuracy"),
            *jsonNumber(one.lastLine(), "test_accuracy"));
  Checkpoint a = readCheckpoint(stopped), b = readCheckpoint(first);
  for (size_t i = 0; i < a.variables.size(); ++i) {
    if (a.variables[i].role != RN_OPTIMIZER_SLOT) {
      EXPECT_EQ(a.variables[i].values, b.variables[i].values)
          << a.variables[i].name;
    }
  }
  EXPECT_TRUE(a.info.state.callbacks.stopped);

  // A run stopped after epoch 2 and resumed stops where the straight one
  // did, with the same weights; a resumed finished run trains no more.
  std::string resumed = work / "resumed.ckpt";
  ASSERT_EQ(run(with({"--epochs=2", "--checkpoint=" + resumed})).status, 0);
  EXPECT_EQ(readCheckpoint(resumed).info.bestWeights.size(), 3u);
  RunResult second = run(
      with({"--epochs=10", "--resume=" + resumed, "--checkpoint=" + resumed}));
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_CONTAINS(second.out, "stopping after epoch 3");
  expectSameVariables(stopped, resumed);
  RunResult again = run(
      with({"--epochs=10", "--resume=" + resumed, "--checkpoint=" + resumed}));
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(*jsonNumber(again.lastLine(), "steps"), 30);
  EXPECT_EQ(*jsonNumber(again.lastLine(), "test_accuracy"),
            *jsonNumber(result.lastLine(), "test_accuracy"));
}

TEST_F(TrainRun, ReduceOnPlateauLowersTheRate) {
  RunResult result =
      run({"--epochs=4", "--lr=0.1", "--schedule=constant",
           "--reduce-lr-on-plateau=accuracy",
           "--plateau-min-delta=1", "--plateau-patience=1",
           "--plateau-factor=0.5", "--log-dir=" + (work / "logs")});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "reduce-lr-on-plateau: accuracy has not "
                              "improved for 1 epoch(s); learning rate 0.1 "
                              "-> 0.05");
  std::vector<std::string> epochs = epochRecords(work / "logs");
  ASSERT_EQ(epochs.size(), 4u);
  // Each record has the rate its epoch ended with.
  std::vector<double> rates;
  for (const std::string &epoch : epochs)
    rates.push_back(*jsonNumber(epoch, "lr"));
  EXPECT_EQ(rates, (std::vector<double>{0.1, 0.1, 0.05, 0.025}));
}

TEST_F(TrainRun, TrainsOnImageFolders) {
  // Ten classes of colour PNGs and JPEGs of several sizes, for a 28x28 gray
  // model: each is resized and made gray once, when loaded.
  TempDir folders;
  unsigned seed = 7;
  for (int k = 0; k < 10; ++k)
    for (int i = 0; i < 4; ++i) {
      int width = 20 + i * 7, height = 30 - i * 3;
      std::vector<uint8_t> pixels(size_t(width * height * 3));
      for (uint8_t &v : pixels)
        v = uint8_t(k * 25 + rand_r(&seed) % 20);
      std::string split = i == 3 ? "test" : "train";
      std::string dir = folders / fmt::format("{}/class{}", split, k);
      std::filesystem::create_directories(dir);
      writeFile(dir + fmt::format("/{}.{}", i, i == 1 ? "jpg" : "png"),
                i == 1 ? jpegFile(width, height, pixels)
                       : pngFile(width, height, PNG_FORMAT_RGB, pixels));
    }
  RunResult result =
      runTrain(mnistLogistic(), {"--data=" + folders.path(), "--batch=5",
                                 "--epochs=3", "--dataset=folder",
                                 "--normalize=none", "--lr=0.5"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "data: image folders in " + folders.path() +
                                  ": 30 training images, 10 test images");
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 18);

  // Another size is --resize's business.
  result = runTrain(mnistLogistic(), {"--data=" + folders.path(), "--batch=5",
                                      "--dataset=folder", "--resize=32x32"});
  EXPECT_EQ(result.status, ExitFailure);
  EXPECT_CONTAINS(result.err, "holds image folders images of 32x32x1 (HxWxC) "
                              "after --resize=32x32");
}

TEST_F(TrainRun, ResizeIsOnceWhenLoading) {
  // The 28x28 images grown to 32x32, then cropped back to 28x28.
  RunResult result = run({"--epochs=1", "--resize=32x32",
                          "--augment=random_crop(28)"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "200 test images, resized to 32x32 when loaded");
  EXPECT_EQ(run({"--resize=28"}).status, ExitUsage);
}

TEST_F(TrainRun, EvalOnlyReproducesTheTestResult) {
  std::string path = work / "e.ckpt";
  RunResult trained = run({"--epochs=1", "--checkpoint=" + path});
  ASSERT_EQ(trained.status, 0) << trained.err;
  RunResult evaluated = run({"--eval-only", "--resume=" + path, "--batch=48"});
  ASSERT_EQ(evaluated.status, 0) << evaluated.err;
  std::string last = evaluated.lastLine();
  EXPECT_EQ(*jsonNumber(last, "test_images"), 200);
  EXPECT_EQ(*jsonNumber(last, "step"), 10);
  EXPECT_EQ(*jsonNumber(last, "test_accuracy"),
            *jsonNumber(trained.lastLine(), "test_accuracy"));
  EXPECT_NEAR(*jsonNumber(last, "test_loss"),
              *jsonNumber(trained.lastLine(), "test_loss"), 1e-6);
}

TEST_F(TrainRun, BenchmarkTimesStepsOnSyntheticData) {
  std::vector<rn_step_params> steps;
  hooks.steps = &steps;
  RunResult result = runTrain(
      mnistLogistic(), {"--benchmark", "--steps=6", "--warmup=2", "--batch=32",
                        "--threads=1", "--data=/no/such/dir"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(steps.size(), 8u);
  std::string last = result.lastLine();
  EXPECT_EQ(*jsonNumber(last, "batch"), 32);
  EXPECT_EQ(*jsonNumber(last, "threads"), 1);
  EXPECT_EQ(*jsonNumber(last, "steps"), 6);
  EXPECT_GT(*jsonNumber(last, "images_per_s"), 0);
  EXPECT_LE(*jsonNumber(last, "step_ms_p10"),
            *jsonNumber(last, "step_ms_median"));
  EXPECT_LE(*jsonNumber(last, "step_ms_median"),
            *jsonNumber(last, "step_ms_p90"));
  EXPECT_CONTAINS(result.out, "step time: median ");
}

TEST(TrainCifar, TrainsOnCifarFilesWithTheRecipesAugmentation) {
  TempDir data;
  writeCifar10(data.path(), 40);
  RunResult result = runTrain(
      cifarLogistic(), {"--data=" + data.path(), "--epochs=2", "--batch=50"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.out, "data: CIFAR-10 binary in " + data.path() +
                                  ": 200 training images, 40 test images");
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 8);
}
