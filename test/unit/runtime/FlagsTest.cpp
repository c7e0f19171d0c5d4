//===- FlagsTest.cpp - defaults from the recipe, overrides, bad flags -----===//

#include "LogisticProgram.h"
#include "TestUtil.h"

#include "resnetrt/Error.h"
#include "resnetrt/Flags.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace resnetrt;
using namespace resnetrt::test;

namespace {

/// The message of the usage Error that parsing `args` throws.
std::string flagError(const std::vector<std::string> &args,
                      const rn_program &program = cifarLogistic()) {
  try {
    parseFlags(program, args);
  } catch (const Error &error) {
    EXPECT_EQ(error.exitCode(), ExitUsage);
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

rn_program withRecipe(const rn_recipe &recipe) {
  rn_program program = mnistLogistic();
  program.recipe = &recipe;
  return program;
}

} // namespace

TEST(FlagsTest, DefaultsComeFromTheRecipe) {
  Options options = parseFlags(cifarLogistic(), {});
  EXPECT_EQ(options.dataset, "cifar10");
  EXPECT_EQ(options.batch, 128);
  EXPECT_EQ(options.epochs, 160);
  EXPECT_EQ(options.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(options.schedule.lr, 0.1);
  EXPECT_DOUBLE_EQ(options.momentum, 0.9);
  EXPECT_DOUBLE_EQ(options.weightDecay, 1e-4);
  EXPECT_EQ(options.schedule.kind, ScheduleKind::Step);
  EXPECT_EQ(options.schedule.at, (std::vector<int64_t>{80, 120}));
  EXPECT_DOUBLE_EQ(options.schedule.factor, 0.1);
  ASSERT_EQ(options.augment.size(), 2u);
  EXPECT_EQ(options.augment[0].pad, 4);
  EXPECT_EQ(options.normalize.mean.size(), 3u);
  EXPECT_EQ(options.progress, ProgressMode::Auto);
  EXPECT_GE(options.threads, 1); // 0 means one per core
}

TEST(FlagsTest, FallbacksFillWhatTheRecipeLeavesOut) {
  rn_recipe unset = unsetRecipe();
  Options options = parseFlags(withRecipe(unset), {});
  EXPECT_EQ(options.batch, 64); // compiled_batch
  EXPECT_EQ(options.optimizer, "sgd");
  EXPECT_EQ(options.epochs, 1);
  EXPECT_DOUBLE_EQ(options.schedule.lr, 0.01);
  EXPECT_EQ(options.schedule.kind, ScheduleKind::Constant);
  EXPECT_DOUBLE_EQ(options.beta2, 0.999);
  EXPECT_TRUE(options.augment.empty());
  EXPECT_EQ(options.logEvery, 100);
}

TEST(FlagsTest, CommandLineOverridesInBothSyntaxes) {
  Options options = parseFlags(
      cifarLogistic(),
      {"--lr=0.5", "--epochs", "3", "--nesterov", "--schedule=cosine",
       "--min-lr=1e-5", "--cosine-period=3", "--cosine-period-mult", "2",
       "--augment=none", "--threads=2", "--seed", "7"});
  EXPECT_DOUBLE_EQ(options.schedule.lr, 0.5);
  EXPECT_EQ(options.epochs, 3);
  EXPECT_TRUE(options.nesterov);
  EXPECT_EQ(options.schedule.kind, ScheduleKind::Cosine);
  EXPECT_DOUBLE_EQ(options.schedule.minLr, 1e-5);
  EXPECT_EQ(options.schedule.period, 3);
  EXPECT_EQ(options.schedule.periodMult, 2);
  EXPECT_TRUE(options.augment.empty());
  EXPECT_EQ(options.threads, 2);
  EXPECT_EQ(options.seed, 7u);
  EXPECT_FALSE(parseFlags(cifarLogistic(), {"--nesterov=false"}).nesterov);
  EXPECT_EQ(parseFlags(cifarLogistic(), {"--epochs=2", "--epochs=5"}).epochs,
            5);
}

TEST(FlagsTest, UnknownFlagsAreNamedWithASuggestion) {
  EXPECT_CONTAINS(flagError({"--learning-rate=0.1"}),
                  "unknown flag --learning-rate; see --help");
  EXPECT_CONTAINS(flagError({"--epoch=3"}),
                  "unknown flag --epoch; did you mean --epochs?");
  EXPECT_CONTAINS(flagError({"data"}), "unexpected argument 'data'");
  EXPECT_CONTAINS(flagError({"--lr"}), "--lr needs a value: --lr=X");
}

TEST(FlagsTest, BadValuesSayWhatIsAccepted) {
  EXPECT_CONTAINS(flagError({"--lr=abc"}), "--lr=abc: expected a number > 0");
  EXPECT_CONTAINS(flagError({"--lr=0"}), "--lr=0: expected a number > 0");
  EXPECT_CONTAINS(flagError({"--batch=0"}),
                  "--batch=0: expected an integer from 1 to");
  EXPECT_CONTAINS(flagError({"--epochs=2.5"}), "--epochs=2.5: expected an "
                                               "integer");
  EXPECT_CONTAINS(flagError({"--schedule=linear"}),
                  "--schedule=linear: expected constant, step, cosine or "
                  "one_cycle");
  EXPECT_CONTAINS(flagError({"--schedule-at=120,80"}),
                  "--schedule-at=120,80: expected increasing epoch numbers");
  EXPECT_CONTAINS(flagError({"--augment=rotate(3)"}),
                  "--augment=rotate(3): unknown augmentation 'rotate'");
  EXPECT_CONTAINS(flagError({"--normalize=0.5"}),
                  "--normalize=0.5: expected MEANS/STDS");
  EXPECT_CONTAINS(flagError({"--validation-split=1.5"}),
                  "--validation-split=1.5: expected a number in [0, 1)");
  EXPECT_CONTAINS(flagError({"--progress=fancy"}),
                  "--progress=fancy: expected auto, bar, plain or none");
  EXPECT_CONTAINS(flagError({"--dataset=imagenet"}),
                  "--dataset=imagenet: expected one of fashion_mnist, mnist, "
                  "cifar10, cifar100");
  EXPECT_CONTAINS(flagError({"--nesterov=maybe"}),
                  "--nesterov=maybe: expected true or false");
  EXPECT_CONTAINS(flagError({"--nesterov", "--momentum=0"}),
                  "Nesterov momentum needs --momentum > 0");
  EXPECT_CONTAINS(flagError({"--pct-start=1"}),
                  "--pct-start=1: expected a number in [0, 1)");
  EXPECT_CONTAINS(flagError({"--batch=30", "--accumulate=4"}),
                  "--accumulate=4 does not divide --batch=30");
}

TEST(FlagsTest, CallbacksNeedWhatTheyMonitor) {
  EXPECT_CONTAINS(flagError({"--early-stopping=val_loss"}),
                  "--early-stopping=val_loss: a validation metric needs a "
                  "validation split; add --validation-split");
  EXPECT_CONTAINS(flagError({"--reduce-lr-on-plateau=val_accuracy"}),
                  "a validation metric needs a validation split");
  EXPECT_CONTAINS(flagError({"--early-stopping=val_acc"}),
                  "--early-stopping=val_acc: expected val_loss, "
                  "val_accuracy, loss, accuracy or none");
  EXPECT_CONTAINS(flagError({"--restore-best"}),
                  "--restore-best=true: needs --early-stopping=METRIC");
  EXPECT_CONTAINS(flagError({"--reduce-lr-on-plateau=loss",
                             "--plateau-factor=1"}),
                  "--plateau-factor=1: expected a number in (0, 1)");
  EXPECT_CONTAINS(flagError({"--validation-steps=2"}),
                  "--validation-steps=2: it limits the validation split's "
                  "evaluation; add --validation-split");
  Options options =
      parseFlags(cifarLogistic(),
                 {"--validation-split=0.1", "--early-stopping=val_loss",
                  "--early-stopping-patience=3", "--restore-best",
                  "--reduce-lr-on-plateau=loss", "--plateau-factor=0.5",
                  "--steps-per-epoch=7", "--validation-steps=2"});
  EXPECT_EQ(options.earlyStopping.metric, Metric::ValLoss);
  EXPECT_EQ(options.earlyStopping.patience, 3);
  EXPECT_TRUE(options.earlyStopping.restoreBest);
  EXPECT_EQ(options.plateau.metric, Metric::Loss);
  EXPECT_EQ(options.plateau.factor, 0.5);
  EXPECT_EQ(options.plateau.patience, 10); // Keras's default
  EXPECT_EQ(options.stepsPerEpoch, 7);
  EXPECT_EQ(options.validationSteps, 2);
}

TEST(FlagsTest, OptimizerIsFixedAtCompileTime) {
  std::string message = flagError({"--optimizer=adam"});
  EXPECT_CONTAINS(message, "--optimizer=adam: this program was compiled for "
                           "sgd");
  EXPECT_CONTAINS(message, "change `optimizer` in the DSL's train block");
  EXPECT_EQ(parseFlags(cifarLogistic(), {"--optimizer=sgd"}).optimizer, "sgd");
}

TEST(FlagsTest, DeviceAndModeConflicts) {
  EXPECT_CONTAINS(flagError({"--device=cuda"}),
                  "--device=cuda: the device is chosen when resnetc builds "
                  "the program (--target=cpu, cuda or opencl)");
  EXPECT_CONTAINS(flagError({"--gpu=-1"}), "--gpu=-1");
  EXPECT_CONTAINS(flagError({"--eval-only"}),
                  "--eval-only=true: needs --resume=PATH");
  EXPECT_CONTAINS(flagError({"--eval-only", "--resume=x", "--benchmark"}),
                  "exclude each other");
  EXPECT_CONTAINS(flagError({"--eval-only", "--resume=x", "--profile"}),
                  "--profile=true: it times the training step; --eval-only "
                  "runs none");
  EXPECT_CONTAINS(flagError({"--init-from=w.safetensors", "--resume=x"}),
                  "--init-from=w.safetensors: --resume continues a run");
  EXPECT_EQ(parseFlags(cifarLogistic(),
                       {"--eval-only", "--init-from=w.safetensors"})
                .initFrom,
            "w.safetensors");
}

TEST(FlagsTest, TheRecipeIsCheckedToo) {
  rn_recipe recipe = unsetRecipe();
  recipe.lr = -1;
  EXPECT_CONTAINS(flagError({}, withRecipe(recipe)),
                  "--lr=-1 (from the compiled recipe): expected a number");
  recipe = unsetRecipe();
  recipe.schedule = "sometimes";
  EXPECT_CONTAINS(flagError({}, withRecipe(recipe)),
                  "--schedule=sometimes (from the compiled recipe)");
}

TEST(FlagsTest, EveryRecipeFieldIsOneOfTrainsFlags) {
  // RN_RECIPE_FIELDS names the flag each field sets; a misspelt one would
  // silently never reach the run.
  std::vector<std::string> flags;
#define RN_RECIPE_FIELD(kind, field, flag) flags.push_back(flag);
  RN_RECIPE_FIELDS(RN_RECIPE_FIELD)
#undef RN_RECIPE_FIELD
  for (const std::string &flag : flags)
    EXPECT_TRUE(std::any_of(flagTable().begin(), flagTable().end(),
                            [&](const FlagInfo &info) {
      return info.name == flag;
    })) << flag;
}

TEST(FlagsTest, RecipeValuesReadBackExactly) {
  // Reals go through text on their way to the options: the shortest text
  // that reads back as the same double.
  rn_recipe recipe = unsetRecipe();
  recipe.lr = 0.1;
  recipe.beta2 = 0.999;
  recipe.weight_decay = 5e-4;
  recipe.epsilon = 1e-7;
  recipe.keras_epsilon = 1;
  recipe.epochs = 26;
  Options options = parseFlags(withRecipe(recipe), {});
  EXPECT_EQ(options.schedule.lr, 0.1);
  EXPECT_EQ(options.beta2, 0.999);
  EXPECT_EQ(options.weightDecay, 5e-4);
  EXPECT_EQ(options.eps, 1e-7);
  EXPECT_TRUE(options.kerasEpsilon);
  EXPECT_EQ(options.epochs, 26);
}

TEST(FlagsTest, HelpListsEveryFlagWithItsDefault) {
  std::string help = helpText(cifarLogistic());
  for (const FlagInfo &flag : flagTable())
    EXPECT_CONTAINS(help, "--" + std::string(flag.name));
  EXPECT_CONTAINS(help, "Trains logistic_cifar: input 32x32x3 (HxWxC), 10 "
                        "classes, sgd optimizer");
  EXPECT_CONTAINS(help, "--batch=N");
  EXPECT_CONTAINS(help, "[default: 128]");
  EXPECT_CONTAINS(help, "[default: 80,120]");
  EXPECT_CONTAINS(help, "[default: random_crop(32,pad=4),flip_horizontal]");
  EXPECT_CONTAINS(help, "[default: cifar10]");
  // Every flag line has a description and a default.
  size_t flagLines = 0;
  for (size_t pos = 0; (pos = help.find("\n  --", pos)) != std::string::npos;
       ++pos) {
    std::string line = help.substr(pos + 1, help.find('\n', pos + 1) - pos - 1);
    EXPECT_CONTAINS(line, "[default: ");
    ++flagLines;
  }
  EXPECT_EQ(flagLines, flagTable().size());
}

TEST(FlagsTest, TrainPrintsHelpAndExitsTwoOnBadFlags) {
  RunResult help = runTrain(cifarLogistic(), {"--lr=0.3", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_EQ(help.out.rfind("Usage: train", 0), 0u);
  RunResult bad = runTrain(cifarLogistic(), {"--batch=-1"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.err.rfind("train: error: --batch=-1: expected an integer", 0),
            0u);
  EXPECT_EQ(bad.out, "");
}
