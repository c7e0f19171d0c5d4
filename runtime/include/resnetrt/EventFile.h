//===- EventFile.h - TensorBoard event files --------------------*- C++ -*-===//
//
// What TensorBoard reads: a file named events.out.tfevents.* of TFRecords,
// each a little-endian u64 length, the masked CRC-32C of those 8 bytes, the
// data, and the data's masked CRC-32C. The data is a serialized
// tensorflow.Event protocol buffer; the first carries the file version, the
// others one tensorflow.Summary of scalars (Summary.Value with tag and
// simple_value). The three messages are small, so they are encoded here by
// hand rather than through protoc:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
//             Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_EVENTFILE_H
#define RESNETRT_EVENTFILE_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace resnetrt {

/// CRC-32C (Castagnoli), as TFRecord uses it.
uint32_t crc32c(std::string_view bytes);

/// The CRC as a TFRecord stores it: rotated and offset, so that a CRC of
/// data that itself holds CRCs stays well distributed.
uint32_t maskedCrc32c(std::string_view bytes);

/// One TensorBoard event file in `dir` (created if missing).
class EventFile {
public:
  explicit EventFile(const std::string &dir);
  ~EventFile();
  EventFile(const EventFile &) = delete;
  EventFile &operator=(const EventFile &) = delete;

  /// One event with these scalars at `step`, flushed.
  void scalars(int64_t step,
               const std::vector<std::pair<std::string_view, double>> &values);

  const std::string &path() const { return filePath; }

private:
  void record(std::string_view data);
  std::string filePath;
  FILE *file = nullptr;
};

} // namespace resnetrt

#endif // RESNETRT_EVENTFILE_H
