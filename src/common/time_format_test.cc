#include "common/time_format.h"

#include <gtest/gtest.h>

namespace trainyard {
namespace {

TEST(TimeFormatTest, Iso8601UtcWithMilliseconds) {
  TimePoint time =
      std::chrono::system_clock::from_time_t(1795807784) + std::chrono::milliseconds(7);
  EXPECT_EQ(FormatIso8601(time), "2026-11-27T19:29:44.007Z");
  EXPECT_EQ(FormatIso8601(std::chrono::system_clock::from_time_t(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(std::chrono::system_clock::from_time_t(0) - std::chrono::milliseconds(1)),
            "1969-12-31T23:59:59.999Z");
}

TEST(TimeFormatTest, ParsesWhatItFormats) {
  TimePoint time =
      std::chrono::system_clock::from_time_t(1795807784) + std::chrono::milliseconds(7);
  EXPECT_EQ(ParseIso8601("2026-11-27T19:29:44.007Z"), time);
  EXPECT_EQ(ParseIso8601(FormatIso8601(time)), time);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00.000Z"), std::chrono::system_clock::from_time_t(0));
  EXPECT_EQ(ParseIso8601("1969-12-31T23:59:59.500Z"),
            std::chrono::system_clock::from_time_t(0) - std::chrono::milliseconds(500));
  EXPECT_EQ(FormatIso8601(*ParseIso8601("1969-12-31T23:59:59.500Z")), "1969-12-31T23:59:59.500Z");
}

TEST(TimeFormatTest, ParsesOtherFractionsAndRefusesTheRest) {
  TimePoint second = std::chrono::system_clock::from_time_t(1795807784);
  EXPECT_EQ(ParseIso8601("2026-11-27T19:29:44Z"), second);
  EXPECT_EQ(ParseIso8601("2026-11-27T19:29:44.5Z"), second + std::chrono::milliseconds(500));
  EXPECT_EQ(ParseIso8601("2026-11-27T19:29:44.007999Z"), second + std::chrono::milliseconds(7));
  for (const char* wrong :
       {"", "tomorrow", "2026-11-27", "2026-11-27 19:29:44.007Z", "2026-11-27T19:29:44.007",
        "2026-11-27T19:29:44.Z", "2026-11-27T19:29:44.007Zjunk", "2026-11-27T19:29:44+02:00",
        "2026-13-27T19:29:44.007Z", "2026-11-27T24:00:00.000Z", "2026-1-27T19:29:44.007Z",
        "2026-12-31T23:59:60.000Z", "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00.000Z"}) {
    EXPECT_FALSE(ParseIso8601(wrong).has_value()) << wrong;
  }
}

}  // namespace
}  // namespace trainyard
