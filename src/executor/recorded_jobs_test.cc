// RecordedJobsExecutor's own logic, through the smallest executor on it: each job is a detached
// `sh -c` script (real processes, real files), whose exit code is what it writes to
// <job_dir>/exit. The local and container executors run the conformance suite over the same
// base; these tests pin what the base decides by itself: the record's fields, the adoption of
// what a restart finds, the launch failure, the stop and the max runtime.
#include "executor/recorded_jobs.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/files.h"
#include "executor/job_root.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {
namespace fs = std::filesystem;
using core::JobStatus;
using core::SecondaryStatus;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kMarker[] = "TRAINYARD_SHELL_LAUNCH";

class ShellExecutor : public RecordedJobsExecutor {
 public:
  explicit ShellExecutor(RecordedJobsOptions options) : RecordedJobsExecutor(std::move(options)) {}
  ~ShellExecutor() override { ShutDownJobs(); }

  using RecordedJobsExecutor::AdoptRecordedJobs;
  std::string name() const override { return "shell"; }
  TrainerKind AcceptedTrainer() const override { return TrainerKind::kCommand; }

  std::string launch_failure;  // what Settle reports, when set
  std::atomic<int> stop_signals{0};

 protected:
  Status Launch(Job& job) override {
    std::vector<std::string> argv = {"/bin/sh", "-c", job.spec.command.at(0)};
    std::vector<std::string> environment = {"PATH=/usr/bin:/bin",
                                            "JOB_DIR=" + job.job_dir().string(),
                                            std::string(kMarker) + "=" + job.root.root().string()};
    {
      std::lock_guard lock(mutex_);
      if (job.stop_requested) return Cancelled("stopped before it started");
      TY_ASSIGN_OR_RETURN(
          job.process,
          SpawnDetached(argv, environment, job.job_dir() / "console.log", job.launch_claim_file()));
      job.started_at = std::chrono::system_clock::now();
    }
    ReachStep(recorded_jobs_options().on_step, "executor.launched", job.name());
    Persist(job, Durability::kDurable);
    return Status::Ok();
  }

  Status Follow(Job& job) override {
    ProcessIdentity process;
    {
      std::lock_guard lock(mutex_);
      process = job.process;
    }
    ProcessWaiter waiter(process);
    while (!waiter.WaitForExit(50ms)) {
      if (shutting_down()) return Unavailable("shutting down");
      std::lock_guard lock(mutex_);
      MarkMaxRuntimeExceeded(job);
      if (job.stop_requested) SignalProcessGroup(process, SIGKILL);
    }
    return Status::Ok();
  }

  Outcome Settle(Job& job) override {
    if (!launch_failure.empty()) return Outcome{.exit_code = 125, .launch_failure = launch_failure};
    auto text = ReadFile(job.job_dir() / "exit");
    return Outcome{.exit_code = text.ok() ? std::stoi(*text) : 137};
  }

  void SignalStop(Job& /*job*/) override { ++stop_signals; }
};

class RecordedJobsTest : public ::testing::Test {
 protected:
  fs::path WorkDir() const { return dir_.path() / "work"; }

  RecordedJobsOptions Options(bool every_transition = false) {
    return RecordedJobsOptions{.work_dir = WorkDir(),
                               .record_jobs = true,
                               .detach_jobs = true,
                               .record_every_transition = every_transition,
                               .process_field = "shell_pid",
                               .launch_marker_variable = kMarker};
  }

  JobSpec ShellJob(const std::string& name, const std::string& script) {
    JobSpec spec;
    spec.definition.job_name = name;
    spec.command = {script};
    spec.artifact_dir = dir_.path() / "out" / name;
    return spec;
  }

  static bool Eventually(const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

  // Whether the job's launch is recorded (its process's pid).
  bool LaunchRecorded(const std::string& name) {
    auto text = ReadFile(WorkDir() / name / kExecutorStateFileName);
    return text.ok() && json::parse(*text, nullptr, false).value("shell_pid", -1) > 0;
  }

  json State(const std::string& name) {
    auto text = ReadFile(WorkDir() / name / kExecutorStateFileName);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? json::parse(*text) : json();
  }

  // The job's description once it has ended (its last one, with a failure, if it did not).
  JobDescription WaitForEnd(Executor& executor, const std::string& name) {
    JobDescription last{name, core::JobStatusTracker(std::chrono::system_clock::now())};
    bool ended = Eventually([&] {
      auto description = executor.Describe(name);
      if (description.ok()) last = *description;
      return description.ok() && core::IsTerminal(description->status.status());
    });
    EXPECT_TRUE(ended) << "job " << name << " did not end";
    return last;
  }

  static std::vector<SecondaryStatus> Seen(const JobDescription& description) {
    std::vector<SecondaryStatus> seen;
    for (const auto& transition : description.status.transitions()) {
      seen.push_back(transition.status);
    }
    return seen;
  }

  testing::TempDir dir_;
};

TEST_F(RecordedJobsTest, RunsAJobThroughEveryStepAndRecordsItsEnd) {
  ShellExecutor executor(Options());
  std::vector<std::string> changes;
  std::mutex changes_mutex;
  executor.SetStatusListener([&](const std::string& name) {
    std::lock_guard lock(changes_mutex);
    changes.push_back(name);
  });
  ASSERT_TRUE(executor.Submit(ShellJob("ok-1", "echo 0 > \"$JOB_DIR/exit\"")).ok());
  JobDescription ended = WaitForEnd(executor, "ok-1");
  EXPECT_EQ(ended.status.secondary_status(), SecondaryStatus::kCompleted);
  EXPECT_EQ(Seen(ended),
            (std::vector<SecondaryStatus>{SecondaryStatus::kStarting, SecondaryStatus::kDownloading,
                                          SecondaryStatus::kTraining, SecondaryStatus::kUploading,
                                          SecondaryStatus::kCompleted}));
  EXPECT_EQ(ended.exit_code, 0);
  EXPECT_TRUE(fs::exists(dir_.path() / "out" / "ok-1" / "model.tar.gz"));
  // The root goes once the end is recorded.
  EXPECT_TRUE(Eventually([&] { return !fs::exists(WorkDir() / "ok-1" / "ml"); }));

  // The end is recorded just after Describe shows it.
  ASSERT_TRUE(Eventually([&] { return State("ok-1").contains("exit_code"); }));
  json state = State("ok-1");
  EXPECT_EQ(state.at("exit_code"), 0);
  EXPECT_TRUE(state.contains("shell_pid")) << state.dump();  // the executor's own field name
  EXPECT_TRUE(state.contains("shell_pid_start_time")) << state.dump();
  EXPECT_FALSE(state.contains("pid"));
  std::lock_guard lock(changes_mutex);
  EXPECT_GE(changes.size(), 4u);  // Downloading, Training, Uploading, the end
  EXPECT_EQ(std::set<std::string>(changes.begin(), changes.end()), std::set<std::string>{"ok-1"});

  EXPECT_EQ(executor.Submit(ShellJob("ok-1", "true")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(executor.Describe("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(executor.Stop("nope").code(), StatusCode::kNotFound);
}

// Between the first record and the launch, only record_every_transition writes Training.
TEST_F(RecordedJobsTest, RecordsTheTransitionsBeforeTheLaunchOnlyWhenAsked) {
  for (bool every_transition : {false, true}) {
    SCOPED_TRACE(every_transition ? "every transition" : "first record only");
    std::string name = every_transition ? "every-1" : "first-1";
    std::string recorded_at_launch;
    RecordedJobsOptions options = Options(every_transition);
    options.on_step = [&](std::string_view step, std::string_view job) {
      if (step != "executor.launched" || job != name) return;
      auto text = ReadFile(WorkDir() / std::string(job) / kExecutorStateFileName);
      if (text.ok()) recorded_at_launch = json::parse(*text)["status"].dump();
    };
    ShellExecutor executor(options);
    ASSERT_TRUE(executor.Submit(ShellJob(name, "echo 0 > \"$JOB_DIR/exit\"")).ok());
    EXPECT_EQ(WaitForEnd(executor, name).status.secondary_status(), SecondaryStatus::kCompleted);
    ASSERT_FALSE(recorded_at_launch.empty());
    EXPECT_EQ(recorded_at_launch.find("Training") != std::string::npos, every_transition)
        << recorded_at_launch;
  }
}

TEST_F(RecordedJobsTest, ALaunchFailureFailsTheJobWithoutUploading) {
  ShellExecutor executor(Options());
  executor.launch_failure = "ClientError: the backend could not start it";
  ASSERT_TRUE(executor.Submit(ShellJob("broken-1", "true")).ok());
  JobDescription ended = WaitForEnd(executor, "broken-1");
  EXPECT_EQ(ended.status.status(), JobStatus::kFailed);
  EXPECT_EQ(ended.status.failure_reason(), "ClientError: the backend could not start it");
  EXPECT_EQ(ended.exit_code, 125);
  for (SecondaryStatus seen : Seen(ended)) EXPECT_NE(seen, SecondaryStatus::kUploading);
}

TEST_F(RecordedJobsTest, StopSignalsTheJobAndRecordsTheRequest) {
  ShellExecutor executor(Options());
  ASSERT_TRUE(executor.Submit(ShellJob("stop-1", "sleep 30")).ok());
  ASSERT_TRUE(Eventually([&] { return LaunchRecorded("stop-1"); }));
  ASSERT_TRUE(executor.Stop("stop-1").ok());
  EXPECT_TRUE(State("stop-1").value("stop_requested", false));
  ASSERT_TRUE(executor.Stop("stop-1").ok());  // a second stop is a no-op
  EXPECT_EQ(executor.stop_signals, 1);
  JobDescription ended = WaitForEnd(executor, "stop-1");
  EXPECT_EQ(ended.status.secondary_status(), SecondaryStatus::kStopped);
}

TEST_F(RecordedJobsTest, AJobPastItsMaxRuntimeEndsMaxRuntimeExceeded) {
  ShellExecutor executor(Options());
  JobSpec spec = ShellJob("slow-1", "sleep 30");
  spec.definition.max_runtime_seconds = 1;
  ASSERT_TRUE(executor.Submit(spec).ok());
  JobDescription ended = WaitForEnd(executor, "slow-1");
  EXPECT_EQ(ended.status.secondary_status(), SecondaryStatus::kMaxRuntimeExceeded);
}

// What a restart finds under the work dir, settled by the next executor.
TEST_F(RecordedJobsTest, AdoptionSettlesEachRecordAsItStood) {
  std::string first_record;  // a job's state as its first record (Downloading) writes it
  {
    RecordedJobsOptions options = Options();
    options.on_step = [&](std::string_view step, std::string_view job) {
      if (step != "executor.recorded" || job != "running-1") return;
      auto text = ReadFile(WorkDir() / std::string(job) / kExecutorStateFileName);
      if (text.ok()) first_record = *text;
    };
    ShellExecutor first(options);
    // "running": launched, still running when its executor goes.
    ASSERT_TRUE(first
                    .Submit(ShellJob("running-1",
                                     "while [ ! -e \"$JOB_DIR/go\" ]; do sleep 0.05; done; "
                                     "echo 0 > \"$JOB_DIR/exit\""))
                    .ok());
    ASSERT_TRUE(Eventually([&] { return LaunchRecorded("running-1"); }));
    // "ended": ran to its end.
    ASSERT_TRUE(first.Submit(ShellJob("ended-1", "echo 3 > \"$JOB_DIR/exit\"")).ok());
    EXPECT_EQ(WaitForEnd(first, "ended-1").status.status(), JobStatus::kFailed);
  }
  // "running" as if killed between its launch and the record of it: only its launch claim
  // (and the marker in its environment) tells that its command runs.
  json running = State("running-1");
  ASSERT_TRUE(running.contains("shell_pid"));
  running.erase("shell_pid");
  running.erase("shell_pid_start_time");
  running.erase("started_at_ms");
  ASSERT_TRUE(
      WriteFileAtomic(WorkDir() / "running-1" / kExecutorStateFileName, running.dump()).ok());
  // "ended" as if killed before its root was removed.
  ASSERT_TRUE(MakeDirectories(WorkDir() / "ended-1" / "ml" / "model").ok());
  // "unstarted": recorded, killed before its launch.
  ASSERT_FALSE(first_record.empty());
  json unstarted = json::parse(first_record);
  unstarted["job_name"] = "unstarted-1";
  ASSERT_TRUE(MakeDirectories(WorkDir() / "unstarted-1" / "ml").ok());
  ASSERT_TRUE(
      WriteFileAtomic(WorkDir() / "unstarted-1" / kExecutorStateFileName, unstarted.dump()).ok());
  // "garbled": a state that cannot be read is left alone.
  ASSERT_TRUE(MakeDirectories(WorkDir() / "garbled-1").ok());
  ASSERT_TRUE(WriteFileAtomic(WorkDir() / "garbled-1" / kExecutorStateFileName, "{not json").ok());

  ShellExecutor second(Options());
  auto kept = second.AdoptRecordedJobs();
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  // What the derived executor must keep of its backend: the adopted and the unreadable.
  EXPECT_EQ(*kept, (std::set<std::string>{"running-1", "garbled-1"}));

  EXPECT_EQ(second.Describe("ended-1")->status.status(), JobStatus::kFailed);
  EXPECT_EQ(second.Describe("ended-1")->exit_code, 3);
  EXPECT_FALSE(fs::exists(WorkDir() / "ended-1" / "ml"));
  EXPECT_EQ(second.Describe("unstarted-1").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(WorkDir() / "unstarted-1"));  // forgotten, to be submitted again
  EXPECT_EQ(second.Describe("garbled-1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::exists(WorkDir() / "garbled-1" / kExecutorStateFileName));
  EXPECT_FALSE(second.AdoptRecordedJobs()->count("unstarted-1"));

  // Adopted by its launch claim and followed again: not run a second time.
  ASSERT_TRUE(WriteFileAtomic(WorkDir() / "running-1" / "go", "").ok());
  JobDescription adopted = WaitForEnd(second, "running-1");
  EXPECT_EQ(adopted.status.secondary_status(), SecondaryStatus::kCompleted);
  EXPECT_EQ(adopted.exit_code, 0);
  // Its end's record names the process the claim identified.
  EXPECT_TRUE(Eventually([&] { return LaunchRecorded("running-1"); }));
}

TEST_F(RecordedJobsTest, AdoptionNeedsDetachedJobs) {
  RecordedJobsOptions options = Options();
  options.detach_jobs = false;
  ShellExecutor executor(options);
  EXPECT_FALSE(executor.RemembersJobsAcrossRestarts());
  EXPECT_EQ(executor.AdoptRecordedJobs().status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace trainyard::executor
