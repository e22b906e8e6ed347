#include "server/api/progress_decoder.h"

#include <gtest/gtest.h>

#include "control/sweep_request.h"

namespace trainyard::server {
namespace {

using nlohmann::json;

TEST(ProgressDecoderTest, ReadsTheWrappersBody) {
  json body = json::parse(R"({
    "schema": "trainyard.progress/v1", "job_name": "j", "sequence": 7,
    "progress": {"progress": 0.5, "step": 150},
    "metrics": [{"name": "loss", "value": 0.31, "step": 150,
                 "timestamp": "2026-11-27T18:32:31.002Z"}],
    "log": [{"stream": "stderr", "line": "oops", "timestamp": "2026-11-27T18:32:31.001Z"},
            {"line": "plain"}],
    "exit": {"code": 0}
  })");
  auto update = DecodeProgress(body);
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  ASSERT_TRUE(update->progress.has_value());
  EXPECT_EQ((*update->progress)["step"], 150);
  ASSERT_EQ(update->metrics.size(), 1u);
  EXPECT_EQ(update->metrics[0].name, "loss");
  EXPECT_EQ(update->metrics[0].value, 0.31);
  EXPECT_EQ(update->metrics[0].step, 150);
  EXPECT_EQ(FormatIso8601(update->metrics[0].timestamp), "2026-11-27T18:32:31.002Z");
  ASSERT_EQ(update->log.size(), 2u);
  EXPECT_EQ(update->log[0].stream, "stderr");
  EXPECT_EQ(update->log[0].line, "oops");
  EXPECT_EQ(FormatIso8601(update->log[0].timestamp), "2026-11-27T18:32:31.001Z");
  EXPECT_EQ(update->log[1].stream, "stdout");
  EXPECT_EQ(update->log[1].line, "plain");
  // The exit makes it the job's last report, which is stored before it is answered.
  EXPECT_TRUE(IsLastReport(body));
  body.erase("exit");
  EXPECT_FALSE(IsLastReport(body));
}

// The field errors themselves are the codec's (contract/progress_body_test.cc); the API's
// error names the field from them.
TEST(ProgressDecoderTest, PassesOnTheCodecsFieldError) {
  auto wrong =
      DecodeProgress(json::parse(R"({"metrics": [{"name": "a", "value": 1}, {"name": 2}]})"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(control::FieldOfError(wrong.status()), "metrics[1]");
}

}  // namespace
}  // namespace trainyard::server
