// Two WebhookDispatchers, as two `trainyard server` replicas, each with its own connection pool
// to one real PostgreSQL (tests/support/postgres_fixture.h), and one receiver on loopback: each
// event's delivery is made by one replica and sent once.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "notify/webhook_dispatcher.h"
#include "support/http_test_server.h"
#include "support/postgres_fixture.h"

namespace trainyard::notify {
namespace {

using nlohmann::json;
using testing::HttpTestServer;
using testing::RecordedRequest;

constexpr int kJobs = 20;

std::string JobName(int i) {
  return "digits-" + std::to_string(100 + i);
}

// Records the job's end, as the scheduler of whichever replica ran it does.
void EndJob(metadata::MetadataStore& store, const std::string& name) {
  auto job = store.GetJob(name);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  job->queued = false;
  job->status = core::JobStatus::kCompleted;
  job->ended_at = std::chrono::system_clock::now();
  metadata::Event event{.type = "job.status",
                        .sweep_id = "sw-1",
                        .job_name = name,
                        .data = {{"status", "Completed"}, {"queued", false}},
                        .time = *job->ended_at};
  ASSERT_TRUE(store.UpdateJobState(*job, {event}).ok());
}

TEST(WebhookDispatcherReplicasTest, TwoReplicasSendEachEventOnce) {
  testing::PostgresServer* postgres = testing::SharedPostgres();
  if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
  const std::string url = postgres->CreateDatabase();
  ASSERT_FALSE(url.empty());
  auto first = metadata::OpenMetadataStore(url);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = metadata::OpenMetadataStore(url);
  ASSERT_TRUE(second.ok()) << second.status().ToString();

  const TimePoint start = std::chrono::system_clock::now() - std::chrono::seconds(1);
  metadata::SweepRecord sweep{.id = "sw-1", .name = "digits", .created_at = start};
  std::vector<metadata::JobRecord> jobs(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    jobs[i].name = JobName(i);
    jobs[i].index = i;
    jobs[i].executor = "slurm";
    jobs[i].created_at = start;
  }
  ASSERT_TRUE((*first)->CreateSweep(sweep, {}, jobs).ok());

  HttpTestServer receiver(HttpTestServer::Mode::kAnswer, 204);
  ASSERT_TRUE((*first)
                  ->CreateWebhook({.id = "wh-1",
                                   .url = receiver.url("/hook"),
                                   .events = {"job.completed"},
                                   .secret = "0123456789abcdef-secret",
                                   .created_at = start})
                  .ok());

  WebhookDispatcherOptions options;
  options.sender.allow_private = true;
  options.sender.timeout = std::chrono::seconds(5);
  options.poll_interval = std::chrono::milliseconds(20);
  options.links = {"http://trainyard.test", nullptr, std::chrono::hours(1)};
  WebhookDispatcher one(options, **first);
  WebhookDispatcher other(options, **second);

  // Half the jobs end before the replicas start (both read the same batch at once), the rest
  // while they run, recorded by either replica.
  for (int i = 0; i < kJobs / 2; ++i) EndJob(**first, JobName(i));
  one.Start();
  other.Start();
  for (int i = kJobs / 2; i < kJobs; ++i) {
    EndJob(i % 2 == 0 ? **first : **second, JobName(i));
    one.Wake();
    other.Wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(receiver.WaitForRequests(kJobs, std::chrono::seconds(30)));
  // Time for a repeat to show up, were there one.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  one.Stop();
  other.Stop();

  std::map<std::string, int> by_delivery, by_job;
  std::map<int64_t, int> by_event;
  for (const RecordedRequest& request : receiver.requests()) {
    json body = json::parse(request.body);
    by_delivery[request.headers.at("x-trainyard-delivery")] += 1;
    by_event[body["event_id"].get<int64_t>()] += 1;
    by_job[body["job"]["name"].get<std::string>()] += 1;
  }
  EXPECT_EQ(receiver.requests().size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(by_delivery.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(by_event.size(), static_cast<size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(by_job[JobName(i)], 1) << JobName(i);
  for (const auto& [event, count] : by_event) EXPECT_EQ(count, 1) << "event " << event;

  auto deliveries = (*first)->ListDeliveries("wh-1");
  ASSERT_TRUE(deliveries.ok());
  EXPECT_EQ(deliveries->size(), static_cast<size_t>(kJobs));
  for (const metadata::DeliveryRecord& delivery : *deliveries) {
    EXPECT_EQ(delivery.status, "succeeded") << delivery.id;
    EXPECT_EQ(delivery.attempts, 1) << delivery.id;
  }
}

}  // namespace
}  // namespace trainyard::notify
