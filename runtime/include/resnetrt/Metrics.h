//===- Metrics.h - JSON records of a run ------------------------*- C++ -*-===//
//
// A run reports in JSON objects of one line each: the last line of a
// training run and of a benchmark, and the records of --log-dir's
// metrics.jsonl (JSON Lines):
//   {"type":"step","step":S,"epoch":E,"loss":L,"lr":R,"images_per_s":I}
//       every --log-every steps; loss is the mean over those steps
//   {"type":"epoch","epoch":E,"steps":S,"train_loss":..,"train_accuracy":..,
//    "val_loss":..,"val_accuracy":..,"test_loss":..,"test_accuracy":..,
//    "lr":..,"images_per_s":..,"seconds":..,"rss_mib":..}
//       after every epoch (val_* only with --validation-split); rss_mib is
//       the process's resident memory then, which stays flat over a run
// Epochs are 1-based in every record; accuracies are fractions in [0, 1].
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_METRICS_H
#define RESNETRT_METRICS_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace resnetrt {

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
  /// The object as one line, without a newline.
  std::string str() const { return "{" + body + "}"; }

private:
  void key(std::string_view name);
  std::string body;
};

/// metrics.jsonl in --log-dir; does nothing when that is empty.
class MetricsLog {
public:
  /// Creates the directory. A resumed run appends to the file, a new one
  /// replaces it.
  MetricsLog(const std::string &dir, bool append);
  ~MetricsLog();
  MetricsLog(const MetricsLog &) = delete;
  MetricsLog &operator=(const MetricsLog &) = delete;

  void write(const JsonObject &record);

private:
  FILE *file = nullptr;
};

} // namespace resnetrt

#endif // RESNETRT_METRICS_H
