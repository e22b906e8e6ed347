#include "core/command_line.h"

#include <gtest/gtest.h>

namespace trainyard::core {
namespace {

TEST(SplitCommandLineTest, QuotesAndEscapes) {
  auto words = SplitCommandLine(R"(python3  'a b' "c \"d\"" e\ f "" g)");
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, (std::vector<std::string>{"python3", "a b", "c \"d\"", "e f", "", "g"}));
  EXPECT_FALSE(SplitCommandLine("'open").ok());
}

TEST(SplitCommandLineTest, SplitsLikeAShell) {
  auto words = SplitCommandLine(R"(python3 train.py --name "my run" 'a b' c\ d "q\"uote")");
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, (std::vector<std::string>{"python3", "train.py", "--name", "my run", "a b",
                                              "c d", "q\"uote"}));
  EXPECT_EQ(SplitCommandLine("python3 'unterminated").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
TEST(JoinCommandLineTest, SplitsBackToTheSameWords) {
  std::vector<std::string> words = {"python3", "-u", "my script.py", "it's", "", "$HOME", "a\"b"};
  std::string line = JoinCommandLine(words);
  EXPECT_EQ(line, R"(python3 -u 'my script.py' 'it'\''s' '' '$HOME' 'a"b')");
  auto split = SplitCommandLine(line);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(*split, words);
}

}  // namespace trainyard::core
