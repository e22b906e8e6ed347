#include "common/utf8.h"

#include <gtest/gtest.h>

namespace trainyard {
namespace {

TEST(Utf8Test, CountsCodePoints) {
  EXPECT_EQ(CodePointCount(""), 0u);
  EXPECT_EQ(CodePointCount("abc"), 3u);
  EXPECT_EQ(CodePointCount("é中😀"), 3u);
}

TEST(Utf8Test, RefusesInvalidSequences) {
  EXPECT_FALSE(CodePointCount("\xff"));
  EXPECT_FALSE(CodePointCount("\xc3"));              // truncated
  EXPECT_FALSE(CodePointCount("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(CodePointCount("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(CodePointCount("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(CodePointCount("\xe4\xb8"));          // truncated at the end
}

TEST(Utf8Test, ReplacesInvalidBytes) {
  EXPECT_EQ(ToValidUtf8("ok é"), "ok é");
  EXPECT_EQ(ToValidUtf8("a\xff"
                        "b"),
            "a\ufffd"
            "b");
  EXPECT_EQ(ToValidUtf8("cut \xe4\xb8"), "cut \ufffd\ufffd");
}

TEST(Utf8Test, AppendsEveryWidth) {
  std::string out;
  for (char32_t c : {U'a', U'é', U'中', U'😀'}) AppendUtf8(c, &out);
  EXPECT_EQ(out, "aé中😀");
}

TEST(Utf8Test, Abbreviates) {
  EXPECT_EQ(Abbreviate("short"), "short");
  EXPECT_EQ(Abbreviate("ééééé", 3), "ééé...");
  EXPECT_EQ(Abbreviate(std::string(64, 'x')), std::string(64, 'x'));
  EXPECT_EQ(Abbreviate(std::string(65, 'x')), std::string(64, 'x') + "...");
}

}  // namespace
}  // namespace trainyard
