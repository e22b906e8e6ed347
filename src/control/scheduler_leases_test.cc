// Schedulers of two servers sharing one metadata store: claims, limits, leases and take-overs.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "common/log_capture.h"
#include "control/scheduler.h"
#include "control/scheduler_backend_testing.h"
#include "storage/local/local_object_store.h"
#include "support/test_paths.h"

namespace trainyard::control {
namespace {

namespace fs = std::filesystem;
using core::SecondaryStatus;
using shared_backend::Backend;
using shared_backend::BackendExecutor;
using shared_backend::Move;
using shared_backend::Now;
using std::chrono::milliseconds;

class SchedulerLeasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = metadata::OpenMetadataStore("sqlite:///" + (temp_.path() / "t.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    metadata_ = std::move(store).value();
    auto objects = storage::LocalObjectStore::Open({temp_.path() / "objects"});
    ASSERT_TRUE(objects.ok()) << objects.status().ToString();
    objects_ = std::move(objects).value();
  }

  // The scheduler of server `owner`, with a work dir of its own; its executor configured as
  // `executor_name` (default: the executor's own name).
  std::unique_ptr<Scheduler> MakeScheduler(const std::string& owner, executor::Executor& executor,
                                           int max_running,
                                           milliseconds lease = milliseconds(60'000),
                                           std::string executor_name = "") {
    SchedulerOptions options;
    options.work_dir = temp_.path() / ("work-" + owner);
    options.max_running = max_running;
    options.owner_id = owner;
    options.lease_duration = lease;
    return std::make_unique<Scheduler>(
        options, *metadata_, *objects_,
        std::map<std::string, executor::Executor*>{
            {executor_name.empty() ? executor.name() : executor_name, &executor}});
  }

  SweepRequest Request(int jobs, int max_parallel) {
    nlohmann::json values = nlohmann::json::array();
    for (int i = 0; i < jobs; ++i) values.push_back(i);
    nlohmann::json body = {{"name", "sw"},
                           {"executor", "shared"},
                           {"trainer", {{"command", {"train"}}}},
                           {"grid", {{"i", values}}},
                           {"max_parallel", max_parallel}};
    auto request = ParseSweepRequest(body);
    EXPECT_TRUE(request.ok()) << request.status().ToString();
    return *request;
  }

  std::vector<metadata::JobRecord> Jobs(const std::string& sweep) {
    metadata::JobFilter filter;
    filter.sweep_id = sweep;
    filter.limit = 1000;
    auto page = metadata_->ListJobs(filter);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->jobs : std::vector<metadata::JobRecord>{};
  }

  int Running(const std::string& sweep) {
    int running = 0;
    for (const metadata::JobRecord& job : Jobs(sweep)) {
      running += !job.queued && !core::IsTerminal(job.status) ? 1 : 0;
    }
    return running;
  }

  testing::TempDir temp_;
  metadata::MetadataStorePtr metadata_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
};

TEST_F(SchedulerLeasesTest, TwoServersRunEachJobOnceWithinTheLimitsOfBoth) {
  Backend backend;
  BackendExecutor executor_a(backend, true), executor_b(backend, true);
  // Each server counts the jobs of both against its limits: the first sweep's max_parallel of
  // 2, and max_running (1 on a, which so takes only the first job, and 3 on b).
  auto a = MakeScheduler("a", executor_a, 1);
  auto b = MakeScheduler("b", executor_b, 3);
  auto first = a->CreateSweep(Request(12, 2));
  auto second = b->CreateSweep(Request(12, 0));
  ASSERT_TRUE(first.ok() && second.ok());
  int max_seen_first = 0, max_seen_all = 0;
  for (int round = 0; round < 200; ++round) {
    a->RunOnce();
    b->RunOnce();
    const int running_first = Running(first->sweep.id);
    max_seen_first = std::max(max_seen_first, running_first);
    max_seen_all = std::max(max_seen_all, running_first + Running(second->sweep.id));
    // The oldest running job ends.
    bool any = false;
    for (const std::string& sweep : {first->sweep.id, second->sweep.id}) {
      for (const metadata::JobRecord& job : Jobs(sweep)) {
        if (job.queued || core::IsTerminal(job.status) || any) continue;
        Move(backend, job.executor_job_name, SecondaryStatus::kTraining);
        Move(backend, job.executor_job_name, SecondaryStatus::kCompleted);
        any = true;
      }
    }
    if (!any && round > 0) break;
  }
  EXPECT_EQ(max_seen_first, 2);
  EXPECT_EQ(max_seen_all, 3);
  EXPECT_EQ(backend.submitted.size(), 24u);
  for (const auto& [name, count] : backend.submitted) EXPECT_EQ(count, 1) << name;
  std::set<std::string> owners;
  for (const std::string& sweep : {first->sweep.id, second->sweep.id}) {
    for (const metadata::JobRecord& job : Jobs(sweep)) {
      EXPECT_EQ(job.status, core::JobStatus::kCompleted) << job.name;
      owners.insert(job.owner);
    }
  }
  EXPECT_EQ(owners, (std::set<std::string>{"a", "b"}));  // both took part
}

// Servers may be configured with different executors (one with --slurm, one without): a server
// leaves the jobs of an executor it lacks to one that has it (it used to claim them, then fail
// looking the executor up).
TEST_F(SchedulerLeasesTest, AServerLeavesJobsOfAnExecutorItLacksToOneThatHasIt) {
  Backend backend;
  BackendExecutor executor_a(backend, true), executor_b(backend, true);
  auto a = MakeScheduler("a", executor_a, 3, milliseconds(60'000), "another");
  auto b = MakeScheduler("b", executor_b, 3);
  auto created = b->CreateSweep(Request(2, 0));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  a->RunOnce();
  for (const metadata::JobRecord& job : Jobs(created->sweep.id)) {
    EXPECT_TRUE(job.queued) << job.name << " claimed by " << job.owner;
  }
  b->RunOnce();
  for (const metadata::JobRecord& job : Jobs(created->sweep.id)) {
    EXPECT_FALSE(job.queued) << job.name;
    EXPECT_EQ(job.owner, "b") << job.name;
  }
  EXPECT_EQ(backend.submitted.size(), 2u);
}

TEST_F(SchedulerLeasesTest, AnExpiredLeaseIsTakenOverOnAnExecutorEveryServerReaches) {
  Backend backend;
  BackendExecutor executor_a(backend, true), executor_b(backend, true);
  auto a = MakeScheduler("a", executor_a, 3, milliseconds(300));
  auto created = a->CreateSweep(Request(3, 0));
  ASSERT_TRUE(created.ok());
  a->RunOnce();
  std::vector<metadata::JobRecord> jobs = Jobs(created->sweep.id);
  ASSERT_EQ(jobs.size(), 3u);
  for (const metadata::JobRecord& job : jobs) EXPECT_EQ(job.owner, "a");
  Move(backend, jobs[0].name, SecondaryStatus::kDownloading);
  Move(backend, jobs[0].name, SecondaryStatus::kTraining);
  a->RunOnce();
  // The third never reached the backend (its launch was fenced off: Adopt finds nothing).
  {
    std::lock_guard lock(backend.mutex);
    backend.jobs.erase(jobs[2].name);
  }
  // Server a stops renewing. Server b, at its first pass after the lease expired, takes over.
  std::this_thread::sleep_for(milliseconds(400));
  auto b = MakeScheduler("b", executor_b, 3, milliseconds(300));
  b->RunOnce();
  EXPECT_EQ(metadata_->GetJob(jobs[0].name)->owner, "b");
  EXPECT_EQ(metadata_->GetJob(jobs[1].name)->owner, "b");
  EXPECT_EQ(metadata_->GetJob(jobs[0].name)->secondary_status, SecondaryStatus::kTraining);
  // The unlaunched one went back to the queue, same attempt, and b started it.
  auto third = metadata_->GetJob(jobs[2].name);
  EXPECT_EQ(third->attempt, 0);
  EXPECT_EQ(third->owner, "b");
  EXPECT_FALSE(third->queued);
  EXPECT_EQ(backend.submitted.at(jobs[2].name), 2);  // fenced, then run once
  EXPECT_EQ(backend.submitted.at(jobs[0].name), 1);

  Move(backend, jobs[0].name, SecondaryStatus::kCompleted);
  b->RunOnce();
  EXPECT_EQ(metadata_->GetJob(jobs[0].name)->status, core::JobStatus::kCompleted);
  std::ostringstream model;
  ASSERT_TRUE(objects_->Get(OutputPrefix(jobs[0].name) + "model.tar.gz", model).ok());
  EXPECT_EQ(model.str(), "model of " + jobs[0].name);

  // Server a comes back: its renewal finds the jobs gone, and it follows them no more.
  LogCapture log;
  a->RunOnce();
  EXPECT_NE(log.Text().find("no longer followed here"), std::string::npos) << log.Text();
  EXPECT_EQ(metadata_->GetJob(jobs[1].name)->owner, "b");
}

// A server stops after its job's code ended and its artifacts were packed, before it stored
// them: packed where every server reads them (SharedArtifactDir), they are stored by the server
// that takes the job over, which records it Completed and then removes them.
TEST_F(SchedulerLeasesTest, OutputsPackedByAStoppedServerAreStoredByTheOneThatTakesTheJobOver) {
  Backend backend;
  const fs::path shared = temp_.path() / "shared-artifacts";
  BackendExecutor executor_a(backend, true, shared), executor_b(backend, true, shared);
  auto a = MakeScheduler("a", executor_a, 1, milliseconds(300));
  auto created = a->CreateSweep(Request(1, 0));
  ASSERT_TRUE(created.ok());
  a->RunOnce();
  const std::string name = Jobs(created->sweep.id).at(0).name;
  EXPECT_EQ(backend.jobs.at(name).spec.artifact_dir, shared / name);
  Move(backend, name, SecondaryStatus::kDownloading);
  Move(backend, name, SecondaryStatus::kTraining);
  a->RunOnce();
  // Its code ends and its artifacts are packed; server a stops before its next pass.
  Move(backend, name, SecondaryStatus::kUploading);
  Move(backend, name, SecondaryStatus::kCompleted);
  ASSERT_TRUE(fs::exists(shared / name / "model.tar.gz"));
  std::this_thread::sleep_for(milliseconds(400));
  auto b = MakeScheduler("b", executor_b, 1, milliseconds(300));
  b->RunOnce();
  auto job = metadata_->GetJob(name);
  EXPECT_EQ(job->owner, "b");
  EXPECT_EQ(job->status, core::JobStatus::kCompleted) << job->failure_reason;
  std::ostringstream model;
  ASSERT_TRUE(objects_->Get(OutputPrefix(name) + "model.tar.gz", model).ok());
  EXPECT_EQ(model.str(), "model of " + name);
  EXPECT_FALSE(fs::exists(shared / name));
}

// A job on the local executor of a server that stopped: its code lived on that machine. Which
// jobs' code started, the store says (before_launch records it), whatever a's last status write
// was: the first job's code started while its status still read Starting (a was killed between
// the launch and its next write), so it ends Failed and never runs again; the second's had not,
// so b runs it as a new attempt, and a, late (paused, not dead), may no longer start it.
TEST_F(SchedulerLeasesTest, AJobOnAStoppedServersLocalExecutorFailsOrIsQueuedAgain) {
  Backend machine_a, machine_b;  // local executors: each server its own machine
  BackendExecutor executor_a(machine_a, false), executor_b(machine_b, false);
  auto a = MakeScheduler("a", executor_a, 2, milliseconds(300));
  auto created = a->CreateSweep(Request(2, 0));
  ASSERT_TRUE(created.ok());
  a->RunOnce();
  std::vector<metadata::JobRecord> jobs = Jobs(created->sweep.id);
  ASSERT_EQ(jobs.size(), 2u);
  ASSERT_TRUE(Launch(machine_a, jobs[0].name).ok());
  EXPECT_EQ(metadata_->GetJob(jobs[0].name)->secondary_status, SecondaryStatus::kStarting);
  Move(machine_a, jobs[1].name, SecondaryStatus::kDownloading);
  std::this_thread::sleep_for(milliseconds(400));
  auto b = MakeScheduler("b", executor_b, 2, milliseconds(300));
  b->RunOnce();
  auto lost = metadata_->GetJob(jobs[0].name);
  EXPECT_EQ(lost->status, core::JobStatus::kFailed);
  EXPECT_NE(lost->failure_reason.find("cannot be reached from another server"), std::string::npos)
      << lost->failure_reason;
  EXPECT_EQ(machine_b.submitted.count(jobs[0].name), 0u);
  EXPECT_EQ(machine_b.submitted.count(jobs[0].name + "-r1"), 0u);
  auto again = metadata_->GetJob(jobs[1].name);
  EXPECT_EQ(again->attempt, 1);  // a new attempt, under a new executor name, started by b
  EXPECT_EQ(again->owner, "b");
  EXPECT_EQ(machine_b.submitted.count(again->executor_job_name), 1u);
  Status late = Launch(machine_a, jobs[1].name);
  EXPECT_EQ(late.code(), StatusCode::kFailedPrecondition) << late.ToString();
  EXPECT_TRUE(Launch(machine_b, again->executor_job_name).ok());
  // a, running again, follows neither job any more and records no end of its own.
  Move(machine_a, jobs[1].name, SecondaryStatus::kFailed);
  a->RunOnce();
  EXPECT_EQ(metadata_->GetJob(jobs[1].name)->owner, "b");
  EXPECT_EQ(metadata_->GetJob(jobs[1].name)->status, core::JobStatus::kInProgress);
  EXPECT_EQ(machine_a.launched, (std::map<std::string, int>{{jobs[0].name, 1}}));
  EXPECT_EQ(machine_b.launched, (std::map<std::string, int>{{again->executor_job_name, 1}}));
}

TEST_F(SchedulerLeasesTest, AServerBackUnderAnotherIdFollowsTheJobsItsExecutorKnows) {
  Backend machine;  // one machine, one data dir: a restart under a new host name
  BackendExecutor executor(machine, false);
  auto before = MakeScheduler("host-1:/data", executor, 1, milliseconds(300));
  auto created = before->CreateSweep(Request(1, 0));
  ASSERT_TRUE(created.ok());
  before->RunOnce();
  const std::string name = Jobs(created->sweep.id)[0].name;
  Move(machine, name, SecondaryStatus::kTraining);
  before->RunOnce();
  before.reset();
  std::this_thread::sleep_for(milliseconds(400));
  auto after = MakeScheduler("host-2:/data", executor, 1, milliseconds(300));
  after->RunOnce();
  EXPECT_EQ(metadata_->GetJob(name)->owner, "host-2:/data");
  EXPECT_EQ(metadata_->GetJob(name)->status, core::JobStatus::kInProgress);
  Move(machine, name, SecondaryStatus::kCompleted);
  after->RunOnce();
  EXPECT_EQ(metadata_->GetJob(name)->status, core::JobStatus::kCompleted);
  EXPECT_EQ(machine.submitted.at(name), 1);
}

// A draining server (`trainyard server` on SIGUSR1) claims no queued job and takes over no
// expired lease, and follows its own jobs, local ones included, to their end; the other server
// takes the new work.
TEST_F(SchedulerLeasesTest, ADrainingServerTakesNoNewWorkAndFinishesItsOwnJobs) {
  Backend machine_a, machine_b;  // local executors: each server its own machine
  BackendExecutor executor_a(machine_a, false), executor_b(machine_b, false);
  // max_running counts the jobs of both: room for a's 2 and the 3 of the second sweep.
  auto a = MakeScheduler("a", executor_a, 5, milliseconds(300));
  auto b = MakeScheduler("b", executor_b, 5, milliseconds(300));
  auto first = a->CreateSweep(Request(2, 0));
  ASSERT_TRUE(first.ok());
  a->RunOnce();
  const std::vector<metadata::JobRecord> mine = Jobs(first->sweep.id);
  ASSERT_EQ(mine.size(), 2u);
  for (const metadata::JobRecord& job : mine) ASSERT_EQ(job.owner, "a") << job.name;

  LogCapture log;
  a->StopClaiming();
  EXPECT_FALSE(a->claiming());
  EXPECT_TRUE(b->claiming());
  EXPECT_NE(log.Text().find("owner=a draining"), std::string::npos) << log.Text();
  // A sweep created on the draining server is claimed by the other one only.
  auto second = a->CreateSweep(Request(3, 0));
  ASSERT_TRUE(second.ok());
  a->RunOnce();
  EXPECT_EQ(Running(second->sweep.id), 0);
  b->RunOnce();
  for (const metadata::JobRecord& job : Jobs(second->sweep.id)) {
    EXPECT_FALSE(job.queued) << job.name;
    EXPECT_EQ(job.owner, "b") << job.name;
  }
  // b stops renewing: a, draining, renews its own leases and takes none of b's jobs over.
  std::this_thread::sleep_for(milliseconds(400));
  a->RunOnce();
  for (const metadata::JobRecord& job : Jobs(second->sweep.id)) {
    EXPECT_EQ(job.owner, "b") << job.name;
    EXPECT_EQ(job.status, core::JobStatus::kInProgress) << job.name;
  }
  for (const metadata::JobRecord& job : Jobs(first->sweep.id)) {
    ASSERT_TRUE(job.lease_expires_at.has_value()) << job.name;
    EXPECT_GT(*job.lease_expires_at, Now()) << job.name;
  }
  EXPECT_EQ(log.Text().find("owner=a drained"), std::string::npos) << log.Text();

  // Its own jobs end here, their outputs stored; then it says it can be stopped.
  for (const metadata::JobRecord& job : mine) {
    Move(machine_a, job.name, SecondaryStatus::kTraining);
    Move(machine_a, job.name, SecondaryStatus::kCompleted);
  }
  a->RunOnce();
  for (const metadata::JobRecord& job : mine) {
    auto ended = metadata_->GetJob(job.name);
    ASSERT_TRUE(ended.ok());
    EXPECT_EQ(ended->status, core::JobStatus::kCompleted) << job.name;
    EXPECT_EQ(ended->owner, "a") << job.name;
    std::ostringstream model;
    EXPECT_TRUE(objects_->Get(OutputPrefix(job.name) + "model.tar.gz", model).ok()) << job.name;
  }
  a->RunOnce();
  EXPECT_NE(log.Text().find("owner=a drained"), std::string::npos) << log.Text();
  EXPECT_EQ(machine_a.submitted.size(), 2u);  // nothing new ran on a
  EXPECT_EQ(machine_b.submitted.size(), 3u);
}

TEST_F(SchedulerLeasesTest, AStopAskedOfAnotherServerReachesTheJobsOwner) {
  Backend backend;
  BackendExecutor executor_a(backend, true), executor_b(backend, true);
  auto a = MakeScheduler("a", executor_a, 1);
  auto b = MakeScheduler("b", executor_b, 1);
  auto created = a->CreateSweep(Request(1, 0));
  ASSERT_TRUE(created.ok());
  a->RunOnce();
  const std::string name = Jobs(created->sweep.id)[0].name;
  ASSERT_TRUE(b->StopJob(name).ok());
  EXPECT_EQ(metadata_->GetJob(name)->status, core::JobStatus::kStopping);
  EXPECT_TRUE(executor_a.stopped().empty());
  a->RunOnce();
  EXPECT_EQ(executor_a.stopped(), std::vector<std::string>{name});
  Move(backend, name, SecondaryStatus::kStopped);
  a->RunOnce();
  EXPECT_EQ(metadata_->GetJob(name)->status, core::JobStatus::kStopped);
}

}  // namespace
}  // namespace trainyard::control
