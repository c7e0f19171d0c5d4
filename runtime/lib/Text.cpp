//===- Text.cpp - parsing the values of flags -----------------------------===//

#include "resnetrt/Text.h"

#include <charconv>
#include <cmath>

namespace resnetrt {

std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\n\r");
  if (begin == std::string_view::npos)
    return {};
  size_t end = text.find_last_not_of(" \t\n\r");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string_view> splitList(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  if (trim(text).empty())
    return pieces;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == separator && depth == 0)) {
      pieces.push_back(trim(text.substr(start, i - start)));
      start = i + 1;
      continue;
    }
    depth += text[i] == '(';
    depth -= text[i] == ')';
  }
  return pieces;
}

/// Parses all of `text` (after an optional '+') with std::from_chars, which,
/// unlike strtod, ignores the locale.
template <typename T>
static std::optional<T> parseWhole(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  T value{};
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::optional<int64_t> parseInteger(std::string_view text) {
  return parseWhole<int64_t>(text);
}

std::optional<double> parseNumber(std::string_view text) {
  std::optional<double> value = parseWhole<double>(text);
  if (!value || !std::isfinite(*value))
    return std::nullopt;
  return value;
}

std::optional<std::vector<double>> parseNumberList(std::string_view text) {
  std::vector<double> values;
  for (std::string_view piece : splitList(text)) {
    std::optional<double> value = parseNumber(piece);
    if (!value)
      return std::nullopt;
    values.push_back(*value);
  }
  return values;
}

} // namespace resnetrt
