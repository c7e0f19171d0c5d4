//===- ClassifyTest.cpp - classify against train's evaluation -------------===//
//
// The data set of TrainTest (640 training, 200 test images of the MNIST
// format) and a checkpoint of one epoch of the logistic program; classify
// must count exactly the correct images train's evaluation counts.
//
//===----------------------------------------------------------------------===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include "resnetrt/Checkpoint.h"
#include "resnetrt/Error.h"
#include "resnetrt/Flags.h"

#include <gtest/gtest.h>

#include <png.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <cstdlib>
#include <numeric>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

class ClassifyRun : public ::testing::Test {
protected:
  void SetUp() override {
    writeMnist(data.path(), 640, 200, true);
    trained = runTrain(mnistLogistic(),
                       {"--data=" + data.path(), "--checkpoint=" + checkpoint});
    ASSERT_EQ(trained.status, 0) << trained.err;
  }
  void TearDown() override { hooks = {}; }

  /// Runs classify on the data set with `args` after the defaults.
  RunResult classify(std::vector<std::string> args,
                     const rn_program &program = mnistLogistic()) {
    args.insert(args.begin(), "--data=" + data.path());
    return runClassify(program, args);
  }

  TempDir data, work;
  std::string checkpoint = work / "model.ckpt";
  RunResult trained;
};

/// The usage error of classify with `args`, which prints nothing else.
std::string flagError(const std::vector<std::string> &args) {
  RunResult result = runClassify(mnistLogistic(), args);
  EXPECT_EQ(result.status, ExitUsage);
  EXPECT_EQ(result.out, "");
  return result.err;
}

} // namespace

TEST_F(ClassifyRun, CountsWhatTrainsEvaluationCounts) {
  RunResult evalOnly =
      runTrain(mnistLogistic(), {"--data=" + data.path(), "--eval-only",
                                 "--resume=" + checkpoint});
  ASSERT_EQ(evalOnly.status, 0) << evalOnly.err;
  // Another batch than train's: the last one is short (200 = 4 x 48 + 8).
  RunResult result = classify({"--checkpoint=" + checkpoint, "--batch=48"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.err, "");

  std::string last = result.lastLine();
  double accuracy = *jsonNumber(last, "accuracy");
  EXPECT_EQ(accuracy, *jsonNumber(trained.lastLine(), "test_accuracy"));
  EXPECT_EQ(accuracy, *jsonNumber(evalOnly.lastLine(), "test_accuracy"));
  EXPECT_GT(accuracy, 0.9);
  EXPECT_NEAR(*jsonNumber(last, "loss"),
              *jsonNumber(evalOnly.lastLine(), "test_loss"), 1e-6);
  EXPECT_EQ(*jsonNumber(last, "images"), 200);
  double correct = *jsonNumber(last, "correct");
  EXPECT_EQ(correct, std::round(accuracy * 200));
  EXPECT_GT(*jsonNumber(last, "images_per_s"), 0);
  EXPECT_CONTAINS(last, "\"model\":\"logistic_mnist\"");
  EXPECT_CONTAINS(last, "\"checkpoint\":\"" + checkpoint + "\"");
  EXPECT_CONTAINS(last, "\"split\":\"test\"");
  EXPECT_CONTAINS(result.out,
                  fmt::format("classify: {} on 200 test images of {}: loss ",
                              checkpoint, data.path()));
  EXPECT_CONTAINS(result.out, fmt::format("accuracy {:.2f}% ({} correct)\n",
                                          100 * accuracy, correct));
}

TEST_F(ClassifyRun, AFoldedProgramPreparesOnceAndAgrees) {
  std::string calls;
  hooks.calls = &calls;
  RunResult plain = classify({"--checkpoint=" + checkpoint});
  RunResult folded =
      classify({"--checkpoint=" + checkpoint}, mnistLogisticFolded());
  ASSERT_EQ(folded.status, 0) << folded.err;
  EXPECT_EQ(calls, "eeee" // plain: 4 batches of 64
                   "peeee");
  EXPECT_EQ(*jsonNumber(folded.lastLine(), "correct"),
            *jsonNumber(plain.lastLine(), "correct"));
}

TEST_F(ClassifyRun, TrainSplit) {
  RunResult result = classify(
      {"--checkpoint=" + checkpoint, "--split=train", "--progress=none"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, result.lastLine() + "\n");
  EXPECT_EQ(*jsonNumber(result.lastLine(), "images"), 640);
  EXPECT_CONTAINS(result.lastLine(), "\"split\":\"train\"");
}

TEST_F(ClassifyRun, CheckpointProblemsAreErrors) {
  RunResult missing = classify({"--checkpoint=" + (work / "absent.ckpt")});
  EXPECT_EQ(missing.status, ExitFailure);
  EXPECT_CONTAINS(missing.err, "classify: error: cannot open checkpoint");
  rn_program other = mnistLogistic();
  other.model_name = "other";
  RunResult otherModel = classify({"--checkpoint=" + checkpoint}, other);
  EXPECT_EQ(otherModel.status, ExitFailure);
  EXPECT_CONTAINS(otherModel.err, "classify: error: checkpoint " + checkpoint +
                                      " is for model logistic_mnist, but "
                                      "this program is model other");
}

TEST_F(ClassifyRun, ImagesGetTheirLikeliestClasses) {
  // Two gray 28x28 PNGs (no resize) and a colour JPEG of another size.
  std::vector<std::vector<uint8_t>> pixels;
  for (unsigned name : {11u, 12u}) {
    std::vector<uint8_t> p(28 * 28);
    unsigned seed = name;
    for (uint8_t &v : p)
      v = uint8_t(rand_r(&seed));
    writeFile(work / fmt::format("{}.png", name),
              pngFile(28, 28, PNG_FORMAT_GRAY, p));
    pixels.push_back(p);
  }
  writeFile(work / "c.jpg",
            jpegFile(40, 30, std::vector<uint8_t>(40 * 30 * 3, 128)));
  RunResult result = classify({"--checkpoint=" + checkpoint, "--image",
                               work / "11.png", work / "12.png",
                               "--image=" + (work / "c.jpg"), "--top=3"});
  ASSERT_EQ(result.status, 0) << result.err;
  std::string last = result.lastLine();
  EXPECT_EQ(*jsonNumber(last, "images"), 3);

  // The probabilities as the logistic model defines them, from the
  // checkpoint's weights: softmax(W x + b), x the gray value (the weights
  // of tf.image.rgb_to_grayscale) normalised as the recipe says.
  Checkpoint saved = readCheckpoint(checkpoint);
  const std::vector<float> *w = nullptr, *b = nullptr;
  for (const StoredVariable &v : saved.variables) {
    if (v.name == "dense.weight")
      w = &v.values;
    if (v.name == "dense.bias")
      b = &v.values;
  }
  ASSERT_TRUE(w && b);
  for (size_t image = 0; image < 2; ++image) {
    std::vector<double> z(10);
    for (int k = 0; k < 10; ++k) {
      z[k] = (*b)[k];
      for (int i = 0; i < 784; ++i) {
        double gray = (0.2989 + 0.5870 + 0.1140) * pixels[image][i] / 255;
        z[k] += (*w)[k * 784 + i] * (gray - 0.286) / 0.353;
      }
    }
    double top = *std::max_element(z.begin(), z.end()), sum = 0;
    for (double v : z)
      sum += std::exp(v - top);
    std::vector<int> order(10);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int a, int c) { return z[a] > z[c]; });
    // The file's entry in the JSON line, its three classes in order.
    std::string file = work / fmt::format("{}.png", 11 + image);
    size_t at = last.find("{\"file\":\"" + file + "\"");
    ASSERT_NE(at, std::string::npos) << last;
    std::string entry = last.substr(at, last.find("]}", at) - at);
    for (int i = 0; i < 3; ++i) {
      size_t classAt = entry.find("{\"class\":");
      ASSERT_NE(classAt, std::string::npos) << entry;
      entry = entry.substr(classAt + 1);
      EXPECT_EQ(*jsonNumber("{" + entry, "class"), order[i]) << file;
      EXPECT_NEAR(*jsonNumber("{" + entry, "probability"),
                  std::exp(z[order[i]] - top) / sum, 1e-5)
          << file;
    }
    EXPECT_CONTAINS(result.out, file + ": ");
  }
  EXPECT_CONTAINS(result.out, (work / "c.jpg") + ": ");
}

TEST_F(ClassifyRun, ClassNamesComeFromTheModelOrTheFolders) {
  writeFile(work / "a.png",
            pngFile(28, 28, PNG_FORMAT_GRAY, std::vector<uint8_t>(784, 60)));
  // The DSL's `classes [...]`, in the program table.
  rn_program named = mnistLogistic();
  named.class_names = "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\n"
                      "eight\nnine";
  RunResult result = classify(
      {"--checkpoint=" + checkpoint, "--image=" + (work / "a.png"), "--top=10"},
      named);
  ASSERT_EQ(result.status, 0) << result.err;
  for (const char *name : {"zero", "five", "nine"})
    EXPECT_CONTAINS(result.lastLine(), fmt::format("\"name\":\"{}\"", name));
  // Image folders' class folders.
  TempDir folders;
  for (int k = 0; k < 10; ++k)
    for (const char *split : {"train", "test"}) {
      std::string dir = folders / fmt::format("{}/kind{}", split, k);
      std::filesystem::create_directories(dir);
      writeFile(dir + "/1.png", pngFile(28, 28, PNG_FORMAT_GRAY,
                                        std::vector<uint8_t>(784, 9)));
    }
  result = classify({"--checkpoint=" + checkpoint, "--data=" + folders.path(),
                     "--image=" + (work / "a.png"), "--top=10"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_CONTAINS(result.lastLine(), "\"name\":\"kind7\"");
}

TEST_F(ClassifyRun, ANonImageIsNamed) {
  writeFile(work / "notes.png", {'h', 'i', '\n'});
  RunResult result = classify(
      {"--checkpoint=" + checkpoint, "--image=" + (work / "notes.png")});
  EXPECT_EQ(result.status, ExitFailure);
  EXPECT_EQ(result.err, "classify: error: " + (work / "notes.png") +
                            " is neither a PNG nor a JPEG file\n");
  RunResult missing = classify(
      {"--checkpoint=" + checkpoint, "--image=" + (work / "absent.jpg")});
  EXPECT_EQ(missing.status, ExitFailure);
  EXPECT_CONTAINS(missing.err, "absent.jpg");
}

TEST_F(ClassifyRun, ImagesAreNormalisedAsTheDataSetIs) {
  writeFile(work / "a.png",
            pngFile(28, 28, PNG_FORMAT_GRAY, std::vector<uint8_t>(784, 9)));
  RunResult result =
      classify({"--checkpoint=" + checkpoint, "--image=" + (work / "a.png"),
                "--normalize=0.1,0.2,0.3/0.5,0.5,0.5"});
  EXPECT_EQ(result.status, ExitUsage);
  EXPECT_CONTAINS(result.err, "--normalize has 3 values where the images "
                              "have 1 channel(s)");
}

TEST_F(ClassifyRun, BenchmarkWithTheCheckpointsWeights) {
  RunResult result = classify(
      {"--benchmark", "--checkpoint=" + checkpoint, "--steps=2", "--warmup=0"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(*jsonNumber(result.lastLine(), "steps"), 2);
}

TEST(ClassifyBenchmark, TimesEvalStepAndPrintsAJsonLine) {
  std::string calls;
  hooks.calls = &calls;
  RunResult result =
      runClassify(mnistLogisticFolded(),
                  {"--benchmark", "--steps=6", "--warmup=2", "--batch=32",
                   "--threads=1", "--data=/no/such/dir"});
  hooks = {};
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(calls, "p" + std::string(8, 'e'));
  std::string last = result.lastLine();
  EXPECT_EQ(last.front(), '{');
  EXPECT_EQ(last.back(), '}');
  EXPECT_CONTAINS(last, "\"model\":\"logistic_mnist\"");
  EXPECT_EQ(*jsonNumber(last, "batch"), 32);
  EXPECT_EQ(*jsonNumber(last, "threads"), 1);
  EXPECT_EQ(*jsonNumber(last, "steps"), 6);
  EXPECT_EQ(*jsonNumber(last, "kernels_per_step"), 1); // eval_kernels
  EXPECT_GT(*jsonNumber(last, "images_per_s"), 0);
  EXPECT_LE(*jsonNumber(last, "step_ms_p10"),
            *jsonNumber(last, "step_ms_median"));
  EXPECT_LE(*jsonNumber(last, "step_ms_median"),
            *jsonNumber(last, "step_ms_p90"));
  EXPECT_CONTAINS(result.out, "step time: median ");
}

TEST(ClassifyFlags, BadFlagsFailClearly) {
  EXPECT_EQ(flagError({}), "classify: error: no checkpoint: pass "
                           "--checkpoint=PATH, a checkpoint this model's "
                           "train wrote (or --benchmark to time eval_step on "
                           "synthetic data); see --help\n");
  EXPECT_EQ(flagError({"--checkpoint=a.ckpt", "--epochs=3"}),
            "classify: error: unknown flag --epochs; --epochs is one of "
            "train's flags; see --help for every flag\n");
  EXPECT_EQ(flagError({"--checkpoint=a.ckpt", "--bogus"}),
            "classify: error: unknown flag --bogus; see --help for every "
            "flag\n");
  EXPECT_CONTAINS(flagError({"--chekpoint=a.ckpt"}),
                  "unknown flag --chekpoint; did you mean --checkpoint?");
  EXPECT_EQ(flagError({"--checkpoint=a.ckpt", "--split=valid"}),
            "classify: error: --split=valid: expected test or train\n");
  EXPECT_CONTAINS(flagError({"--checkpoint=a.ckpt", "--batch=0"}),
                  "classify: error: --batch=0: expected an integer");
  EXPECT_CONTAINS(flagError({"--checkpoint"}),
                  "--checkpoint needs a value: --checkpoint=PATH");
}

TEST(ClassifyFlags, DefaultsComeFromTheRecipe) {
  // The recipe's training flags (epochs, lr, ...) are not classify's, and
  // are no error.
  Options options = parseClassifyFlags(cifarLogistic(), {"--checkpoint=c"});
  EXPECT_EQ(options.checkpoint, "c");
  EXPECT_EQ(options.dataset, "cifar10");
  EXPECT_EQ(options.batch, 128);
  EXPECT_EQ(options.split, Split::Test);
  ASSERT_EQ(options.augment.size(), 2u);
  EXPECT_EQ(options.normalize.mean.size(), 3u);
  EXPECT_FALSE(options.benchmark);
  options = parseClassifyFlags(
      cifarLogistic(), {"--split", "train", "--benchmark", "--batch=7"});
  EXPECT_EQ(options.split, Split::Train);
  EXPECT_TRUE(options.benchmark);
  EXPECT_EQ(options.batch, 7);
  EXPECT_EQ(options.checkpoint, "");
}

TEST(ClassifyFlags, HelpListsClassifysFlagsOnly) {
  RunResult help = runClassify(cifarLogistic(), {"--split=bogus", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_EQ(help.out.rfind("Usage: classify --checkpoint=PATH", 0), 0u);
  for (const FlagInfo &flag : classifyFlagTable())
    EXPECT_CONTAINS(help.out, "  --" + std::string(flag.name));
  EXPECT_EQ(help.out.find("--epochs"), std::string::npos);
  EXPECT_EQ(help.out.find("--lr"), std::string::npos);
  EXPECT_CONTAINS(help.out, "[default: 128]");
  EXPECT_CONTAINS(help.out, "[default: cifar10]");
  EXPECT_CONTAINS(help.out, "[default: test]");
  size_t flagLines = 0;
  for (size_t pos = 0;
       (pos = help.out.find("\n  --", pos)) != std::string::npos; ++pos)
    ++flagLines;
  EXPECT_EQ(flagLines, classifyFlagTable().size());
}
