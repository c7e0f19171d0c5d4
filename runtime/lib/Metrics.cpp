//===- Metrics.cpp - JSON records of a run --------------------------------===//

#include "resnetrt/Metrics.h"

#include <fmt/format.h>

#include <cmath>

namespace resnetrt {

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += {'\\', c};
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", c);
    else
      out += c;
  }
  return out + "\"";
}

void JsonObject::key(std::string_view name) {
  if (!body.empty())
    body += ',';
  body += jsonString(name);
  body += ':';
}

JsonObject &JsonObject::add(std::string_view name, std::string_view value) {
  key(name);
  body += jsonString(value);
  return *this;
}

JsonObject &JsonObject::add(std::string_view name, double value) {
  key(name);
  // {} prints the shortest text that reads back as the same double.
  body += std::isfinite(value) ? fmt::format("{}", value) : "null";
  return *this;
}

JsonObject &JsonObject::add(std::string_view name, int64_t value) {
  key(name);
  body += std::to_string(value);
  return *this;
}

JsonObject &JsonObject::addJson(std::string_view name, std::string_view json) {
  key(name);
  body += json;
  return *this;
}

JsonObject &JsonObject::add(std::string_view name, bool value) {
  key(name);
  body += value ? "true" : "false";
  return *this;
}

} // namespace resnetrt
