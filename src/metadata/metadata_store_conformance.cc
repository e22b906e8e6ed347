// The conformance suite, part 1: the fixture, datasets and sweeps. Part 2 (jobs, progress,
// events, concurrency) is metadata_store_conformance_jobs.cc.
#include "metadata/metadata_store_conformance.h"

#include <chrono>

namespace trainyard::metadata {

using nlohmann::json;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

TimePoint TestTime(int64_t millis) {
  // 2026-01-01T00:00:00Z, so that stored times are realistic and far from zero.
  return TimePoint(std::chrono::milliseconds(1'767'225'600'000 + millis));
}

void MetadataStoreConformanceTest::SetUp() {
  if (GetParam().unavailable) {
    std::string reason = GetParam().unavailable();
    if (!reason.empty()) GTEST_SKIP() << GetParam().name << " cannot run here: " << reason;
  }
  scratch_ = std::make_unique<testing::TempDir>();
  Result<MetadataStorePtr> store = GetParam().make(scratch_->path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(*store);
}

void MetadataStoreConformanceTest::TearDown() {
  store_.reset();
  scratch_.reset();
}

DatasetRecord MetadataStoreConformanceTest::MakeDataset(const std::string& id,
                                                        int64_t created_millis) {
  return DatasetRecord{.id = id,
                       .name = "digits " + id + ".csv",
                       .kind = "training",
                       .filename = "digits.csv",
                       .object_key = "datasets/" + id + "/digits.csv",
                       .size = 5'000'000'123,
                       .sha256_hex = std::string(64, 'a'),
                       .content_type = "text/csv",
                       .created_at = TestTime(created_millis + 123)};
}

SweepRecord MetadataStoreConformanceTest::MakeSweep(const std::string& id, int64_t created_millis) {
  return SweepRecord{
      .id = id,
      .name = "sweep " + id,
      .spec = {{"name", "digits"}, {"jobs", json::array({{{"lr", "0.1"}}, {{"lr", "0.2"}}})}},
      .idempotency_key = std::nullopt,
      .stop_requested = false,
      .created_at = TestTime(created_millis + 7)};
}

std::vector<JobRecord> MetadataStoreConformanceTest::MakeJobs(const std::string& prefix,
                                                              int count) {
  std::vector<JobRecord> jobs;
  for (int i = 0; i < count; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "-%03d", i);
    JobRecord job;
    job.name = prefix + name;
    job.index = i;
    job.executor = "local";
    job.hyperparameters = {{"lr", "0." + std::to_string(i + 1)}, {"epochs", "3"}};
    job.created_at = TestTime(1000 + i);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

SweepRecord MetadataStoreConformanceTest::CreateSweep(const std::string& suffix, int count,
                                                      const std::vector<std::string>& dataset_ids) {
  Result<SweepRecord> sweep =
      store_->CreateSweep(MakeSweep("sw-" + suffix), dataset_ids, MakeJobs(suffix, count));
  EXPECT_TRUE(sweep.ok()) << sweep.status().ToString();
  return sweep.ok() ? *sweep : SweepRecord{};
}

JobRecord MetadataStoreConformanceTest::GetJob(const std::string& name) {
  Result<JobRecord> job = store_->GetJob(name);
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  return job.ok() ? *job : JobRecord{};
}

void MetadataStoreConformanceTest::SetJobStatus(const std::string& name, core::JobStatus status,
                                                bool queued) {
  JobRecord job = GetJob(name);
  job.queued = queued;
  job.status = status;
  Result<std::vector<Event>> result = store_->UpdateJobState(job, {});
  EXPECT_TRUE(result.ok()) << result.status().ToString();
}

std::vector<std::string> MetadataStoreConformanceTest::ListAllJobNames(JobFilter filter) {
  std::vector<std::string> names;
  for (int pages = 0; pages < 1000; ++pages) {
    Result<JobPage> page = store_->ListJobs(filter);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (const JobRecord& job : page->jobs) names.push_back(job.name);
    if (!page->truncated || page->jobs.empty()) break;
    filter.after_queue_position = page->jobs.back().queue_position;
  }
  return names;
}

std::vector<Event> MetadataStoreConformanceTest::AllEvents(const EventFilter& filter) {
  Result<std::vector<Event>> events = store_->ListEvents(0, filter, 100'000);
  EXPECT_TRUE(events.ok()) << events.status().ToString();
  return events.ok() ? *events : std::vector<Event>{};
}

namespace {

void ExpectDatasetEq(const DatasetRecord& actual, const DatasetRecord& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.kind, expected.kind);
  EXPECT_EQ(actual.filename, expected.filename);
  EXPECT_EQ(actual.object_key, expected.object_key);
  EXPECT_EQ(actual.size, expected.size);
  EXPECT_EQ(actual.sha256_hex, expected.sha256_hex);
  EXPECT_EQ(actual.content_type, expected.content_type);
  EXPECT_EQ(actual.created_at, expected.created_at);
}

// --- datasets ---

TEST_P(MetadataStoreConformanceTest, DatasetRoundTripsEveryField) {
  DatasetRecord dataset = MakeDataset("ds-0123456789abcdef");
  ASSERT_TRUE(store_->CreateDataset(dataset).ok());
  Result<DatasetRecord> got = store_->GetDataset(dataset.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectDatasetEq(*got, dataset);
}

TEST_P(MetadataStoreConformanceTest, DatasetIdTakenOrMissing) {
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-a")).ok());
  EXPECT_EQ(store_->CreateDataset(MakeDataset("ds-a")).code(), StatusCode::kAlreadyExists);
  Result<DatasetRecord> missing = store_->GetDataset("ds-missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status().message(), "dataset 'ds-missing' not found"));
  EXPECT_EQ(store_->DeleteDataset("ds-missing").code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformanceTest, ListDatasetsNewestFirst) {
  EXPECT_TRUE(store_->ListDatasets()->empty());
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-old", 0)).ok());
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-new", 2000)).ok());
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-mid", 1000)).ok());
  Result<std::vector<DatasetRecord>> list = store_->ListDatasets();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, "ds-new");
  EXPECT_EQ((*list)[1].id, "ds-mid");
  EXPECT_EQ((*list)[2].id, "ds-old");
  ExpectDatasetEq((*list)[1], MakeDataset("ds-mid", 1000));
}

TEST_P(MetadataStoreConformanceTest, DeleteDatasetWaitsUntilEveryJobOfItsSweepsHasEnded) {
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-used")).ok());
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-free")).ok());
  CreateSweep("a", 2, {"ds-used"});

  Status refused = store_->DeleteDataset("ds-used");  // both jobs queued
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(refused.message(), "a-00"));
  SetJobStatus("a-000", core::JobStatus::kCompleted);
  refused = store_->DeleteDataset("ds-used");  // a-001 still queued
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(refused.message(), "'a-001'"));
  for (core::JobStatus status : {core::JobStatus::kInProgress, core::JobStatus::kStopping}) {
    SetJobStatus("a-001", status);
    EXPECT_EQ(store_->DeleteDataset("ds-used").code(), StatusCode::kFailedPrecondition)
        << core::ToString(status);
  }
  EXPECT_TRUE(store_->GetDataset("ds-used").ok());

  SetJobStatus("a-001", core::JobStatus::kStopped);
  ASSERT_TRUE(store_->DeleteDataset("ds-used").ok());
  EXPECT_EQ(store_->GetDataset("ds-used").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetSweep("sw-a").ok());
  ASSERT_TRUE(store_->DeleteDataset("ds-free").ok());
  EXPECT_TRUE(store_->ListDatasets()->empty());
  // The id may be used again once deleted.
  EXPECT_TRUE(store_->CreateDataset(MakeDataset("ds-used")).ok());
}

// --- sweeps ---

TEST_P(MetadataStoreConformanceTest, CreateSweepRoundTripsTheSweepAndItsJobs) {
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-x")).ok());
  SweepRecord sweep = MakeSweep("sw-0123456789abcdef");
  sweep.idempotency_key = "key-1";
  std::vector<JobRecord> jobs = MakeJobs("digits", 2);
  jobs[1].executor = "container";
  Result<SweepRecord> created = store_->CreateSweep(sweep, {"ds-x"}, jobs);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  for (const SweepRecord& got : {*created, *store_->GetSweep(sweep.id)}) {
    EXPECT_EQ(got.id, sweep.id);
    EXPECT_EQ(got.name, sweep.name);
    EXPECT_EQ(got.spec, sweep.spec);
    EXPECT_EQ(got.idempotency_key, "key-1");
    EXPECT_FALSE(got.stop_requested);
    EXPECT_EQ(got.created_at, sweep.created_at);
  }
  auto before = std::chrono::system_clock::now() - std::chrono::minutes(5);
  for (size_t i = 0; i < jobs.size(); ++i) {
    JobRecord job = GetJob(jobs[i].name);
    EXPECT_EQ(job.sweep_id, sweep.id);
    EXPECT_GT(job.queue_position, 0);
    EXPECT_EQ(job.index, static_cast<int64_t>(i));
    EXPECT_EQ(job.executor, jobs[i].executor);
    EXPECT_EQ(job.hyperparameters, jobs[i].hyperparameters);
    EXPECT_TRUE(job.queued);
    EXPECT_EQ(job.executor_job_name, "");
    EXPECT_EQ(job.attempt, 0);
    EXPECT_EQ(job.status, core::JobStatus::kInProgress);
    EXPECT_EQ(job.secondary_status, core::SecondaryStatus::kStarting);
    EXPECT_TRUE(job.transitions.empty());
    EXPECT_EQ(job.failure_reason, "");
    EXPECT_EQ(job.stop_reason, "");
    EXPECT_EQ(job.image, "");
    EXPECT_EQ(job.image_digest, "");
    EXPECT_EQ(job.exit_code, std::nullopt);
    EXPECT_EQ(job.token_sha256, "");
    EXPECT_EQ(job.started_at, std::nullopt);
    EXPECT_EQ(job.ended_at, std::nullopt);
    EXPECT_EQ(job.progress, json::object());
    EXPECT_TRUE(job.metrics.empty());
    EXPECT_EQ(job.created_at, jobs[i].created_at);
    EXPECT_GT(job.updated_at, before);
  }
}

TEST_P(MetadataStoreConformanceTest, SweepWithNoKeyAndNoDatasets) {
  Result<SweepRecord> created = store_->CreateSweep(MakeSweep("sw-plain"), {}, MakeJobs("p", 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->idempotency_key, std::nullopt);
  EXPECT_EQ(store_->GetSweep("sw-plain")->idempotency_key, std::nullopt);
  // Sweeps without a key never collide with each other.
  EXPECT_TRUE(store_->CreateSweep(MakeSweep("sw-plain2"), {}, MakeJobs("q", 1)).ok());
  // A sweep with no jobs is allowed.
  EXPECT_TRUE(store_->CreateSweep(MakeSweep("sw-empty"), {}, {}).ok());
  EXPECT_EQ(store_->ListSweeps()->size(), 3u);
}

TEST_P(MetadataStoreConformanceTest, AddJobsQueuesMoreJobsOfASweepAfterEveryOther) {
  CreateSweep("grow", 2);
  CreateSweep("other", 1);
  std::vector<JobRecord> more = MakeJobs("grow-more", 2);
  more[0].index = 2;
  more[1].index = 3;
  ASSERT_TRUE(store_->AddJobs("sw-grow", more).ok());
  JobFilter filter;
  filter.sweep_id = "sw-grow";
  EXPECT_EQ(ListAllJobNames(filter),
            (std::vector<std::string>{"grow-000", "grow-001", "grow-more-000", "grow-more-001"}));
  const JobRecord added = GetJob("grow-more-001");
  EXPECT_EQ(added.sweep_id, "sw-grow");
  EXPECT_EQ(added.index, 3);
  EXPECT_TRUE(added.queued);
  EXPECT_EQ(added.hyperparameters, more[1].hyperparameters);
  EXPECT_GT(added.queue_position, GetJob("other-000").queue_position);
  EventFilter events;
  events.job_name = "grow-more-000";
  std::vector<Event> created = AllEvents(events);
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].type, "job.created");
  EXPECT_EQ(created[0].data["index"], 2);

  // Nothing is written when a name is taken or the sweep is unknown.
  std::vector<JobRecord> taken = MakeJobs("fresh", 1);
  taken.push_back(MakeJobs("grow", 1)[0]);
  EXPECT_EQ(store_->AddJobs("sw-grow", taken).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetJob("fresh-000").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AddJobs("sw-none", MakeJobs("lost", 1)).code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformanceTest, CreateSweepWithAKnownIdempotencyKeyCreatesNothing) {
  SweepRecord first = MakeSweep("sw-first");
  first.idempotency_key = "retry-me";
  ASSERT_TRUE(store_->CreateSweep(first, {}, MakeJobs("first", 2)).ok());
  int64_t last_event = *store_->LastEventId();

  SweepRecord again = MakeSweep("sw-again", 5000);
  again.idempotency_key = "retry-me";
  Result<SweepRecord> result = store_->CreateSweep(again, {"ds-unknown"}, MakeJobs("again", 3));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->id, "sw-first");
  EXPECT_EQ(result->created_at, first.created_at);
  EXPECT_EQ(store_->GetSweep("sw-again").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetJob("again-000").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store_->LastEventId(), last_event);
  EXPECT_EQ(store_->ListSweeps()->size(), 1u);
}

TEST_P(MetadataStoreConformanceTest, CreateSweepRefusalsLeaveNoTrace) {
  ASSERT_TRUE(store_->CreateDataset(MakeDataset("ds-x")).ok());
  CreateSweep("a", 2);
  int64_t last_event = *store_->LastEventId();

  Result<SweepRecord> taken = store_->CreateSweep(MakeSweep("sw-a"), {}, MakeJobs("b", 1));
  EXPECT_EQ(taken.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(taken.status().message(), "sw-a"));

  std::vector<JobRecord> jobs = MakeJobs("c", 2);
  jobs[1].name = "a-001";
  Result<SweepRecord> job_taken = store_->CreateSweep(MakeSweep("sw-c"), {}, jobs);
  EXPECT_EQ(job_taken.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(job_taken.status().message(), "a-001"));

  Result<SweepRecord> no_dataset =
      store_->CreateSweep(MakeSweep("sw-d"), {"ds-x", "ds-nope"}, MakeJobs("d", 1));
  EXPECT_EQ(no_dataset.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(no_dataset.status().message(), "dataset 'ds-nope' not found"));

  for (const char* id : {"sw-c", "sw-d"}) {
    EXPECT_EQ(store_->GetSweep(id).status().code(), StatusCode::kNotFound) << id;
  }
  for (const char* name : {"c-000", "d-000"}) {
    EXPECT_EQ(store_->GetJob(name).status().code(), StatusCode::kNotFound) << name;
  }
  EXPECT_EQ(*store_->LastEventId(), last_event);
  // The refused sweep left no link: the dataset is free to delete.
  EXPECT_TRUE(store_->DeleteDataset("ds-x").ok());
}

TEST_P(MetadataStoreConformanceTest, QueuePositionsAreFifoAcrossSweeps) {
  CreateSweep("a", 3);
  CreateSweep("b", 2);
  CreateSweep("c", 1);
  int64_t previous = 0;
  for (const char* name : {"a-000", "a-001", "a-002", "b-000", "b-001", "c-000"}) {
    int64_t position = GetJob(name).queue_position;
    EXPECT_GT(position, previous) << name;
    previous = position;
  }
  EXPECT_EQ(ListAllJobNames({}),
            (std::vector<std::string>{"a-000", "a-001", "a-002", "b-000", "b-001", "c-000"}));
}

TEST_P(MetadataStoreConformanceTest, CreateSweepAppendsOneJobCreatedEventPerJob) {
  CreateSweep("a", 3);
  std::vector<Event> events = AllEvents();
  ASSERT_EQ(events.size(), 3u);
  auto before = std::chrono::system_clock::now() - std::chrono::minutes(5);
  std::vector<JobRecord> jobs = MakeJobs("a", 3);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].type, "job.created");
    EXPECT_EQ(events[i].sweep_id, "sw-a");
    EXPECT_EQ(events[i].job_name, jobs[i].name);
    EXPECT_EQ(events[i].data, json({{"index", i}, {"hyperparameters", jobs[i].hyperparameters}}));
    EXPECT_GT(events[i].time, before);
    if (i > 0) {
      EXPECT_GT(events[i].id, events[i - 1].id);
    }
  }
}

TEST_P(MetadataStoreConformanceTest, ListSweepsNewestFirstAndStopRequested) {
  EXPECT_TRUE(store_->ListSweeps()->empty());
  ASSERT_TRUE(store_->CreateSweep(MakeSweep("sw-old", 0), {}, {}).ok());
  ASSERT_TRUE(store_->CreateSweep(MakeSweep("sw-new", 900), {}, {}).ok());
  ASSERT_TRUE(store_->SetSweepStopRequested("sw-old", true).ok());
  Result<std::vector<SweepRecord>> list = store_->ListSweeps();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "sw-new");
  EXPECT_FALSE((*list)[0].stop_requested);
  EXPECT_EQ((*list)[1].id, "sw-old");
  EXPECT_TRUE((*list)[1].stop_requested);
  EXPECT_EQ((*list)[1].spec, MakeSweep("sw-old").spec);

  ASSERT_TRUE(store_->SetSweepStopRequested("sw-old", false).ok());
  EXPECT_FALSE(store_->GetSweep("sw-old")->stop_requested);
  Status missing = store_->SetSweepStopRequested("sw-nope", true);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.message(), "sweep 'sw-nope' not found"));
  EXPECT_EQ(store_->GetSweep("sw-nope").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreConformanceTest, CountJobsByStatus) {
  CreateSweep("a", 5);
  CreateSweep("b", 2);
  SetJobStatus("a-000", core::JobStatus::kCompleted);
  SetJobStatus("a-001", core::JobStatus::kInProgress);
  SetJobStatus("a-002", core::JobStatus::kFailed);
  Result<std::map<std::string, int64_t>> counts = store_->CountJobsByStatus("sw-a");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (std::map<std::string, int64_t>{
                         {"Queued", 2}, {"InProgress", 1}, {"Completed", 1}, {"Failed", 1}}));
  EXPECT_EQ(*store_->CountJobsByStatus("sw-b"), (std::map<std::string, int64_t>{{"Queued", 2}}));
  ASSERT_TRUE(store_->CreateSweep(MakeSweep("sw-empty"), {}, {}).ok());
  EXPECT_TRUE(store_->CountJobsByStatus("sw-empty")->empty());
  EXPECT_EQ(store_->CountJobsByStatus("sw-nope").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace trainyard::metadata
