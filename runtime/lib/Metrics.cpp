//===- Metrics.cpp - JSON records of a run --------------------------------===//

#include "resnetrt/Metrics.h"

#include "resnetrt/Error.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace resnetrt {

/// `text` as a JSON string literal, quotes included.
static std::string jsonString(std::string_view text) {
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

JsonObject &JsonObject::add(std::string_view name, bool value) {
  key(name);
  body += value ? "true" : "false";
  return *this;
}

MetricsLog::MetricsLog(const std::string &dir, bool append) {
  if (dir.empty())
    return;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  std::string path = (std::filesystem::path(dir) / "metrics.jsonl").string();
  file = std::fopen(path.c_str(), append ? "a" : "w");
  if (!file)
    fail("cannot write {}: {}; check --log-dir", path,
         error ? error.message() : std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file)
    std::fclose(file);
}

void MetricsLog::write(const JsonObject &record) {
  if (!file)
    return;
  // One flushed line per record: a reader tailing the file never sees half
  // of one, and a crash loses at most the record being written.
  fmt::print(file, "{}\n", record.str());
  std::fflush(file);
}

} // namespace resnetrt
