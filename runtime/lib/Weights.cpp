//===- Weights.cpp - a program's weights to and from safetensors ----------===//

#include "resnetrt/Weights.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Error.h"
#include "resnetrt/File.h"
#include "resnetrt/Safetensors.h"

#include <cmath>
#include <cstring>

namespace resnetrt {

/// The variables weights files hold: what the model computes with, not how
/// its optimizer got there.
static bool exchanged(const rn_variable &variable) {
  return variable.role == RN_PARAMETER || variable.role == RN_STATE;
}

int exportWeights(const std::string &path, const rn_program &program,
                  Arena &arena) {
  arena.downloadVariables();
  std::vector<std::pair<std::string, StoredTensor>> tensors;
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (!exchanged(variable))
      continue;
    StoredTensor tensor;
    tensor.dtype = "F32";
    tensor.shape.assign(variable.shape, variable.shape + variable.rank);
    const auto *values =
        reinterpret_cast<const uint8_t *>(arena.variable(variable));
    tensor.data.assign(values, values + sizeof(float) * elementCount(variable));
    tensors.emplace_back(variable.name, std::move(tensor));
  }
  writeFileAtomically(path,
                      serializeSafetensors(tensors,
                                           {{"format", "pt"},
                                            {"model", program.model_name},
                                            {"producer", "resnetc"}}),
                      "weights");
  return int(tensors.size());
}

int importWeights(const std::string &path, const rn_program &program,
                  Arena &arena) {
  Safetensors file = readSafetensors(path);
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  std::vector<const rn_variable *> loads;
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (!exchanged(variable))
      continue;
    expected.emplace_back(variable.name,
                          std::vector<int64_t>(variable.shape,
                                               variable.shape + variable.rank));
    loads.push_back(&variable);
  }
  checkWeights(path, program.model_name, file, expected);
  for (const rn_variable *variable : loads) {
    const StoredTensor &tensor = file.tensors.at(variable->name);
    float *values = arena.variable(*variable);
    std::memcpy(values, tensor.data.data(), tensor.data.size());
    for (int64_t j = 0; j < elementCount(*variable); ++j)
      if (!std::isfinite(values[j]))
        fail("{}: {} holds a NaN or infinity (element {}); training cannot "
             "start from it",
             path, variable->name, j);
  }
  arena.uploadVariables();
  return int(loads.size());
}

} // namespace resnetrt
