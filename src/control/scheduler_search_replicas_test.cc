// Schedulers of servers sharing one metadata store, driving a search that suggests from results:
// one driver per search (its lease in the store), each suggestion written once, the same
// suggestions as one server makes, and a search whose driver stopped taken over and completed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "common/log_capture.h"
#include "control/scheduler.h"
#include "control/scheduler_backend_testing.h"
#include "storage/local/local_object_store.h"
#include "support/test_paths.h"

namespace trainyard::control {
namespace {

using core::SecondaryStatus;
using shared_backend::Backend;
using shared_backend::BackendExecutor;
using shared_backend::Move;
using shared_backend::Now;
using std::chrono::milliseconds;

// The objective a job reports: best at lr = 0.01.
double Accuracy(const std::string& lr) {
  return 1.0 - std::abs(std::log10(std::stod(lr)) + 2.0) / 4.0;
}

class SearchReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto objects = storage::LocalObjectStore::Open({temp_.path() / "objects"});
    ASSERT_TRUE(objects.ok()) << objects.status().ToString();
    objects_ = std::move(objects).value();
  }

  metadata::MetadataStore& Store(const std::string& name) {
    auto& store = stores_[name];
    if (!store) {
      auto opened =
          metadata::OpenMetadataStore("sqlite:///" + (temp_.path() / (name + ".db")).string());
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      store = std::move(opened).value();
    }
    return *store;
  }

  std::unique_ptr<Scheduler> MakeScheduler(metadata::MetadataStore& store, const std::string& owner,
                                           executor::Executor& executor, int max_running,
                                           milliseconds lease = milliseconds(60'000)) {
    SchedulerOptions options;
    options.work_dir = temp_.path() / ("work-" + owner);
    options.max_running = max_running;
    options.owner_id = owner;
    options.lease_duration = lease;
    return std::make_unique<Scheduler>(
        options, store, *objects_,
        std::map<std::string, executor::Executor*>{{executor.name(), &executor}});
  }

  static SweepRequest Bayesian(int max_jobs, int max_parallel) {
    return Search("bayesian", max_jobs, max_parallel);
  }

  static SweepRequest Search(const std::string& strategy, int max_jobs, int max_parallel) {
    nlohmann::json body = {
        {"name", "tune"},
        {"executor", "shared"},
        {"trainer", {{"command", {"train"}}}},
        {"strategy", strategy},
        {"ranges",
         {{"lr", {{"type", "continuous"}, {"min", 1e-4}, {"max", 1}, {"scaling", "logarithmic"}}}}},
        {"max_jobs", max_jobs},
        {"max_parallel", max_parallel},
        {"random_seed", 11},
        {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
    if (strategy == "hyperband") {
      body["hyperband"] = {{"resource", "epochs"}, {"min_resource", 1}, {"max_resource", 9}};
    }
    auto request = ParseSweepRequest(body);
    EXPECT_TRUE(request.ok()) << request.status().ToString();
    return *request;
  }

  static std::vector<metadata::JobRecord> Jobs(metadata::MetadataStore& store,
                                               const std::string& sweep) {
    metadata::JobFilter filter;
    filter.sweep_id = sweep;
    filter.limit = 1000;
    auto page = store.ListJobs(filter);
    EXPECT_TRUE(page.ok());
    std::vector<metadata::JobRecord> jobs;
    if (page.ok()) jobs = page->jobs;
    std::sort(jobs.begin(), jobs.end(),
              [](const auto& a, const auto& b) { return a.index < b.index; });
    return jobs;
  }

  // Completes every running job of the sweep on `backend` with its accuracy; how many.
  static int CompleteRunning(metadata::MetadataStore& store, Backend& backend,
                             const std::string& sweep) {
    int completed = 0;
    for (const metadata::JobRecord& job : Jobs(store, sweep)) {
      if (job.queued || core::IsTerminal(job.status)) continue;
      {
        std::lock_guard lock(backend.mutex);
        auto found = backend.jobs.find(job.executor_job_name);
        if (found == backend.jobs.end()) continue;
        found->second.metrics["eval_accuracy"] = Accuracy(job.hyperparameters.at("lr"));
      }
      Move(backend, job.executor_job_name, SecondaryStatus::kTraining);
      Move(backend, job.executor_job_name, SecondaryStatus::kCompleted);
      ++completed;
    }
    return completed;
  }

  // Runs the schedulers' passes, each round in an order of its own, completing the running jobs
  // between rounds, until the sweep has no job left to run; the sweep's jobs by index.
  std::vector<metadata::JobRecord> RunToEnd(metadata::MetadataStore& store, Backend& backend,
                                            const std::string& sweep,
                                            const std::vector<Scheduler*>& schedulers) {
    std::mt19937 order(7);  // the same turns every run
    std::vector<Scheduler*> turns = schedulers;
    for (int round = 0; round < 200; ++round) {
      std::shuffle(turns.begin(), turns.end(), order);
      for (Scheduler* scheduler : turns) scheduler->RunOnce();
      if (CompleteRunning(store, backend, sweep) > 0) continue;
      bool active = false;
      for (const metadata::JobRecord& job : Jobs(store, sweep)) {
        active = active || !core::IsTerminal(job.status);
      }
      if (!active) break;
    }
    return Jobs(store, sweep);
  }

  testing::TempDir temp_;
  std::map<std::string, metadata::MetadataStorePtr> stores_;
  std::unique_ptr<storage::LocalObjectStore> objects_;
};

TEST_F(SearchReplicasTest, TwoServersMakeTheSuggestionsOfOneServerEachOnce) {
  // One job at a time, so that each suggestion follows every earlier result, on one server as
  // on two: the first 10 are TPE's random start, the last 2 its model of the results, whichever
  // server ran the jobs that reported them.
  constexpr int kJobs = 12;
  Backend solo_backend;
  BackendExecutor solo_executor(solo_backend, true);
  auto solo = MakeScheduler(Store("solo"), "solo", solo_executor, 4);
  auto solo_sweep = solo->CreateSweep(Bayesian(kJobs, 1));
  ASSERT_TRUE(solo_sweep.ok()) << solo_sweep.status().ToString();
  std::vector<metadata::JobRecord> expected =
      RunToEnd(Store("solo"), solo_backend, solo_sweep->sweep.id, {solo.get()});
  ASSERT_EQ(expected.size(), static_cast<size_t>(kJobs));

  Backend backend;
  BackendExecutor executor_a(backend, true), executor_b(backend, true);
  metadata::MetadataStore& shared = Store("shared");
  auto a = MakeScheduler(shared, "a", executor_a, 4);
  auto b = MakeScheduler(shared, "b", executor_b, 4);
  auto created = a->CreateSweep(Bayesian(kJobs, 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string sweep = created->sweep.id;
  // a created the search, so a drives it.
  EXPECT_EQ(shared.RenewSearchLeases("a", Now() + std::chrono::minutes(1)).value(),
            (std::vector<std::string>{sweep}));
  std::vector<metadata::JobRecord> jobs = RunToEnd(shared, backend, sweep, {a.get(), b.get()});

  ASSERT_EQ(jobs.size(), static_cast<size_t>(kJobs));
  std::set<std::string> owners, values;
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(jobs[i].index, i);
    EXPECT_EQ(jobs[i].status, core::JobStatus::kCompleted) << jobs[i].name;
    EXPECT_EQ(jobs[i].hyperparameters, expected[i].hyperparameters) << "trial " << i;
    owners.insert(jobs[i].owner);
    values.insert(jobs[i].hyperparameters.at("lr"));
  }
  EXPECT_EQ(values.size(), static_cast<size_t>(kJobs));  // no parameter set twice
  EXPECT_EQ(owners, (std::set<std::string>{"a", "b"}));  // both ran trials
  for (const auto& [name, count] : backend.submitted) EXPECT_EQ(count, 1) << name;
  // Ended by its driver: no server takes it any more.
  EXPECT_TRUE(shared.RenewSearchLeases("a", Now() + std::chrono::minutes(1))->empty());
  EXPECT_TRUE(
      shared.TakeOverSearches("c", Now() + std::chrono::hours(1), Now() + std::chrono::hours(2), 0)
          ->empty());
}

TEST_F(SearchReplicasTest, TwoServersMakeOneServersHyperbandPromotionsEachOnce) {
  constexpr int kJobs = 15;
  Backend solo_backend;
  BackendExecutor solo_executor(solo_backend, true);
  auto solo = MakeScheduler(Store("solo"), "solo", solo_executor, 4);
  auto solo_sweep = solo->CreateSweep(Search("hyperband", kJobs, 1));
  ASSERT_TRUE(solo_sweep.ok()) << solo_sweep.status().ToString();
  std::vector<metadata::JobRecord> expected =
      RunToEnd(Store("solo"), solo_backend, solo_sweep->sweep.id, {solo.get()});
  ASSERT_EQ(expected.size(), static_cast<size_t>(kJobs));

  Backend backend;
  BackendExecutor executor_a(backend, true), executor_b(backend, true);
  metadata::MetadataStore& shared = Store("shared");
  auto a = MakeScheduler(shared, "a", executor_a, 4);
  auto b = MakeScheduler(shared, "b", executor_b, 4);
  auto created = b->CreateSweep(Search("hyperband", kJobs, 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::vector<metadata::JobRecord> jobs =
      RunToEnd(shared, backend, created->sweep.id, {a.get(), b.get()});
  ASSERT_EQ(jobs.size(), static_cast<size_t>(kJobs));
  std::set<std::string> owners;
  std::set<std::pair<std::string, std::string>> runs;  // (lr, epochs)
  int promotions = 0;
  std::set<std::string> seen_lr;
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(jobs[i].index, i);
    EXPECT_EQ(jobs[i].hyperparameters, expected[i].hyperparameters) << "trial " << i;
    owners.insert(jobs[i].owner);
    const std::string& lr = jobs[i].hyperparameters.at("lr");
    EXPECT_TRUE(runs.insert({lr, jobs[i].hyperparameters.at("epochs")}).second)
        << "a configuration ran twice with the same resource (a promotion made twice): trial " << i;
    promotions += seen_lr.insert(lr).second ? 0 : 1;
  }
  EXPECT_GT(promotions, 0);
  EXPECT_EQ(owners, (std::set<std::string>{"a", "b"}));
}

TEST_F(SearchReplicasTest, ASearchWhoseDriverStoppedIsTakenOverAndCompletes) {
  LogCapture log;
  // Local executors: the jobs of a stopped server end Failed when taken over, and so suggest
  // nothing by their end. Only the search's new driver can go on with it.
  Backend backend_a, backend_b;
  BackendExecutor executor_a(backend_a, false), executor_b(backend_b, false);
  metadata::MetadataStore& shared = Store("shared");
  auto a = MakeScheduler(shared, "a", executor_a, 2, milliseconds(300));
  auto b = MakeScheduler(shared, "b", executor_b, 2, milliseconds(300));
  auto created = a->CreateSweep(Bayesian(8, 2));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string sweep = created->sweep.id;
  a->RunOnce();  // claims both jobs
  for (const metadata::JobRecord& job : Jobs(shared, sweep)) {
    ASSERT_FALSE(job.queued) << job.name;
    Move(backend_a, job.executor_job_name, SecondaryStatus::kTraining);
  }
  a->RunOnce();  // their code runs
  a.reset();     // a stops: it renews no lease any more

  const auto deadline = Now() + std::chrono::seconds(20);
  std::vector<metadata::JobRecord> jobs;
  while (Now() < deadline) {
    b->RunOnce();
    CompleteRunning(shared, backend_b, sweep);
    jobs = Jobs(shared, sweep);
    bool active = jobs.size() < 8;
    for (const metadata::JobRecord& job : jobs) active = active || !core::IsTerminal(job.status);
    if (!active) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(jobs.size(), 8u) << log.Text();
  std::map<core::JobStatus, int> statuses;
  std::set<std::string> values;
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(jobs[i].index, i);
    statuses[jobs[i].status] += 1;
    values.insert(jobs[i].hyperparameters.at("lr"));
  }
  EXPECT_EQ(values.size(), 8u);
  // a's two ended Failed (their code ran on a's machine); b ran the other six.
  EXPECT_EQ(statuses[core::JobStatus::kFailed], 2);
  EXPECT_EQ(statuses[core::JobStatus::kCompleted], 6);
  for (const auto& [name, count] : backend_b.submitted) EXPECT_EQ(count, 1) << name;
  EXPECT_EQ(backend_b.submitted.size(), 6u);
  EXPECT_NE(log.Text().find("sweep=" + sweep + " search taken over by owner=b"), std::string::npos)
      << log.Text();
  EXPECT_TRUE(shared.RenewSearchLeases("b", Now() + std::chrono::minutes(1))->empty());
}

}  // namespace
}  // namespace trainyard::control
