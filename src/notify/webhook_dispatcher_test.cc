#include "notify/webhook_dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "support/http_test_server.h"

namespace trainyard::notify {
namespace {

using nlohmann::json;
using testing::HttpTestResponse;
using testing::HttpTestServer;
using testing::RecordedRequest;

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = metadata::OpenMetadataStore("sqlite::memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    metadata::SweepRecord sweep;
    sweep.id = "sw-1";
    sweep.name = "digits";
    sweep.spec = {{"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
    sweep.created_at = now_;
    std::vector<metadata::JobRecord> jobs(2);
    for (int i = 0; i < 2; ++i) {
      jobs[i].name = "digits-00" + std::to_string(i);
      jobs[i].index = i;
      jobs[i].executor = "local";
      jobs[i].created_at = now_;
    }
    ASSERT_TRUE(store_->CreateSweep(sweep, {}, jobs).ok());
  }

  WebhookDispatcherOptions Options(bool allow_private = true) {
    WebhookDispatcherOptions options;
    options.sender.allow_private = allow_private;
    options.sender.timeout = std::chrono::seconds(5);
    options.first_retry = std::chrono::seconds(30);
    options.clock = [this] { return now_; };
    options.links = {"http://trainyard.test", &signer_, std::chrono::hours(1)};
    return options;
  }

  void AddWebhook(const std::string& url, std::vector<std::string> events = {}) {
    metadata::WebhookRecord webhook{
        .id = "wh-1",
        .url = url,
        .events = events.empty()
                      ? std::vector<std::string>{"job.completed", "job.failed", "job.stopped",
                                                 "sweep.completed", "sweep.best_job"}
                      : events,
        .secret = "0123456789abcdef-secret",
        .format = "json",
        .created_at = now_};
    ASSERT_TRUE(store_->CreateWebhook(webhook).ok());
  }

  // Records the job's metric and its end, as the scheduler does.
  void EndJob(const std::string& name, core::JobStatus status, double accuracy) {
    metadata::ProgressUpdate update;
    update.metrics.push_back({.name = "eval_accuracy", .value = accuracy, .timestamp = now_});
    ASSERT_TRUE(store_->RecordProgress(name, update).ok());
    auto job = store_->GetJob(name);
    ASSERT_TRUE(job.ok());
    job->queued = false;
    job->status = status;
    job->ended_at = now_;
    metadata::Event event{.type = "job.status",
                          .sweep_id = "sw-1",
                          .job_name = name,
                          .data = {{"status", core::ToString(status)}, {"queued", false}},
                          .time = now_};
    ASSERT_TRUE(store_->UpdateJobState(*job, {event}).ok());
  }

  static std::vector<std::string> Types(const std::vector<RecordedRequest>& requests) {
    std::vector<std::string> types;
    for (const RecordedRequest& request : requests) {
      types.push_back(request.headers.at("x-trainyard-event"));
    }
    return types;
  }

  TimePoint now_ = TimePoint(std::chrono::seconds(1'800'000'000));
  control::DownloadLinkSigner signer_{std::string(64, 'k')};
  metadata::MetadataStorePtr store_;
};

TEST_F(WebhookDispatcherTest, EachEventOfATwoJobSweepArrivesOnceSigned) {
  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 204);
  AddWebhook(receiver.url("/hook"));
  WebhookDispatcher dispatcher(Options(), *store_);

  EndJob("digits-000", core::JobStatus::kCompleted, 0.90);
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  EndJob("digits-001", core::JobStatus::kCompleted, 0.95);
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  // Nothing new: nothing sent again.
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  ASSERT_TRUE(dispatcher.DeliverDue().ok());

  std::vector<RecordedRequest> requests = receiver.requests();
  EXPECT_EQ(Types(requests),
            (std::vector<std::string>{"job.completed", "sweep.best_job", "job.completed",
                                      "sweep.best_job", "sweep.completed"}));
  std::set<std::string> delivery_ids;
  for (const RecordedRequest& request : requests) {
    const std::string timestamp = request.headers.at("x-trainyard-timestamp");
    EXPECT_EQ(timestamp, "1800000000");
    EXPECT_EQ(request.headers.at("x-trainyard-signature"),
              SignatureHeader("0123456789abcdef-secret", timestamp, request.body));
    EXPECT_EQ(request.headers.at("content-type"), "application/json");
    json body = json::parse(request.body);
    EXPECT_EQ(body["id"], request.headers.at("x-trainyard-delivery"));
    EXPECT_EQ(body["type"], request.headers.at("x-trainyard-event"));
    delivery_ids.insert(body["id"]);
  }
  EXPECT_EQ(delivery_ids.size(), requests.size());
  json last = json::parse(requests.back().body);
  EXPECT_EQ(last["sweep"]["counts"]["Completed"], 2);
  json best = json::parse(requests[3].body);
  EXPECT_EQ(best["job"]["name"], "digits-001");
  EXPECT_EQ(best["objective"]["value"], 0.95);
  EXPECT_NE(best["job"]["links"]["model"].get<std::string>().find("signature="), std::string::npos);

  auto deliveries = store_->ListDeliveries("wh-1");
  ASSERT_TRUE(deliveries.ok());
  for (const metadata::DeliveryRecord& delivery : *deliveries) {
    EXPECT_EQ(delivery.status, "succeeded");
    EXPECT_EQ(delivery.attempts, 1);
    EXPECT_EQ(delivery.response_code, 204);
  }
}

TEST_F(WebhookDispatcherTest, AWorseJobIsNoNewBestAndFailedJobsSayWhy) {
  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 200);
  AddWebhook(receiver.url("/hook"));
  WebhookDispatcher dispatcher(Options(), *store_);
  EndJob("digits-000", core::JobStatus::kCompleted, 0.90);
  EndJob("digits-001", core::JobStatus::kFailed, 0.10);
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  EXPECT_EQ(Types(receiver.requests()),
            (std::vector<std::string>{"job.completed", "sweep.best_job", "job.failed",
                                      "sweep.completed"}));
}

TEST_F(WebhookDispatcherTest, AFailingReceiverGetsTheThirdTryAfterBackoff) {
  std::atomic<int> calls{0};
  HttpTestServer receiver([&calls](const RecordedRequest&) {
    return HttpTestResponse{.status = ++calls <= 2 ? 503 : 200};
  });
  AddWebhook(receiver.url("/hook"), {"job.completed"});
  WebhookDispatcher dispatcher(Options(), *store_);
  EndJob("digits-000", core::JobStatus::kCompleted, 0.90);
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  auto delivery = store_->ListDeliveries("wh-1");
  ASSERT_EQ(delivery->size(), 1u);
  EXPECT_EQ((*delivery)[0].status, "pending");
  EXPECT_EQ((*delivery)[0].response_code, 503);
  EXPECT_EQ((*delivery)[0].next_attempt_at, now_ + std::chrono::seconds(30));
  // Not due yet: nothing is sent.
  now_ += std::chrono::seconds(29);
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  EXPECT_EQ(calls.load(), 1);
  now_ += std::chrono::seconds(1);
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  EXPECT_EQ(calls.load(), 2);
  delivery = store_->ListDeliveries("wh-1");
  EXPECT_EQ((*delivery)[0].next_attempt_at, now_ + std::chrono::seconds(60));
  now_ += std::chrono::seconds(60);
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  EXPECT_EQ(calls.load(), 3);
  delivery = store_->ListDeliveries("wh-1");
  EXPECT_EQ((*delivery)[0].status, "succeeded");
  EXPECT_EQ((*delivery)[0].attempts, 3);
  EXPECT_EQ((*delivery)[0].response_code, 200);
  EXPECT_FALSE((*delivery)[0].next_attempt_at);
}

TEST_F(WebhookDispatcherTest, RetryDelayDoublesUpToTheCapAndTheWindowEndsTries) {
  WebhookDispatcher dispatcher(Options(), *store_);
  EXPECT_EQ(dispatcher.RetryDelay(1), std::chrono::seconds(30));
  EXPECT_EQ(dispatcher.RetryDelay(2), std::chrono::seconds(60));
  EXPECT_EQ(dispatcher.RetryDelay(5), std::chrono::seconds(480));
  EXPECT_EQ(dispatcher.RetryDelay(8), std::chrono::seconds(3600));
  EXPECT_EQ(dispatcher.RetryDelay(40), std::chrono::seconds(3600));

  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 500);
  AddWebhook(receiver.url("/hook"), {"job.stopped"});
  WebhookDispatcherOptions options = Options();
  options.retry_window = std::chrono::hours(1);
  WebhookDispatcher short_window(options, *store_);
  EndJob("digits-000", core::JobStatus::kStopped, 0.5);
  ASSERT_TRUE(short_window.TurnEventsIntoDeliveries().ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(short_window.DeliverDue().ok());
    now_ += std::chrono::minutes(10);
  }
  auto delivery = store_->ListDeliveries("wh-1");
  ASSERT_EQ(delivery->size(), 1u);
  EXPECT_EQ((*delivery)[0].status, "failed");
  // 30 s, 60 s, 120 s, 240 s, 480 s, 960 s: the next would pass the hour.
  EXPECT_EQ((*delivery)[0].attempts, 6);
}

TEST_F(WebhookDispatcherTest, LoopbackTargetsAreRefusedAtDeliveryUnlessAllowed) {
  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 200);
  AddWebhook(receiver.url("/hook"), {"job.completed"});
  WebhookDispatcher dispatcher(Options(/*allow_private=*/false), *store_);
  EndJob("digits-000", core::JobStatus::kCompleted, 0.90);
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  EXPECT_TRUE(receiver.requests().empty());
  auto delivery = store_->ListDeliveries("wh-1");
  ASSERT_EQ(delivery->size(), 1u);
  EXPECT_EQ((*delivery)[0].status, "pending");
  EXPECT_FALSE((*delivery)[0].response_code);
  EXPECT_NE((*delivery)[0].last_error.find("loopback"), std::string::npos)
      << (*delivery)[0].last_error;
}

TEST_F(WebhookDispatcherTest, ASlowReceiverHoldsUpOnlyItsOwnDeliveries) {
  HttpTestServer hanging_a(HttpTestServer::Mode::kHang);
  HttpTestServer hanging_b(HttpTestServer::Mode::kHang);
  HttpTestServer quick(HttpTestServer::Mode::kAnswer, 200);
  int index = 0;
  for (HttpTestServer* receiver : {&hanging_a, &hanging_b, &quick}) {
    metadata::WebhookRecord webhook{.id = "wh-" + std::to_string(++index),
                                    .url = receiver->url("/hook"),
                                    .events = {"job.completed"},
                                    .secret = "0123456789abcdef-secret",
                                    .format = "json",
                                    .created_at = now_};
    ASSERT_TRUE(store_->CreateWebhook(webhook).ok());
  }
  WebhookDispatcherOptions options = Options();
  options.sender.timeout = std::chrono::milliseconds(1500);
  WebhookDispatcher dispatcher(options, *store_);
  EndJob("digits-000", core::JobStatus::kCompleted, 0.9);
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  auto took = std::chrono::steady_clock::now() - start;
  // One after the other, the two hanging receivers would take 3 s.
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_EQ(quick.requests().size(), 1u);
  EXPECT_EQ((*store_->ListDeliveries("wh-3"))[0].status, "succeeded");
  EXPECT_EQ((*store_->ListDeliveries("wh-1"))[0].status, "pending");
  EXPECT_EQ((*store_->ListDeliveries("wh-2"))[0].status, "pending");
}

// A dispatcher that stops answering (as a killed replica) holds its batch for six sender
// timeouts at most, not for the whole batch's worth: another one then tries what it claimed.
TEST_F(WebhookDispatcherTest, AnotherDispatcherTriesAStuckOnesDeliveriesAfterSixTimeouts) {
  HttpTestServer hanging(HttpTestServer::Mode::kHang);
  AddWebhook(hanging.url("/hook"));
  EndJob("digits-000", core::JobStatus::kCompleted, 0.90);
  EndJob("digits-001", core::JobStatus::kCompleted, 0.95);
  WebhookDispatcherOptions stuck_options = Options();
  stuck_options.sender.timeout = std::chrono::milliseconds(1000);
  WebhookDispatcher stuck(stuck_options, *store_);
  ASSERT_TRUE(stuck.TurnEventsIntoDeliveries().ok());
  const size_t deliveries = store_->ListDeliveries("wh-1")->size();
  ASSERT_GE(deliveries, 3u);
  // Its clock stands still: it claims them all and hangs on the first.
  std::thread first([&] { EXPECT_TRUE(stuck.DeliverDue().ok()); });
  ASSERT_TRUE(hanging.WaitForRequests(1, std::chrono::seconds(10)));

  WebhookDispatcherOptions other_options = stuck_options;
  other_options.clock = [this] { return now_ + std::chrono::milliseconds(6'001); };
  WebhookDispatcher other(other_options, *store_);
  ASSERT_TRUE(other.DeliverDue().ok());
  first.join();
  // The stuck one tried each in turn; the other, once the claim ran out, each again.
  std::map<std::string, int> tries;
  for (const RecordedRequest& request : hanging.requests()) {
    tries[request.headers.at("x-trainyard-delivery")] += 1;
  }
  EXPECT_EQ(tries.size(), deliveries);
  for (const auto& [id, count] : tries) EXPECT_EQ(count, 2) << id;
}

TEST_F(WebhookDispatcherTest, EventsBeforeAWebhookExistedAreNotDelivered) {
  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 200);
  EndJob("digits-000", core::JobStatus::kCompleted, 0.90);
  now_ += std::chrono::seconds(5);
  AddWebhook(receiver.url("/hook"));
  WebhookDispatcher dispatcher(Options(), *store_);
  ASSERT_TRUE(dispatcher.TurnEventsIntoDeliveries().ok());
  ASSERT_TRUE(dispatcher.DeliverDue().ok());
  EXPECT_TRUE(receiver.requests().empty());
  EXPECT_GT(*store_->WebhookCursor(), 0);
}

}  // namespace
}  // namespace trainyard::notify
