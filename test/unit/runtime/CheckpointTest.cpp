//===- CheckpointTest.cpp - round trips and mismatches --------------------===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Checkpoint.h"
#include "resnetrt/Error.h"
#include "resnetrt/File.h"
#include "resnetrt/Init.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

std::string loadError(const std::string &path, const rn_program &program) {
  Arena arena(program, 1);
  try {
    loadCheckpoint(path, program, arena);
  } catch (const Error &error) {
    EXPECT_EQ(error.exitCode(), ExitFailure);
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

CheckpointInfo sampleInfo(const rn_program &program) {
  CheckpointInfo info;
  info.model = program.model_name;
  info.optimizer = program.optimizer;
  info.target = program.target;
  info.fingerprint = program.fingerprint;
  info.flags = {{"seed", "11"}, {"batch", "32"}, {"augment", ""}};
  info.state.step = 123;
  info.state.epoch = 4;
  info.state.batchInEpoch = 3;
  info.state.epochLossSum = 1.5;
  info.state.epochCorrect = 77;
  info.state.epochImages = 96;
  info.state.bestValAccuracy = 0.625;
  return info;
}

/// The fixed region's variables, as bytes.
std::vector<uint8_t> variableBytes(const rn_program &program, Arena &arena) {
  std::vector<uint8_t> bytes;
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const auto *data =
        reinterpret_cast<const uint8_t *>(arena.variable(program.variables[i]));
    bytes.insert(bytes.end(), data,
                 data + 4 * elementCount(program.variables[i]));
  }
  return bytes;
}

class CheckpointFile : public ::testing::Test {
protected:
  void SetUp() override {
    initVariables(program, 5, arena);
    saveCheckpoint(path, program, arena, sampleInfo(program));
  }
  const rn_program &program = mnistLogistic();
  Arena arena{program, 2};
  TempDir dir;
  std::string path = dir / "run/model.ckpt";
};

} // namespace

TEST_F(CheckpointFile, RoundTripsEveryVariableAndThePosition) {
  Checkpoint checkpoint = readCheckpoint(path);
  EXPECT_EQ(checkpoint.info.model, "logistic_mnist");
  EXPECT_EQ(checkpoint.info.target, "host");
  EXPECT_EQ(checkpoint.info.fingerprint, "logistic");
  EXPECT_EQ(checkpoint.info.flags, sampleInfo(program).flags);
  EXPECT_EQ(checkpoint.info.state.step, 123);
  EXPECT_EQ(checkpoint.info.state.epoch, 4);
  EXPECT_EQ(checkpoint.info.state.batchInEpoch, 3);
  EXPECT_EQ(checkpoint.info.state.epochCorrect, 77);
  EXPECT_EQ(checkpoint.info.state.bestValAccuracy, 0.625);
  ASSERT_EQ(checkpoint.variables.size(), 5u);
  EXPECT_EQ(checkpoint.variables[0].name, "dense.weight");
  EXPECT_EQ(checkpoint.variables[0].shape, (std::vector<int64_t>{10, 784}));
  EXPECT_EQ(checkpoint.variables[2].role, RN_OPTIMIZER_SLOT);
  EXPECT_EQ(checkpoint.variables[4].role, RN_STATE);
  EXPECT_TRUE(checkpoint.variables[4].shape.empty());

  Arena fresh(program, 2);
  CheckpointInfo info = loadCheckpoint(path, program, fresh);
  EXPECT_EQ(info.state.epochLossSum, 1.5);
  EXPECT_EQ(variableBytes(program, fresh), variableBytes(program, arena));
}

TEST_F(CheckpointFile, ReplacesAtomicallyAndLeavesNoTemporaryFile) {
  *arena.variable(program.variables[1]) = 9.0f;
  saveCheckpoint(path, program, arena, sampleInfo(program));
  EXPECT_EQ(readCheckpoint(path).variables[1].values[0], 9.0f);
  size_t files = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir / "run")) {
    EXPECT_EQ(entry.path().filename(), "model.ckpt");
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(CheckpointFile, DamageIsDetected) {
  std::vector<uint8_t> bytes = readWholeFile(path, "file");
  bytes[bytes.size() / 2] ^= 1;
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(path, program),
                  "checkpoint " + path + " is damaged");
  bytes.resize(bytes.size() / 3);
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(path, program), "is damaged");
  writeFile(path, {'h', 'e', 'l', 'l', 'o'});
  EXPECT_CONTAINS(loadError(path, program), "is not a resnetc checkpoint");
  EXPECT_CONTAINS(loadError(dir / "absent", program), "cannot open checkpoint");
}

TEST_F(CheckpointFile, ADirectoryOrNonFiniteValuesAreRefused) {
  EXPECT_CONTAINS(loadError(dir.path(), program),
                  "checkpoint " + dir.path() + " is a directory; name a file");
  *arena.variable(program.variables[0]) = std::nanf("");
  // saveCheckpoint itself does not judge values (train checks before).
  saveCheckpoint(path, program, arena, sampleInfo(program));
  EXPECT_CONTAINS(loadError(path, program),
                  "holds a NaN or infinity in dense.weight; train never saves "
                  "one, so the file is damaged");
}

TEST_F(CheckpointFile, AnotherModelIsRejected) {
  EXPECT_CONTAINS(loadError(path, cifarLogistic()),
                  "checkpoint " + path +
                      " is for model logistic_mnist, but "
                      "this program is model logistic_cifar");
}

TEST_F(CheckpointFile, VariableMismatchesAreListed) {
  rn_program changed = program;
  std::vector<rn_variable> variables(program.variables,
                                     program.variables + program.num_variables);
  variables[0].shape[1] = 100;
  variables.pop_back();
  changed.variables = variables.data();
  changed.num_variables = int32_t(variables.size());
  std::string message = loadError(path, changed);
  EXPECT_CONTAINS(message, "does not match model logistic_mnist");
  EXPECT_CONTAINS(message, "dense.weight has shape [10,784] and role 0 there "
                           "but [10,100] and role 0 here");
  EXPECT_CONTAINS(message, "loss.running_mean is not in this model");
}

TEST_F(CheckpointFile, UnwritablePathIsAnError) {
  try {
    saveCheckpoint("/proc/no/such/dir/x.ckpt", program, arena,
                   sampleInfo(program));
    FAIL() << "no error";
  } catch (const Error &error) {
    EXPECT_CONTAINS(error.what(), "cannot write checkpoint");
  }
}

TEST_F(CheckpointFile, AFullDiskLeavesThePreviousCheckpointAndNoPartialFile) {
  std::vector<uint8_t> before = readWholeFile(path, "file");
  // A file size limit fails writes as a full disk does (EFBIG, not ENOSPC).
  struct rlimit saved;
  getrlimit(RLIMIT_FSIZE, &saved);
  struct rlimit limit = saved;
  limit.rlim_cur = 4096;
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  *arena.variable(program.variables[1]) = 9.0f;
  std::string message;
  try {
    saveCheckpoint(path, program, arena, sampleInfo(program), 3);
  } catch (const Error &error) {
    message = error.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  EXPECT_CONTAINS(message, "cannot write checkpoint " + path +
                               ": File too large (the previous checkpoint, "
                               "if any, is unchanged)");
  EXPECT_EQ(readWholeFile(path, "file"), before);
  for (const auto &entry : std::filesystem::directory_iterator(dir / "run"))
    EXPECT_EQ(entry.path().filename(), "model.ckpt");
}

TEST_F(CheckpointFile, PreparingRemovesOnlyTemporariesOfDeadProcesses) {
  pid_t child = fork();
  if (child == 0)
    _exit(0);
  waitpid(child, nullptr, 0);
  std::string dead = path + ".tmp." + std::to_string(child);
  std::string alive = path + ".tmp." + std::to_string(getppid());
  writeFile(dead, {'x'});
  writeFile(alive, {'x'});
  prepareCheckpointPath(path);
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(alive));
  EXPECT_TRUE(std::filesystem::exists(path));
  try {
    prepareCheckpointPath(path + "/x.ckpt");
    FAIL() << "no error";
  } catch (const Error &error) {
    EXPECT_CONTAINS(error.what(), "cannot create the checkpoint directory");
  }
}

TEST_F(CheckpointFile, HostileLengthsAreRefusedWithoutHugeAllocations) {
  // A string length of 4 GiB with a checksum that matches.
  std::vector<uint8_t> bytes = readWholeFile(path, "file");
  bytes.resize(bytes.size() - 4);
  size_t modelLength = 8 + 4; // magic, version
  bytes[modelLength + 3] = 0xff;
  uint32_t crc = uint32_t(crc32_z(crc32_z(0, nullptr, 0), bytes.data(),
                                  bytes.size()));
  for (int i = 0; i < 4; ++i)
    bytes.push_back(uint8_t(crc >> (8 * i)));
  writeFile(path, bytes);
  EXPECT_CONTAINS(loadError(path, program), "is truncated");
}

TEST(CheckpointDerived, DerivedVariablesAreNeitherSavedNorLoaded) {
  const rn_program &folded = mnistLogisticFolded(), &plain = mnistLogistic();
  TempDir dir;
  Arena trained(folded, 1);
  initVariables(folded, 5, trained);
  ASSERT_EQ(folded.prepare_eval(trained.data(), 0), 0);
  std::string foldedPath = dir / "folded.ckpt", plainPath = dir / "plain.ckpt";
  saveCheckpoint(foldedPath, folded, trained, sampleInfo(folded));
  std::vector<StoredVariable> stored = readCheckpoint(foldedPath).variables;
  ASSERT_EQ(stored.size(), 5u);
  for (const StoredVariable &variable : stored)
    EXPECT_NE(variable.role, RN_DERIVED) << variable.name;

  // Both programs place the saved variables alike, so `plain` reads them
  // from either arena.
  Arena plainArena(plain, 1);
  loadCheckpoint(foldedPath, plain, plainArena);
  EXPECT_EQ(variableBytes(plain, plainArena), variableBytes(plain, trained));

  saveCheckpoint(plainPath, plain, plainArena, sampleInfo(plain));
  Arena foldedArena(folded, 1);
  loadCheckpoint(plainPath, folded, foldedArena);
  EXPECT_EQ(variableBytes(plain, foldedArena), variableBytes(plain, trained));
  for (int32_t i = plain.num_variables; i < folded.num_variables; ++i) {
    const rn_variable &derived = folded.variables[i];
    const float *values = foldedArena.variable(derived);
    EXPECT_TRUE(std::all_of(values, values + elementCount(derived),
                            [](float v) { return v == 0; }))
        << derived.name << " was loaded";
  }
}
