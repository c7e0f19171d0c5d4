//===- RunLog.h - what --log-dir holds --------------------------*- C++ -*-===//
//
// With a log directory (--log-dir, or `log "DIR"` in the recipe's train
// block), train writes there, as it goes:
//   metrics.jsonl        JSON Lines, one record per line:
//     {"type":"step","step":S,"epoch":E,"loss":L,"accuracy":A,"lr":R,
//      "images_per_s":I}
//         every --log-every steps; loss and accuracy over those steps
//     {"type":"epoch","epoch":E,"steps":S,"train_loss":..,"train_accuracy":..,
//      "val_loss":..,"val_accuracy":..,"test_loss":..,"test_accuracy":..,
//      "lr":..,"images_per_s":..,"seconds":..,"rss_mib":..}
//         after every epoch (val_* only with --validation-split); rss_mib is
//         the process's resident memory then, which stays flat over a run
//   tensorboard/train/, tensorboard/validation/, tensorboard/test/
//                        TensorBoard event files (EventFile.h), laid out as
//                        Keras's TensorBoard callback lays them out (in a
//                        folder of their own, as the program itself is often
//                        called `train`), so that `tensorboard --logdir DIR`
//                        draws the three on one
//                        chart: epoch_loss and epoch_accuracy at each epoch
//                        in all three; in train/ also epoch_learning_rate,
//                        epoch_images_per_s, and batch_loss,
//                        batch_accuracy, batch_learning_rate and
//                        batch_images_per_s at each step record
//   curves.svg           loss and accuracy per epoch (Curves.h), rewritten
//                        after every epoch
// Epochs are 1-based in every record; accuracies are fractions in [0, 1].
// A resumed run appends to metrics.jsonl, starts new event files beside
// the old ones (TensorBoard reads them all) and redraws the curves from
// every epoch record in metrics.jsonl; a new run replaces metrics.jsonl.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_RUNLOG_H
#define RESNETRT_RUNLOG_H

#include "resnetrt/EventFile.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace resnetrt {

/// A step record: the steps since the previous one.
struct StepRecord {
  int64_t step = 0, epoch = 0; ///< the last step's, both 1-based
  double loss = 0, accuracy = 0, lr = 0, imagesPerSecond = 0;
};

/// An epoch record.
struct EpochRecord {
  int64_t epoch = 0, steps = 0; ///< 1-based epoch; steps so far
  double trainLoss = 0, trainAccuracy = 0;
  std::optional<double> valLoss, valAccuracy; ///< with --validation-split
  double testLoss = 0, testAccuracy = 0;
  double lr = 0, imagesPerSecond = 0, seconds = 0, rssMib = 0;
};

/// The record as metrics.jsonl holds it, and back; nullopt for a line that
/// is not an epoch record.
std::string epochJson(const EpochRecord &record);
std::optional<EpochRecord> parseEpochJson(std::string_view line);

/// The log directory; does nothing when that is empty.
class RunLog {
public:
  /// Creates the directory and metrics.jsonl, appended to when `resumed`;
  /// `model` titles the curves.
  RunLog(const std::string &dir, const std::string &model, bool resumed);
  ~RunLog();
  RunLog(const RunLog &) = delete;
  RunLog &operator=(const RunLog &) = delete;

  void step(const StepRecord &record);
  void epoch(const EpochRecord &record);

private:
  void writeJson(const std::string &line);
  EventFile &events(const char *split);
  void drawCurves();

  std::string dir, model;
  FILE *metrics = nullptr;
  std::map<std::string, std::unique_ptr<EventFile>> eventFiles;
  std::map<int64_t, EpochRecord> epochs; ///< by epoch, for the curves
};

} // namespace resnetrt

#endif // RESNETRT_RUNLOG_H
