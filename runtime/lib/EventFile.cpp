//===- EventFile.cpp - TensorBoard event files ----------------------------===//

#include "resnetrt/EventFile.h"

#include "resnetrt/Error.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <unistd.h>

namespace resnetrt {

uint32_t crc32c(std::string_view bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int bit = 0; bit < 8; ++bit)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1; // reflected Castagnoli
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = ~0u;
  for (char c : bytes)
    crc = table[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t maskedCrc32c(std::string_view bytes) {
  uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

//===----------------------------------------------------------------------===//
// Protocol buffer wire format, the little of it an Event needs
//===----------------------------------------------------------------------===//

namespace {

enum WireType : uint8_t { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

void littleEndian(std::string &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>(value >> (8 * i));
}

void varint(std::string &out, uint64_t value) {
  for (; value >= 0x80; value >>= 7)
    out += static_cast<char>(value | 0x80);
  out += static_cast<char>(value);
}

void key(std::string &out, int field, WireType type) {
  varint(out, uint64_t(field) << 3 | type);
}

void bytesField(std::string &out, int field, std::string_view bytes) {
  key(out, field, Bytes);
  varint(out, bytes.size());
  out += bytes;
}

void doubleField(std::string &out, int field, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  key(out, field, Fixed64);
  littleEndian(out, bits, 8);
}

void floatField(std::string &out, int field, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  key(out, field, Fixed32);
  littleEndian(out, bits, 4);
}

/// An Event's fields before its payload: wall time and step.
std::string eventHeader(int64_t step) {
  using namespace std::chrono;
  double now =
      duration<double>(system_clock::now().time_since_epoch()).count();
  std::string event;
  doubleField(event, 1, now);
  if (step != 0) { // proto3 leaves out fields at their default
    key(event, 2, Varint);
    varint(event, static_cast<uint64_t>(step));
  }
  return event;
}

} // namespace

//===----------------------------------------------------------------------===//
// EventFile
//===----------------------------------------------------------------------===//

EventFile::EventFile(const std::string &dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  using namespace std::chrono;
  int64_t seconds =
      duration_cast<std::chrono::seconds>(system_clock::now().time_since_epoch())
          .count();
  // TensorBoard finds the files by the "tfevents" in their names; the time,
  // host and process keep the files of successive runs apart.
  filePath = (std::filesystem::path(dir) /
              fmt::format("events.out.tfevents.{}.{}.{}", seconds, host,
                          getpid()))
                 .string();
  file = std::fopen(filePath.c_str(), "wb");
  if (!file)
    fail("cannot write {}: {}; check --log-dir", filePath,
         error ? error.message() : std::strerror(errno));
  std::string event = eventHeader(0);
  bytesField(event, 3, "brain.Event:2");
  record(event);
}

EventFile::~EventFile() {
  if (file)
    std::fclose(file);
}

void EventFile::scalars(
    int64_t step,
    const std::vector<std::pair<std::string_view, double>> &values) {
  std::string summary;
  for (const auto &[tag, value] : values) {
    std::string entry;
    bytesField(entry, 1, tag);
    floatField(entry, 2, static_cast<float>(value));
    bytesField(summary, 1, entry);
  }
  std::string event = eventHeader(step);
  bytesField(event, 5, summary);
  record(event);
}

void EventFile::record(std::string_view data) {
  std::string header;
  littleEndian(header, data.size(), 8);
  std::string framed = header;
  littleEndian(framed, maskedCrc32c(header), 4);
  framed += data;
  littleEndian(framed, maskedCrc32c(data), 4);
  // Whole records, flushed: TensorBoard reading the file while the run goes
  // on sees every record written so far.
  if (std::fwrite(framed.data(), 1, framed.size(), file) != framed.size() ||
      std::fflush(file) != 0)
    fail("cannot write {}: {}", filePath, std::strerror(errno));
}

} // namespace resnetrt
