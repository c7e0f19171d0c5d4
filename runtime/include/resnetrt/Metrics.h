//===- Metrics.h - JSON records of a run ------------------------*- C++ -*-===//
//
// A run reports in JSON objects of one line each: the last line of a
// training run and of a benchmark, and the records of --log-dir's
// metrics.jsonl (RunLog.h).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_METRICS_H
#define RESNETRT_METRICS_H

#include <cstdint>
#include <string>
#include <string_view>

namespace resnetrt {

/// `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);

/// Builds one JSON object, keys in the order added.
class JsonObject {
public:
  JsonObject &add(std::string_view key, std::string_view value);
  JsonObject &add(std::string_view key, const char *value) {
    return add(key, std::string_view(value));
  }
  JsonObject &add(std::string_view key, double value); ///< NaN/inf: null
  JsonObject &add(std::string_view key, int64_t value);
  JsonObject &add(std::string_view key, int32_t value) {
    return add(key, int64_t(value));
  }
  JsonObject &add(std::string_view key, bool value);
  /// `json`, already JSON text (an array, an object), as the value.
  JsonObject &addJson(std::string_view key, std::string_view json);
  /// The object as one line, without a newline.
  std::string str() const { return "{" + body + "}"; }

private:
  void key(std::string_view name);
  std::string body;
};

} // namespace resnetrt

#endif // RESNETRT_METRICS_H
