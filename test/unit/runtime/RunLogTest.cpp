//===- RunLogTest.cpp - records, CRCs and curves of --log-dir -------------===//

#include "resnetrt/Curves.h"
#include "resnetrt/EventFile.h"
#include "resnetrt/RunLog.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace resnetrt;

TEST(EventFileTest, Crc32cMatchesTheCheckValue) {
  // The CRC-32C of "123456789", as every CRC catalogue lists it.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  uint32_t crc = 0xE3069283u;
  EXPECT_EQ(maskedCrc32c("123456789"),
            ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST(RunLogTest, EpochRecordsReadBackAsWritten) {
  EpochRecord record;
  record.epoch = 7;
  record.steps = 2730;
  record.trainLoss = 0.123456789;
  record.trainAccuracy = 0.95;
  record.testLoss = 0.25;
  record.testAccuracy = 0.9125;
  record.lr = 1e-3;
  record.imagesPerSecond = 3181.5;
  record.seconds = 18.75;
  record.rssMib = 63.4;
  std::optional<EpochRecord> back = parseEpochJson(epochJson(record));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->epoch, 7);
  EXPECT_EQ(back->steps, 2730);
  EXPECT_EQ(back->trainLoss, 0.123456789);
  EXPECT_EQ(back->testAccuracy, 0.9125);
  EXPECT_EQ(back->lr, 1e-3);
  EXPECT_FALSE(back->valLoss);

  record.valLoss = 0.3;
  record.valAccuracy = 0.9;
  back = parseEpochJson(epochJson(record));
  ASSERT_TRUE(back && back->valLoss && back->valAccuracy);
  EXPECT_EQ(*back->valAccuracy, 0.9);

  EXPECT_FALSE(parseEpochJson("{\"type\":\"step\",\"step\":3}"));
  EXPECT_FALSE(parseEpochJson("not json"));
}

TEST(CurvesTest, OneLinePerSplitAndQuantityWithAPointPerEpoch) {
  std::vector<EpochRecord> epochs(3);
  for (int i = 0; i < 3; ++i) {
    epochs[i].epoch = i + 1;
    epochs[i].trainLoss = 1.0 / (i + 1);
    epochs[i].trainAccuracy = 0.5 + 0.1 * i;
    epochs[i].testLoss = 1.2 / (i + 1);
    epochs[i].testAccuracy = 0.45 + 0.1 * i;
  }
  std::string svg = curvesSvg("a <b> & \"c\"", epochs);
  EXPECT_NE(svg.find("a &lt;b&gt; &amp; &quot;c&quot;"), std::string::npos);
  size_t lines = 0;
  for (size_t at = 0; (at = svg.find("<polyline", at)) != std::string::npos;
       ++at)
    ++lines;
  EXPECT_EQ(lines, 4u); // no validation split: train and test, twice
  EXPECT_EQ(svg.find("class=\"validation\""), std::string::npos);
  // No epoch at all, or a NaN, still gives a drawing.
  EXPECT_NE(curvesSvg("empty", {}).find("</svg>"), std::string::npos);
  epochs[1].trainLoss = NAN;
  std::string withNan = curvesSvg("t", epochs);
  EXPECT_EQ(withNan.find("nan"), std::string::npos);
  EXPECT_EQ(withNan.find("inf"), std::string::npos);
}
