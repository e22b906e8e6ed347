#include "common/time_format.h"

#include <gtest/gtest.h>

namespace trainyard {
namespace {

TEST(TimeFormatTest, Iso8601UtcWithMilliseconds) {
  TimePoint time =
      std::chrono::system_clock::from_time_t(1795807784) + std::chrono::milliseconds(7);
  EXPECT_EQ(FormatIso8601(time), "2026-11-27T19:29:44.007Z");
  EXPECT_EQ(FormatIso8601(std::chrono::system_clock::from_time_t(0)), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace trainyard
