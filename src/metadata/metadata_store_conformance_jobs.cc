// The conformance suite, part 2: jobs, progress callbacks, the event log and concurrency.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>

#include "metadata/metadata_store_conformance.h"

namespace trainyard::metadata {
namespace {

using nlohmann::json;

ProgressUpdate LogOnly(std::vector<std::string> lines) {
  ProgressUpdate update;
  for (size_t i = 0; i < lines.size(); ++i) {
    update.log.push_back(LogLine{.stream = i % 2 ? "stderr" : "stdout",
                                 .line = lines[i],
                                 .timestamp = TestTime(static_cast<int64_t>(i))});
  }
  return update;
}

// The name CreateSweep gives the job at `index` of sweep `prefix`.
std::string JobName(const std::string& prefix, int index) {
  char name[32];
  std::snprintf(name, sizeof name, "%s-%03d", prefix.c_str(), index);
  return name;
}

TEST_P(MetadataStoreConformanceTest, GetJobOfAnUnknownNameIsNotFound) {
  Result<JobRecord> job = store_->GetJob("digits-001");
  EXPECT_EQ(job.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(job.status().message(), "job 'digits-001' not found"));
}

TEST_P(MetadataStoreConformanceTest, ListJobsFiltersBySweepAndState) {
  CreateSweep("a", 4);
  CreateSweep("b", 3);
  SetJobStatus("a-000", core::JobStatus::kInProgress);
  SetJobStatus("a-001", core::JobStatus::kCompleted);
  SetJobStatus("b-002", core::JobStatus::kInProgress);
  using Names = std::vector<std::string>;
  EXPECT_EQ(ListAllJobNames({.sweep_id = "sw-a"}), (Names{"a-000", "a-001", "a-002", "a-003"}));
  EXPECT_EQ(ListAllJobNames({.status = "Queued"}), (Names{"a-002", "a-003", "b-000", "b-001"}));
  EXPECT_EQ(ListAllJobNames({.status = "InProgress"}), (Names{"a-000", "b-002"}));
  EXPECT_EQ(ListAllJobNames({.status = "Completed"}), (Names{"a-001"}));
  EXPECT_EQ(ListAllJobNames({.sweep_id = "sw-b", .status = "Queued"}), (Names{"b-000", "b-001"}));
  EXPECT_EQ(ListAllJobNames({.sweep_id = "sw-b", .status = "InProgress"}), (Names{"b-002"}));
  EXPECT_TRUE(ListAllJobNames({.status = "Failed"}).empty());
  EXPECT_TRUE(ListAllJobNames({.sweep_id = "sw-nope"}).empty());
}

TEST_P(MetadataStoreConformanceTest, ListJobsPagesInQueueOrder) {
  CreateSweep("a", 4);
  CreateSweep("b", 3);
  JobFilter filter{.limit = 3};
  std::vector<std::string> names;
  std::vector<bool> truncated;
  for (int pages = 0; pages < 10; ++pages) {
    Result<JobPage> page = store_->ListJobs(filter);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    truncated.push_back(page->truncated);
    for (const JobRecord& job : page->jobs) names.push_back(job.name);
    if (!page->truncated) break;
    filter.after_queue_position = page->jobs.back().queue_position;
  }
  EXPECT_EQ(truncated, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(names, ListAllJobNames({}));
  EXPECT_EQ(names.size(), 7u);
  // Exactly a page's worth is not truncated.
  Result<JobPage> exact = store_->ListJobs({.sweep_id = "sw-b", .limit = 3});
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->jobs.size(), 3u);
  EXPECT_FALSE(exact->truncated);
}

TEST_P(MetadataStoreConformanceTest, ListJobsLimitZeroMeansOneHundred) {
  CreateSweep("big", 130);
  Result<JobPage> page = store_->ListJobs({.sweep_id = "sw-big", .limit = 0});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->jobs.size(), 100u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(ListAllJobNames({.sweep_id = "sw-big", .limit = 0}).size(), 130u);
}

TEST_P(MetadataStoreConformanceTest, UpdateJobStateWritesOnlyTheSchedulersFields) {
  CreateSweep("a", 1);
  ProgressUpdate update;
  update.progress = json{{"progress", 0.5}, {"step", 150}};
  update.metrics = {{.name = "loss", .value = 0.25, .step = 150, .timestamp = TestTime(1)}};
  ASSERT_TRUE(store_->RecordProgress("a-000", update).ok());
  JobRecord before = GetJob("a-000");
  int64_t last_event = *store_->LastEventId();

  JobRecord job = before;
  job.queued = false;
  job.executor_job_name = "a-000-r1";
  job.attempt = 1;
  job.status = core::JobStatus::kFailed;
  job.secondary_status = core::SecondaryStatus::kFailed;
  // Times to the millisecond, as they are kept; the last entry has no end, as the scheduler
  // writes a job ended without running.
  job.transitions = {{core::SecondaryStatus::kStarting, TestTime(10'001), TestTime(20'002),
                      "Waiting in the queue"},
                     {core::SecondaryStatus::kFailed, TestTime(20'002), std::nullopt, "exit 3"}};
  job.failure_reason = "AlgorithmError: exit code 3";
  job.exit_code = 3;
  job.token_sha256 = std::string(64, 'f');
  job.started_at = TestTime(10'001);
  job.ended_at = TestTime(20'002);
  job.stop_reason = "Early stopping (median rule): at step 40 ...";
  job.image = "127.0.0.1:5000/team/trainer:v1";
  job.image_digest = "127.0.0.1:5000/team/trainer@sha256:" + std::string(64, 'c');
  // Not the scheduler's: these must not be written.
  job.sweep_id = "sw-other";
  job.index = 99;
  job.executor = "sagemaker";
  job.hyperparameters = {{"lr", "9"}};
  job.progress = json{{"progress", 1.0}};
  job.metrics = {{"loss", 9.0}};
  std::vector<Event> events = {
      {.type = "job.status", .sweep_id = "sw-a", .job_name = "a-000", .data = {{"status", "x"}}},
      {.type = "job.status", .sweep_id = "sw-a", .job_name = "a-000", .time = TestTime(42)}};
  Result<std::vector<Event>> appended = store_->UpdateJobState(job, events);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();

  JobRecord after = GetJob("a-000");
  EXPECT_FALSE(after.queued);
  EXPECT_EQ(after.executor_job_name, "a-000-r1");
  EXPECT_EQ(after.attempt, 1);
  EXPECT_EQ(after.status, core::JobStatus::kFailed);
  EXPECT_EQ(after.secondary_status, core::SecondaryStatus::kFailed);
  EXPECT_EQ(after.transitions, job.transitions);
  EXPECT_EQ(after.failure_reason, job.failure_reason);
  EXPECT_EQ(after.exit_code, 3);
  EXPECT_EQ(after.token_sha256, job.token_sha256);
  EXPECT_EQ(after.started_at, TestTime(10'001));
  EXPECT_EQ(after.ended_at, TestTime(20'002));
  EXPECT_EQ(after.stop_reason, job.stop_reason);
  EXPECT_EQ(after.image, job.image);
  EXPECT_EQ(after.image_digest, job.image_digest);
  EXPECT_EQ(after.sweep_id, "sw-a");
  EXPECT_EQ(after.index, 0);
  EXPECT_EQ(after.executor, before.executor);
  EXPECT_EQ(after.hyperparameters, before.hyperparameters);
  EXPECT_EQ(after.progress, before.progress);
  EXPECT_EQ(after.metrics, before.metrics);
  EXPECT_EQ(after.queue_position, before.queue_position);
  EXPECT_EQ(after.created_at, before.created_at);
  EXPECT_GE(after.updated_at, before.updated_at);

  ASSERT_EQ(appended->size(), 2u);
  EXPECT_GT((*appended)[0].id, last_event);
  EXPECT_GT((*appended)[1].id, (*appended)[0].id);
  EXPECT_GT((*appended)[0].time, std::chrono::system_clock::now() - std::chrono::minutes(5));
  EXPECT_EQ((*appended)[1].time, TestTime(42));
  std::vector<Event> listed = AllEvents({.job_name = "a-000"});
  ASSERT_GE(listed.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Event& got = listed[listed.size() - 2 + i];
    EXPECT_EQ(got.id, (*appended)[i].id);
    EXPECT_EQ(got.type, "job.status");
    EXPECT_EQ(got.sweep_id, "sw-a");
    EXPECT_EQ(got.data, events[i].data);
    EXPECT_EQ(got.time, (*appended)[i].time);
  }

  // Optionals can be cleared again (a retried job starts over).
  job.exit_code.reset();
  job.started_at.reset();
  job.ended_at.reset();
  job.queued = true;
  ASSERT_TRUE(store_->UpdateJobState(job, {}).ok());
  after = GetJob("a-000");
  EXPECT_TRUE(after.queued);
  EXPECT_EQ(after.exit_code, std::nullopt);
  EXPECT_EQ(after.started_at, std::nullopt);
  EXPECT_EQ(after.ended_at, std::nullopt);
}

TEST_P(MetadataStoreConformanceTest, UpdateJobStateOfAnUnknownJobAppendsNothing) {
  JobRecord job;
  job.name = "ghost";
  Result<std::vector<Event>> result =
      store_->UpdateJobState(job, {{.type = "job.status", .job_name = "ghost"}});
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(result.status().message(), "job 'ghost' not found"));
  EXPECT_EQ(*store_->LastEventId(), 0);
}

TEST_P(MetadataStoreConformanceTest, ClaimJobTakesAQueuedJobOnce) {
  CreateSweep("a", 2);
  JobRecord job = GetJob("a-000");
  job.queued = false;
  job.token_sha256 = std::string(64, 'c');
  job.started_at = TestTime(5);
  job.owner = "replica-1";
  job.lease_expires_at = TestTime(30'000);
  Event started{.type = "job.status", .sweep_id = "sw-a", .job_name = "a-000"};
  Result<ClaimResult> claimed = store_->ClaimJob(job, {started});
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_TRUE(claimed->claimed());
  ASSERT_EQ(claimed->events.size(), 1u);
  EXPECT_EQ(claimed->events[0].id, *store_->LastEventId());
  JobRecord stored = GetJob("a-000");
  EXPECT_FALSE(stored.queued);
  EXPECT_EQ(stored.token_sha256, job.token_sha256);
  EXPECT_EQ(stored.started_at, TestTime(5));
  EXPECT_EQ(stored.owner, "replica-1");
  EXPECT_EQ(stored.lease_expires_at, TestTime(30'000));

  int64_t last_event = *store_->LastEventId();
  job.token_sha256 = std::string(64, 'd');
  job.owner = "replica-2";
  Result<ClaimResult> again = store_->ClaimJob(job, {started});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->outcome, ClaimResult::Outcome::kTaken);  // nothing written, no event
  EXPECT_TRUE(again->events.empty());
  EXPECT_EQ(GetJob("a-000").token_sha256, std::string(64, 'c'));
  EXPECT_EQ(GetJob("a-000").owner, "replica-1");
  EXPECT_EQ(*store_->LastEventId(), last_event);

  // UpdateJobState keeps the owner and the lease.
  stored.secondary_status = core::SecondaryStatus::kTraining;
  stored.owner = "someone-else";
  stored.lease_expires_at.reset();
  ASSERT_TRUE(store_->UpdateJobState(stored, {}).ok());
  EXPECT_EQ(GetJob("a-000").owner, "replica-1");
  EXPECT_EQ(GetJob("a-000").lease_expires_at, TestTime(30'000));

  job.name = "missing-000";
  EXPECT_EQ(store_->ClaimJob(job, {}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(GetJob("a-001").queued);
}

TEST_P(MetadataStoreConformanceTest, ClaimJobHoldsTheLimitsOfTheRunningJobs) {
  CreateSweep("a", 4);
  CreateSweep("b", 3);
  auto claim = [&](const std::string& name, const ClaimLimits& limits) {
    JobRecord job = GetJob(name);
    job.queued = false;
    job.owner = "replica-1";
    Result<ClaimResult> claimed = store_->ClaimJob(job, {}, limits);
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    return claimed.ok() ? claimed->outcome : ClaimResult::Outcome::kTaken;
  };
  using Outcome = ClaimResult::Outcome;
  EXPECT_EQ(claim("a-000", {.max_running = 3, .sweep_limit = 2}), Outcome::kClaimed);
  EXPECT_EQ(claim("a-001", {.max_running = 3, .sweep_limit = 2}), Outcome::kClaimed);
  EXPECT_EQ(claim("a-002", {.max_running = 3, .sweep_limit = 2}), Outcome::kAtSweepLimit);
  EXPECT_TRUE(GetJob("a-002").queued);  // nothing written
  EXPECT_EQ(claim("b-000", {.max_running = 3, .sweep_limit = 2}), Outcome::kClaimed);
  EXPECT_EQ(claim("b-001", {.max_running = 3}), Outcome::kAtMaxRunning);
  // Every job so far runs on "local" (MakeJobs): three of them.
  EXPECT_EQ(claim("b-001", {.executor_limit = 3}), Outcome::kAtExecutorLimit);
  // A job whose code ended, its end being recorded, does not count.
  EXPECT_EQ(claim("b-001", {.max_running = 3, .ending = {"a-000"}}), Outcome::kClaimed);
  // Nor does one recorded Uploading (its outputs stored by whichever server ran it).
  EXPECT_EQ(claim("b-002", {.max_running = 4}), Outcome::kAtMaxRunning);
  {
    JobRecord uploading = GetJob("b-000");
    uploading.secondary_status = core::SecondaryStatus::kUploading;
    ASSERT_TRUE(store_->UpdateJobState(uploading, {}).ok());
  }
  EXPECT_EQ(claim("b-002", {.max_running = 4}), Outcome::kClaimed);
  {
    JobRecord training = GetJob("b-000");
    training.secondary_status = core::SecondaryStatus::kTraining;
    ASSERT_TRUE(store_->UpdateJobState(training, {}).ok());
    SetJobStatus("b-002", core::JobStatus::kCompleted);
  }
  // Ended and Stopping jobs: the first does not count, the second does.
  SetJobStatus("a-000", core::JobStatus::kCompleted);
  SetJobStatus("a-001", core::JobStatus::kStopping);
  EXPECT_EQ(claim("a-002", {.sweep_limit = 2}), Outcome::kClaimed);
  EXPECT_EQ(claim("a-003", {.sweep_limit = 2}), Outcome::kAtSweepLimit);
  EXPECT_EQ(claim("a-003", {}), Outcome::kClaimed);
}

TEST_P(MetadataStoreConformanceTest, RenewLeasesMovesTheOwnersRunningLeases) {
  CreateSweep("a", 4);
  auto claim = [&](const std::string& name, const std::string& owner) {
    JobRecord job = GetJob(name);
    job.queued = false;
    job.owner = owner;
    job.lease_expires_at = TestTime(1'000);
    ASSERT_TRUE(store_->ClaimJob(job, {}).value().claimed());
  };
  claim("a-000", "one");
  claim("a-001", "one");
  claim("a-002", "two");
  claim("a-003", "one");
  SetJobStatus("a-003", core::JobStatus::kFailed);  // ended: not renewed
  Result<std::vector<std::string>> renewed = store_->RenewLeases("one", TestTime(9'000));
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(*renewed, (std::vector<std::string>{"a-000", "a-001"}));
  EXPECT_EQ(GetJob("a-000").lease_expires_at, TestTime(9'000));
  EXPECT_EQ(GetJob("a-002").lease_expires_at, TestTime(1'000));
  EXPECT_EQ(GetJob("a-003").lease_expires_at, TestTime(1'000));
  EXPECT_TRUE(store_->RenewLeases("nobody", TestTime(9'000))->empty());
}

TEST_P(MetadataStoreConformanceTest, TakeOverJobsTakesExpiredLeasesOfOthers) {
  CreateSweep("a", 5);
  auto claim = [&](const std::string& name, const std::string& owner, int64_t lease_ms) {
    JobRecord job = GetJob(name);
    job.queued = false;
    job.owner = owner;
    job.lease_expires_at = TestTime(lease_ms);
    ASSERT_TRUE(store_->ClaimJob(job, {}).value().claimed());
  };
  claim("a-000", "dead", 1'000);
  claim("a-001", "alive", 50'000);
  claim("a-002", "me", 1'000);  // its own: Renew's, not a take-over
  claim("a-003", "dead", 2'000);
  SetJobStatus("a-003", core::JobStatus::kCompleted);   // ended: left alone
  SetJobStatus("a-004", core::JobStatus::kInProgress);  // left the queue with no owner

  Result<std::vector<JobRecord>> taken =
      store_->TakeOverJobs("me", TestTime(10'000), TestTime(40'000), 0);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  std::vector<std::string> names;
  for (const JobRecord& job : *taken) {
    names.push_back(job.name);
    EXPECT_EQ(job.owner, "me");
    EXPECT_EQ(job.lease_expires_at, TestTime(40'000));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a-000", "a-004"}));
  EXPECT_EQ(GetJob("a-000").owner, "me");
  EXPECT_EQ(GetJob("a-000").lease_expires_at, TestTime(40'000));
  EXPECT_EQ(GetJob("a-001").owner, "alive");
  EXPECT_EQ(GetJob("a-003").owner, "dead");
  // The old owner's renewal no longer finds it.
  EXPECT_TRUE(store_->RenewLeases("dead", TestTime(60'000))->empty());
  // For a second caller, a-002's lease ("me" did not renew it) has expired too; the jobs just
  // taken over have a new lease. The limit bounds one call.
  taken = store_->TakeOverJobs("other", TestTime(10'000), TestTime(40'000), 0);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].name, "a-002");
  taken = store_->TakeOverJobs("other", TestTime(60'000), TestTime(90'000), 1);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].name, "a-000");
}

TEST_P(MetadataStoreConformanceTest, ConcurrentTakeOversTakeEachJobOnce) {
  constexpr int kJobs = 100;
  CreateSweep("q", kJobs);
  for (int i = 0; i < kJobs; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "q-%03d", i);
    JobRecord job = GetJob(name);
    job.queued = false;
    job.owner = "dead";
    job.lease_expires_at = TestTime(0);
    ASSERT_TRUE(store_->ClaimJob(job, {}).value().claimed());
  }
  std::vector<std::atomic<int>> takes(kJobs);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (true) {
        auto taken = store_->TakeOverJobs("taker-" + std::to_string(t), TestTime(1'000),
                                          TestTime(100'000), 7);
        if (!taken.ok()) {
          ++failures;
          return;
        }
        if (taken->empty()) return;
        for (const JobRecord& job : *taken) ++takes[std::stoi(job.name.substr(2))];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(takes[i].load(), 1) << i;
}

TEST_P(MetadataStoreConformanceTest, RecordLaunchHoldsOnlyForTheOwnerOfTheAttempt) {
  CreateSweep("a", 1);
  JobRecord job = GetJob("a-000");
  EXPECT_EQ(job.launched_attempt, std::nullopt);
  EXPECT_FALSE(store_->RecordLaunch("a-000", "replica-1", 0).value());  // still queued
  job.queued = false;
  job.owner = "replica-1";
  job.lease_expires_at = TestTime(1'000);
  ASSERT_TRUE(store_->ClaimJob(job, {}).value().claimed());
  EXPECT_FALSE(store_->RecordLaunch("a-000", "replica-2", 0).value());  // not its owner
  EXPECT_FALSE(store_->RecordLaunch("a-000", "replica-1", 1).value());  // not its attempt
  EXPECT_EQ(GetJob("a-000").launched_attempt, std::nullopt);
  EXPECT_TRUE(store_->RecordLaunch("a-000", "replica-1", 0).value());
  EXPECT_EQ(GetJob("a-000").launched_attempt, 0);

  // UpdateJobState leaves it; a takeover keeps it (the code may have run); once taken over, the
  // job's former owner launches nothing.
  JobRecord stored = GetJob("a-000");
  stored.launched_attempt.reset();
  ASSERT_TRUE(store_->UpdateJobState(stored, {}).ok());
  EXPECT_EQ(GetJob("a-000").launched_attempt, 0);
  auto taken = store_->TakeOverJobs("replica-2", TestTime(2'000), TestTime(9'000), 0);
  ASSERT_EQ(taken.value().size(), 1u);
  EXPECT_EQ((*taken)[0].launched_attempt, 0);
  EXPECT_FALSE(store_->RecordLaunch("a-000", "replica-1", 0).value());

  // Queued again and claimed as its next attempt: no launch yet.
  stored = GetJob("a-000");
  stored.queued = true;
  stored.attempt = 1;
  ASSERT_TRUE(store_->UpdateJobState(stored, {}).ok());
  stored.queued = false;
  stored.owner = "replica-2";
  ASSERT_TRUE(store_->ClaimJob(stored, {}).value().claimed());
  EXPECT_EQ(GetJob("a-000").launched_attempt, std::nullopt);
  EXPECT_TRUE(store_->RecordLaunch("a-000", "replica-2", 1).value());
  EXPECT_EQ(GetJob("a-000").launched_attempt, 1);

  EXPECT_EQ(store_->RecordLaunch("ghost", "replica-2", 0).status().code(), StatusCode::kNotFound);
}

// Each job's owner launches it while another server takes the expired jobs over: every job is
// either launched by its owner, and then taken over as launched, or taken over unlaunched, and
// then never launched by its former owner.
TEST_P(MetadataStoreConformanceTest, ALaunchAndATakeoverOfOneJobNeverBothMissTheOther) {
  constexpr int kJobs = 60;
  CreateSweep("q", kJobs);
  for (int i = 0; i < kJobs; ++i) {
    JobRecord job = GetJob(JobName("q", i));
    job.queued = false;
    job.owner = "first";
    job.lease_expires_at = TestTime(0);
    ASSERT_TRUE(store_->ClaimJob(job, {}).value().claimed());
  }
  // Round i: job i's launch and the takeover of the first job left, started at one instant.
  std::vector<int> launched(kJobs, -1);  // 1: launched by "first"; 0: refused
  std::map<std::string, JobRecord> taken;
  for (int i = 0; i < kJobs; ++i) {
    std::atomic<int> ready{0};
    std::thread launcher([&] {
      ++ready;
      while (ready.load() < 2) {
      }
      auto recorded = store_->RecordLaunch(JobName("q", i), "first", 0);
      launched[i] = recorded.ok() ? (*recorded ? 1 : 0) : -2;
    });
    ++ready;
    while (ready.load() < 2) {
    }
    auto some = store_->TakeOverJobs("second", TestTime(1'000), TestTime(100'000), 1);
    launcher.join();
    ASSERT_TRUE(some.ok()) << some.status().ToString();
    // A row being written at that instant is passed over (PostgreSQL's SKIP LOCKED): once more.
    if (some->empty()) some = store_->TakeOverJobs("second", TestTime(1'000), TestTime(100'000), 1);
    ASSERT_TRUE(some.ok()) << some.status().ToString();
    ASSERT_EQ(some->size(), 1u);
    taken[(*some)[0].name] = (*some)[0];
  }
  int launches = 0;
  for (int i = 0; i < kJobs; ++i) {
    const JobRecord& job = taken.at(JobName("q", i));
    ASSERT_NE(launched[i], -2) << i;
    // What the taker read is what happened: a launch it did not see never happens.
    EXPECT_EQ(job.launched_attempt.has_value(), launched[i] == 1) << job.name;
    launches += launched[i];
  }
  std::printf("of %d jobs, %d were launched before they were taken over\n", kJobs, launches);
}

TEST_P(MetadataStoreConformanceTest, ConcurrentClaimsTakeEachJobOnce) {
  constexpr int kJobs = 100;
  constexpr int kClaimers = 4;
  CreateSweep("q", kJobs);
  std::vector<JobRecord> jobs;
  for (int i = 0; i < kJobs; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "q-%03d", i);
    jobs.push_back(GetJob(name));
    jobs.back().queued = false;
  }
  std::vector<std::atomic<int>> claims(kJobs);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClaimers; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kJobs; ++i) {
        auto claimed = store_->ClaimJob(jobs[i], {});
        if (!claimed.ok()) {
          ++failures;
        } else if (claimed->claimed()) {
          ++claims[i];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(claims[i].load(), 1) << jobs[i].name;
  EXPECT_TRUE(ListAllJobNames({.status = "Queued"}).empty());
}

TEST_P(MetadataStoreConformanceTest, RecordProgressMergesAndAppendsTheRightEvents) {
  CreateSweep("a", 1);
  int64_t last_event = *store_->LastEventId();

  // Log lines alone: no event.
  Result<ProgressRecorded> events = store_->RecordProgress("a-000", LogOnly({"one", "two"}));
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_TRUE(events->events.empty());
  EXPECT_EQ(*store_->LastEventId(), last_event);

  // Progress alone: one job.progress event carrying the snapshot.
  ProgressUpdate progress;
  progress.progress = json{{"progress", 0.5}, {"step", 150}, {"message", "half"}};
  events = store_->RecordProgress("a-000", progress);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->events.size(), 1u);
  EXPECT_EQ(events->events[0].type, "job.progress");
  EXPECT_EQ(events->events[0].sweep_id, "sw-a");
  EXPECT_EQ(events->events[0].job_name, "a-000");
  EXPECT_EQ(events->events[0].data, *progress.progress);
  EXPECT_GT(events->events[0].id, last_event);
  EXPECT_EQ(GetJob("a-000").progress, *progress.progress);

  // Metrics alone: one job.metrics event; the latest value of each metric is the last given.
  ProgressUpdate metrics;
  metrics.metrics = {{.name = "loss", .value = 0.5, .step = 1, .timestamp = TestTime(100)},
                     {.name = "acc", .value = 0.75, .timestamp = TestTime(101)},
                     {.name = "loss", .value = 0.25, .step = 2, .timestamp = TestTime(102)}};
  events = store_->RecordProgress("a-000", metrics);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->events.size(), 1u);
  EXPECT_EQ(events->events[0].type, "job.metrics");
  EXPECT_EQ(events->events[0].job_name, "a-000");
  const json& points = events->events[0].data["metrics"];
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0]["name"], "loss");
  EXPECT_EQ(points[0]["value"], 0.5);
  EXPECT_EQ(points[0]["step"], 1);
  EXPECT_EQ(points[0]["timestamp"], FormatIso8601(TestTime(100)));
  EXPECT_EQ(points[1]["name"], "acc");
  EXPECT_EQ(points[2]["value"], 0.25);
  JobRecord job = GetJob("a-000");
  EXPECT_EQ(job.metrics, (std::map<std::string, double>{{"loss", 0.25}, {"acc", 0.75}}));
  EXPECT_EQ(job.progress, *progress.progress);  // untouched without a new snapshot

  // Both: progress then metrics; metrics merge with the earlier ones.
  ProgressUpdate both = LogOnly({"three"});
  both.progress = json{{"progress", 1.0}};
  both.metrics = {{.name = "loss", .value = 0.125, .timestamp = TestTime(200)}};
  events = store_->RecordProgress("a-000", both);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_EQ(events->events[0].type, "job.progress");
  EXPECT_EQ(events->events[1].type, "job.metrics");
  EXPECT_GT(events->events[1].id, events->events[0].id);
  job = GetJob("a-000");
  EXPECT_EQ(job.progress, *both.progress);
  EXPECT_EQ(job.metrics, (std::map<std::string, double>{{"loss", 0.125}, {"acc", 0.75}}));
  EXPECT_EQ(AllEvents({.job_name = "a-000"}).size(), 1u + 4u);  // created + the 4 above

  ASSERT_EQ(store_->ListLogLines("a-000", 0)->size(), 3u);
  EXPECT_EQ(store_->ListMetricPoints("a-000")->size(), 4u);
}

TEST_P(MetadataStoreConformanceTest, LogLinesKeepOrderAndPage) {
  CreateSweep("a", 2);
  ASSERT_TRUE(store_->RecordProgress("a-000", LogOnly({"l0", "l1", "l2"})).ok());
  ASSERT_TRUE(store_->RecordProgress("a-001", LogOnly({"other"})).ok());
  ASSERT_TRUE(store_->RecordProgress("a-000", LogOnly({"l3", "l4"})).ok());

  Result<std::vector<LogLine>> all = store_->ListLogLines("a-000", 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  for (size_t i = 1; i < all->size(); ++i) EXPECT_GT((*all)[i].id, (*all)[i - 1].id);
  EXPECT_EQ((*all)[0].line, "l0");
  EXPECT_EQ((*all)[0].stream, "stdout");
  EXPECT_EQ((*all)[1].stream, "stderr");
  EXPECT_EQ((*all)[1].timestamp, TestTime(1));
  EXPECT_EQ((*all)[3].line, "l3");

  Result<std::vector<LogLine>> page = store_->ListLogLines("a-000", (*all)[1].id, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].line, "l2");
  EXPECT_EQ((*page)[1].line, "l3");
  EXPECT_TRUE(store_->ListLogLines("a-000", all->back().id)->empty());
  EXPECT_EQ(store_->ListLogLines("a-000", 0, 0)->size(), 5u);  // 0: the default limit
  EXPECT_EQ((*store_->ListLogLines("a-001", 0))[0].line, "other");
}

TEST_P(MetadataStoreConformanceTest, OneLargeUpdateKeepsEveryLineAndPoint) {
  // More rows than one statement of a store may carry: every one kept, in order.
  CreateSweep("a", 1);
  std::vector<std::string> lines;
  for (int i = 0; i < 2500; ++i) lines.push_back("line " + std::to_string(i));
  ProgressUpdate update = LogOnly(lines);
  for (int i = 0; i < 1500; ++i) {
    update.metrics.push_back(
        {.name = "loss", .value = i * 0.5, .step = i, .timestamp = TestTime(i)});
  }
  ASSERT_TRUE(store_->RecordProgress("a-000", update).ok());
  Result<std::vector<LogLine>> stored = store_->ListLogLines("a-000", 0, 10'000);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2500u);
  for (size_t i = 0; i < stored->size(); ++i) {
    ASSERT_EQ((*stored)[i].line, lines[i]);
    if (i > 0) {
      ASSERT_GT((*stored)[i].id, (*stored)[i - 1].id);
    }
  }
  Result<std::vector<MetricPoint>> points = store_->ListMetricPoints("a-000");
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 1500u);
  EXPECT_EQ((*points)[1499].value, 749.5);
  EXPECT_EQ((*points)[1499].step, 1499);
}

TEST_P(MetadataStoreConformanceTest, MetricPointsKeepOrderAndFilterByName) {
  CreateSweep("a", 1);
  ProgressUpdate first;
  first.metrics = {{.name = "loss", .value = 1.5, .step = 10, .timestamp = TestTime(5)},
                   {.name = "acc", .value = 0.5, .timestamp = TestTime(6)}};
  ProgressUpdate second;
  second.metrics = {{.name = "loss", .value = -0.75, .step = 20, .timestamp = TestTime(7)}};
  ASSERT_TRUE(store_->RecordProgress("a-000", first).ok());
  ASSERT_TRUE(store_->RecordProgress("a-000", second).ok());

  Result<std::vector<MetricPoint>> all = store_->ListMetricPoints("a-000");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "loss");
  EXPECT_EQ((*all)[0].value, 1.5);
  EXPECT_EQ((*all)[0].step, 10);
  EXPECT_EQ((*all)[0].timestamp, TestTime(5));
  EXPECT_EQ((*all)[1].name, "acc");
  EXPECT_EQ((*all)[1].step, std::nullopt);
  EXPECT_EQ((*all)[2].value, -0.75);

  Result<std::vector<MetricPoint>> loss = store_->ListMetricPoints("a-000", "loss");
  ASSERT_TRUE(loss.ok());
  ASSERT_EQ(loss->size(), 2u);
  EXPECT_EQ((*loss)[1].step, 20);
  EXPECT_TRUE(store_->ListMetricPoints("a-000", "nope")->empty());
}

TEST_P(MetadataStoreConformanceTest, RepeatedProgressSequenceStoresNothing) {
  CreateSweep("a", 1);
  ProgressUpdate first = LogOnly({"one"});
  first.sequence = 5;
  first.metrics = {{.name = "loss", .value = 1, .timestamp = TestTime(1)}};
  Result<ProgressRecorded> recorded = store_->RecordProgress("a-000", first);
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_FALSE(recorded->repeated);
  for (uint64_t sequence : {5u, 4u}) {
    ProgressUpdate again = first;
    again.sequence = sequence;
    int64_t last_event = *store_->LastEventId();
    recorded = store_->RecordProgress("a-000", again);
    ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
    EXPECT_TRUE(recorded->repeated) << sequence;
    EXPECT_TRUE(recorded->events.empty());
    EXPECT_EQ(*store_->LastEventId(), last_event);
  }
  ProgressUpdate unnumbered = LogOnly({"two"});  // sequence 0: none given, always recorded
  ASSERT_TRUE(store_->RecordProgress("a-000", unnumbered).ok());
  ProgressUpdate next = LogOnly({"three"});
  next.sequence = 6;
  ASSERT_FALSE(store_->RecordProgress("a-000", next)->repeated);
  EXPECT_EQ(store_->ListLogLines("a-000", 0)->size(), 3u);
  EXPECT_EQ(store_->ListMetricPoints("a-000")->size(), 1u);

  // A new token is a new run of the job: its sequence starts again.
  JobRecord job = GetJob("a-000");
  job.token_sha256 = std::string(64, 'e');
  ASSERT_TRUE(store_->UpdateJobState(job, {}).ok());
  ProgressUpdate rerun = LogOnly({"rerun"});
  rerun.sequence = 1;
  ASSERT_FALSE(store_->RecordProgress("a-000", rerun)->repeated);
  EXPECT_EQ(store_->ListLogLines("a-000", 0)->size(), 4u);
  // The same token again (a state update of the same run) keeps it.
  ASSERT_TRUE(store_->UpdateJobState(job, {}).ok());
  EXPECT_TRUE(store_->RecordProgress("a-000", rerun)->repeated);
}

TEST_P(MetadataStoreConformanceTest, MetricNamesBeyondTheCapAreDropped) {
  CreateSweep("a", 1);
  ProgressUpdate update;
  update.max_metric_names = 3;
  for (int i = 0; i < 5; ++i) {
    update.metrics.push_back(
        {.name = "m" + std::to_string(i), .value = double(i), .timestamp = TestTime(i)});
  }
  update.metrics.push_back({.name = "m0", .value = 10, .timestamp = TestTime(9)});
  Result<ProgressRecorded> recorded = store_->RecordProgress("a-000", update);
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(recorded->dropped_metric_points, 2u);
  EXPECT_EQ(GetJob("a-000").metrics,
            (std::map<std::string, double>{{"m0", 10}, {"m1", 1}, {"m2", 2}}));
  EXPECT_EQ(store_->ListMetricPoints("a-000")->size(), 4u);
  ASSERT_EQ(recorded->events.size(), 1u);
  EXPECT_EQ(recorded->events[0].data["metrics"].size(), 4u);

  ProgressUpdate later;  // a known name is kept, a new one dropped
  later.max_metric_names = 3;
  later.metrics = {{.name = "m9", .value = 9, .timestamp = TestTime(20)},
                   {.name = "m1", .value = 11, .timestamp = TestTime(21)}};
  recorded = store_->RecordProgress("a-000", later);
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(recorded->dropped_metric_points, 1u);
  EXPECT_EQ(GetJob("a-000").metrics.size(), 3u);
  EXPECT_EQ(GetJob("a-000").metrics.at("m1"), 11);
}

TEST_P(MetadataStoreConformanceTest, JobMethodsOfAnUnknownJobAreNotFound) {
  EXPECT_EQ(store_->RecordProgress("ghost", LogOnly({"x"})).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListMetricPoints("ghost").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListLogLines("ghost", 0).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(
      Contains(store_->ListLogLines("ghost", 0).status().message(), "job 'ghost' not found"));
}

TEST_P(MetadataStoreConformanceTest, ListEventsFiltersFollowsAndLimits) {
  EXPECT_EQ(*store_->LastEventId(), 0);
  EXPECT_TRUE(AllEvents().empty());
  CreateSweep("a", 2);
  CreateSweep("b", 2);
  ASSERT_TRUE(store_->RecordProgress("a-001", {.progress = json{{"step", 1}}}).ok());
  std::vector<Event> all = AllEvents();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(*store_->LastEventId(), all.back().id);

  auto job_names = [](const std::vector<Event>& events) {
    std::vector<std::string> names;
    for (const Event& event : events) names.push_back(event.job_name + "/" + event.type);
    return names;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(job_names(AllEvents({.sweep_id = "sw-a"})),
            (Names{"a-000/job.created", "a-001/job.created", "a-001/job.progress"}));
  EXPECT_EQ(job_names(AllEvents({.job_name = "a-001"})),
            (Names{"a-001/job.created", "a-001/job.progress"}));
  EXPECT_EQ(job_names(AllEvents({.sweep_id = "sw-b", .job_name = "b-001"})),
            (Names{"b-001/job.created"}));
  EXPECT_TRUE(AllEvents({.sweep_id = "sw-b", .job_name = "a-001"}).empty());

  Result<std::vector<Event>> after = store_->ListEvents(all[1].id, {}, 2);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, all[2].id);
  EXPECT_EQ((*after)[1].id, all[3].id);
  EXPECT_EQ(job_names(*store_->ListEvents(all[0].id, {.sweep_id = "sw-a"}, 1)),
            (Names{"a-001/job.created"}));
  EXPECT_TRUE(store_->ListEvents(all.back().id, {}, 0)->empty());
  EXPECT_EQ(store_->ListEvents(0, {}, 0)->size(), 5u);  // 0: the default limit
}

TEST_P(MetadataStoreConformanceTest, NonFiniteMetricsAreKept) {
  CreateSweep("a", 1);
  ProgressUpdate update;
  update.metrics = {{.name = "loss", .value = std::nan(""), .timestamp = TestTime(1)}};
  ASSERT_TRUE(store_->RecordProgress("a-000", update).ok());
  EXPECT_TRUE(std::isnan(GetJob("a-000").metrics.at("loss")));
  EXPECT_TRUE(std::isnan((*store_->ListMetricPoints("a-000"))[0].value));
}

TEST_P(MetadataStoreConformanceTest, ConcurrentWritersLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 200;
  CreateSweep("c", kThreads);
  int64_t first_event = *store_->LastEventId();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string job = "c-00" + std::to_string(t);
      for (int i = 0; i < kCallsPerThread; ++i) {
        ProgressUpdate update = LogOnly({"line " + std::to_string(i)});
        update.metrics = {{.name = "step", .value = double(i), .timestamp = TestTime(i)}};
        if (!store_->RecordProgress(job, update).ok()) ++failures;
        // A reader in the mix, as the event stream is.
        if (i % 50 == 0 && !store_->ListEvents(first_event, {}, 10).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  std::vector<Event> events = AllEvents();
  EXPECT_EQ(events.size(), static_cast<size_t>(kThreads + kThreads * kCallsPerThread));
  for (size_t i = 1; i < events.size(); ++i) ASSERT_GT(events[i].id, events[i - 1].id);
  for (int t = 0; t < kThreads; ++t) {
    std::string job = "c-00" + std::to_string(t);
    Result<std::vector<LogLine>> lines = store_->ListLogLines(job, 0, 10'000);
    ASSERT_TRUE(lines.ok());
    ASSERT_EQ(lines->size(), static_cast<size_t>(kCallsPerThread)) << job;
    for (int i = 0; i < kCallsPerThread; ++i) {
      EXPECT_EQ((*lines)[i].line, "line " + std::to_string(i)) << job;
    }
    EXPECT_EQ(store_->ListMetricPoints(job)->size(), static_cast<size_t>(kCallsPerThread));
    EXPECT_EQ(GetJob(job).metrics.at("step"), kCallsPerThread - 1);
  }
}

}  // namespace
}  // namespace trainyard::metadata
