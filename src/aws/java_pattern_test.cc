// Tests of Java-pattern matching on PCRE2: whole-value matching, Java's "." and line
// terminators, \p{L}, lookbehind, and the Java-only spellings the models use.
#include "aws/java_pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace trainyard::aws {
namespace {

bool Matches(const std::string& pattern, const std::string& subject) {
  auto compiled = JavaPattern::Compile(pattern);
  EXPECT_TRUE(compiled.ok()) << compiled.status().ToString();
  return compiled.ok() && compiled->Matches(subject);
}

TEST(TranslateJavaPatternTest, RewritesUnicodeEscapesAndSurrogatePairs) {
  EXPECT_EQ(TranslateJavaPattern(R"([\u0020-\uD7FF])"), R"([\x{20}-\x{D7FF}])");
  EXPECT_EQ(TranslateJavaPattern(R"([\uD800\uDC00-\uDBFF\uDFFF])"), R"([\x{10000}-\x{10FFFF}])");
  EXPECT_EQ(TranslateJavaPattern(R"(\\u0041)"), R"(\\u0041)");  // an escaped backslash, then "u"
}

TEST(TranslateJavaPatternTest, GroupsAQuantifiedAnchor) {
  EXPECT_EQ(TranslateJavaPattern("^(a*)${1,128}"), "^(a*)(?:$){1,128}");
  EXPECT_EQ(TranslateJavaPattern("[$]{2}"), "[$]{2}");
  EXPECT_EQ(TranslateJavaPattern(R"(\${2})"), R"(\${2})");
  EXPECT_EQ(TranslateJavaPattern("a$"), "a$");
}

TEST(JavaPatternTest, MatchesTheWholeValueOnly) {
  const std::string job_name = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";
  EXPECT_TRUE(Matches(job_name, "digits-3fa9c1-002"));
  EXPECT_FALSE(Matches(job_name, "digits_002"));
  EXPECT_TRUE(Matches(job_name, std::string(63, 'a')));
  EXPECT_FALSE(Matches(job_name, std::string(64, 'a')));
  EXPECT_FALSE(Matches("[a-z]+", "abc1"));
  EXPECT_FALSE(Matches("[a-z]+", "1abc"));
}

TEST(JavaPatternTest, DotStopsAtJavaLineTerminators) {
  EXPECT_TRUE(Matches(".*", "any text"));
  EXPECT_TRUE(Matches(".*", ""));
  EXPECT_FALSE(Matches(".*", "a\nb"));
  EXPECT_FALSE(Matches(".*", "a\rb"));
  EXPECT_FALSE(Matches(".*", "a\u2028b"));
  EXPECT_FALSE(Matches(".*", "a\u0085b"));
  EXPECT_FALSE(Matches("abc$", "abc\n"));  // "$" may match before it, but nothing consumes it
  EXPECT_TRUE(Matches(R"([\S\s]*)", "line 1\nline 2\r\n"));
}

TEST(JavaPatternTest, UnicodePropertiesAndAsciiShorthands) {
  const std::string tag = R"(^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$)";
  EXPECT_TRUE(Matches(tag, "Größe 1"));
  EXPECT_TRUE(Matches(tag, "日本語 ٣"));
  EXPECT_FALSE(Matches(tag, "a#b"));
  EXPECT_FALSE(Matches(R"(\w+)", "é"));  // Java's \w is ASCII unless UNICODE_CHARACTER_CLASS
  EXPECT_TRUE(Matches(R"(\w+)", "abc_1"));
}

TEST(JavaPatternTest, LookbehindAndSupplementaryRanges) {
  const std::string arn_or_name =
      R"((arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)$)";
  EXPECT_TRUE(Matches(arn_or_name, "my-algorithm"));
  EXPECT_FALSE(Matches(arn_or_name, "my-algorithm-"));
  EXPECT_TRUE(
      Matches(arn_or_name, "arn:aws:sagemaker:eu-west-1:123456789012:algorithm/my-algorithm"));
  EXPECT_TRUE(Matches(R"([\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*)", "ok 😀\t"));
  EXPECT_TRUE(Matches(R"(^([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)${1,128})", "a b"));
}

TEST(JavaPatternTest, InvalidUtf8NeverMatches) {
  EXPECT_FALSE(Matches(".*", std::string("a\xff", 2)));
  EXPECT_FALSE(Matches(R"([\S\s]*)", std::string("\xc3", 1)));
}

TEST(JavaPatternTest, ReportsPatternsPcre2CannotCompile) {
  auto unbalanced = JavaPattern::Compile("(a");
  ASSERT_FALSE(unbalanced.ok());
  EXPECT_EQ(unbalanced.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unbalanced.status().message().find("'(a'"), std::string::npos);
  EXPECT_FALSE(JavaPattern::Compile(R"([\uD800])").ok());  // a lone surrogate
}

TEST(JavaPatternTest, LongValuesMatchQuickly) {
  auto any = JavaPattern::Compile(".*");
  auto everything = JavaPattern::Compile(R"([\S\s]*)");
  ASSERT_TRUE(any.ok() && everything.ok());
  const std::string long_value(100000, 'x');
  EXPECT_TRUE(any->Matches(long_value));
  EXPECT_TRUE(everything->Matches(long_value + "\n" + long_value));
  EXPECT_EQ(any->source(), ".*");
}

}  // namespace
}  // namespace trainyard::aws
