#include "server/http/request_parsing.h"

#include <gtest/gtest.h>

namespace trainyard::server::internal {
namespace {

TEST(RequestParsingTest, DecodesPathAndQuery) {
  auto decoded = DecodeTarget("/a%2Fb/c?x=1+2&y=%41&flag&&x=3");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->path, "/a/b/c");
  EXPECT_EQ(decoded->query["x"], "3");  // the last one wins
  EXPECT_EQ(decoded->query["y"], "A");
  EXPECT_EQ(decoded->query["flag"], "");
}

// Found by fuzz/fuzz_request_target: a raw NUL passed into the decoded path.
TEST(RequestParsingTest, RefusesControlCharactersEncodedOrNot) {
  EXPECT_FALSE(DecodeTarget(std::string_view("/ap\0x", 5)).ok());
  EXPECT_FALSE(DecodeTarget("/a%00b").ok());
  EXPECT_FALSE(DecodeTarget("/a\nb").ok());
  EXPECT_FALSE(DecodeTarget("/a?b=%0").ok());
  EXPECT_FALSE(DecodeTarget("/a%zz").ok());
}

}  // namespace
}  // namespace trainyard::server::internal
