#include "contract/progress_body.h"

#include <gtest/gtest.h>

namespace trainyard::contract {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Timestamps travel to the millisecond.
TimePoint At(int64_t milliseconds) {
  return TimePoint(std::chrono::milliseconds(milliseconds));
}

ProgressBody RoundTrip(const ProgressBody& body) {
  auto decoded = DecodeProgressBody(EncodeProgressBody(body));
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? *decoded : ProgressBody{};
}

std::string FieldOf(const json& body) {
  auto decoded = DecodeProgressBody(body);
  if (decoded.ok()) return "(decoded)";
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = decoded.status().message();
  size_t end = message.find("': ");
  if (message.rfind("field '", 0) != 0 || end == std::string::npos) return message;
  return message.substr(7, end - 7);
}

TEST(ProgressBodyTest, RoundTripsEverything) {
  ProgressBody body{
      .job_name = "digits-003",
      .sequence = 7,
      .sent_at = At(1795807953120),
      .progress = json{{"progress", 0.5}, {"step", 150}, {"message", "half"}},
      .metrics = {{"loss", 0.31, 150, At(1795807951002)}, {"acc", 0.9, std::nullopt, At(3)}},
      .log = {{LogStream::kStdout, "step=150/300", At(1795807951001)},
              {LogStream::kStderr, "warning: slow", At(1795807951002)},
              {LogStream::kStdout, "", At(0)}},
      .dropped_log_lines = 12,
      .dropped_metric_points = 3,
      .exit = ProgressExit{.code = 137, .signal = "SIGKILL"},
  };
  EXPECT_EQ(RoundTrip(body), body);
}

TEST(ProgressBodyTest, RoundTripsTheEdgeCases) {
  ProgressBody empty{.sent_at = At(1)};
  EXPECT_EQ(RoundTrip(empty), empty);

  ProgressBody no_step{.sequence = 1, .sent_at = At(2), .metrics = {{"loss", -1e-9, {}, At(4)}}};
  ProgressBody decoded = RoundTrip(no_step);
  EXPECT_EQ(decoded, no_step);
  EXPECT_FALSE(decoded.metrics[0].step.has_value());

  ProgressBody stderr_only{.sent_at = At(5), .log = {{LogStream::kStderr, "Traceback", At(6)}}};
  EXPECT_EQ(RoundTrip(stderr_only), stderr_only);

  ProgressBody exit_only{.sent_at = At(7), .exit = ProgressExit{.code = 0}};
  decoded = RoundTrip(exit_only);
  EXPECT_EQ(decoded, exit_only);
  ASSERT_TRUE(decoded.exit.has_value());
  EXPECT_FALSE(decoded.exit->signal.has_value());

  ProgressBody dropped{.sent_at = At(8), .dropped_log_lines = 5'000};
  EXPECT_EQ(RoundTrip(dropped), dropped);
  dropped = {.sent_at = At(8), .dropped_metric_points = 10'000};
  EXPECT_EQ(RoundTrip(dropped), dropped);
}

TEST(ProgressBodyTest, ValuesOutsideTheDocumentedRangesAreRefusedNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"progress": {"progress": 5.0}})",
       "field 'progress.progress': must be a number from 0 to 1"},
      {R"({"progress": {"progress": -0.1}})",
       "field 'progress.progress': must be a number from 0 to 1"},
      {R"({"progress": {"progress": "half"}})",
       "field 'progress.progress': must be a number from 0 to 1"},
      {R"({"progress": {"step": -3}})", "field 'progress.step': must be a non-negative integer"},
      {R"({"progress": {"total_steps": 1.5}})",
       "field 'progress.total_steps': must be a non-negative integer"},
      {R"({"progress": {"epoch": "2"}})", "field 'progress.epoch': must be a number"},
      {R"({"progress": {"message": 7}})", "field 'progress.message': must be a string"},
      {R"({"metrics": [{"name": "loss", "value": 1}, {"name": "loss", "value": 1, "step": -3}]})",
       "field 'metrics[1].step': must be a non-negative integer"},
      {R"({"metrics": [{"name": "loss", "value": 1, "step": 9223372036854775808}]})",
       "field 'metrics[0].step': must be a non-negative integer"},
  };
  for (const auto& [text, message] : cases) {
    auto decoded = DecodeProgressBody(json::parse(text));
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(decoded.status().message(), message) << text;
  }
  auto edges = DecodeProgressBody(json::parse(
      R"({"progress": {"progress": 1, "step": 0, "total_steps": 9, "epoch": -1.5},
          "metrics": [{"name": "loss", "value": 1, "step": 0}]})"));
  ASSERT_TRUE(edges.ok()) << edges.status().ToString();
  EXPECT_EQ(edges->metrics[0].step, 0);
}

TEST(ProgressBodyTest, WhatItWritesReadsBackTheSame) {
  // Whatever it accepts, its own encoding of it decodes to the same body (fuzz_json_requests
  // checks this for any input): odd timestamps included.
  json body = json::parse(R"({
    "sequence": 18446744073709551615, "job_name": "j",
    "metrics": [{"name": "a", "value": 18446744073709551615, "step": 3,
                 "timestamp": "1969-12-31T23:59:59.500Z"},
                {"name": "b", "value": -0.5, "timestamp": "2026-02-31T00:00:00Z"},
                {"name": "c", "value": 1, "timestamp": "9999-12-31T23:59:60Z"},
                {"name": "d", "value": 2, "timestamp": "2026-11-27T18:32:31.0019999Z"}],
    "log": [{"line": "x", "stream": "stderr"}, {"line": "", "timestamp": "0000-01-01T00:00:00Z"}],
    "progress": {"nested": {"a": [1, 2]}},
    "exit": {"code": -2147483648, "signal": "SIGSEGV"}
  })");
  auto decoded = DecodeProgressBody(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  json canonical = EncodeProgressBody(*decoded);
  auto again = DecodeProgressBody(canonical);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(EncodeProgressBody(*again), canonical);
  EXPECT_EQ(canonical["metrics"][0]["timestamp"], "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(canonical["metrics"][1]["timestamp"], "2026-03-03T00:00:00.000Z");
  EXPECT_EQ(canonical["metrics"][3]["timestamp"], "2026-11-27T18:32:31.001Z");
  EXPECT_EQ(again->exit, (ProgressExit{.code = -2147483648, .signal = "SIGSEGV"}));
}

TEST(ProgressBodyTest, WritesTheDocumentedFields) {
  ProgressBody body{.job_name = "j",
                    .sequence = 2,
                    .sent_at = At(1795807953120),
                    .metrics = {{"loss", 0.5, std::nullopt, At(1795807951002)}},
                    .log = {{LogStream::kStderr, "oops", At(1795807951001)}}};
  json encoded = EncodeProgressBody(body);
  EXPECT_EQ(encoded, json::parse(R"({
    "schema": "trainyard.progress/v1", "job_name": "j", "sequence": 2,
    "sent_at": "2026-11-27T19:32:33.120Z",
    "metrics": [{"name": "loss", "value": 0.5, "timestamp": "2026-11-27T19:32:31.002Z"}],
    "log": [{"stream": "stderr", "line": "oops", "timestamp": "2026-11-27T19:32:31.001Z"}]
  })"));
  // Present only when there is something to say.
  body.progress = json::object();
  body.dropped_log_lines = 1;
  body.exit = ProgressExit{.code = 1};
  encoded = EncodeProgressBody(body);
  EXPECT_EQ(encoded["progress"], json::object());
  EXPECT_EQ(encoded["dropped_log_lines"], 1);
  EXPECT_FALSE(encoded.contains("dropped_metric_points"));
  EXPECT_EQ(encoded["exit"], json::parse(R"({"code": 1})"));
}

TEST(ProgressBodyTest, ReadsTheDocumentedExample) {
  // docs/progress-callback.md, as every wrapper of v1 sends it.
  auto decoded = DecodeProgressBody(json::parse(R"({
    "schema": "trainyard.progress/v1",
    "job_name": "digits-003",
    "sequence": 7,
    "sent_at": "2026-11-27T18:32:33.120Z",
    "progress": {"progress": 0.5, "step": 150, "total_steps": 300, "epoch": 2.4, "message": "..."},
    "metrics": [{"name": "loss", "value": 0.31, "step": 150, "timestamp": "2026-11-27T18:32:31.002Z"}],
    "log": [{"stream": "stdout", "line": "step=150/300 loss=0.3100", "timestamp": "2026-11-27T18:32:31.001Z"}],
    "dropped_log_lines": 0,
    "exit": {"code": 0}
  })"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->job_name, "digits-003");
  EXPECT_EQ(decoded->sequence, 7u);
  EXPECT_EQ(FormatIso8601(decoded->sent_at), "2026-11-27T18:32:33.120Z");
  ASSERT_TRUE(decoded->progress.has_value());
  EXPECT_EQ((*decoded->progress)["total_steps"], 300);
  ASSERT_EQ(decoded->metrics.size(), 1u);
  EXPECT_EQ(decoded->metrics[0].name, "loss");
  EXPECT_EQ(decoded->metrics[0].value, 0.31);
  EXPECT_EQ(decoded->metrics[0].step, 150);
  EXPECT_EQ(FormatIso8601(decoded->metrics[0].timestamp), "2026-11-27T18:32:31.002Z");
  ASSERT_EQ(decoded->log.size(), 1u);
  EXPECT_EQ(decoded->log[0].stream, LogStream::kStdout);
  EXPECT_EQ(decoded->log[0].line, "step=150/300 loss=0.3100");
  EXPECT_EQ(decoded->dropped_log_lines, 0u);
  ASSERT_TRUE(decoded->exit.has_value());
  EXPECT_EQ(decoded->exit->code, 0);
}

TEST(ProgressBodyTest, NamesTheFieldOfAWrongShape) {
  EXPECT_EQ(DecodeProgressBody(json::array()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(json::parse(R"({"metrics": [{"name": "a", "value": 1}, {"name": 2}]})")),
            "metrics[1]");
  EXPECT_EQ(FieldOf(json::parse(R"({"metrics": [{"name": "a", "value": "1"}]})")), "metrics[0]");
  EXPECT_EQ(FieldOf(json::parse(R"({"metrics": [{"value": 1}]})")), "metrics[0]");
  EXPECT_EQ(FieldOf(json::parse(R"({"metrics": {"name": "a", "value": 1}})")), "metrics");
  EXPECT_EQ(FieldOf(json::parse(R"({"log": [{"stream": 5, "line": 7}]})")), "log[0]");
  EXPECT_EQ(FieldOf(json::parse(R"({"log": [{"line": "a"}, "b"]})")), "log[1]");
  EXPECT_EQ(FieldOf(json::parse(R"({"log": "a line"})")), "log");
  EXPECT_EQ(FieldOf(json::parse(R"({"progress": 0.5})")), "progress");
  EXPECT_EQ(FieldOf(json::parse(R"({"progress": null})")), "progress");
  EXPECT_EQ(
      DecodeProgressBody(json::parse(R"({"metrics": [{"name": "a", "value": 1}, {"name": 2}]})"))
          .status()
          .message(),
      "field 'metrics[1]': needs a string name and a numeric value");
  EXPECT_EQ(DecodeProgressBody(json::parse(R"({"log": [7]})")).status().message(),
            "field 'log[0]': needs a string line");
}

TEST(ProgressBodyTest, ForgivesWhatTheServerDoesNotRecord) {
  // A stream that is not a string is stdout, a step that is not an integer is no step.
  auto decoded = DecodeProgressBody(json::parse(R"({
    "log": [{"stream": 5, "line": "x"}],
    "metrics": [{"name": "a", "value": 1, "step": 1.5}]
  })"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->log[0].stream, LogStream::kStdout);
  EXPECT_FALSE(decoded->metrics[0].step.has_value());
  // The fields only logs and clients read are left at their defaults when of the wrong shape;
  // unknown fields are ignored.
  decoded = DecodeProgressBody(json::parse(R"({
    "schema": "trainyard.progress/v9", "job_name": 3, "sequence": -1, "sent_at": 5,
    "dropped_log_lines": "many", "dropped_metric_points": -2, "exit": {"signal": "SIGTERM"},
    "future_field": {"x": 1}
  })"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->job_name, "");
  EXPECT_EQ(decoded->sequence, 0u);
  EXPECT_EQ(decoded->dropped_log_lines, 0u);
  EXPECT_EQ(decoded->dropped_metric_points, 0u);
  EXPECT_FALSE(decoded->exit.has_value());
  EXPECT_FALSE(decoded->progress.has_value());
  EXPECT_TRUE(decoded->metrics.empty());
  EXPECT_TRUE(decoded->log.empty());
  EXPECT_FALSE(DecodeProgressBody(json::parse(R"({"exit": {"code": 1e3}})"))->exit.has_value());
  EXPECT_FALSE(
      DecodeProgressBody(json::parse(R"({"exit": {"code": 4294967296}})"))->exit.has_value());
  EXPECT_EQ(DecodeProgressBody(json::parse(R"({"exit": {"code": -1, "signal": 9}})"))->exit,
            ProgressExit{.code = -1});
}

TEST(ProgressBodyTest, AnUnreadableOrMissingTimestampIsNow) {
  auto before = std::chrono::system_clock::now();
  auto decoded = DecodeProgressBody(json::parse(R"({
    "metrics": [{"name": "a", "value": 1, "timestamp": "yesterday"}, {"name": "b", "value": 2}],
    "log": [{"line": "x", "timestamp": 17}, {"line": "y", "timestamp": "2026-11-27T18:32:31Z"}]
  })"));
  auto after = std::chrono::system_clock::now();
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  for (TimePoint time : {decoded->metrics[0].timestamp, decoded->metrics[1].timestamp,
                         decoded->log[0].timestamp, decoded->sent_at}) {
    EXPECT_GE(time, before);
    EXPECT_LE(time, after);
  }
  // Without milliseconds is still a timestamp.
  EXPECT_EQ(FormatIso8601(decoded->log[1].timestamp), "2026-11-27T18:32:31.000Z");
}

}  // namespace
}  // namespace trainyard::contract
