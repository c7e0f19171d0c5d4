//===- SafetensorsTest.cpp - the safetensors reader and writer ------------===//

#include "resnetrt/Error.h"
#include "resnetrt/Safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace resnetrt;

namespace {

/// A file of a JSON header (as given) and data.
std::vector<uint8_t> file(const std::string &header, size_t dataBytes) {
  std::vector<uint8_t> bytes(8 + header.size() + dataBytes, 0x3f);
  uint64_t size = header.size();
  std::memcpy(bytes.data(), &size, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  return bytes;
}

/// The message parseSafetensors throws for `bytes`; "" when it accepts.
std::string refusal(const std::vector<uint8_t> &bytes) {
  try {
    parseSafetensors("w.safetensors", bytes);
    return "";
  } catch (const Error &error) {
    return error.what();
  }
}

} // namespace

TEST(SafetensorsTest, WhatItWritesReadsBack) {
  StoredTensor weight{"F32", {2, 1, 1, 2}, std::vector<uint8_t>(16)};
  for (size_t i = 0; i < 16; ++i)
    weight.data[i] = uint8_t(i * 7);
  StoredTensor scalar{"F32", {}, {1, 2, 3, 4}};
  std::string bytes = serializeSafetensors(
      {{"conv.weight", weight}, {"a \"quoted\" name", scalar}},
      {{"model", "m"}});
  // The data starts 8-byte aligned, as the format's own writer puts it.
  uint64_t headerBytes;
  std::memcpy(&headerBytes, bytes.data(), 8);
  EXPECT_EQ((8 + headerBytes) % 8, 0u);
  Safetensors back = parseSafetensors(
      "w.safetensors", std::vector<uint8_t>(bytes.begin(), bytes.end()));
  EXPECT_EQ(back.metadata.at("model"), "m");
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_EQ(back.tensors.at("conv.weight").shape,
            (std::vector<int64_t>{2, 1, 1, 2}));
  EXPECT_EQ(back.tensors.at("conv.weight").data, weight.data);
  EXPECT_EQ(back.tensors.at("a \"quoted\" name").data, scalar.data);
}

TEST(SafetensorsTest, ReadsWhatOthersMayWrite) {
  // Any order of tensors and keys, blanks, escapes, other dtypes.
  std::string header =
      " { \"b\" : {\"data_offsets\":[8,12], \"shape\":[2],\"dtype\":\"BF16\"},"
      "\n\"\\u00e9\\ud83d\\ude00\":{\"dtype\":\"I64\",\"shape\":[1],"
      "\"data_offsets\":[0,8]}}   ";
  std::string error = refusal(file(header, 12));
  EXPECT_EQ(error, "");
  Safetensors read = parseSafetensors("w", file(header, 12));
  EXPECT_TRUE(read.tensors.count("\xc3\xa9\xf0\x9f\x98\x80"));
}

TEST(SafetensorsTest, RefusesWhatTheFormatDoesNotAllow) {
  const std::string tensor =
      "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  EXPECT_EQ(refusal(file(tensor, 8)), "");
  EXPECT_NE(refusal({1, 2, 3}).find("fewer than the 8"), std::string::npos);
  std::vector<uint8_t> longHeader = file(tensor, 8);
  longHeader[6] = 1; // a header length past the file
  EXPECT_NE(refusal(longHeader).find("its header is"), std::string::npos);
  EXPECT_NE(refusal(file(tensor, 4)).find("is truncated: tensor 't'"),
            std::string::npos);
  EXPECT_NE(refusal(file(tensor, 12)).find("4 bytes follow its last tensor"),
            std::string::npos);
  struct Case {
    const char *header, *message;
  } cases[] = {
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
       "a F32 tensor of shape [3] has 12"},
      {"{\"t\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}",
       "the dtype 'Q4'"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", "lacks dtype"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
       "\"extra\":1}}",
       "the key 'extra'"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
       "non-negative integer"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}",
       "leading zero"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
       "not [begin, end]"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
       "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
       "appears twice"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
       "overlap"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
       "leave a gap"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x",
       "text after"},
      {"{\"t\":{\"dtype\":\"F\\q32\"}}", "the escape \\q"},
      {"{\"t\\ud800\":{}}", "surrogate"},
      {"{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
       "\"data_offsets\":[0,8]}}",
       "more elements than a file can hold"},
      {"[]", "expected '{'"},
  };
  for (const Case &c : cases) {
    std::string message = refusal(file(c.header, 8));
    EXPECT_NE(message.find(c.message), std::string::npos)
        << c.header << " gave: " << message;
    EXPECT_NE(message.find("w.safetensors"), std::string::npos) << message;
  }
}

TEST(SafetensorsTest, ChecksWeightsAgainstAModel) {
  Safetensors file;
  file.tensors["conv.weight"] = {"F32", {2, 1, 1, 1}, std::vector<uint8_t>(8)};
  file.tensors["bn.gamma"] = {"F16", {2}, std::vector<uint8_t>(4)};
  file.tensors["head.weight"] = {"F32", {1}, std::vector<uint8_t>(4)};
  std::vector<std::pair<std::string, std::vector<int64_t>>> model = {
      {"conv.weight", {2, 1, 1, 1}}, {"bn.gamma", {2}}};
  auto problems = [&]() -> std::string {
    try {
      checkWeights("w.safetensors", "m", file, model);
      return "";
    } catch (const Error &error) {
      return error.what();
    }
  };
  EXPECT_EQ(problems(), "w.safetensors does not fit model m: bn.gamma is "
                        "F16, and resnetc reads F32; head.weight is not a "
                        "parameter or state of this model");
  file.tensors.erase("head.weight");
  file.tensors["bn.gamma"] = {"F32", {2}, std::vector<uint8_t>(8)};
  EXPECT_EQ(problems(), "");
  model.push_back({"bn.beta", {2}});
  model[0].second = {2, 1, 3, 3};
  EXPECT_EQ(problems(), "w.safetensors does not fit model m: conv.weight has "
                        "shape [2,1,1,1] there but [2,1,3,3] here; bn.beta "
                        "[2] is missing");
}
