#include "control/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "control/early_stop.h"
#include "control/job_tokens.h"
#include "control/sweep_search.h"
#include "storage/local/local_object_store.h"
#include "support/test_paths.h"

namespace trainyard::control {
namespace {

namespace fs = std::filesystem;
using core::SecondaryStatus;

TimePoint TestNow() {
  return std::chrono::system_clock::now();
}

// An executor the test drives: jobs stay where the test puts them.
class FakeExecutor : public executor::Executor {
 public:
  explicit FakeExecutor(std::string name, bool remembers_jobs = false,
                        executor::TrainerKind trainer = executor::TrainerKind::kCommand)
      : name_(std::move(name)), remembers_jobs_(remembers_jobs), trainer_(trainer) {}
  std::string name() const override { return name_; }
  executor::TrainerKind AcceptedTrainer() const override { return trainer_; }
  bool RemembersJobsAcrossRestarts() const override { return remembers_jobs_; }
  Status Submit(const executor::JobSpec& spec) override {
    std::lock_guard lock(mutex_);
    if (jobs_.count(spec.definition.job_name)) return AlreadyExists(spec.definition.job_name);
    jobs_.emplace(spec.definition.job_name, Job{spec, core::JobStatusTracker(TestNow())});
    return Status::Ok();
  }
  Result<executor::JobDescription> Describe(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(name);
    if (it == jobs_.end()) return NotFound("job '" + name + "' not found");
    executor::JobDescription description{name, it->second.tracker};
    description.exit_code = it->second.exit_code;
    description.metrics = it->second.metrics;
    description.progress = it->second.progress;
    description.image = it->second.image;
    description.image_digest = it->second.image_digest;
    return description;
  }
  Status Stop(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(name);
    if (it == jobs_.end()) return NotFound(name);
    stopped_.push_back(name);
    return it->second.tracker.Transition(SecondaryStatus::kStopping, TestNow());
  }
  // Moves a job on; Completed also writes a model into its artifact dir.
  void Move(const std::string& name, SecondaryStatus status) {
    std::lock_guard lock(mutex_);
    Job& job = jobs_.at(name);
    ASSERT_TRUE(job.tracker.Transition(status, TestNow()).ok());
    if (status == SecondaryStatus::kCompleted) {
      job.exit_code = 0;
      ASSERT_TRUE(MakeDirectories(job.spec.artifact_dir).ok());
      std::ofstream(job.spec.artifact_dir / "model.tar.gz") << "model of " << name;
    }
  }
  // Move, then tell the listener, as a real executor does when a job changes.
  void MoveAndNotify(const std::string& name, SecondaryStatus status) {
    {
      std::lock_guard lock(mutex_);
      Job& job = jobs_.at(name);
      ASSERT_TRUE(job.tracker.Transition(status, TestNow()).ok());
      if (status == SecondaryStatus::kCompleted) job.exit_code = 0;
    }
    NotifyStatusChanged(name);
  }
  void SetMetric(const std::string& name, const std::string& metric, double value) {
    std::lock_guard lock(mutex_);
    jobs_.at(name).metrics[metric] = value;
  }
  // A new message of the job's current status, as the container executor gives while it pulls.
  void SetMessage(const std::string& name, const std::string& message) {
    std::lock_guard lock(mutex_);
    ASSERT_TRUE(jobs_.at(name).tracker.SetStatusMessage(message, TestNow()).ok());
  }
  // The one user it may run jobs as beside its own.
  Status CheckRunAsUser(const std::string& user) const override {
    if (user.empty() || user == "alice") return Status::Ok();
    return Status(StatusCode::kPermissionDenied, "user '" + user + "' is not allowed here");
  }
  Status CheckTrainerImage(const std::string& image) override {
    if (image == "refused/image:1")
      return FailedPrecondition("training image " + image + " is not here");
    return Status::Ok();
  }
  // The image the job runs, as the container executor describes it once resolved.
  void SetImage(const std::string& name, const std::string& image, const std::string& digest) {
    std::lock_guard lock(mutex_);
    jobs_.at(name).image = image;
    jobs_.at(name).image_digest = digest;
  }
  void SetProgress(const std::string& name, nlohmann::json progress) {
    std::lock_guard lock(mutex_);
    jobs_.at(name).progress = std::move(progress);
  }
  executor::JobSpec SpecOf(const std::string& name) {
    std::lock_guard lock(mutex_);
    return jobs_.at(name).spec;
  }
  size_t submitted() {
    std::lock_guard lock(mutex_);
    return jobs_.size();
  }
  std::vector<std::string> stopped() {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

 private:
  struct Job {
    executor::JobSpec spec;
    core::JobStatusTracker tracker;
    std::optional<int> exit_code;
    std::map<std::string, double> metrics;
    nlohmann::json progress = nlohmann::json::object();
    std::string image;
    std::string image_digest;
  };
  std::string name_;
  bool remembers_jobs_;
  executor::TrainerKind trainer_;
  std::mutex mutex_;
  std::map<std::string, Job> jobs_;
  std::vector<std::string> stopped_;
};

// The objects of another store, served as a backend without local files (S3) serves them.
class StoreWithoutLocalFiles : public storage::ObjectStore {
 public:
  explicit StoreWithoutLocalFiles(storage::ObjectStore& objects) : objects_(objects) {}
  Result<storage::ObjectInfo> Put(const std::string& key, std::istream& source, uint64_t size,
                                  const storage::PutOptions& options = {}) override {
    return objects_.Put(key, source, size, options);
  }
  Result<storage::ObjectInfo> Head(const std::string& key) override { return objects_.Head(key); }
  Status Get(const std::string& key, std::ostream& sink,
             std::optional<storage::ByteRange> range = {}) override {
    ++gets;
    return objects_.Get(key, sink, range);
  }
  std::atomic<int> gets{0};
  Result<std::unique_ptr<storage::ObjectReader>> OpenVersion(const std::string& key) override {
    return objects_.OpenVersion(key);
  }
  Result<storage::ListPage> List(const std::string& prefix, const std::string& start_after = "",
                                 size_t max_keys = 1000) override {
    return objects_.List(prefix, start_after, max_keys);
  }
  Status Delete(const std::string& key) override { return objects_.Delete(key); }

 private:
  storage::ObjectStore& objects_;
};

// Polls `condition` for up to 10 s.
bool WaitUntil(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = metadata::OpenMetadataStore("sqlite:///" + (temp_.path() / "t.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    metadata_ = std::move(store).value();
    auto objects = storage::LocalObjectStore::Open({temp_.path() / "objects"});
    ASSERT_TRUE(objects.ok()) << objects.status().ToString();
    objects_ = std::move(objects).value();
    std::istringstream data("1,2,3\n");
    ASSERT_TRUE(objects_->Put("datasets/ds-0123456789abcdef/train.csv", data, 6).ok());
    metadata::DatasetRecord dataset;
    dataset.id = "ds-0123456789abcdef";
    dataset.name = dataset.filename = "train.csv";
    dataset.kind = "training";
    dataset.object_key = "datasets/ds-0123456789abcdef/train.csv";
    dataset.size = 6;
    dataset.created_at = TestNow();
    ASSERT_TRUE(metadata_->CreateDataset(dataset).ok());
  }

  // `objects` null: the test's local store.
  std::unique_ptr<Scheduler> MakeScheduler(FakeExecutor& executor, int max_running = 4,
                                           storage::ObjectStore* objects = nullptr) {
    SchedulerOptions options;
    options.work_dir = temp_.path() / "work";
    options.max_running = max_running;
    options.callback_base_url = "http://127.0.0.1:9";
    return std::make_unique<Scheduler>(
        options, *metadata_, objects ? *objects : *objects_,
        std::map<std::string, executor::Executor*>{{executor.name(), &executor}});
  }

  SweepRequest Request(int max_parallel = 0, bool requeue = false) {
    nlohmann::json body = {{"name", "sw"},
                           {"trainer", {{"command", {"train"}}}},
                           {"channels", {{"training", "ds-0123456789abcdef"}}},
                           {"grid", {{"lr", {0.1, 0.2}}, {"batch", {32, 64}}}},
                           {"max_parallel", max_parallel},
                           {"requeue_on_restart", requeue}};
    auto request = ParseSweepRequest(body);
    EXPECT_TRUE(request.ok()) << request.status().ToString();
    return *request;
  }

  // `request` sent to the executor named `executor`.
  static SweepRequest With(SweepRequest request, const std::string& executor) {
    request.executor = executor;
    return request;
  }

  std::map<std::string, int64_t> Counts(const std::string& sweep) {
    auto counts = metadata_->CountJobsByStatus(sweep);
    EXPECT_TRUE(counts.ok());
    return counts.ok() ? *counts : std::map<std::string, int64_t>{};
  }

  std::vector<metadata::JobRecord> Jobs(const std::string& sweep) {
    metadata::JobFilter filter;
    filter.sweep_id = sweep;
    auto page = metadata_->ListJobs(filter);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->jobs : std::vector<metadata::JobRecord>{};
  }

  testing::TempDir temp_;
  metadata::MetadataStorePtr metadata_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
};

TEST_F(SchedulerTest, RunsTheQueueWithinTheSweepsLimitAndStoresOutputs) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  auto created = scheduler->CreateSweep(Request(/*max_parallel=*/2));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->job_count, 4u);
  std::string sweep = created->sweep.id;
  EXPECT_EQ(Counts(sweep), (std::map<std::string, int64_t>{{"Queued", 4}}));

  scheduler->RunOnce();
  EXPECT_EQ(executor.submitted(), 2u);
  EXPECT_EQ(Counts(sweep), (std::map<std::string, int64_t>{{"Queued", 2}, {"InProgress", 2}}));

  std::vector<metadata::JobRecord> jobs = Jobs(sweep);
  const std::string first = jobs[0].name;
  executor::JobSpec spec = executor.SpecOf(first);
  EXPECT_EQ(spec.definition.environment.at("TRAINYARD_CALLBACK_URL"),
            "http://127.0.0.1:9/api/v1/jobs/" + first + "/progress");
  std::string token = spec.secret_environment.at("TRAINYARD_JOB_TOKEN");
  EXPECT_EQ(metadata_->GetJob(first)->token_sha256, TokenSha256(token));
  EXPECT_EQ(spec.channel_sources.at("training").filename(), "train.csv");
  EXPECT_EQ(ReadFile(spec.channel_sources.at("training")).value(), "1,2,3\n");

  executor.Move(first, SecondaryStatus::kTraining);
  scheduler->RunOnce();
  EXPECT_EQ(metadata_->GetJob(first)->secondary_status, SecondaryStatus::kTraining);
  executor.Move(first, SecondaryStatus::kCompleted);
  scheduler->RunOnce();
  auto done = metadata_->GetJob(first);
  EXPECT_EQ(done->status, core::JobStatus::kCompleted);
  EXPECT_EQ(done->exit_code, 0);
  ASSERT_TRUE(done->ended_at.has_value());
  std::ostringstream model;
  ASSERT_TRUE(objects_->Get(OutputPrefix(first) + "model.tar.gz", model).ok());
  EXPECT_EQ(model.str(), "model of " + first);
  EXPECT_EQ(executor.submitted(), 3u);  // the freed slot went to the next job in line

  auto events = metadata_->ListEvents(0, {sweep, first});
  ASSERT_TRUE(events.ok());
  std::vector<std::string> types;
  for (const auto& event : *events) types.push_back(event.type);
  EXPECT_EQ(types.front(), "job.created");
  EXPECT_EQ(events->back().data["status"], "Completed");
}

// A job whose outputs cannot be stored ends Failed, in its transitions too: its status is read
// back from the last one (`trainyard run`'s status.json), which must not say Completed.
TEST_F(SchedulerTest, AJobWhoseOutputsCannotBeStoredEndsFailedInItsTransitions) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  auto created = scheduler->CreateSweep(Request(/*max_parallel=*/1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler->RunOnce();
  const std::string first = Jobs(created->sweep.id)[0].name;
  // An object whose key is the directory the outputs go to: no Put under it can succeed.
  std::string blocking = OutputPrefix(first);
  blocking.pop_back();
  std::istringstream data("x");
  ASSERT_TRUE(objects_->Put(blocking, data, 1).ok());

  executor.Move(first, SecondaryStatus::kTraining);
  executor.Move(first, SecondaryStatus::kCompleted);
  scheduler->RunOnce();
  auto done = metadata_->GetJob(first);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->status, core::JobStatus::kFailed);
  EXPECT_EQ(done->secondary_status, SecondaryStatus::kFailed);
  ASSERT_FALSE(done->transitions.empty());
  EXPECT_EQ(done->transitions.back().status, SecondaryStatus::kFailed);
  EXPECT_NE(done->failure_reason.find("could not store the job's outputs"), std::string::npos)
      << done->failure_reason;
  EXPECT_EQ(done->transitions.back().message, done->failure_reason);
  auto listed = objects_->List(OutputPrefix(first));
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->objects.empty());
}

TEST_F(SchedulerTest, GlobalLimitHoldsAcrossSweeps) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor, /*max_running=*/3);
  ASSERT_TRUE(scheduler->CreateSweep(Request()).ok());
  ASSERT_TRUE(scheduler->CreateSweep(Request()).ok());
  scheduler->RunOnce();
  EXPECT_EQ(executor.submitted(), 3u);
}

TEST_F(SchedulerTest, PerExecutorLimitHolds) {
  FakeExecutor executor("local");
  SchedulerOptions options;
  options.work_dir = temp_.path() / "work";
  options.max_running = 10;
  options.max_running_per_executor = {{"local", 1}};
  Scheduler scheduler(options, *metadata_, *objects_, {{"local", &executor}});
  ASSERT_TRUE(scheduler.CreateSweep(Request()).ok());
  scheduler.RunOnce();
  EXPECT_EQ(executor.submitted(), 1u);
}

TEST_F(SchedulerTest, StopSweepEndsQueuedJobsAtOnceAndStopsRunningOnes) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  auto created = scheduler->CreateSweep(Request(/*max_parallel=*/1));
  ASSERT_TRUE(created.ok());
  scheduler->RunOnce();
  ASSERT_TRUE(scheduler->StopSweep(created->sweep.id).ok());
  // The running one is recorded Stopping before StopSweep returns.
  EXPECT_EQ(Counts(created->sweep.id),
            (std::map<std::string, int64_t>{{"Stopped", 3}, {"Stopping", 1}}));
  // A queued one passed Stopping too, as SageMaker shows every stop.
  std::vector<metadata::JobRecord> jobs = Jobs(created->sweep.id);
  ASSERT_EQ(jobs.back().transitions.size(), 3u);
  EXPECT_EQ(jobs.back().transitions[1].status, SecondaryStatus::kStopping);
  EXPECT_EQ(jobs.back().transitions[2].status, SecondaryStatus::kStopped);
  ASSERT_EQ(executor.stopped().size(), 1u);
  executor.Move(executor.stopped()[0], SecondaryStatus::kStopped);
  scheduler->RunOnce();
  EXPECT_EQ(Counts(created->sweep.id), (std::map<std::string, int64_t>{{"Stopped", 4}}));
  EXPECT_EQ(executor.submitted(), 1u);
}

// Early stopping auto on a grid sweep: its four jobs run at once and report their accuracy with
// a step (as a callback records them); the one that learns nothing is stopped, with the reason.
TEST_F(SchedulerTest, EarlyStoppingStopsTheJobBelowTheMedianAndKeepsWhy) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  nlohmann::json body = {{"name", "es"},
                         {"trainer", {{"command", {"train"}}}},
                         {"grid", {{"lr", {0.5, 0.4, 0.3, 1e-7}}}},
                         {"objective", {{"metric", "accuracy"}, {"goal", "max"}}},
                         {"early_stopping", "auto"}};
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto created = scheduler->CreateSweep(*request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler->RunOnce();
  std::vector<metadata::JobRecord> jobs = Jobs(created->sweep.id);
  ASSERT_EQ(jobs.size(), 4u);
  const auto report = [&](const metadata::JobRecord& job, std::vector<double> values) {
    // A job is judged again when its record's updated_at (milliseconds) changed.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    metadata::ProgressUpdate update;
    for (size_t i = 0; i < values.size(); ++i) {
      update.metrics.push_back({"accuracy", values[i], static_cast<int64_t>(10 * i), TestNow()});
    }
    ASSERT_TRUE(metadata_->RecordProgress(job.name, update).ok());
  };
  for (const metadata::JobRecord& job : jobs) executor.Move(job.name, SecondaryStatus::kTraining);
  report(jobs[0], {0.1, 0.6, 0.8});
  report(jobs[1], {0.1, 0.5, 0.7});
  report(jobs[2], {0.1, 0.7, 0.85});
  // At step 0 everyone is alike: nobody is stopped.
  report(jobs[3], {0.1});
  scheduler->RunOnce();
  EXPECT_TRUE(executor.stopped().empty());
  report(jobs[3], {0.1, 0.12, 0.15});  // steps 0, 10, 20 again: its best is 0.15
  scheduler->RunOnce();
  ASSERT_EQ(executor.stopped(), std::vector<std::string>{jobs[3].name});
  const std::string reason =
      "Early stopping (median rule): at step 20 the best accuracy so far, 0.15, is below 0.5, "
      "the median of the running averages of 3 other jobs at step 20";
  metadata::JobRecord stopping = *metadata_->GetJob(jobs[3].name);
  EXPECT_EQ(stopping.stop_reason, reason);
  EXPECT_EQ(stopping.status, core::JobStatus::kStopping);
  EXPECT_EQ(stopping.transitions.back().message, reason);

  executor.Move(jobs[3].name, SecondaryStatus::kStopped);
  scheduler->RunOnce();
  metadata::JobRecord stopped = *metadata_->GetJob(jobs[3].name);
  EXPECT_EQ(stopped.status, core::JobStatus::kStopped);
  EXPECT_EQ(stopped.stop_reason, reason);
  EXPECT_EQ(stopped.transitions.back().status, SecondaryStatus::kStopped);
  EXPECT_EQ(stopped.transitions.back().message, reason);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(metadata_->GetJob(jobs[i].name)->status, core::JobStatus::kInProgress);
  }
  EXPECT_EQ(executor.stopped().size(), 1u);
}

// A stop decided and recorded, but not made (the server died in between): the next pass makes
// it, with the recorded reason.
TEST_F(SchedulerTest, AnEarlyStopRecordedButNotMadeIsMadeAtTheNextPass) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  nlohmann::json body = {{"name", "es"},
                         {"trainer", {{"command", {"train"}}}},
                         {"grid", {{"lr", {0.5}}}},
                         {"objective", {{"metric", "accuracy"}, {"goal", "max"}}},
                         {"early_stopping", "auto"}};
  auto created = scheduler->CreateSweep(*ParseSweepRequest(body));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler->RunOnce();
  metadata::JobRecord job = Jobs(created->sweep.id)[0];
  job.stop_reason = "Early stopping (median rule): decided before the restart";
  ASSERT_TRUE(metadata_->UpdateJobState(job, {}).ok());
  scheduler->RunOnce();
  EXPECT_EQ(executor.stopped(), std::vector<std::string>{job.name});
  EXPECT_EQ(metadata_->GetJob(job.name)->transitions.back().message, job.stop_reason);
  scheduler->RunOnce();
  EXPECT_EQ(executor.stopped().size(), 1u) << "asked once";
}

TEST(EarlyStopTest, AStopReasonStaysOnlyWithAJobThatEndedStopped) {
  metadata::JobRecord job;
  job.stop_reason = "Early stopping (median rule): ...";
  job.status = core::JobStatus::kStopped;
  job.transitions = {{SecondaryStatus::kStopped, TestNow(), std::nullopt, "Training job stopped"}};
  SettleStopReason(job);
  EXPECT_EQ(job.transitions.back().message, job.stop_reason);
  // It completed before the stop reached it.
  job.status = core::JobStatus::kCompleted;
  job.transitions = {{SecondaryStatus::kCompleted, TestNow(), std::nullopt, "done"}};
  SettleStopReason(job);
  EXPECT_EQ(job.stop_reason, "");
  EXPECT_EQ(job.transitions.back().message, "done");
}

TEST(EarlyStopTest, APointWithoutAStepCountsAtItsPlace) {
  std::vector<metadata::MetricPoint> points = {{"loss", 2.0, std::nullopt, TestNow()},
                                               {"loss", 1.5, std::nullopt, TestNow()},
                                               {"loss", 1.0, 40, TestNow()}};
  core::LearningCurve curve = CurveOf("j", points, true);
  ASSERT_EQ(curve.points.size(), 3u);
  EXPECT_EQ(curve.points[0].step, 1);
  EXPECT_EQ(curve.points[1].step, 2);
  EXPECT_EQ(curve.points[2].step, 40);
  EXPECT_DOUBLE_EQ(curve.points[1].value, 1.5);
  EXPECT_TRUE(curve.ended);
  EXPECT_EQ(curve.job, "j");
}

// sagemaker_submit_directory: the object its s3:// URI names (where submit_directory_key says it
// lies) is staged for the executor as the job's code; a path in the image is the job's own; a
// missing object fails the job naming the URI.
TEST_F(SchedulerTest, ASubmitDirectoryIsStagedAsTheJobsCode) {
  FakeExecutor executor("local");
  SchedulerOptions options;
  options.work_dir = temp_.path() / "work";
  options.submit_directory_key = [](const std::string& uri) -> Result<std::string> {
    return "s3/objects/" + uri.substr(std::string("s3://").size());
  };
  Scheduler scheduler(options, *metadata_, *objects_, {{executor.name(), &executor}});
  std::istringstream code("tarball bytes");
  ASSERT_TRUE(objects_->Put("s3/objects/b/src/sourcedir.tar.gz", code, 13).ok());
  nlohmann::json body = {{"name", "code"},
                         {"trainer", {{"command", {"train"}}}},
                         {"combinations",
                          {{{"sagemaker_submit_directory", "s3://b/src/sourcedir.tar.gz"}},
                           {{"sagemaker_submit_directory", "/opt/ml/code"}},
                           {{"sagemaker_submit_directory", "s3://b/src/missing.tar.gz"}}}}};
  auto created = scheduler.CreateSweep(*ParseSweepRequest(body));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler.RunOnce();
  std::vector<metadata::JobRecord> jobs = Jobs(created->sweep.id);
  std::sort(jobs.begin(), jobs.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  ASSERT_EQ(jobs.size(), 3u);
  const fs::path staged = executor.SpecOf(jobs[0].name).code_source;
  ASSERT_FALSE(staged.empty());
  std::ifstream file(staged);
  std::string content((std::istreambuf_iterator<char>(file)), {});
  EXPECT_EQ(content, "tarball bytes");
  EXPECT_TRUE(executor.SpecOf(jobs[1].name).code_source.empty());
  EXPECT_EQ(jobs[2].status, core::JobStatus::kFailed);
  EXPECT_EQ(jobs[2].failure_reason,
            "ClientError: hyperparameter sagemaker_submit_directory "
            "'s3://b/src/missing.tar.gz': no such object");
}

TEST_F(SchedulerTest, ARestartFailsLostJobsWithAReasonOrQueuesThemAgain) {
  std::string plain, requeued;
  {
    FakeExecutor executor("local");
    auto scheduler = MakeScheduler(executor);
    plain = scheduler->CreateSweep(Request(1))->sweep.id;
    requeued = scheduler->CreateSweep(Request(1, /*requeue=*/true))->sweep.id;
    scheduler->RunOnce();
    ASSERT_EQ(executor.submitted(), 2u);
  }
  FakeExecutor fresh("local");  // knows none of the jobs, as after a crash
  auto scheduler = MakeScheduler(fresh);
  ASSERT_TRUE(scheduler->Start().ok());
  scheduler->Shutdown();
  std::vector<metadata::JobRecord> jobs = Jobs(plain);
  EXPECT_EQ(jobs[0].status, core::JobStatus::kFailed);
  EXPECT_NE(jobs[0].failure_reason.find("server stopped while the job ran"), std::string::npos);
  jobs = Jobs(requeued);
  EXPECT_TRUE(jobs[0].queued);
  EXPECT_EQ(jobs[0].attempt, 1);
  EXPECT_EQ(jobs[0].executor_job_name, jobs[0].name + "-r1");

  auto retried = scheduler->RetrySweep(plain);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, std::vector<std::string>{Jobs(plain)[0].name});
  EXPECT_TRUE(Jobs(plain)[0].queued);
}

TEST_F(SchedulerTest, ARestartRunsJobsWhoseCodeNeverStartedUnderTheSameAttempt) {
  std::string sweep;
  {
    FakeExecutor executor("local", /*remembers_jobs=*/true);
    auto scheduler = MakeScheduler(executor);
    sweep = scheduler->CreateSweep(Request(2))->sweep.id;
    scheduler->RunOnce();
    ASSERT_EQ(executor.submitted(), 2u);
    ASSERT_TRUE(scheduler->StopJob(Jobs(sweep)[1].name).ok());  // Stopping when the server dies
    scheduler->RunOnce();
    ASSERT_EQ(Jobs(sweep)[1].status, core::JobStatus::kStopping);
  }
  // Claimed and submitted, but the executor, which remembers every job it accepted, knows none:
  // their code never started.
  FakeExecutor fresh("local", /*remembers_jobs=*/true);
  auto scheduler = MakeScheduler(fresh);
  ASSERT_TRUE(scheduler->Start().ok());
  scheduler->Shutdown();
  std::vector<metadata::JobRecord> jobs = Jobs(sweep);
  EXPECT_TRUE(jobs[0].queued);
  EXPECT_EQ(jobs[0].attempt, 0);
  EXPECT_EQ(jobs[0].executor_job_name, jobs[0].name);
  EXPECT_TRUE(jobs[0].failure_reason.empty());
  EXPECT_EQ(jobs[1].status, core::JobStatus::kStopped);
  // It keeps its place: first in line again.
  scheduler->RunOnce();
  EXPECT_EQ(fresh.submitted(), 2u);
  EXPECT_NO_FATAL_FAILURE(fresh.SpecOf(jobs[0].name));
}

TEST_F(SchedulerTest, AStartRemovesWorkDirsThatNoRunningJobOwns) {
  FakeExecutor executor("local", /*remembers_jobs=*/true);
  StoreWithoutLocalFiles remote(*objects_);  // so that the running job's input is staged
  std::string sweep;
  {
    auto scheduler = MakeScheduler(executor, 4, &remote);
    sweep = scheduler->CreateSweep(Request(1))->sweep.id;
    scheduler->RunOnce();
  }
  const std::string running = Jobs(sweep)[0].name;
  fs::path stale = temp_.path() / "work" / "gone-001";
  ASSERT_TRUE(MakeDirectories(stale / "artifacts").ok());
  ASSERT_TRUE(WriteFileAtomic(stale / "artifacts" / "model.tar.gz", "half").ok());
  auto scheduler = MakeScheduler(executor, 4, &remote);
  ASSERT_TRUE(scheduler->Start().ok());
  scheduler->Shutdown();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(temp_.path() / "work" / running));  // its staged input stays
}

TEST_F(SchedulerTest, AnExecutorsStatusChangeRefillsTheFreedSlotAtOnce) {
  FakeExecutor executor("local");
  SchedulerOptions options;
  options.work_dir = temp_.path() / "work";
  options.max_running = 1;
  options.poll_interval = std::chrono::hours(1);  // only a wake-up can move the queue
  Scheduler scheduler(options, *metadata_, *objects_, {{"local", &executor}});
  ASSERT_TRUE(scheduler.Start().ok());
  auto created = scheduler.CreateSweep(Request());
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(WaitUntil([&] { return executor.submitted() == 1; }));
  const std::string first = Jobs(created->sweep.id)[0].name;
  executor.Move(first, SecondaryStatus::kTraining);
  executor.MoveAndNotify(first, SecondaryStatus::kCompleted);
  EXPECT_TRUE(WaitUntil([&] { return executor.submitted() == 2; }));
  scheduler.Shutdown();
}

TEST_F(SchedulerTest, ChannelDataIsUsedInPlaceWhereTheStoreKeepsItAsAFile) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  ASSERT_TRUE(scheduler->CreateSweep(Request()).ok());
  scheduler->RunOnce();
  std::string first = Jobs("")[0].name;
  fs::path source = executor.SpecOf(first).channel_sources.at("training");
  auto object_file = objects_->LocalFile("datasets/ds-0123456789abcdef/train.csv");
  ASSERT_TRUE(object_file.ok() && object_file->has_value()) << object_file.status().ToString();
  EXPECT_EQ(source, **object_file);  // no copy
}

TEST_F(SchedulerTest, ChannelDataIsCopiedWhereTheStoreKeepsNoLocalFiles) {
  FakeExecutor executor("local");
  StoreWithoutLocalFiles remote(*objects_);
  auto scheduler = MakeScheduler(executor, 4, &remote);
  ASSERT_TRUE(scheduler->CreateSweep(Request()).ok());
  scheduler->RunOnce();
  std::string first = Jobs("")[0].name;
  fs::path source = executor.SpecOf(first).channel_sources.at("training");
  EXPECT_EQ(source.filename(), "train.csv");
  EXPECT_TRUE(source.string().starts_with((temp_.path() / "work").string())) << source;
  EXPECT_EQ(ReadFile(source).value(), "1,2,3\n");
}

// An executor that hands the job a dataset where it lies in the store (object-store staging).
class InPlaceExecutor : public FakeExecutor {
 public:
  InPlaceExecutor() : FakeExecutor("local") {}
  bool HandsStoredChannelsInPlace() const override { return true; }
};

TEST_F(SchedulerTest, ADatasetGoesAsItsObjectToAnExecutorThatHandsItWhereItLies) {
  // Its record knows what the bytes are: neither fetched from the store nor copied.
  auto dataset = metadata_->GetDataset("ds-0123456789abcdef");
  ASSERT_TRUE(dataset.ok());
  metadata::DatasetRecord known = *dataset;
  known.id = "ds-00000000000000aa";
  known.sha256_hex = std::string(64, 'a');
  ASSERT_TRUE(metadata_->CreateDataset(known).ok());
  InPlaceExecutor executor;
  StoreWithoutLocalFiles remote(*objects_);
  auto scheduler = MakeScheduler(executor, 4, &remote);
  SweepRequest request = Request();
  request.channels = {{"training", DatasetChannel{known.id}},
                      {"evaluation", DatasetChannel{"ds-0123456789abcdef"}}};
  ASSERT_TRUE(scheduler->CreateSweep(request).ok());
  scheduler->RunOnce();
  const executor::JobSpec spec = executor.SpecOf(Jobs("")[0].name);
  ASSERT_TRUE(spec.channel_objects.contains("training"));
  const executor::StoredObject& object = spec.channel_objects.at("training");
  EXPECT_EQ(object.key, known.object_key);
  EXPECT_EQ(object.filename, "train.csv");
  EXPECT_EQ(object.size, 6u);
  EXPECT_EQ(object.sha256_hex, known.sha256_hex);
  EXPECT_FALSE(spec.channel_sources.contains("training"));
  // A record without a SHA-256 cannot say what the job must get: copied, as for any executor.
  EXPECT_FALSE(spec.channel_objects.contains("evaluation"));
  ASSERT_TRUE(spec.channel_sources.contains("evaluation"));
  EXPECT_EQ(ReadFile(spec.channel_sources.at("evaluation")).value(), "1,2,3\n");
  EXPECT_EQ(remote.gets, static_cast<int>(executor.submitted()));  // the copied one, per job
}

TEST_F(SchedulerTest, RefusesUnknownExecutorsAndDatasets) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  SweepRequest request = Request();
  request.executor = "slurm";
  auto refused = scheduler->CreateSweep(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(FieldOfError(refused.status()), "executor");
  request = Request();
  request.channels["evaluation"] = DatasetChannel{"ds-ffffffffffffffff"};
  refused = scheduler->CreateSweep(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(metadata_->ListSweeps()->empty());  // nothing half-created
}

TEST_F(SchedulerTest, ASweepsTrainerMustBeWhatItsExecutorRuns) {
  SweepRequest command = Request();
  SweepRequest image = Request();
  image.command.clear();
  image.image = "registry.example/trainer:1";

  FakeExecutor runs_images("box", false, executor::TrainerKind::kImage);
  auto refused = MakeScheduler(runs_images)->CreateSweep(With(command, "box"));
  EXPECT_EQ(FieldOfError(refused.status()), "trainer");
  EXPECT_NE(refused.status().message().find("the box executor runs an image: give trainer.image"),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(MakeScheduler(runs_images)->CreateSweep(With(image, "box")).ok());

  FakeExecutor runs_commands("here", false, executor::TrainerKind::kCommand);
  refused = MakeScheduler(runs_commands)->CreateSweep(With(image, "here"));
  EXPECT_EQ(FieldOfError(refused.status()), "trainer");
  EXPECT_NE(
      refused.status().message().find("the here executor runs a command: give trainer.command"),
      std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(MakeScheduler(runs_commands)->CreateSweep(With(command, "here")).ok());

  FakeExecutor runs_either("cloud", false, executor::TrainerKind::kImageOrCommand);
  EXPECT_TRUE(MakeScheduler(runs_either)->CreateSweep(With(command, "cloud")).ok());
  EXPECT_TRUE(MakeScheduler(runs_either)->CreateSweep(With(image, "cloud")).ok());
}

TEST_F(SchedulerTest, ANewMessageOfTheCurrentStatusIsRecorded) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  auto created = scheduler->CreateSweep(Request(/*max_parallel=*/1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler->RunOnce();
  const std::string name = Jobs(created->sweep.id)[0].name;
  executor.Move(name, SecondaryStatus::kTraining);
  scheduler->RunOnce();
  executor.SetMessage(name, "Downloading the training image");
  scheduler->RunOnce();
  EXPECT_EQ(metadata_->GetJob(name)->transitions.back().message, "Downloading the training image");
  executor.SetMessage(name, "Training image present: r/t@sha256:0f. Training in progress.");
  scheduler->RunOnce();
  auto job = metadata_->GetJob(name);
  EXPECT_EQ(job->secondary_status, SecondaryStatus::kTraining);
  EXPECT_EQ(job->transitions.back().message,
            "Training image present: r/t@sha256:0f. Training in progress.");
}

// The image a job ran is recorded from its executor's description, even with no new status or
// message, kept at its end, and cleared when the job is queued again (its new run resolves it).
TEST_F(SchedulerTest, TheImageAJobRanIsRecordedUntilItIsQueuedAgain) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  auto created = scheduler->CreateSweep(Request(/*max_parallel=*/1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler->RunOnce();
  const std::string name = Jobs(created->sweep.id)[0].name;
  executor.Move(name, SecondaryStatus::kTraining);
  scheduler->RunOnce();
  EXPECT_EQ(metadata_->GetJob(name)->image_digest, "");
  executor.SetImage(name, "r/t:v1", "r/t@sha256:0f");
  scheduler->RunOnce();
  auto job = metadata_->GetJob(name);
  EXPECT_EQ(job->image, "r/t:v1");
  EXPECT_EQ(job->image_digest, "r/t@sha256:0f");
  executor.Move(name, SecondaryStatus::kFailed);
  scheduler->RunOnce();
  job = metadata_->GetJob(name);
  ASSERT_EQ(job->status, core::JobStatus::kFailed);
  EXPECT_EQ(job->image_digest, "r/t@sha256:0f");
  auto retried = scheduler->RetrySweep(created->sweep.id);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  job = metadata_->GetJob(name);
  EXPECT_TRUE(job->queued);
  EXPECT_EQ(job->image, "");
  EXPECT_EQ(job->image_digest, "");
}

TEST_F(SchedulerTest, AnImageItsExecutorCannotRunIsRefusedAtCreation) {
  FakeExecutor executor("container", false, executor::TrainerKind::kImage);
  auto scheduler = MakeScheduler(executor);
  nlohmann::json body = {
      {"name", "offline"}, {"executor", "container"}, {"trainer", {{"image", "refused/image:1"}}}};
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto refused = scheduler->CreateSweep(*request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "field 'trainer.image': training image refused/image:1 is not here");
  body["trainer"]["image"] = "accepted/image:1";
  EXPECT_TRUE(scheduler->CreateSweep(*ParseSweepRequest(body)).ok());
}

TEST_F(SchedulerTest, ASweepsSlurmUserIsCheckedAtCreationAndGivenToEachJob) {
  FakeExecutor executor("slurm");
  auto scheduler = MakeScheduler(executor);
  SweepRequest request = With(Request(), "slurm");
  request.slurm_user = "mallory";
  auto refused = scheduler->CreateSweep(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "field 'slurm.user': user 'mallory' is not allowed here");

  request.slurm_user = "alice";
  auto created = scheduler->CreateSweep(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler->RunOnce();
  ASSERT_GT(executor.submitted(), 0u);
  for (const metadata::JobRecord& job : Jobs(created->sweep.id)) {
    if (job.queued) continue;
    EXPECT_EQ(executor.SpecOf(job.executor_job_name).run_as_user, "alice") << job.name;
  }
}

TEST_F(SchedulerTest, IdempotencyKeyReturnsTheFirstSweep) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  SweepRequest request = Request();
  request.idempotency_key = "same";
  auto first = scheduler->CreateSweep(request);
  auto second = scheduler->CreateSweep(request);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(first->sweep.id, second->sweep.id);
}

// What the SageMaker endpoint asks of the scheduler: a job named by the caller, with its
// hyperparameters as given, its input from an object-store prefix, its outputs under roots of
// its own, and its metrics from its executor (no callback).
class SchedulerAdapterTest : public SchedulerTest {
 protected:
  void PutObject(const std::string& key, const std::string& text) {
    std::istringstream data(text);
    ASSERT_TRUE(objects_->Put(key, data, text.size()).ok()) << key;
  }
  SweepRequest NamedRequest(const std::string& job_name) {
    SweepRequest request;
    request.name = "sm";
    request.command = {"train"};
    request.job_name = job_name;
    request.literal_hyperparameters = true;
    request.sweep.fixed = {{"lr", "0.10"}};
    request.channels["train"] = ObjectPrefixChannel{"s3/objects/b/data/train"};
    request.output_root = "s3/objects/out/models/";
    request.files_root = "sagemaker/training-jobs/";
    request.client_request = {{"TrainingJobName", job_name}};
    return request;
  }
  std::unique_ptr<Scheduler> MakeSchedulerWithoutCallback(FakeExecutor& executor) {
    SchedulerOptions options;
    options.work_dir = temp_.path() / "work";
    return std::make_unique<Scheduler>(
        options, *metadata_, *objects_,
        std::map<std::string, executor::Executor*>{{executor.name(), &executor}});
  }
};

TEST_F(SchedulerAdapterTest, AnObjectPrefixChannelIsPlacedAsSageMakerPlacesIt) {
  PutObject("s3/objects/b/data/train.csv", "a");
  PutObject("s3/objects/b/data/train/part-1", "b");
  PutObject("s3/objects/b/data/train/deep/part-2", "c");
  PutObject("s3/objects/b/data/other.csv", "no");
  FakeExecutor executor("local");
  auto scheduler = MakeSchedulerWithoutCallback(executor);
  auto created = scheduler->CreateSweep(NamedRequest("My-Job"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  scheduler->RunOnce();
  executor::JobSpec spec = executor.SpecOf("My-Job");
  EXPECT_EQ(spec.definition.hyperparameters.at("lr"), "0.10");
  EXPECT_TRUE(spec.definition.environment.count("TRAINYARD_CALLBACK_URL") == 0);
  fs::path channel = spec.channel_sources.at("train");
  EXPECT_EQ(channel, temp_.path() / "work" / "My-Job" / "channels" / "train");
  EXPECT_EQ(ReadFile(channel / "train.csv").value(), "a");
  EXPECT_EQ(ReadFile(channel / "train" / "part-1").value(), "b");
  EXPECT_EQ(ReadFile(channel / "train" / "deep" / "part-2").value(), "c");
  EXPECT_FALSE(fs::exists(channel / "other.csv"));
  auto sweep = metadata_->GetSweep(created->sweep.id);
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->spec["client_request"]["TrainingJobName"], "My-Job");
}

TEST_F(SchedulerAdapterTest, ACallersJobStoresItsOutputsUnderItsRootsAndItsMetrics) {
  PutObject("s3/objects/b/data/train.csv", "a");
  FakeExecutor executor("local");
  auto scheduler = MakeSchedulerWithoutCallback(executor);
  ASSERT_TRUE(scheduler->CreateSweep(NamedRequest("named")).ok());
  scheduler->RunOnce();
  executor.Move("named", SecondaryStatus::kTraining);
  executor.SetMetric("named", "loss", 0.5);
  scheduler->RunOnce();
  auto running = metadata_->GetJob("named");
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->metrics.at("loss"), 0.5);
  executor.SetMetric("named", "loss", 0.25);
  executor.Move("named", SecondaryStatus::kCompleted);
  fs::path artifacts = executor.SpecOf("named").artifact_dir;
  ASSERT_TRUE(WriteFileAtomic(artifacts / "training.log", "epoch 1\n").ok());
  ASSERT_TRUE(WriteFileAtomic(artifacts / "output.tar.gz", "data").ok());
  scheduler->RunOnce();
  auto done = metadata_->GetJob("named");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, core::JobStatus::kCompleted);
  EXPECT_EQ(done->metrics.at("loss"), 0.25);
  auto points = metadata_->ListMetricPoints("named", "loss");
  ASSERT_TRUE(points.ok());
  EXPECT_EQ(points->size(), 2u);  // each value once
  for (const char* key : {"s3/objects/out/models/named/output/model.tar.gz",
                          "s3/objects/out/models/named/output/output.tar.gz",
                          "sagemaker/training-jobs/named/training.log"}) {
    EXPECT_TRUE(objects_->Head(key).ok()) << key;
  }
  EXPECT_FALSE(objects_->Head("s3/objects/out/models/named/output/training.log").ok());
  EXPECT_FALSE(objects_->Head(OutputPrefix("named") + "model.tar.gz").ok());
}

// `trainyard run` and the endpoint's jobs post no callback: their progress file's snapshot
// comes through their executor, recorded once per change.
TEST_F(SchedulerAdapterTest, ProgressWithoutACallbackIsRecordedFromTheExecutor) {
  PutObject("s3/objects/b/data/train.csv", "a");
  FakeExecutor executor("local");
  auto scheduler = MakeSchedulerWithoutCallback(executor);
  ASSERT_TRUE(scheduler->CreateSweep(NamedRequest("progressing")).ok());
  scheduler->RunOnce();
  executor.Move("progressing", SecondaryStatus::kTraining);
  executor.SetProgress("progressing", {{"progress", 0.25}, {"epoch", 1}});
  scheduler->RunOnce();
  auto job = metadata_->GetJob("progressing");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->progress["progress"], 0.25);
  auto last = metadata_->LastEventId();
  ASSERT_TRUE(last.ok());
  scheduler->RunOnce();  // unchanged: nothing more recorded
  auto events = metadata_->ListEvents(*last, {});
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty()) << events->front().type;
  executor.SetProgress("progressing", {{"progress", 0.5}, {"epoch", 2}});
  scheduler->RunOnce();
  events = metadata_->ListEvents(*last, {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().type, "job.progress");
  EXPECT_EQ(events->front().data["progress"], 0.5);
}

TEST_F(SchedulerAdapterTest, ATakenNameAndAnEmptyPrefixAreRefused) {
  PutObject("s3/objects/b/data/train.csv", "a");
  FakeExecutor executor("local");
  auto scheduler = MakeSchedulerWithoutCallback(executor);
  ASSERT_TRUE(scheduler->CreateSweep(NamedRequest("once")).ok());
  auto again = scheduler->CreateSweep(NamedRequest("once"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  SweepRequest empty = NamedRequest("other");
  empty.channels["train"] = ObjectPrefixChannel{"s3/objects/b/nothing/"};
  auto refused = scheduler->CreateSweep(empty);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FieldOfError(InvalidArgument(refused.status().message())), "channels.train");
  SweepRequest two = NamedRequest("two");
  two.literal_hyperparameters = false;
  two.sweep.grid = {{"lr", {"0.1", "0.2"}}};
  two.sweep.fixed.clear();
  refused = scheduler->CreateSweep(two);
  EXPECT_EQ(FieldOfError(refused.status()), "job_name");
}

TEST_F(SchedulerAdapterTest, AJobWhoseInputVanishedFailsSayingWhichChannel) {
  PutObject("s3/objects/b/data/train.csv", "a");
  FakeExecutor executor("local");
  auto scheduler = MakeSchedulerWithoutCallback(executor);
  ASSERT_TRUE(scheduler->CreateSweep(NamedRequest("gone")).ok());
  ASSERT_TRUE(objects_->Delete("s3/objects/b/data/train.csv").ok());
  scheduler->RunOnce();
  auto job = metadata_->GetJob("gone");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->status, core::JobStatus::kFailed);
  EXPECT_NE(job->failure_reason.find("ClientError: channel 'train': no object's key starts with"),
            std::string::npos)
      << job->failure_reason;
  EXPECT_EQ(executor.submitted(), 0u);
}

TEST_F(SchedulerAdapterTest, AnAdaptersPartOfTheSpecIsAddedBeforeTheClaimOrFailsTheJob) {
  PutObject("s3/objects/b/data/train.csv", "a");
  FakeExecutor executor("local");
  SchedulerOptions options;
  options.work_dir = temp_.path() / "work";
  options.complete_job_spec = [](const SweepRequest& request, executor::JobSpec& spec) {
    if (request.job_name == "refused") return InvalidArgument("no such entrypoint");
    spec.definition.container_entrypoint = {request.client_request["TrainingJobName"]};
    spec.stop_grace_period = std::chrono::seconds(5);
    return Status::Ok();
  };
  Scheduler scheduler(options, *metadata_, *objects_, {{"local", &executor}});
  ASSERT_TRUE(scheduler.CreateSweep(NamedRequest("completed")).ok());
  ASSERT_TRUE(scheduler.CreateSweep(NamedRequest("refused")).ok());
  scheduler.RunOnce();
  executor::JobSpec spec = executor.SpecOf("completed");
  EXPECT_EQ(spec.definition.container_entrypoint, std::vector<std::string>{"completed"});
  EXPECT_EQ(spec.stop_grace_period, std::chrono::seconds(5));
  EXPECT_EQ(executor.submitted(), 1u);
  auto refused = metadata_->GetJob("refused");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, core::JobStatus::kFailed);
  EXPECT_EQ(refused->failure_reason, "ClientError: no such entrypoint");
}

}  // namespace
}  // namespace trainyard::control

namespace trainyard::control {
namespace {

TEST_F(SchedulerTest, ARandomSearchQueuesMaxJobsSuggestionsFromItsKeptSeed) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  nlohmann::json body = {
      {"name", "rs"},
      {"trainer", {{"command", {"train"}}}},
      {"hyperparameters", {{"iterations", 50}}},
      {"strategy", "random"},
      {"ranges",
       {{"lr", {{"type", "continuous"}, {"min", 1e-4}, {"max", 1}, {"scaling", "logarithmic"}}},
        {"layers", {{"type", "integer"}, {"min", 1}, {"max", 4}}}}},
      {"max_jobs", 5}};
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto created = scheduler->CreateSweep(*request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->job_count, 5u);
  // The seed the server chose is kept with the sweep, and gives the same jobs again.
  ASSERT_TRUE(created->sweep.spec.contains("random_seed"));
  auto stored = ParseSweepRequest(created->sweep.spec, SweepRequestOrigin::kStored);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  auto again = InitialJobs(*stored, 4);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  std::vector<metadata::JobRecord> jobs = Jobs(created->sweep.id);
  ASSERT_EQ(jobs.size(), 5u);
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(jobs[i].hyperparameters, (*again)[i]);
    EXPECT_EQ(jobs[i].hyperparameters.at("iterations"), "50");
    const double lr = std::stod(jobs[i].hyperparameters.at("lr"));
    EXPECT_GE(lr, 1e-4);
    EXPECT_LE(lr, 1);
  }
  EXPECT_NE(jobs[0].hyperparameters, jobs[1].hyperparameters);
}

}  // namespace
}  // namespace trainyard::control

namespace trainyard::control {
namespace {

// A trainer's final objective as a function of its hyperparameters: the same value whenever
// the same job runs.
double Accuracy(const core::HyperparameterMap& hyperparameters) {
  const double lr = std::log10(std::stod(hyperparameters.at("lr")));
  return 1.0 - (lr + 2) * (lr + 2) / 10;
}

nlohmann::json SearchBody(const std::string& strategy, int max_jobs) {
  return {
      {"name", "tune"},
      {"trainer", {{"command", {"train"}}}},
      {"strategy", strategy},
      {"ranges",
       {{"lr", {{"type", "continuous"}, {"min", 1e-4}, {"max", 1}, {"scaling", "logarithmic"}}}}},
      {"max_jobs", max_jobs},
      {"max_parallel", 2},
      {"random_seed", 11},
      {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
}

class SearchSchedulerTest : public SchedulerTest {
 protected:
  // Jobs without a callback: their metrics come through the executor, which the test sets.
  std::unique_ptr<Scheduler> MakeScheduler(FakeExecutor& executor) {
    SchedulerOptions options;
    options.work_dir = temp_.path() / "work";
    options.max_running = 4;
    return std::make_unique<Scheduler>(
        options, *metadata_, *objects_,
        std::map<std::string, executor::Executor*>{{executor.name(), &executor}});
  }

  // Completes every running job of the sweep with its Accuracy, then runs two passes (the
  // first records the ends, the second suggests and starts). Returns how many it completed.
  size_t CompleteRunning(FakeExecutor& executor, Scheduler& scheduler, const std::string& sweep) {
    size_t completed = 0;
    for (const metadata::JobRecord& job : Jobs(sweep)) {
      if (job.queued || core::IsTerminal(job.status)) continue;
      executor.SetMetric(job.name, "eval_accuracy", Accuracy(job.hyperparameters));
      executor.Move(job.name, SecondaryStatus::kTraining);
      executor.Move(job.name, SecondaryStatus::kCompleted);
      ++completed;
    }
    scheduler.RunOnce();
    scheduler.RunOnce();
    return completed;
  }

  std::vector<core::HyperparameterMap> HyperparametersOf(const std::string& sweep) {
    std::vector<metadata::JobRecord> jobs = Jobs(sweep);
    std::sort(jobs.begin(), jobs.end(),
              [](const auto& a, const auto& b) { return a.index < b.index; });
    std::vector<core::HyperparameterMap> values;
    for (const auto& job : jobs) values.push_back(job.hyperparameters);
    return values;
  }
};

TEST_F(SearchSchedulerTest, ABayesianSearchGetsAJobWhenASlotFreesUpToMaxJobs) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  auto created = scheduler->CreateSweep(*ParseSweepRequest(SearchBody("bayesian", 14)));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string sweep = created->sweep.id;
  EXPECT_EQ(created->job_count, 2u);  // its max_parallel, not max_jobs
  scheduler->RunOnce();
  EXPECT_EQ(executor.submitted(), 2u);
  for (int round = 0; round < 20 && CompleteRunning(executor, *scheduler, sweep) > 0; ++round) {
    EXPECT_LE(Counts(sweep)["InProgress"], 2);
  }
  EXPECT_EQ(Counts(sweep), (std::map<std::string, int64_t>{{"Completed", 14}}));
  std::vector<metadata::JobRecord> jobs = Jobs(sweep);
  ASSERT_EQ(jobs.size(), 14u);
  // Every result reached the search (through the executor's metrics).
  for (const auto& job : jobs) EXPECT_TRUE(job.metrics.contains("eval_accuracy")) << job.name;
  EXPECT_EQ(jobs.back().name, "tune-" + sweep.substr(3, 6) + "-014");
  // No more once max_jobs ran: the search is over.
  scheduler->RunOnce();
  EXPECT_EQ(Jobs(sweep).size(), 14u);
}

// A search running one job at a time is never seen with every job ended before max_jobs: the
// next job is queued before the end of the one before is recorded (else `sweep wait` and the
// sweep.completed webhook would take that moment for the sweep's end).
TEST_F(SearchSchedulerTest, AOneAtATimeSearchNeverLooksFinishedBetweenItsJobs) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  nlohmann::json body = SearchBody("bayesian", 5);
  body["max_parallel"] = 1;
  auto created = scheduler->CreateSweep(*ParseSweepRequest(body));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string sweep = created->sweep.id;
  scheduler->RunOnce();
  for (int ended = 1; ended <= 5; ++ended) {
    scheduler->RunOnce();  // starts the job queued by the end before
    std::vector<metadata::JobRecord> running;
    for (const metadata::JobRecord& job : Jobs(sweep)) {
      if (!job.queued && !core::IsTerminal(job.status)) running.push_back(job);
    }
    ASSERT_EQ(running.size(), 1u) << "after " << ended - 1 << " ended";
    executor.SetMetric(running[0].name, "eval_accuracy", Accuracy(running[0].hyperparameters));
    executor.Move(running[0].name, SecondaryStatus::kTraining);
    executor.Move(running[0].name, SecondaryStatus::kCompleted);
    scheduler->RunOnce();  // records the end, the next job queued first
    std::map<std::string, int64_t> counts = Counts(sweep);
    EXPECT_EQ(counts["Completed"], ended);
    EXPECT_EQ(counts["Queued"] + counts["InProgress"], ended < 5 ? 1 : 0) << "after " << ended;
  }
}

TEST_F(SearchSchedulerTest, ARestartedSchedulerSuggestsWhatItWouldHaveSuggested) {
  std::vector<core::HyperparameterMap> uninterrupted;
  {
    FakeExecutor executor("local");
    auto scheduler = MakeScheduler(executor);
    auto created = scheduler->CreateSweep(*ParseSweepRequest(SearchBody("bayesian", 16)));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    scheduler->RunOnce();
    while (CompleteRunning(executor, *scheduler, created->sweep.id) > 0) {
    }
    uninterrupted = HyperparametersOf(created->sweep.id);
  }
  ASSERT_EQ(uninterrupted.size(), 16u);

  FakeExecutor executor("local", /*remembers_jobs=*/true);
  std::string sweep;
  {
    auto scheduler = MakeScheduler(executor);
    auto created = scheduler->CreateSweep(*ParseSweepRequest(SearchBody("bayesian", 16)));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    sweep = created->sweep.id;
    scheduler->RunOnce();
    for (int round = 0; round < 6; ++round) CompleteRunning(executor, *scheduler, sweep);
  }
  // A new scheduler on the same store, as after a restart: it finds the search and goes on.
  auto scheduler = MakeScheduler(executor);
  ASSERT_TRUE(scheduler->Start().ok());
  scheduler->Shutdown();
  scheduler->RunOnce();
  while (CompleteRunning(executor, *scheduler, sweep) > 0) {
  }
  EXPECT_EQ(HyperparametersOf(sweep), uninterrupted);
}

TEST_F(SearchSchedulerTest, HyperbandGivesTheResourceAndPromotesTheBestWithMore) {
  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  nlohmann::json body = SearchBody("hyperband", 30);
  body["hyperband"] = {{"resource", "epochs"}, {"min_resource", 1}, {"max_resource", 9}};
  auto created = scheduler->CreateSweep(*ParseSweepRequest(body));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string sweep = created->sweep.id;
  scheduler->RunOnce();
  while (CompleteRunning(executor, *scheduler, sweep) > 0) {
  }
  std::vector<core::HyperparameterMap> jobs = HyperparametersOf(sweep);
  ASSERT_EQ(jobs.size(), 30u);
  std::map<std::string, std::vector<int>> epochs_by_lr;
  for (const auto& job : jobs) epochs_by_lr[job.at("lr")].push_back(std::stoi(job.at("epochs")));
  int promoted = 0;
  for (const auto& [lr, epochs] : epochs_by_lr) {
    for (size_t i = 1; i < epochs.size(); ++i) {
      EXPECT_EQ(epochs[i], epochs[i - 1] * 3) << lr;  // each promotion: eta times the resource
      ++promoted;
    }
  }
  EXPECT_GT(promoted, 0);
  EXPECT_LT(epochs_by_lr.size(), jobs.size());
}

// An adapter's own job names (the SageMaker endpoint's tuning jobs) for the jobs created at
// once and for those a search suggests later alike.
TEST_F(SearchSchedulerTest, AnAdaptersJobNamesNameEveryJobOfASearch) {
  FakeExecutor executor("local");
  SchedulerOptions options;
  options.work_dir = temp_.path() / "work";
  options.job_name = [](const SweepRequest& request, const std::string& sweep_id, size_t index,
                        size_t count) {
    return request.name + "-" + std::to_string(index + 1) + "-of-" + std::to_string(count) + "-" +
           sweep_id.substr(3, 2);
  };
  Scheduler scheduler(options, *metadata_, *objects_,
                      std::map<std::string, executor::Executor*>{{executor.name(), &executor}});
  auto created = scheduler.CreateSweep(*ParseSweepRequest(SearchBody("bayesian", 4)));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string sweep = created->sweep.id;
  scheduler.RunOnce();
  for (int round = 0; round < 10 && CompleteRunning(executor, scheduler, sweep) > 0; ++round) {
  }
  std::set<std::string> names;
  for (const metadata::JobRecord& job : Jobs(sweep)) names.insert(job.name);
  const std::string id = sweep.substr(3, 2);
  EXPECT_EQ(names, (std::set<std::string>{"tune-1-of-4-" + id, "tune-2-of-4-" + id,
                                          "tune-3-of-4-" + id, "tune-4-of-4-" + id}));
}

// A search with prior trials (a warm start) learns from them from its first job, and max_jobs
// counts its own jobs only; the priors survive the stored request.
TEST_F(SearchSchedulerTest, PriorTrialsSeedABayesianSearchAndCountInNoLimit) {
  nlohmann::json body = SearchBody("bayesian", 3);
  body["max_parallel"] = 1;
  auto plain = ParseSweepRequest(body);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  SweepRequest warm = *plain;
  // Twelve finished trials (more than the ten random ones a bayesian search starts with)
  // whose best lr is near 0.01.
  for (int i = 0; i < 12; ++i) {
    const double lr = std::pow(10.0, -4 + 4.0 * i / 11);
    warm.prior_trials.push_back(
        {{{"lr", std::to_string(lr)}}, -std::fabs(std::log10(lr) + 2), true});
  }
  auto stored = ParseSweepRequest(ToJson(warm), SweepRequestOrigin::kStored);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->prior_trials.size(), 12u);
  EXPECT_EQ(stored->prior_trials[3].hyperparameters, warm.prior_trials[3].hyperparameters);
  EXPECT_EQ(stored->prior_trials[3].objective, warm.prior_trials[3].objective);
  EXPECT_FALSE(ParseSweepRequest(ToJson(warm)).ok());  // not from a client

  FakeExecutor executor("local");
  auto scheduler = MakeScheduler(executor);
  auto cold = scheduler->CreateSweep(*plain);
  auto seeded = scheduler->CreateSweep(*stored);
  ASSERT_TRUE(cold.ok() && seeded.ok());
  scheduler->RunOnce();
  for (int round = 0; round < 10 && CompleteRunning(executor, *scheduler, seeded->sweep.id) > 0;
       ++round) {
  }
  std::vector<core::HyperparameterMap> jobs = HyperparametersOf(seeded->sweep.id);
  ASSERT_EQ(jobs.size(), 3u);  // max_jobs of its own, the priors apart
  // The first suggestion already follows the priors: near 0.01, unlike a cold start's draw.
  const double first = std::stod(jobs[0].at("lr"));
  EXPECT_NE(HyperparametersOf(cold->sweep.id)[0].at("lr"), jobs[0].at("lr"));
  EXPECT_LT(std::fabs(std::log10(first) + 2), 1.0) << first;
}

}  // namespace
}  // namespace trainyard::control
