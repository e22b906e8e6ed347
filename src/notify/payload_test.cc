#include "notify/payload.h"

#include <gtest/gtest.h>

namespace trainyard::notify {
namespace {

using nlohmann::json;

metadata::JobRecord CompletedJob() {
  metadata::JobRecord job;
  job.name = "digits-3fa9c1-001";
  job.sweep_id = "sw-1";
  job.status = core::JobStatus::kCompleted;
  job.queued = false;
  job.hyperparameters = {{"learning_rate", "0.1"}};
  job.metrics = {{"eval_accuracy", 0.97}};
  job.ended_at = TimePoint(std::chrono::seconds(1'800'000'000));
  return job;
}

TEST(PayloadTest, JobDocumentCarriesSignedLinksThatExpire) {
  control::DownloadLinkSigner signer(std::string(64, 'k'));
  LinkSettings links{"https://trainyard.example.com", &signer, std::chrono::hours(2)};
  TimePoint now(std::chrono::seconds(1'800'000'000));
  json document = JobDocument(CompletedJob(), links, now);
  EXPECT_EQ(document["status"], "Completed");
  EXPECT_EQ(document["metrics"]["eval_accuracy"], 0.97);
  EXPECT_EQ(document["hyperparameters"]["learning_rate"], "0.1");
  EXPECT_EQ(document["links"]["expires_at"], "2027-01-15T10:00:00.000Z");
  std::string model = document["links"]["model"];
  EXPECT_EQ(model.rfind("https://trainyard.example.com/api/v1/jobs/digits-3fa9c1-001/artifacts/"
                        "model?expires=1800007200&signature=",
                        0),
            0u)
      << model;
  for (const char* artifact : {"predictions", "log", "output"}) {
    EXPECT_TRUE(document["links"].contains(artifact)) << artifact;
  }
  // Without a signer, no links.
  EXPECT_FALSE(JobDocument(CompletedJob(), LinkSettings{}, now).contains("links"));
}

TEST(PayloadTest, SlackMessageHasTextAndBlocksWithEscapedNames) {
  control::DownloadLinkSigner signer(std::string(64, 'k'));
  LinkSettings links{"https://t.example", &signer, std::chrono::hours(2)};
  metadata::SweepRecord sweep;
  sweep.id = "sw-1";
  sweep.name = "digits <v2> & more";
  sweep.spec = {{"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  json payload = {{"type", "sweep.best_job"},
                  {"job", JobDocument(CompletedJob(), links, TimePoint{})},
                  {"sweep", SweepDocument(sweep, {{"Completed", 1}, {"InProgress", 1}})},
                  {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}, {"value", 0.97}}}};
  json message = SlackMessage(payload);
  ASSERT_TRUE(message["text"].is_string());
  EXPECT_EQ(message["text"],
            "Sweep digits &lt;v2&gt; &amp; more has a new best job: digits-3fa9c1-001");
  ASSERT_TRUE(message["blocks"].is_array());
  ASSERT_GE(message["blocks"].size(), 3u);
  EXPECT_EQ(message["blocks"][0]["type"], "section");
  EXPECT_EQ(message["blocks"][0]["text"]["type"], "mrkdwn");
  EXPECT_EQ(message["blocks"][1]["type"], "section");
  std::string fields = message["blocks"][1]["fields"].dump();
  EXPECT_NE(fields.find("eval_accuracy (max) = 0.97"), std::string::npos) << fields;
  EXPECT_NE(fields.find("Completed: 1"), std::string::npos) << fields;
  EXPECT_EQ(message["blocks"][2]["type"], "context");
  std::string context = message["blocks"][2]["elements"][0]["text"];
  EXPECT_NE(context.find("|model>"), std::string::npos) << context;
}

}  // namespace
}  // namespace trainyard::notify
