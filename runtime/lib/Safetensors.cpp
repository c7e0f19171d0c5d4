//===- Safetensors.cpp - weights in the safetensors format ----------------===//

#include "resnetrt/Safetensors.h"

#include "resnetrt/Error.h"
#include "resnetrt/File.h"
#include "resnetrt/Metrics.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

namespace resnetrt {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the format is little-endian, and so are the arena's floats");

/// Bytes per element of the format's dtypes; 0 for a name it does not have.
static int64_t dtypeBytes(std::string_view dtype) {
  static const std::pair<std::string_view, int64_t> sizes[] = {
      {"BOOL", 1}, {"U8", 1},      {"I8", 1},      {"F8_E4M3", 1},
      {"F8_E5M2", 1}, {"I16", 2},  {"U16", 2},     {"F16", 2},
      {"BF16", 2}, {"I32", 4},     {"U32", 4},     {"F32", 4},
      {"F64", 8},  {"I64", 8},     {"U64", 8}};
  for (auto [name, bytes] : sizes)
    if (name == dtype)
      return bytes;
  return 0;
}

//===----------------------------------------------------------------------===//
// The header: the JSON the format allows, and no more
//===----------------------------------------------------------------------===//

namespace {

class HeaderParser {
public:
  HeaderParser(const std::string &path, std::string_view text)
      : path(path), text(text) {}

  void parse(Safetensors &file, std::map<std::string, std::pair<uint64_t,
                                                                uint64_t>>
                                    &ranges) {
    expect('{');
    if (!consume('}')) {
      do {
        std::string name = string();
        expect(':');
        if (name == "__metadata__") {
          if (seenMetadata)
            error("__metadata__ appears twice");
          seenMetadata = true;
          metadata(file.metadata);
        } else {
          if (file.tensors.count(name))
            error(fmt::format("tensor '{}' appears twice", name));
          ranges[name] = tensor(file.tensors[name], name);
        }
      } while (consume(','));
      expect('}');
    }
    space();
    if (pos != text.size())
      error("text after the header's object");
  }

private:
  [[noreturn]] void error(const std::string &what) {
    fail("{} is not a safetensors file: {} (byte {} of its JSON header)",
         path, what, pos);
  }

  void space() {
    while (pos < text.size() && std::strchr(" \t\r\n", text[pos]) &&
           text[pos] != '\0')
      ++pos;
  }

  bool consume(char c) {
    space();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!consume(c))
      error(fmt::format("expected '{}'", c));
  }

  /// A JSON string, its escapes decoded (\uXXXX to UTF-8).
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos >= text.size())
        error("a string does not end");
      char c = text[pos++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        error("a control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= text.size())
        error("a string does not end");
      char e = text[pos++];
      switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': utf8(out, hex4()); break;
      default: error(fmt::format("the escape \\{} in a string", e));
      }
    }
  }

  uint32_t hex4() {
    if (pos + 4 > text.size())
      error("a \\u escape is cut short");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text[pos++];
      int digit = std::isxdigit(static_cast<unsigned char>(c))
                      ? (std::isdigit(static_cast<unsigned char>(c))
                             ? c - '0'
                             : (c | 0x20) - 'a' + 10)
                      : -1;
      if (digit < 0)
        error("a \\u escape with a non-hex digit");
      value = value * 16 + uint32_t(digit);
    }
    return value;
  }

  void utf8(std::string &out, uint32_t code) {
    if (code >= 0xD800 && code < 0xDC00) { // a surrogate pair's first half
      if (pos + 2 > text.size() || text[pos] != '\\' || text[pos + 1] != 'u')
        error("half of a surrogate pair");
      pos += 2;
      uint32_t low = hex4();
      if (low < 0xDC00 || low >= 0xE000)
        error("half of a surrogate pair");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    } else if (code >= 0xDC00 && code < 0xE000) {
      error("half of a surrogate pair");
    }
    if (code < 0x80) {
      out += char(code);
    } else if (code < 0x800) {
      out += char(0xC0 | code >> 6);
      out += char(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += char(0xE0 | code >> 12);
      out += char(0x80 | (code >> 6 & 0x3F));
      out += char(0x80 | (code & 0x3F));
    } else {
      out += char(0xF0 | code >> 18);
      out += char(0x80 | (code >> 12 & 0x3F));
      out += char(0x80 | (code >> 6 & 0x3F));
      out += char(0x80 | (code & 0x3F));
    }
  }

  /// A non-negative integer without sign, fraction or exponent.
  uint64_t integer() {
    space();
    size_t start = pos;
    uint64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      uint64_t digit = uint64_t(text[pos] - '0');
      if (value > (UINT64_MAX - digit) / 10)
        error("an integer too large");
      value = value * 10 + digit;
      ++pos;
    }
    if (pos == start)
      error("expected a non-negative integer");
    if (text[start] == '0' && pos - start > 1)
      error("an integer with a leading zero");
    return value;
  }

  std::vector<uint64_t> integers() {
    expect('[');
    std::vector<uint64_t> values;
    if (consume(']'))
      return values;
    do {
      values.push_back(integer());
      if (values.size() > 64)
        error("an array of more than 64 integers");
    } while (consume(','));
    expect(']');
    return values;
  }

  void metadata(std::map<std::string, std::string> &out) {
    expect('{');
    if (consume('}'))
      return;
    do {
      std::string key = string();
      expect(':');
      out[key] = string();
    } while (consume(','));
    expect('}');
  }

  std::pair<uint64_t, uint64_t> tensor(StoredTensor &tensor,
                                       const std::string &name) {
    bool dtype = false, shape = false, offsets = false;
    std::pair<uint64_t, uint64_t> range;
    expect('{');
    if (!consume('}')) {
      do {
        std::string key = string();
        expect(':');
        if (key == "dtype" && !dtype) {
          tensor.dtype = string();
          dtype = true;
        } else if (key == "shape" && !shape) {
          for (uint64_t extent : integers()) {
            if (extent > uint64_t(INT64_MAX))
              error(fmt::format("tensor '{}' has an extent too large", name));
            tensor.shape.push_back(int64_t(extent));
          }
          shape = true;
        } else if (key == "data_offsets" && !offsets) {
          std::vector<uint64_t> pair = integers();
          if (pair.size() != 2 || pair[0] > pair[1])
            error(fmt::format("tensor '{}' has data_offsets that are not "
                              "[begin, end]",
                              name));
          range = {pair[0], pair[1]};
          offsets = true;
        } else {
          error(fmt::format("tensor '{}' has the key '{}' twice or a key the "
                            "format does not have",
                            name, key));
        }
      } while (consume(','));
      expect('}');
    }
    if (!dtype || !shape || !offsets)
      error(fmt::format("tensor '{}' lacks dtype, shape or data_offsets",
                        name));
    return range;
  }

  const std::string &path;
  std::string_view text;
  size_t pos = 0;
  bool seenMetadata = false;
};

} // namespace

//===----------------------------------------------------------------------===//
// Reading and writing
//===----------------------------------------------------------------------===//

Safetensors parseSafetensors(const std::string &path,
                             const std::vector<uint8_t> &bytes) {
  if (bytes.size() < 8)
    fail("{} is not a safetensors file: {} bytes, fewer than the 8 of its "
         "header's length",
         path, bytes.size());
  uint64_t headerBytes;
  std::memcpy(&headerBytes, bytes.data(), 8);
  if (headerBytes > bytes.size() - 8)
    fail("{} is not a safetensors file, or is truncated: its header is "
         "{} bytes long, and {} follow",
         path, headerBytes, bytes.size() - 8);
  Safetensors file;
  std::map<std::string, std::pair<uint64_t, uint64_t>> ranges;
  HeaderParser(path, std::string_view(
                         reinterpret_cast<const char *>(bytes.data()) + 8,
                         size_t(headerBytes)))
      .parse(file, ranges);

  const uint64_t dataBytes = bytes.size() - 8 - headerBytes;
  const uint8_t *data = bytes.data() + 8 + headerBytes;
  std::vector<std::pair<uint64_t, uint64_t>> sorted;
  for (auto &[name, tensor] : file.tensors) {
    auto [begin, end] = ranges[name];
    int64_t size = dtypeBytes(tensor.dtype);
    if (size == 0)
      fail("{}: tensor '{}' has the dtype '{}', which the format does not "
           "have",
           path, name, tensor.dtype);
    uint64_t expected = uint64_t(size);
    for (int64_t extent : tensor.shape)
      if (extent != 0 && expected > UINT64_MAX / uint64_t(extent))
        fail("{}: tensor '{}' has more elements than a file can hold", path,
             name);
      else
        expected *= uint64_t(extent);
    if (end > dataBytes)
      fail("{} is truncated: tensor '{}' ends at byte {} of the data, which "
           "has {}",
           path, name, end, dataBytes);
    if (end - begin != expected)
      fail("{}: tensor '{}' has {} bytes, but a {} tensor of shape [{}] has "
           "{}",
           path, name, end - begin, tensor.dtype, fmt::join(tensor.shape, ","),
           expected);
    tensor.data.assign(data + begin, data + end);
    sorted.push_back({begin, end});
  }
  // The format's own rule: the tensors tile the data, no gaps, no overlap.
  std::sort(sorted.begin(), sorted.end());
  uint64_t covered = 0;
  for (auto [begin, end] : sorted) {
    if (begin != covered)
      fail("{} is not a safetensors file: its tensors {} at byte {} of the "
           "data",
           path, begin < covered ? "overlap" : "leave a gap", covered);
    covered = end;
  }
  if (covered != dataBytes)
    fail("{} is not a safetensors file: {} bytes follow its last tensor",
         path, dataBytes - covered);
  return file;
}

Safetensors readSafetensors(const std::string &path) {
  return parseSafetensors(path, readWholeFile(path, "weights"));
}

void checkWeights(
    const std::string &path, const std::string &model, const Safetensors &file,
    const std::vector<std::pair<std::string, std::vector<int64_t>>>
        &expected) {
  std::vector<std::string> problems;
  std::set<std::string_view> known;
  for (const auto &[name, shape] : expected) {
    known.insert(name);
    auto found = file.tensors.find(name);
    if (found == file.tensors.end())
      problems.push_back(
          fmt::format("{} [{}] is missing", name, fmt::join(shape, ",")));
    else if (found->second.dtype != "F32")
      problems.push_back(fmt::format("{} is {}, and resnetc reads F32", name,
                                     found->second.dtype));
    else if (found->second.shape != shape)
      problems.push_back(fmt::format("{} has shape [{}] there but [{}] here",
                                     name, fmt::join(found->second.shape, ","),
                                     fmt::join(shape, ",")));
  }
  for (const auto &[name, tensor] : file.tensors)
    if (!known.count(name))
      problems.push_back(fmt::format("{} is not a parameter or state of this "
                                     "model",
                                     name));
  if (!problems.empty())
    fail("{} does not fit model {}: {}", path, model,
         fmt::join(problems, "; "));
}

std::string serializeSafetensors(
    const std::vector<std::pair<std::string, StoredTensor>> &tensors,
    const std::map<std::string, std::string> &metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto &[key, value] : metadata)
      header += fmt::format("{}{}:{}", header.back() == '{' ? "" : ",",
                            jsonString(key), jsonString(value));
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto &[name, tensor] : tensors) {
    header += fmt::format(
        "{}{}:{{\"dtype\":{},\"shape\":[{}],\"data_offsets\":[{},{}]}}",
        header.size() > 1 ? "," : "", jsonString(name),
        jsonString(tensor.dtype), fmt::join(tensor.shape, ","), offset,
        offset + tensor.data.size());
    offset += tensor.data.size();
  }
  header += "}";
  // Blanks to a multiple of 8, so that the data is aligned as the format's
  // own writer aligns it.
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  uint64_t headerBytes = header.size();
  std::memcpy(bytes.data(), &headerBytes, 8);
  bytes += header;
  for (const auto &[name, tensor] : tensors)
    bytes.append(reinterpret_cast<const char *>(tensor.data.data()),
                 tensor.data.size());
  return bytes;
}

} // namespace resnetrt
