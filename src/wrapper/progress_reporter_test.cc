#include "wrapper/progress_reporter.h"

#include <gtest/gtest.h>

#include "support/http_test_server.h"

namespace trainyard::wrapper {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpTestServer;

ProgressUpdate SomeUpdate(double progress) {
  auto now = std::chrono::system_clock::now();
  ProgressUpdate update;
  update.progress = json{{"progress", progress}};
  update.metrics = {{"loss", 1.0 - progress, 3, now}};
  update.log = {{Stream::kStdout, "hello", now}};
  return update;
}

TEST(ProgressReporterTest, PostsWithBearerTokenAndDocumentedBody) {
  HttpTestServer server;
  ProgressReporter reporter(
      {.url = server.url("/api/v1/jobs/j/progress"), .token = "t0k", .job_name = "j"});
  reporter.Submit(SomeUpdate(0.5));
  ASSERT_TRUE(server.WaitForRequests(1, 5s));
  reporter.Finish({}, {.code = 0}, 5s);
  auto requests = server.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/api/v1/jobs/j/progress");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer t0k");
  json body = json::parse(requests[0].body);
  EXPECT_EQ(body["schema"], "trainyard.progress/v1");
  EXPECT_EQ(body["job_name"], "j");
  EXPECT_EQ(body["progress"]["progress"], 0.5);
  EXPECT_EQ(body["metrics"][0]["name"], "loss");
  EXPECT_EQ(body["metrics"][0]["step"], 3);
  EXPECT_EQ(body["log"][0]["line"], "hello");
  EXPECT_EQ(body["log"][0]["stream"], "stdout");
  json last = json::parse(requests.back().body);
  EXPECT_EQ(last["exit"]["code"], 0);
  EXPECT_GT(last["sequence"].get<int>(), body["sequence"].get<int>());
}

TEST(ProgressReporterTest, TheBodyDecodesAsWhatWasSubmitted) {
  HttpTestServer server;
  ProgressReporter reporter({.url = server.url("/p"), .job_name = "j"});
  // Timestamps travel to the millisecond.
  TimePoint time =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ProgressUpdate update;
  update.progress = json{{"step", 3}};
  update.metrics = {{"loss", 0.25, 3, time}, {"acc", 0.5, std::nullopt, time}};
  update.log = {{Stream::kStdout, "out", time}, {Stream::kStderr, "err", time}};
  update.dropped_log_lines = 4;
  reporter.Finish(std::move(update), {.code = 137, .signal = "SIGKILL"}, 5s);
  ASSERT_EQ(server.requests().size(), 1u);
  auto body = contract::DecodeProgressBody(json::parse(server.requests()[0].body));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->job_name, "j");
  EXPECT_EQ(body->sequence, 1u);
  EXPECT_EQ(body->progress, (json{{"step", 3}}));
  std::vector<contract::ProgressMetric> metrics = {{"loss", 0.25, 3, time},
                                                   {"acc", 0.5, std::nullopt, time}};
  EXPECT_EQ(body->metrics, metrics);
  std::vector<contract::ProgressLogLine> log = {{contract::LogStream::kStdout, "out", time},
                                                {contract::LogStream::kStderr, "err", time}};
  EXPECT_EQ(body->log, log);
  EXPECT_EQ(body->dropped_log_lines, 4u);
  EXPECT_EQ(body->dropped_metric_points, 0u);
  EXPECT_EQ(body->exit, (contract::ProgressExit{.code = 137, .signal = "SIGKILL"}));
}

TEST(ProgressReporterTest, AJobWithNothingToReportSendsNoRequest) {
  HttpTestServer server;
  {
    ProgressReporter reporter({.url = server.url("/p")});
    reporter.Finish({}, {.code = 0}, 5s);
    EXPECT_EQ(reporter.posts_succeeded() + reporter.posts_failed(), 0u);
  }
  // With something in the final update, the exit goes with it.
  ProgressReporter reporter({.url = server.url("/p")});
  reporter.Finish(SomeUpdate(1.0), {.code = 3}, 5s);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(json::parse(server.requests()[0].body)["exit"]["code"], 3);
}

TEST(ProgressReporterTest, ServerDownNeitherBlocksNorLosesTheQueue) {
  ProgressReporter reporter(
      {.url = "http://127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort()) + "/p",
       .first_backoff = 50ms});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) reporter.Submit(SomeUpdate(i / 100.0));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);  // Submit never waits
  reporter.Finish({}, {.code = 0}, 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(reporter.posts_succeeded(), 0u);
  EXPECT_GT(reporter.posts_failed(), 0u);
}

TEST(ProgressReporterTest, HangingServerCostsAtMostTheDeadline) {
  HttpTestServer server(HttpTestServer::Mode::kHang);
  auto start = std::chrono::steady_clock::now();
  {
    ProgressReporter reporter({.url = server.url("/p")});
    reporter.Submit(SomeUpdate(0.1));
    reporter.Finish({}, {.code = 0}, 500ms);
  }  // the destructor abandons the request in flight
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(ProgressReporterTest, RetriesAfterFailureWithEverythingKept) {
  HttpTestServer failing(HttpTestServer::Mode::kAnswer, 503);
  ProgressReporter reporter({.url = failing.url("/p"), .first_backoff = 20ms});
  reporter.Submit(SomeUpdate(0.1));
  reporter.Submit(SomeUpdate(0.2));
  ASSERT_TRUE(failing.WaitForRequests(2, 5s));
  json retried = json::parse(failing.requests()[1].body);
  // The failed batch is sent again, merged: both metric points, the newer progress.
  EXPECT_EQ(retried["metrics"].size(), 2u);
  EXPECT_EQ(retried["progress"]["progress"], 0.2);
}

}  // namespace
}  // namespace trainyard::wrapper
