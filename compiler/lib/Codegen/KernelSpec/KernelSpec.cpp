//===- KernelSpec.cpp - spec keys, symbols and buffer extents --------------===//

#include "resnetc/Codegen/KernelSpec.h"

#include <cstdio>
#include <sstream>

namespace resnetc::kernels {

static const char *typeName(ElemType type) {
  switch (type) {
  case ElemType::F32:
    return "f32";
  case ElemType::I32:
    return "i32";
  case ElemType::U32:
    return "u32";
  }
  return "?";
}

static void printTensors(std::ostringstream &os,
                         const std::vector<TensorSpec> &tensors) {
  for (const TensorSpec &t : tensors) {
    os << (t.kind == TensorKind::Activation ? 'a' : 'w') << typeName(t.type)
       << '[';
    for (size_t i = 0; i < t.shape.size(); ++i)
      os << (i ? "," : "") << t.shape[i];
    os << ']';
  }
}

std::string KernelSpec::key() const {
  std::ostringstream os;
  os << family << "|in:";
  printTensors(os, inputs);
  os << "|out:";
  printTensors(os, outputs);
  for (const auto &[name, values] : ints) {
    os << '|' << name << '=';
    for (size_t i = 0; i < values.size(); ++i)
      os << (i ? "," : "") << values[i];
  }
  for (const auto &[name, value] : floats) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.17g", value);
    os << '|' << name << '=' << text;
  }
  return os.str();
}

std::string KernelSpec::symbolName() const {
  // FNV-1a: stable across runs and machines, which the disk cache needs.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : key()) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  char text[24];
  std::snprintf(text, sizeof(text), "%016llx", (unsigned long long)hash);
  return "rn_" + family + "_" + text;
}

std::vector<int> halideExtents(const TensorSpec &tensor) {
  const Shape &s = tensor.shape;
  if (tensor.kind == TensorKind::Activation && s.size() == 4)
    return {int(s[1]), int(s[3]), int(s[2]), int(s[0])}; // (c, x, y, n)
  return std::vector<int>(s.rbegin(), s.rend());
}

std::vector<BufferDimension> bufferLayout(const TensorSpec &tensor) {
  std::vector<int> extents = halideExtents(tensor);
  std::vector<BufferDimension> dims;
  int64_t stride = 1;
  for (size_t d = 0; d < extents.size(); ++d) {
    bool batch =
        tensor.kind == TensorKind::Activation && d + 1 == extents.size();
    dims.push_back({extents[d], stride, batch});
    stride *= extents[d];
  }
  return dims;
}

const char *schedulerName(Scheduler scheduler) {
  switch (scheduler) {
  case Scheduler::Hand:
    return "hand";
  case Scheduler::Adams2019:
    return "adams2019";
  case Scheduler::Li2018:
    return "li2018";
  case Scheduler::Mullapudi2016:
    return "mullapudi2016";
  }
  return "?";
}

} // namespace resnetc::kernels
