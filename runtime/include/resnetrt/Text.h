//===- Text.h - parsing the values of flags ---------------------*- C++ -*-===//
//
// Flags, augmentation lists, normalisation constants and milestone lists are
// all short texts; these helpers take them apart. Each returns nothing on
// malformed input and leaves the message to the caller, who knows which flag
// it was.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_TEXT_H
#define RESNETRT_TEXT_H

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace resnetrt {

/// `text` without leading and trailing blanks.
std::string_view trim(std::string_view text);

/// Splits at every `separator` outside parentheses; pieces are trimmed.
/// An empty (or blank) text is an empty list.
std::vector<std::string_view> splitList(std::string_view text,
                                        char separator = ',');

/// A whole decimal integer (no trailing characters).
std::optional<int64_t> parseInteger(std::string_view text);

/// A whole, finite floating-point number.
std::optional<double> parseNumber(std::string_view text);

/// A comma-separated list of finite numbers; nothing if any is malformed.
std::optional<std::vector<double>> parseNumberList(std::string_view text);

} // namespace resnetrt

#endif // RESNETRT_TEXT_H
