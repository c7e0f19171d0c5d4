//===- Init.cpp - initial values of a program's variables -----------------===//

#include "resnetrt/Init.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Error.h"
#include "resnetrt/Random.h"

#include <algorithm>
#include <cmath>

namespace resnetrt {

/// The fan a variance-scaling initialiser divides by.
static double fan(const rn_variable &variable) {
  switch (variable.init_mode) {
  case RN_FAN_OUT:
    return double(variable.fan_out);
  case RN_FAN_AVG:
    return (variable.fan_in + variable.fan_out) / 2.0;
  default:
    return double(variable.fan_in);
  }
}

void initVariable(const rn_variable &variable, uint64_t runSeed, float *data) {
  int64_t count = elementCount(variable);
  uint64_t key =
      variable.init_seed >= 0
          ? streamKey(Stream::Init, {uint64_t(variable.init_seed)})
          : streamKey(Stream::Init, {runSeed, hashName(variable.name)});
  Rng rng(key);
  auto normal = [&](double stddev) {
    std::generate(data, data + count,
                  [&] { return float(stddev * rng.normal()); });
  };
  auto uniform = [&](double bound) {
    std::generate(data, data + count,
                  [&] { return float(bound * (2.0 * rng.uniform() - 1.0)); });
  };
  auto needFans = [&](double fans) {
    if (!(fans > 0))
      fail("variable {} has an initialiser that needs its fans, but the "
           "program gives fan_in {} and fan_out {}; this is a resnetc bug",
           variable.name, variable.fan_in, variable.fan_out);
    return fans;
  };

  switch (variable.init_kind) {
  case RN_INIT_ZEROS:
    return std::fill(data, data + count, 0.0f);
  case RN_INIT_ONES:
    return std::fill(data, data + count, 1.0f);
  case RN_INIT_CONSTANT:
    return std::fill(data, data + count, float(variable.init_value));
  case RN_INIT_NORMAL:
    return normal(variable.init_value);
  case RN_INIT_UNIFORM:
    return uniform(variable.init_value);
  case RN_INIT_HE_NORMAL:
    return normal(std::sqrt(2.0 / needFans(fan(variable))));
  case RN_INIT_HE_UNIFORM:
    return uniform(std::sqrt(6.0 / needFans(fan(variable))));
  case RN_INIT_GLOROT_NORMAL:
    return normal(
        std::sqrt(2.0 / needFans(double(variable.fan_in + variable.fan_out))));
  case RN_INIT_GLOROT_UNIFORM:
    return uniform(
        std::sqrt(6.0 / needFans(double(variable.fan_in + variable.fan_out))));
  case RN_INIT_LECUN_NORMAL:
    return normal(std::sqrt(1.0 / needFans(double(variable.fan_in))));
  default:
    fail("variable {} has initialiser kind {}, which this runtime does not "
         "know; rebuild with the matching resnetc",
         variable.name, variable.init_kind);
  }
}

void initVariables(const rn_program &program, uint64_t runSeed, Arena &arena) {
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    float *data = arena.variable(variable);
    // prepare_eval computes derived variables; until then they are zero.
    if (variable.role == RN_DERIVED)
      std::fill(data, data + elementCount(variable), 0.0f);
    else
      initVariable(variable, runSeed, data);
  }
  arena.uploadVariables();
}

} // namespace resnetrt
