#include "common/environment.h"

#include <gtest/gtest.h>

namespace trainyard {
namespace {

TEST(EnvironmentTest, ParsesAndFormatsKeyValuePairs) {
  char a[] = "A=1", b[] = "URL=http://x/?q=1", c[] = "NO_EQUALS", d[] = "EMPTY=";
  char* entries[] = {a, b, c, d, nullptr};
  EnvironmentMap environment = ParseEnvironment(entries);
  EXPECT_EQ(environment, (EnvironmentMap{{"A", "1"}, {"URL", "http://x/?q=1"}, {"EMPTY", ""}}));
  EXPECT_EQ(FormatEnvironment(environment),
            (std::vector<std::string>{"A=1", "EMPTY=", "URL=http://x/?q=1"}));
  EXPECT_TRUE(ParseEnvironment(nullptr).empty());
}

}  // namespace
}  // namespace trainyard
