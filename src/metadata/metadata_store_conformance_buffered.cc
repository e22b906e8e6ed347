// The conformance of BufferedProgressStore in front of each store (metadata_store_conformance.h):
// what its callers see stays what the store behind it would show, reports written behind.
#include <gmock/gmock.h>

#include "common/log_capture.h"
#include "metadata/buffered_progress_store_conformance.h"

namespace trainyard::metadata {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

ProgressUpdate Progress(double value, uint64_t sequence) {
  ProgressUpdate update;
  update.progress = nlohmann::json{{"progress", value}};
  update.sequence = sequence;
  return update;
}

ProgressUpdate Metric(double value, int64_t step, uint64_t sequence) {
  ProgressUpdate update;
  update.metrics.push_back({.name = "loss", .value = value, .step = step, .timestamp = {}});
  update.sequence = sequence;
  return update;
}

std::vector<std::string> Types(const std::vector<Event>& events) {
  std::vector<std::string> types;
  for (const Event& event : events) types.push_back(event.type);
  return types;
}

}  // namespace

void BufferedProgressStoreTest::SetUp() {
  if (GetParam().unavailable) {
    std::string reason = GetParam().unavailable();
    if (!reason.empty()) GTEST_SKIP() << GetParam().name << " cannot run here: " << reason;
  }
  scratch_ = std::make_unique<testing::TempDir>();
}

void BufferedProgressStoreTest::TearDown() {
  store_.reset();
  scratch_.reset();
}

void BufferedProgressStoreTest::Open(std::chrono::milliseconds flush_interval,
                                     std::chrono::milliseconds callback_check_ttl,
                                     size_t max_pending) {
  Result<MetadataStorePtr> opened = GetParam().make(scratch_->path());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  inner_ = opened->get();
  ASSERT_TRUE(inner_
                  ->CreateSweep(SweepRecord{.id = "sw-a", .name = "a"}, {},
                                std::vector<JobRecord>{JobRecord{.name = "a-000"},
                                                       JobRecord{.name = "a-001"}})
                  .ok());
  JobRecord job = *inner_->GetJob("a-000");
  job.queued = false;
  job.token_sha256 = "hash-1";
  ASSERT_TRUE(inner_->UpdateJobState(job, {}).ok());
  setup_event_id_ = *inner_->LastEventId();
  store_ = std::make_unique<BufferedProgressStore>(
      std::move(*opened), BufferedProgressOptions{.flush_interval = flush_interval,
                                                  .callback_check_ttl = callback_check_ttl,
                                                  .max_pending_updates = max_pending,
                                                  .on_written = [this] {
                                                    std::lock_guard lock(mutex_);
                                                    ++announcements_;
                                                    announced_.notify_all();
                                                  }});
}

bool BufferedProgressStoreTest::WaitForAnnouncement() {
  std::unique_lock lock(mutex_);
  return announced_.wait_for(lock, 30s, [this] { return announcements_ > 0; });
}

std::vector<Event> BufferedProgressStoreTest::InnerEvents() {
  return *inner_->ListEvents(setup_event_id_, {}, 1000);
}

namespace {

TEST_P(BufferedProgressStoreTest, ProgressReportsAreConflatedWrittenBehindAndAnnounced) {
  Open(kNever);
  // The first report after a quiet spell goes at once; the ones after it wait the interval.
  ASSERT_TRUE(Take("a-000", Progress(0.1, 1)).ok());
  ASSERT_TRUE(WaitForAnnouncement());
  for (uint64_t sequence = 2; sequence <= 100; ++sequence) {
    Result<ProgressTaken> taken = Take("a-000", Progress(sequence / 100.0, sequence));
    ASSERT_TRUE(taken.ok()) << taken.status().ToString();
    EXPECT_TRUE(taken->buffered);
    EXPECT_TRUE(taken->recorded.events.empty());
  }
  // Not in the store yet: only the first report's event is there.
  EXPECT_THAT(Types(InnerEvents()), ElementsAre("job.progress"));
  EXPECT_EQ(inner_->GetJob("a-000")->progress["progress"], 0.1);
  // Reading the job through the store writes its reports first: 99 reports, one write.
  EXPECT_EQ(store_->GetJob("a-000")->progress["progress"], 1.0);
  std::vector<Event> events = InnerEvents();
  ASSERT_THAT(Types(events), ElementsAre("job.progress", "job.progress"));
  EXPECT_EQ(events[1].data["progress"], 1.0);
}

TEST_P(BufferedProgressStoreTest, EveryMetricPointAndLogLineIsWrittenInOrder) {
  Open(kNever);
  uint64_t sequence = 0;
  for (int step = 1; step <= 5; ++step) {
    ASSERT_TRUE(Take("a-000", Progress(step / 10.0, ++sequence)).ok());
    ASSERT_TRUE(Take("a-000", Metric(1.0 / step, step, ++sequence)).ok());
  }
  ProgressUpdate lines;
  lines.log = {{.stream = "stdout", .line = "one"}, {.stream = "stderr", .line = "two"}};
  lines.sequence = ++sequence;
  ASSERT_TRUE(Take("a-000", lines).ok());
  // Early stopping reads the points: they are all there, in order.
  std::vector<int64_t> steps;
  for (const MetricPoint& point : *store_->ListMetricPoints("a-000", "loss")) {
    steps.push_back(*point.step);
  }
  EXPECT_THAT(steps, ElementsAre(1, 2, 3, 4, 5));
  std::vector<LogLine> log = *store_->ListLogLines("a-000", 0);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].line, "two");
  EXPECT_EQ(store_->GetJob("a-000")->metrics["loss"], 0.2);
}

TEST_P(BufferedProgressStoreTest, AStatusChangeComesAfterTheJobsReports) {
  Open(kNever);
  ASSERT_TRUE(Take("a-000", Progress(0.1, 1)).ok());
  ASSERT_TRUE(WaitForAnnouncement());
  ASSERT_TRUE(Take("a-000", Progress(0.9, 2)).ok());
  ASSERT_TRUE(Take("a-000", Metric(0.5, 9, 3)).ok());
  JobRecord job = *inner_->GetJob("a-000");
  job.status = core::JobStatus::kCompleted;
  auto appended = store_->UpdateJobState(job, {{.type = "job.status", .job_name = "a-000"}});
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_THAT(Types(InnerEvents()),
              ElementsAre("job.progress", "job.progress", "job.metrics", "job.status"));
}

TEST_P(BufferedProgressStoreTest, StopWritesWhatIsInMemoryThenReportsGoStraightThrough) {
  Open(kNever);
  ASSERT_TRUE(Take("a-000", Progress(0.1, 1)).ok());
  ASSERT_TRUE(WaitForAnnouncement());
  ASSERT_TRUE(Take("a-000", Metric(0.5, 1, 2)).ok());
  ASSERT_TRUE(Take("a-000", Progress(0.7, 3)).ok());
  store_->Stop();
  EXPECT_EQ(inner_->GetJob("a-000")->progress["progress"], 0.7);
  EXPECT_EQ(inner_->ListMetricPoints("a-000", "")->size(), 1u);
  Result<ProgressTaken> after = Take("a-000", Progress(0.8, 4));
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->buffered);
  EXPECT_THAT(Types(after->recorded.events), ElementsAre("job.progress"));
}

TEST_P(BufferedProgressStoreTest, TheLastReportIsStoredBeforeTheAnswer) {
  Open(kNever);
  ASSERT_TRUE(Take("a-000", Progress(0.1, 1)).ok());
  ASSERT_TRUE(WaitForAnnouncement());
  ASSERT_TRUE(Take("a-000", Metric(0.5, 1, 2)).ok());
  Result<ProgressTaken> last = Take("a-000", Progress(1.0, 3), /*last_report=*/true);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->buffered);
  EXPECT_THAT(Types(InnerEvents()), ElementsAre("job.progress", "job.metrics", "job.progress"));
}

TEST_P(BufferedProgressStoreTest, RepeatedSequencesStoreNothing) {
  Open(kNever);
  ASSERT_TRUE(Take("a-000", Progress(0.1, 5)).ok());
  ASSERT_TRUE(WaitForAnnouncement());
  ASSERT_TRUE(Take("a-000", Progress(0.2, 6)).ok());
  // A repeat of a report still in memory, then of one already stored.
  EXPECT_TRUE(Take("a-000", Progress(0.3, 6))->recorded.repeated);
  // A report with metric points is written before the answer, which says it was a repeat.
  Result<ProgressTaken> metric = Take("a-000", Metric(0.5, 1, 4));
  ASSERT_TRUE(metric.ok()) << metric.status().ToString();
  EXPECT_TRUE(metric->recorded.repeated);
  EXPECT_EQ(store_->GetJob("a-000")->progress["progress"], 0.2);
  EXPECT_TRUE(store_->ListMetricPoints("a-000", "")->empty());
}

TEST_P(BufferedProgressStoreTest, ReportsPastTheCapAreRefusedUntilWritten) {
  Open(kNever, kNever, /*max_pending=*/1);
  ASSERT_TRUE(Take("a-000", Progress(0.1, 1)).ok());
  ASSERT_TRUE(WaitForAnnouncement());
  ASSERT_TRUE(Take("a-000", Progress(0.2, 2)).ok());
  Result<ProgressTaken> refused = Take("a-001", Progress(0.3, 1));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(store_->GetJob("a-000").ok());  // writes it
  EXPECT_TRUE(Take("a-001", Progress(0.3, 1)).ok());
}

TEST_P(BufferedProgressStoreTest, MetricPointsAndLogLinesAreStoredBeforeTheAnswer) {
  Open(kNever);
  ASSERT_TRUE(Take("a-000", Progress(0.1, 1)).ok());
  ASSERT_TRUE(WaitForAnnouncement());
  ASSERT_TRUE(Take("a-000", Progress(0.2, 2))->buffered);
  Result<ProgressTaken> metric = Take("a-000", Metric(0.5, 1, 3));
  ASSERT_TRUE(metric.ok()) << metric.status().ToString();
  EXPECT_FALSE(metric->buffered);
  ProgressUpdate lines;
  lines.log = {{.stream = "stdout", .line = "one"}};
  lines.sequence = 4;
  Result<ProgressTaken> logged = Take("a-000", lines);
  ASSERT_TRUE(logged.ok()) << logged.status().ToString();
  EXPECT_FALSE(logged->buffered);
  // In the store behind it, not only in memory: a crash now would lose neither.
  EXPECT_EQ(inner_->ListMetricPoints("a-000", "")->size(), 1u);
  EXPECT_EQ(inner_->ListLogLines("a-000", 0)->size(), 1u);
  EXPECT_THAT(Types(InnerEvents()), ElementsAre("job.progress", "job.progress", "job.metrics"));
}

TEST_P(BufferedProgressStoreTest, ReportsOfAJobThatIsGoneAreDroppedWithAnError) {
  Open(0ms);
  LogCapture log;
  ASSERT_TRUE(Take("gone-000", Progress(0.1, 1)).ok());
  store_->Stop();
  EXPECT_THAT(log.Text(), HasSubstr("job=gone-000 progress report sequence=1 dropped"));
}

TEST_P(BufferedProgressStoreTest, ARunningJobsCallbackCheckIsRememberedUntilItsStateChanges) {
  Open(kNever);
  Result<JobCallbackCheck> check = store_->GetJobCallbackCheck("a-000", "hash-1");
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->running());
  EXPECT_EQ(check->token_sha256, "hash-1");
  // Another server gives the job a new run: the old token is still remembered here, the new
  // one is read from the store.
  JobRecord job = *inner_->GetJob("a-000");
  job.token_sha256 = "hash-2";
  ASSERT_TRUE(inner_->UpdateJobState(job, {}).ok());
  EXPECT_EQ(store_->GetJobCallbackCheck("a-000", "hash-1")->token_sha256, "hash-1");
  EXPECT_EQ(store_->GetJobCallbackCheck("a-000", "hash-2")->token_sha256, "hash-2");
  // Its end recorded through this store is seen at once.
  job.status = core::JobStatus::kCompleted;
  ASSERT_TRUE(store_->UpdateJobState(job, {}).ok());
  EXPECT_FALSE(store_->GetJobCallbackCheck("a-000", "hash-2")->running());
  EXPECT_EQ(store_->GetJobCallbackCheck("nope", "hash-2").status().code(), StatusCode::kNotFound);
}

TEST_P(BufferedProgressStoreTest, ACallbackCheckIsReadAgainAfterItsTimeToLive) {
  Open(kNever, /*callback_check_ttl=*/0ms);
  ASSERT_TRUE(store_->GetJobCallbackCheck("a-000", "hash-1")->running());
  JobRecord job = *inner_->GetJob("a-000");
  job.status = core::JobStatus::kFailed;
  ASSERT_TRUE(inner_->UpdateJobState(job, {}).ok());
  EXPECT_FALSE(store_->GetJobCallbackCheck("a-000", "hash-1")->running());
}

}  // namespace
}  // namespace trainyard::metadata
