#include "contract/progress_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_paths.h"

namespace trainyard::contract {
namespace {

void Append(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

TEST(ProgressFileTest, ParsesEveryField) {
  auto record = ParseProgressLine(
      R"({"progress": 0.5, "step": 10, "total_steps": 20, "epoch": 1.5, "message": "hi",
          "metrics": {"loss": 0.25, "accuracy": 0.9, "note": "text"}})");
  ASSERT_TRUE(record.has_value());
  EXPECT_DOUBLE_EQ(*record->progress, 0.5);
  EXPECT_EQ(*record->step, 10);
  EXPECT_EQ(*record->total_steps, 20);
  EXPECT_DOUBLE_EQ(*record->epoch, 1.5);
  EXPECT_EQ(*record->message, "hi");
  EXPECT_EQ(record->metrics.size(), 2u);  // the non-number is dropped
  EXPECT_DOUBLE_EQ(record->metrics.at("loss"), 0.25);
}

TEST(ProgressFileTest, RejectsGarbage) {
  for (const char* line : {"not json", "[1,2]", "42", R"({"progress": 1.5})",
                           R"({"progress": "half"})", R"({"step": -1})", R"({"step": 1.5})",
                           R"({"metrics": [1]})", R"({"message": 3})", "{\"progress\": 0.5"}) {
    EXPECT_FALSE(ParseProgressLine(line).has_value()) << line;
  }
}

TEST(ProgressFileTest, ReaderTakesOnlyNewCompleteLinesAndSkipsGarbage) {
  testing::TempDir dir;
  auto path = dir.path() / "progress.jsonl";
  ProgressFileReader reader(path);
  EXPECT_TRUE(reader.ReadNew().empty());  // no file yet: no news

  Append(path, "{\"step\": 1}\ngarbage\n{\"step\": 2");
  auto records = reader.ReadNew();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(*records[0].step, 1);
  EXPECT_EQ(reader.skipped_lines(), 1u);

  Append(path, "}\n\n{\"step\": 3}\n");  // the torn line is finished
  records = reader.ReadNew();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(*records[0].step, 2);
  EXPECT_EQ(*records[1].step, 3);

  Append(path, "{\"step\": 4}");
  EXPECT_TRUE(reader.ReadNew().empty());
  records = reader.ReadNew(/*at_end=*/true);  // the writer has exited: take the last line
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(*records[0].step, 4);
}

TEST(ProgressFileTest, SnapshotKeepsTheLatestOfEachField) {
  ProgressSnapshot snapshot;
  EXPECT_TRUE(snapshot.empty());
  snapshot.Merge(*ParseProgressLine(R"({"progress": 0.1, "message": "a"})"));
  snapshot.Merge(*ParseProgressLine(R"({"progress": 0.2, "step": 5})"));
  EXPECT_EQ(snapshot.ToJson(), nlohmann::json::parse(R"({"progress":0.2,"step":5,"message":"a"})"));
}

}  // namespace
}  // namespace trainyard::contract
