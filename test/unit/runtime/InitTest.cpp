//===- InitTest.cpp - initialisers against torch.nn.init's definitions ----===//

#include "LogisticProgram.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Init.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace resnetrt;

namespace {

constexpr int64_t kFanIn = 300, kFanOut = 100;

rn_variable variable(rn_init_kind kind, rn_fan_mode mode = RN_FAN_IN,
                     double value = 0, int64_t seed = -1,
                     const char *name = "layer.weight") {
  return {name, RN_PARAMETER, 2,    {512, 512}, 0,      kind,
          mode, value,        seed, kFanIn,     kFanOut};
}

std::vector<float> init(const rn_variable &v, uint64_t runSeed = 0) {
  std::vector<float> data(size_t(elementCount(v)));
  initVariable(v, runSeed, data.data());
  return data;
}

struct Stats {
  double mean, stddev, min, max;
};

Stats stats(const std::vector<float> &data) {
  double sum = 0, squares = 0;
  for (float x : data) {
    sum += x;
    squares += double(x) * x;
  }
  double mean = sum / double(data.size());
  auto [min, max] = std::minmax_element(data.begin(), data.end());
  return {mean, std::sqrt(squares / double(data.size()) - mean * mean), *min,
          *max};
}

/// Checks a zero-mean normal of `stddev` (262144 samples: the sample
/// standard deviation is within 0.5% with overwhelming probability).
void expectNormal(const std::vector<float> &data, double stddev) {
  Stats s = stats(data);
  EXPECT_NEAR(s.mean, 0, 0.01 * stddev);
  EXPECT_NEAR(s.stddev, stddev, 0.005 * stddev);
  EXPECT_GT(s.max, 4 * stddev); // tails: not a truncated normal
}

void expectUniform(const std::vector<float> &data, double bound) {
  Stats s = stats(data);
  EXPECT_NEAR(s.mean, 0, 0.01 * bound);
  EXPECT_NEAR(s.stddev, bound / std::sqrt(3.0), 0.005 * bound);
  EXPECT_GE(s.min, -bound);
  EXPECT_LE(s.max, bound);
  EXPECT_GT(s.max, 0.999 * bound);
}

} // namespace

TEST(InitTest, Constants) {
  for (float x : init(variable(RN_INIT_ZEROS)))
    ASSERT_EQ(x, 0.0f);
  for (float x : init(variable(RN_INIT_ONES)))
    ASSERT_EQ(x, 1.0f);
  for (float x : init(variable(RN_INIT_CONSTANT, RN_FAN_IN, 0.25)))
    ASSERT_EQ(x, 0.25f);
}

TEST(InitTest, NormalAndUniformTakeTheirScale) {
  expectNormal(init(variable(RN_INIT_NORMAL, RN_FAN_IN, 0.02)), 0.02);
  expectUniform(init(variable(RN_INIT_UNIFORM, RN_FAN_IN, 0.3)), 0.3);
}

TEST(InitTest, HeUsesTheChosenFan) {
  expectNormal(init(variable(RN_INIT_HE_NORMAL, RN_FAN_IN)),
               std::sqrt(2.0 / kFanIn));
  expectNormal(init(variable(RN_INIT_HE_NORMAL, RN_FAN_OUT)),
               std::sqrt(2.0 / kFanOut));
  expectUniform(init(variable(RN_INIT_HE_UNIFORM, RN_FAN_IN)),
                std::sqrt(6.0 / kFanIn));
  expectUniform(init(variable(RN_INIT_HE_UNIFORM, RN_FAN_AVG)),
                std::sqrt(6.0 / ((kFanIn + kFanOut) / 2.0)));
}

TEST(InitTest, GlorotAndLecun) {
  expectNormal(init(variable(RN_INIT_GLOROT_NORMAL)),
               std::sqrt(2.0 / (kFanIn + kFanOut)));
  expectUniform(init(variable(RN_INIT_GLOROT_UNIFORM)),
                std::sqrt(6.0 / (kFanIn + kFanOut)));
  expectNormal(init(variable(RN_INIT_LECUN_NORMAL)), std::sqrt(1.0 / kFanIn));
}

TEST(InitTest, StreamsAreKeyedBySeedAndName) {
  rn_variable a = variable(RN_INIT_HE_NORMAL);
  EXPECT_EQ(init(a, 1), init(a, 1));
  EXPECT_NE(init(a, 1), init(a, 2));
  EXPECT_NE(
      init(a, 1),
      init(variable(RN_INIT_HE_NORMAL, RN_FAN_IN, 0, -1, "other.weight"), 1));
  // A seed fixed in the model ignores the run's seed.
  rn_variable fixed = variable(RN_INIT_HE_NORMAL, RN_FAN_IN, 0, 42);
  EXPECT_EQ(init(fixed, 1), init(fixed, 2));
  EXPECT_NE(init(fixed, 1),
            init(variable(RN_INIT_HE_NORMAL, RN_FAN_IN, 0, 43), 1));
}

TEST(InitTest, FillsEveryVariableOfAProgram) {
  const rn_program &program = resnetrt::test::mnistLogistic();
  Arena arena(program, 4);
  initVariables(program, 3, arena);
  const rn_variable *vars = program.variables;
  EXPECT_FLOAT_EQ(*arena.variable(vars[4]), std::log(10.0f)); // running loss
  const float *weight = arena.variable(vars[0]);
  EXPECT_TRUE(std::any_of(weight, weight + 7840, [](float x) { return x; }));
  const float *momentum = arena.variable(vars[2]);
  EXPECT_TRUE(
      std::all_of(momentum, momentum + 7840, [](float x) { return x == 0; }));
}

TEST(InitTest, DerivedVariablesStayZero) {
  const rn_program &program = resnetrt::test::mnistLogisticFolded();
  Arena arena(program, 4);
  // Whatever was there before: initialising zeroes them.
  std::fill(arena.data(), arena.data() + program.fixed_bytes, uint8_t(0x3f));
  initVariables(program, 3, arena);
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (variable.role != RN_DERIVED)
      continue;
    // Their init says ones; prepare_eval alone fills them.
    ASSERT_EQ(variable.init_kind, RN_INIT_ONES);
    const float *values = arena.variable(variable);
    EXPECT_TRUE(std::all_of(values, values + elementCount(variable),
                            [](float x) { return x == 0; }))
        << variable.name;
  }
}
