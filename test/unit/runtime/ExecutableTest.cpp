//===- ExecutableTest.cpp - a train linked as resnetc links one -----------===//
//
// logistic-train is a program table, libresnetrt.a and a Halide runtime
// object, nothing else: the archive's main() is the one that runs; and
// logistic-classify the same table with libresnetrt-classify.a. These tests
// run them as processes, for what only a process shows: exit statuses, and
// SIGINT from outside.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "resnetrt/Checkpoint.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RESNETC_TEST_ASAN
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(RESNETC_TEST_ASAN)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

struct Process {
  int status; ///< exit status, or 128 + signal
  std::string out; ///< stdout and stderr
};

/// Runs `executable` with `args`; `onLine` sees each line of its output as
/// it comes and may signal the process.
Process runProcess(
    const char *executable, const std::vector<std::string> &args,
    const std::function<void(pid_t, const std::string &)> &onLine = nullptr) {
  int pipeFds[2];
  EXPECT_EQ(pipe(pipeFds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
  std::vector<std::string> all = {executable};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char *> argv;
  for (std::string &arg : all)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid;
  EXPECT_EQ(
      posix_spawn(&pid, executable, &actions, nullptr, argv.data(), environ),
      0);
  posix_spawn_file_actions_destroy(&actions);
  close(pipeFds[1]);

  Process result{0, ""};
  FILE *out = fdopen(pipeFds[0], "r");
  char *line = nullptr;
  size_t capacity = 0;
  while (getline(&line, &capacity, out) > 0) {
    result.out += line;
    if (onLine)
      onLine(pid, line);
  }
  free(line);
  fclose(out);
  int status;
  waitpid(pid, &status, 0);
  result.status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Process runTrainProcess(
    const std::vector<std::string> &args,
    const std::function<void(pid_t, const std::string &)> &onLine = nullptr) {
  return runProcess(LOGISTIC_TRAIN, args, onLine);
}

Process runClassifyProcess(const std::vector<std::string> &args) {
  return runProcess(LOGISTIC_CLASSIFY, args);
}

std::string lastJson(const Process &process) {
  size_t brace = process.out.rfind('{');
  return brace == std::string::npos ? "" : process.out.substr(brace);
}

} // namespace

TEST(ExecutableTest, HelpAndBadFlags) {
  Process help = runTrainProcess({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--benchmark"), std::string::npos);
  EXPECT_EQ(runTrainProcess({"--bogus"}).status, 2);
  EXPECT_EQ(runTrainProcess({"--data=/no/such/dir"}).status, 1);
}

TEST(ExecutableTest, Benchmark) {
  Process run = runTrainProcess({"--benchmark", "--steps=3", "--warmup=1"});
  ASSERT_EQ(run.status, 0);
  std::string last = run.out.substr(run.out.rfind('{'));
  EXPECT_TRUE(jsonNumber(last, "images_per_s"));
  EXPECT_EQ(*jsonNumber(last, "batch"), 64);
}

/// What a real process does on each stopping signal: checkpoint at the
/// next step boundary, exit with 128 + the signal's number.
class SignalTest : public ::testing::TestWithParam<int> {};

TEST_P(SignalTest, SavesACheckpointAndExitsWith128PlusTheSignal) {
  const int signal = GetParam();
  TempDir data;
  writeMnist(data.path(), 640, 100, false);
  std::string checkpoint = data / "run.ckpt";
  bool sent = false;
  Process run = runTrainProcess(
      {"--data=" + data.path(), "--epochs=100000", "--progress=plain",
       "--log-every=1", "--checkpoint=" + checkpoint},
      [&](pid_t pid, const std::string &line) {
        if (!sent && line.find("step 3/10") != std::string::npos) {
          kill(pid, signal);
          sent = true;
        }
      });
  ASSERT_TRUE(sent);
  EXPECT_EQ(run.status, 128 + signal);
  EXPECT_NE(run.out.find("resume with --resume=" + checkpoint),
            std::string::npos)
      << run.out;
  EXPECT_GE(readCheckpoint(checkpoint).info.state.step, 3);
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalTest,
                         ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const ::testing::TestParamInfo<int> &info) {
                           return std::string(sigabbrev_np(info.param));
                         });

TEST(ExecutableTest, ResidentMemoryStaysFlatOverManyEpochs) {
  if (kAddressSanitizer)
    GTEST_SKIP() << "AddressSanitizer's quarantine keeps freed memory "
                    "resident; LeakSanitizer checks for leaks in this build";
  TempDir data;
  writeMnist(data.path(), 640, 100, false);
  Process run = runTrainProcess({"--data=" + data.path(), "--epochs=60",
                                 "--progress=none",
                                 "--checkpoint=" + (data / "run.ckpt"),
                                 "--log-dir=" + data.path()});
  ASSERT_EQ(run.status, 0) << run.out;
  std::ifstream metrics(data / "metrics.jsonl");
  std::vector<double> rss;
  for (std::string line; std::getline(metrics, line);)
    if (line.find("\"type\":\"epoch\"") != std::string::npos)
      rss.push_back(*jsonNumber(line, "rss_mib"));
  ASSERT_EQ(rss.size(), 60u);
  // Everything is allocated by the end of the first epochs: what a leak of
  // a batch, a checkpoint or an evaluation per epoch would add shows here.
  EXPECT_GT(rss[4], 1.0);
  EXPECT_LE(rss.back() - rss[4], 0.5) << "MiB grown from epoch 5 to 60";
}

TEST(ExecutableTest, ClassifyHelpAndBadFlags) {
  Process help = runClassifyProcess({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_EQ(help.out.rfind("Usage: classify", 0), 0u);
  EXPECT_EQ(runClassifyProcess({"--bogus"}).status, 2);
  EXPECT_EQ(runClassifyProcess({}).status, 2); // no --checkpoint
  EXPECT_EQ(
      runClassifyProcess({"--checkpoint=/no/such.ckpt", "--data=/no/such/dir"})
          .status,
      1);
}

TEST(ExecutableTest, ClassifyBenchmark) {
  Process run = runClassifyProcess({"--benchmark", "--steps=3", "--warmup=1"});
  ASSERT_EQ(run.status, 0);
  std::string last = lastJson(run);
  EXPECT_TRUE(jsonNumber(last, "images_per_s"));
  EXPECT_EQ(*jsonNumber(last, "batch"), 64);
  EXPECT_EQ(*jsonNumber(last, "kernels_per_step"), 1);
}

TEST(ExecutableTest, ClassifyAgreesWithTrain) {
  TempDir data;
  writeMnist(data.path(), 640, 100, false);
  std::string checkpoint = data / "run.ckpt";
  Process train = runTrainProcess(
      {"--data=" + data.path(), "--epochs=1", "--checkpoint=" + checkpoint});
  ASSERT_EQ(train.status, 0);
  Process classify = runClassifyProcess(
      {"--data=" + data.path(), "--checkpoint=" + checkpoint});
  ASSERT_EQ(classify.status, 0);
  EXPECT_EQ(*jsonNumber(lastJson(classify), "accuracy"),
            *jsonNumber(lastJson(train), "test_accuracy"));
  EXPECT_EQ(*jsonNumber(lastJson(classify), "images"), 100);
}
