#include "wrapper/log_lines.h"

#include <gtest/gtest.h>

namespace trainyard::wrapper {
namespace {

TEST(LineSplitterTest, SplitsPerStreamAcrossChunks) {
  std::vector<LogLine> lines;
  LineSplitter splitter([&](LogLine line) { lines.push_back(std::move(line)); });
  auto now = std::chrono::system_clock::now();
  splitter.Add(Stream::kStdout, "hel", now);
  splitter.Add(Stream::kStderr, "err1\r\nerr", now);
  splitter.Add(Stream::kStdout, "lo\nworld", now);
  splitter.Finish(now);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "err1");
  EXPECT_EQ(lines[0].stream, Stream::kStderr);
  EXPECT_EQ(lines[1].text, "hello");
  EXPECT_EQ(lines[2].text, "world");
  EXPECT_EQ(lines[3].text, "err");
}

TEST(LineSplitterTest, KeepsTheEndOfStderr) {
  LineSplitter splitter([](LogLine) {}, /*stderr_tail_bytes=*/16);
  auto now = std::chrono::system_clock::now();
  for (int i = 0; i < 100; ++i)
    splitter.Add(Stream::kStderr, "line " + std::to_string(i) + "\n", now);
  std::string tail = splitter.StderrTail();
  EXPECT_LE(tail.size(), 16u);
  EXPECT_NE(tail.find("line 99"), std::string::npos);
  EXPECT_EQ(tail.rfind("line", 0), 0u);  // starts at a line boundary
}

TEST(MetricExtractorTest, FirstCaptureGroupAsNumber) {
  std::vector<std::string> warnings;
  MetricExtractor extractor(
      {{"loss", "loss=([0-9.e-]+)"}, {"acc", "accuracy: ([0-9.]+)"}, {"broken", "([unclosed"}},
      &warnings);
  EXPECT_EQ(warnings.size(), 1u);
  auto points =
      extractor.Extract("step 3 loss=0.25 accuracy: 0.9", std::chrono::system_clock::now());
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].name, "loss");
  EXPECT_DOUBLE_EQ(points[0].value, 0.25);
  EXPECT_DOUBLE_EQ(points[1].value, 0.9);
  EXPECT_TRUE(extractor.Extract("loss=abc", std::chrono::system_clock::now()).empty());
}

}  // namespace
}  // namespace trainyard::wrapper
