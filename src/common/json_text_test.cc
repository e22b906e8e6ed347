#include "common/json_text.h"

#include <gtest/gtest.h>

namespace trainyard {
namespace {

TEST(ParseJsonTextTest, ReadsJson) {
  Result<nlohmann::json> parsed =
      ParseJsonText(R"({"a": {"b": [1, {"c": 2}, {"c": 3}]}, "d": {"b": 1}})", 8);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)["a"]["b"][2]["c"], 3);  // the same key in sibling objects is fine
  EXPECT_EQ((*parsed)["d"]["b"], 1);
}

TEST(ParseJsonTextTest, ADuplicateKeyIsRefusedNamingIt) {
  for (const char* text : {R"({"lr": 1, "lr": 2})", R"({"a": {"x": 1, "lr": 1, "lr": 1}})",
                           R"([{"lr": 1}, {"b": {"lr": 1, "lr": [2]}}])"}) {
    Result<nlohmann::json> parsed = ParseJsonText(text, 8);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(parsed.status().message(), "field 'lr': appears twice in one JSON object") << text;
  }
}

TEST(ParseJsonTextTest, BadJsonAndDeepNestingAreInvalidArgument) {
  Result<nlohmann::json> bad = ParseJsonText(R"({"a": )", 8);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not valid JSON"), std::string::npos);
  Result<nlohmann::json> deep = ParseJsonText("[[[[1]]]]", 3);
  EXPECT_EQ(deep.status().message(), "the JSON body nests deeper than 3");
}

}  // namespace
}  // namespace trainyard
