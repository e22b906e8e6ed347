// CopySqliteToPostgres: an installation's SQLite records moved into a real PostgreSQL 15, and
// read back through the store as they were.
#include "metadata/copy_to_postgres.h"

#include <gtest/gtest.h>

#include <cmath>

#include "metadata/metadata_store_conformance.h"
#include "metadata/postgres_metadata_store.h"
#include "metadata/record_rows.h"
#include "support/postgres_fixture.h"

namespace trainyard::metadata {
namespace {

MetadataStorePtr OpenOrFail(const std::string& url) {
  Result<MetadataStorePtr> store = OpenMetadataStore(url);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// Fills `store` with one of each record, jobs in several states, progress with a NaN metric.
void Populate(MetadataStore& store) {
  ASSERT_TRUE(store
                  .CreateDataset(DatasetRecord{.id = "ds-1",
                                               .name = "train.csv",
                                               .kind = "training",
                                               .filename = "train.csv",
                                               .object_key = "datasets/ds-1/train.csv",
                                               .size = 12,
                                               .created_at = TestTime(1)})
                  .ok());
  std::vector<JobRecord> jobs;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back(JobRecord{.name = "m-00" + std::to_string(i),
                             .index = i,
                             .executor = "local",
                             .hyperparameters = {{"lr", std::to_string(i)}},
                             .created_at = TestTime(10 + i)});
  }
  ASSERT_TRUE(store
                  .CreateSweep(SweepRecord{.id = "sw-m",
                                           .name = "moved",
                                           .spec = {{"name", "moved"}},
                                           .idempotency_key = "key-1",
                                           .created_at = TestTime(5)},
                               {"ds-1"}, jobs)
                  .ok());
  JobRecord done = *store.GetJob("m-000");
  done.queued = false;
  done.status = core::JobStatus::kCompleted;
  done.secondary_status = core::SecondaryStatus::kCompleted;
  done.token_sha256 = std::string(64, 'a');
  done.exit_code = 0;
  done.started_at = TestTime(20);
  done.ended_at = TestTime(30);
  ASSERT_TRUE(store
                  .UpdateJobState(done, {Event{.type = "job.status",
                                               .sweep_id = "sw-m",
                                               .job_name = "m-000",
                                               .data = {{"status", "Completed"}}}})
                  .ok());
  ProgressUpdate update;
  update.progress = nlohmann::json{{"percent", 100}};
  update.metrics = {{.name = "loss", .value = 0.25, .step = 1, .timestamp = TestTime(21)},
                    {.name = "loss", .value = std::nan(""), .step = 2, .timestamp = TestTime(22)},
                    {.name = "accuracy", .value = 0.9, .timestamp = TestTime(23)}};
  update.log = {{.stream = "stdout", .line = "epoch 1", .timestamp = TestTime(21)},
                {.stream = "stderr", .line = "warning: é", .timestamp = TestTime(22)}};
  update.sequence = 7;
  ASSERT_TRUE(store.RecordProgress("m-000", update).ok());
  ASSERT_TRUE(store
                  .CreateWebhook(WebhookRecord{.id = "wh-1",
                                               .url = "https://example.com/hook",
                                               .events = {"job.completed"},
                                               .secret = "s",
                                               .created_at = TestTime(2)})
                  .ok());
  ASSERT_TRUE(store
                  .AddDeliveries({DeliveryRecord{.id = "dl-1",
                                                 .webhook_id = "wh-1",
                                                 .event_type = "job.completed",
                                                 .event_id = 4,
                                                 .sweep_id = "sw-m",
                                                 .job_name = "m-000",
                                                 .next_attempt_at = TestTime(40),
                                                 .retry_until = TestTime(50),
                                                 .created_at = TestTime(31)}},
                                 0, *store.LastEventId())
                  .ok());
}

nlohmann::json Everything(MetadataStore& store) {
  nlohmann::json all;
  std::vector<DatasetRecord> datasets = *store.ListDatasets();
  for (const DatasetRecord& dataset : datasets) {
    all["datasets"].push_back(
        {dataset.id, dataset.object_key, dataset.size, ToMillis(dataset.created_at)});
  }
  std::vector<SweepRecord> sweeps = *store.ListSweeps();
  for (const SweepRecord& sweep : sweeps) {
    all["sweeps"].push_back(
        {sweep.id, sweep.spec, sweep.idempotency_key.value_or(""), ToMillis(sweep.created_at)});
  }
  std::vector<JobRecord> jobs = store.ListJobs({.limit = 1000})->jobs;
  for (const JobRecord& job : jobs) {
    nlohmann::json metrics = nlohmann::json::array();
    std::vector<MetricPoint> points = *store.ListMetricPoints(job.name);
    for (const MetricPoint& point : points) {
      metrics.push_back({point.name, std::isnan(point.value) ? "NaN" : std::to_string(point.value),
                         point.step.value_or(-1), ToMillis(point.timestamp)});
    }
    nlohmann::json lines = nlohmann::json::array();
    std::vector<LogLine> log = *store.ListLogLines(job.name, 0);
    for (const LogLine& line : log) {
      lines.push_back({line.id, line.stream, line.line, ToMillis(line.timestamp)});
    }
    all["jobs"].push_back({job.name, job.queue_position, job.queued, core::ToString(job.status),
                           job.token_sha256, job.progress, job.metrics.size(), metrics, lines,
                           ToMillis(job.updated_at)});
  }
  std::vector<Event> events = *store.ListEvents(0, {}, 10'000);
  for (const Event& event : events) {
    all["events"].push_back(
        {event.id, event.type, event.job_name, event.data, ToMillis(event.time)});
  }
  std::vector<WebhookRecord> webhooks = *store.ListWebhooks();
  for (const WebhookRecord& webhook : webhooks) {
    all["webhooks"].push_back({webhook.id, webhook.url, webhook.events, webhook.secret});
    std::vector<DeliveryRecord> deliveries = *store.ListDeliveries(webhook.id);
    for (const DeliveryRecord& delivery : deliveries) {
      all["deliveries"].push_back(
          {delivery.id, delivery.event_id, delivery.status, ToMillis(*delivery.next_attempt_at)});
    }
  }
  all["cursor"] = *store.WebhookCursor();
  return all;
}

TEST(CopySqliteToPostgresTest, EveryRecordArrivesAsItWasAndIdsContinueAfterIt) {
  testing::PostgresServer* postgres = testing::SharedPostgres();
  if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
  testing::TempDir dir;
  std::string sqlite_path = (dir.path() / "trainyard.db").string();
  nlohmann::json before;
  {
    MetadataStorePtr sqlite = OpenOrFail("sqlite://" + sqlite_path);
    ASSERT_NE(sqlite, nullptr);
    Populate(*sqlite);
    before = Everything(*sqlite);
  }
  std::string url = postgres->CreateDatabase();
  Result<CopiedRows> copied = CopySqliteToPostgres(sqlite_path, url);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->at("jobs"), 3);
  EXPECT_EQ(copied->at("metric_points"), 3);
  EXPECT_EQ(copied->at("log_lines"), 2);

  MetadataStorePtr moved = OpenOrFail(url);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(Everything(*moved), before);

  // New records continue after the copied ones; a repeated callback is still a repeat.
  int64_t last_event = *moved->LastEventId();
  ProgressUpdate again;
  again.progress = nlohmann::json{{"percent", 100}};
  again.sequence = 7;
  EXPECT_TRUE(moved->RecordProgress("m-000", again)->repeated);
  ASSERT_TRUE(moved
                  ->CreateSweep(SweepRecord{.id = "sw-n", .name = "n", .created_at = TestTime(60)},
                                {}, {JobRecord{.name = "n-000", .created_at = TestTime(60)}})
                  .ok());
  EXPECT_EQ(*moved->LastEventId(), last_event + 1);
  EXPECT_GT(moved->GetJob("n-000")->queue_position, moved->GetJob("m-002")->queue_position);

  // A database that holds records is not a target.
  Result<CopiedRows> twice = CopySqliteToPostgres(sqlite_path, url);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CopySqliteToPostgres((dir.path() / "none.db").string(), url).status().code(),
            StatusCode::kNotFound);
}

TEST(CopySqliteToPostgresTest, TwoStoresLandInTheirSchemasTogetherOrNotAtAll) {
  testing::PostgresServer* postgres = testing::SharedPostgres();
  if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
  testing::TempDir dir;
  // The server's store and the SageMaker endpoint's, each with its own records.
  const std::string main_path = (dir.path() / "trainyard.db").string();
  const std::string endpoint_path = (dir.path() / "sagemaker.db").string();
  nlohmann::json main_before, endpoint_before;
  {
    MetadataStorePtr main = OpenOrFail("sqlite://" + main_path);
    MetadataStorePtr endpoint = OpenOrFail("sqlite://" + endpoint_path);
    ASSERT_NE(main, nullptr);
    ASSERT_NE(endpoint, nullptr);
    Populate(*main);
    ASSERT_TRUE(endpoint
                    ->CreateSweep(
                        SweepRecord{.id = "sw-sm", .name = "sagemaker", .created_at = TestTime(3)},
                        {}, {JobRecord{.name = "m-000", .created_at = TestTime(3)}})
                    .ok());
    main_before = Everything(*main);
    endpoint_before = Everything(*endpoint);
  }
  std::string url = postgres->CreateDatabase();
  // The endpoint's schema already holds a record: nothing lands, not even the server's store.
  {
    auto occupied = PostgresMetadataStore::Open({.url = url, .schema = "sagemaker"});
    ASSERT_TRUE(occupied.ok()) << occupied.status().ToString();
    ASSERT_TRUE(
        (*occupied)->CreateDataset(DatasetRecord{.id = "ds-x", .created_at = TestTime(1)}).ok());
  }
  Result<std::vector<CopiedRows>> refused =
      CopySqliteStoresToPostgres({{main_path, ""}, {endpoint_path, "sagemaker"}}, url);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("schema sagemaker"), std::string::npos)
      << refused.status().ToString();
  MetadataStorePtr untouched = OpenOrFail(url);
  ASSERT_NE(untouched, nullptr);
  EXPECT_TRUE(untouched->ListSweeps()->empty());
  {
    auto endpoint = PostgresMetadataStore::Open({.url = url, .schema = "sagemaker"});
    ASSERT_TRUE(endpoint.ok());
    ASSERT_TRUE((*endpoint)->DeleteDataset("ds-x").ok());
  }

  Result<std::vector<CopiedRows>> copied =
      CopySqliteStoresToPostgres({{main_path, ""}, {endpoint_path, "sagemaker"}}, url);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  ASSERT_EQ(copied->size(), 2u);
  EXPECT_EQ((*copied)[0].at("jobs"), 3);
  EXPECT_EQ((*copied)[1].at("jobs"), 1);
  EXPECT_EQ(Everything(*OpenOrFail(url)), main_before);
  auto endpoint = PostgresMetadataStore::Open({.url = url, .schema = "sagemaker"});
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  EXPECT_EQ(Everything(**endpoint), endpoint_before);
}

}  // namespace
}  // namespace trainyard::metadata
