//===- RunLog.cpp - what --log-dir holds ----------------------------------===//

#include "resnetrt/RunLog.h"

#include "resnetrt/Curves.h"
#include "resnetrt/Error.h"
#include "resnetrt/File.h"
#include "resnetrt/Metrics.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace resnetrt {

namespace fs = std::filesystem;

std::string epochJson(const EpochRecord &r) {
  JsonObject json;
  json.add("type", "epoch")
      .add("epoch", r.epoch)
      .add("steps", r.steps)
      .add("train_loss", r.trainLoss)
      .add("train_accuracy", r.trainAccuracy);
  if (r.valLoss && r.valAccuracy)
    json.add("val_loss", *r.valLoss).add("val_accuracy", *r.valAccuracy);
  json.add("test_loss", r.testLoss)
      .add("test_accuracy", r.testAccuracy)
      .add("lr", r.lr)
      .add("images_per_s", r.imagesPerSecond)
      .add("seconds", r.seconds)
      .add("rss_mib", r.rssMib);
  return json.str();
}

/// The number after "key": in a line of metrics.jsonl (flat objects of
/// numbers and strings, as JsonObject writes them); NaN for null.
static std::optional<double> jsonNumber(std::string_view line,
                                        std::string_view key) {
  std::string quoted = fmt::format("\"{}\":", key);
  size_t at = line.find(quoted);
  if (at == std::string_view::npos)
    return std::nullopt;
  std::string rest(line.substr(at + quoted.size()));
  if (rest.rfind("null", 0) == 0)
    return NAN;
  char *end;
  double value = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str())
    return std::nullopt;
  return value;
}

std::optional<EpochRecord> parseEpochJson(std::string_view line) {
  if (line.find("\"type\":\"epoch\"") == std::string_view::npos)
    return std::nullopt;
  EpochRecord r;
  std::optional<double> epoch = jsonNumber(line, "epoch"),
                        steps = jsonNumber(line, "steps");
  if (!epoch || !steps)
    return std::nullopt;
  r.epoch = int64_t(*epoch);
  r.steps = int64_t(*steps);
  r.valLoss = jsonNumber(line, "val_loss");
  r.valAccuracy = jsonNumber(line, "val_accuracy");
  auto field = [&](const char *key, double &out) {
    out = jsonNumber(line, key).value_or(NAN);
  };
  field("train_loss", r.trainLoss);
  field("train_accuracy", r.trainAccuracy);
  field("test_loss", r.testLoss);
  field("test_accuracy", r.testAccuracy);
  field("lr", r.lr);
  field("images_per_s", r.imagesPerSecond);
  field("seconds", r.seconds);
  field("rss_mib", r.rssMib);
  return r;
}

RunLog::RunLog(const std::string &dir, const std::string &model, bool resumed)
    : dir(dir), model(model) {
  if (dir.empty())
    return;
  std::error_code error;
  fs::create_directories(dir, error);
  std::string path = (fs::path(dir) / "metrics.jsonl").string();
  if (resumed) {
    // The curves go on from every epoch the earlier runs recorded.
    std::ifstream earlier(path);
    for (std::string line; std::getline(earlier, line);)
      if (std::optional<EpochRecord> record = parseEpochJson(line))
        epochs[record->epoch] = *record;
  }
  metrics = std::fopen(path.c_str(), resumed ? "a" : "w");
  if (!metrics)
    fail("cannot write {}: {}; check --log-dir", path,
         error ? error.message() : std::strerror(errno));
}

RunLog::~RunLog() {
  if (metrics)
    std::fclose(metrics);
}

void RunLog::writeJson(const std::string &line) {
  // One flushed line per record: a reader tailing the file never sees half
  // of one, and a crash loses at most the record being written.
  fmt::print(metrics, "{}\n", line);
  std::fflush(metrics);
}

EventFile &RunLog::events(const char *split) {
  std::unique_ptr<EventFile> &file = eventFiles[split];
  // Under tensorboard/: a log directory is often where the program lies,
  // and a file named `train` would block a folder train/.
  if (!file)
    file = std::make_unique<EventFile>(
        (fs::path(dir) / "tensorboard" / split).string());
  return *file;
}

void RunLog::step(const StepRecord &r) {
  if (!metrics)
    return;
  writeJson(JsonObject()
                .add("type", "step")
                .add("step", r.step)
                .add("epoch", r.epoch)
                .add("loss", r.loss)
                .add("accuracy", r.accuracy)
                .add("lr", r.lr)
                .add("images_per_s", r.imagesPerSecond)
                .str());
  events("train").scalars(r.step, {{"batch_loss", r.loss},
                                   {"batch_accuracy", r.accuracy},
                                   {"batch_learning_rate", r.lr},
                                   {"batch_images_per_s", r.imagesPerSecond}});
}

void RunLog::epoch(const EpochRecord &r) {
  if (!metrics)
    return;
  writeJson(epochJson(r));
  events("train").scalars(r.epoch, {{"epoch_loss", r.trainLoss},
                                    {"epoch_accuracy", r.trainAccuracy},
                                    {"epoch_learning_rate", r.lr},
                                    {"epoch_images_per_s", r.imagesPerSecond}});
  if (r.valLoss && r.valAccuracy)
    events("validation")
        .scalars(r.epoch, {{"epoch_loss", *r.valLoss},
                           {"epoch_accuracy", *r.valAccuracy}});
  events("test").scalars(r.epoch, {{"epoch_loss", r.testLoss},
                                   {"epoch_accuracy", r.testAccuracy}});
  epochs[r.epoch] = r;
  drawCurves();
}

void RunLog::drawCurves() {
  std::vector<EpochRecord> ordered;
  for (const auto &[epoch, record] : epochs)
    ordered.push_back(record);
  writeFileAtomically((fs::path(dir) / "curves.svg").string(),
                      curvesSvg(model, ordered), "curves");
}

} // namespace resnetrt
