#include "executor/local/local_executor.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/environment.h"
#include "common/files.h"
#include "executor/detached_process.h"
#include "executor/executor_conformance.h"
#include "executor/job_root.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {
namespace fs = std::filesystem;
using core::JobStatus;
using core::SecondaryStatus;
using nlohmann::json;
using namespace std::chrono_literals;

LocalExecutorOptions Options(const fs::path& work_dir, bool detach) {
  return LocalExecutorOptions{.work_dir = work_dir,
                              .wrapper_path = testing::BuildDir() / "apps" / "trainyard-wrap",
                              .environment = ParseEnvironment(environ),
                              .detach_jobs = detach};
}

ExecutorPtr MakeLocal(const fs::path& work_dir) {
  return std::make_unique<LocalExecutor>(Options(work_dir, false));
}

ExecutorPtr MakeDetached(const fs::path& work_dir) {
  return std::make_unique<LocalExecutor>(Options(work_dir, true));
}

// A packing killed half-way (the server killed while a job's outputs were packed) leaves
// "model.tar.gz.tmp-XXXXXX": the next packing removes it, so that no such file is stored as an
// output (outputs/<job>/output/model.tar.gz.tmp-* in the object store).
TEST(PackArtifactsTest, RemovesWhatAKilledPackingLeft) {
  testing::TempDir dir;
  contract::MlRoot root(dir.path() / "ml");
  ASSERT_TRUE(MakeDirectories(root.model_dir()).ok());
  ASSERT_TRUE(WriteFileAtomic(root.model_dir() / "weights.bin", "w").ok());
  fs::path artifacts = dir.path() / "artifacts";
  ASSERT_TRUE(MakeDirectories(artifacts).ok());
  for (const char* stale : {"model.tar.gz.tmp-Ab12Cd", "training.log.tmp.4242.7"}) {
    ASSERT_TRUE(WriteFileAtomic(artifacts / stale, "half").ok());
  }
  ASSERT_TRUE(WriteFileAtomic(artifacts / "predictions.tmp.csv", "kept").ok());
  PackArtifacts(root, artifacts);
  EXPECT_TRUE(fs::exists(artifacts / "model.tar.gz"));
  EXPECT_FALSE(fs::exists(artifacts / "model.tar.gz.tmp-Ab12Cd"));
  EXPECT_FALSE(fs::exists(artifacts / "training.log.tmp.4242.7"));
  EXPECT_TRUE(fs::exists(artifacts / "predictions.tmp.csv"));  // a name a job may choose

  EXPECT_TRUE(IsArtifactTemporary("output.tar.gz.tmp-x1Y2z3"));
  EXPECT_TRUE(IsArtifactTemporary("job.json.tmp.1.2"));
  EXPECT_FALSE(IsArtifactTemporary("predictions.tmp.csv"));
  EXPECT_FALSE(IsArtifactTemporary("model.tar.gz"));
  EXPECT_FALSE(IsArtifactTemporary("notes.tmp-long-name.txt"));
}

// A local job runs a command under trainyard-wrap on this machine, never an image.
TEST(LocalExecutorTest, DeclaresThatItsJobsRunCommandsHere) {
  testing::TempDir temp;
  LocalExecutor attached(Options(temp.path() / "attached", false));
  EXPECT_EQ(attached.AcceptedTrainer(), TrainerKind::kCommand);
  EXPECT_FALSE(attached.RunsImageItself());
  EXPECT_FALSE(attached.RemembersJobsAcrossRestarts());  // its jobs end with it
  LocalExecutor detached(Options(temp.path() / "detached", true));
  EXPECT_TRUE(detached.RemembersJobsAcrossRestarts());
}

INSTANTIATE_TEST_SUITE_P(Local, ExecutorConformanceTest,
                         ::testing::Values(ExecutorFactory{"local", MakeLocal},
                                           ExecutorFactory{"detached", MakeDetached}),
                         [](const auto& info) { return info.param.name; });

std::vector<SecondaryStatus> Seen(const JobDescription& description) {
  std::vector<SecondaryStatus> seen;
  for (const auto& transition : description.status.transitions()) seen.push_back(transition.status);
  return seen;
}

// Detached jobs across executors: one is destroyed mid-job, the next adopts what it left.
class DetachedLocalExecutorTest : public ::testing::Test {
 protected:
  fs::path WorkDir() const { return dir_.path() / "work"; }

  std::unique_ptr<LocalExecutor> NewExecutor() {
    return std::make_unique<LocalExecutor>(Options(WorkDir(), true));
  }

  JobSpec ShellJob(const std::string& name, const std::string& script) {
    JobSpec spec;
    spec.definition.job_name = name;
    spec.command = {"sh", "-c", script};
    spec.artifact_dir = dir_.path() / "out" / name;
    spec.stop_grace_period = 1s;
    return spec;
  }

  // Submits the job and returns once it is Training and its wrapper's process is recorded (the
  // job shows Training just before its wrapper starts).
  void StartJob(LocalExecutor& executor, const JobSpec& spec) {
    ASSERT_TRUE(executor.Submit(spec).ok());
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto description = executor.Describe(spec.definition.job_name);
      ASSERT_TRUE(description.ok());
      if (description->status.secondary_status() == SecondaryStatus::kTraining &&
          RecordedPid(spec.definition.job_name) > 0) {
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << spec.definition.job_name << " did not start training";
  }

  // The wrapper's pid in the job's state file; -1 before it is recorded.
  pid_t RecordedPid(const std::string& name) {
    auto text = ReadFile(WorkDir() / name / "executor-state.json");
    json state = text.ok() ? json::parse(*text, nullptr, false) : json();
    return state.is_object() ? state.value("pid", -1) : -1;
  }

  json State(const std::string& name) {
    auto text = ReadFile(WorkDir() / name / "executor-state.json");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? json::parse(*text) : json();
  }

  ProcessIdentity Wrapper(const std::string& name) {
    json state = State(name);
    return {state.value("pid", -1), state.value("pid_start_time", uint64_t{0})};
  }

  JobDescription WaitForEnd(LocalExecutor& executor, const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (true) {
      auto description = executor.Describe(name);
      EXPECT_TRUE(description.ok()) << description.status().ToString();
      if (!description.ok())
        return {name, core::JobStatusTracker(std::chrono::system_clock::now())};
      if (core::IsTerminal(description->status.status()) ||
          std::chrono::steady_clock::now() > deadline) {
        return *description;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  testing::TempDir dir_;
};

// A job's checkpoints are kept by its checkpoint name, outside its root (docs/checkpoints.md):
// the first attempt stores what it wrote and fails; an executor started afresh (a server
// restart) leaves the store alone; the retry, another job with the same checkpoint name, has it
// restored before its command starts.
TEST_F(DetachedLocalExecutorTest, ARetryRestoresTheCheckpointOfTheAttemptBefore) {
  JobSpec first = ShellJob("ck", "echo 7 > \"$TRAINYARD_ML_ROOT/checkpoints/iteration\"; exit 1");
  first.checkpoint.name = "ck";
  {
    std::unique_ptr<LocalExecutor> executor = NewExecutor();
    ASSERT_TRUE(executor->Submit(first).ok());
    EXPECT_EQ(WaitForEnd(*executor, "ck").status.status(), JobStatus::kFailed);
  }
  const fs::path archive = CheckpointStoreRoot(WorkDir()) / "ck" / "checkpoints.tar.gz";
  EXPECT_TRUE(fs::exists(archive));
  std::unique_ptr<LocalExecutor> executor = NewExecutor();
  ASSERT_TRUE(executor->AdoptRunningJobs().ok());
  ASSERT_TRUE(fs::exists(archive)) << "a restart removed the checkpoint store";

  JobSpec retry =
      ShellJob("ck-r1", "echo resumed at $(cat \"$TRAINYARD_ML_ROOT/checkpoints/iteration\")");
  retry.checkpoint.name = "ck";
  ASSERT_TRUE(executor->Submit(retry).ok());
  EXPECT_EQ(WaitForEnd(*executor, "ck-r1").status.status(), JobStatus::kCompleted);
  auto log = ReadFile(retry.artifact_dir / "training.log");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_NE(log->find("checkpoint: restored 1 files from " + archive.parent_path().string()),
            std::string::npos)
      << *log;
  EXPECT_NE(log->find("resumed at 7"), std::string::npos) << *log;
}

TEST_F(DetachedLocalExecutorTest, AJobOutlivesItsExecutorAndCompletesUnderTheNext) {
  JobSpec spec = ShellJob("survivor",
                          "sleep 2; echo weights > \"$SM_MODEL_DIR/model.bin\"; "
                          "echo done");
  auto first = NewExecutor();
  StartJob(*first, spec);
  auto start = std::chrono::steady_clock::now();
  first.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);  // the destructor does not wait
  ProcessIdentity wrapper = Wrapper("survivor");
  ASSERT_GT(wrapper.pid, 0);
  EXPECT_TRUE(IsRunning(wrapper));

  auto second = NewExecutor();
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  auto adopted = second->Describe("survivor");
  ASSERT_TRUE(adopted.ok()) << adopted.status().ToString();
  EXPECT_EQ(Seen(*adopted),
            (std::vector<SecondaryStatus>{SecondaryStatus::kStarting, SecondaryStatus::kDownloading,
                                          SecondaryStatus::kTraining}));
  JobDescription description = WaitForEnd(*second, "survivor");
  EXPECT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  EXPECT_EQ(description.exit_code, 0);
  EXPECT_EQ(Seen(description),
            (std::vector<SecondaryStatus>{SecondaryStatus::kStarting, SecondaryStatus::kDownloading,
                                          SecondaryStatus::kTraining, SecondaryStatus::kUploading,
                                          SecondaryStatus::kCompleted}));
  for (const char* name : {"model.tar.gz", "output.tar.gz", "training.log", "job.json"}) {
    EXPECT_TRUE(fs::exists(spec.artifact_dir / name)) << name;
  }
  EXPECT_NE(ReadFile(spec.artifact_dir / "training.log")->find("done"), std::string::npos);
  EXPECT_FALSE(IsRunning(wrapper));
  second.reset();  // its job thread writes the final state last
  EXPECT_EQ(State("survivor")["status"]["status"], "Completed");

  // A third executor knows the job as it ended, and does not run it again.
  auto third = NewExecutor();
  ASSERT_TRUE(third->AdoptRunningJobs().ok());
  EXPECT_EQ(third->Describe("survivor")->status.status(), JobStatus::kCompleted);
  EXPECT_EQ(third->Submit(spec).code(), StatusCode::kAlreadyExists);
}

// Two executors following one job at once, as two servers do when one took over a job whose
// owner's lease expired while it still followed it: one of them ends the job (its exit read, its
// artifacts packed, its end recorded, its root removed), and the other takes that end as
// recorded instead of finding the root gone.
TEST_F(DetachedLocalExecutorTest, TwoExecutorsFollowingOneJobTakeTheSameEnd) {
  JobSpec spec = ShellJob("twice-followed", "sleep 1; echo weights > \"$SM_MODEL_DIR/model.bin\"");
  auto first = NewExecutor();
  StartJob(*first, spec);
  ASSERT_GT(Wrapper("twice-followed").pid, 0);
  auto second = NewExecutor();
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  ASSERT_TRUE(second->Describe("twice-followed").ok());
  JobDescription by_first = WaitForEnd(*first, "twice-followed");
  JobDescription by_second = WaitForEnd(*second, "twice-followed");
  for (const JobDescription* description : {&by_first, &by_second}) {
    EXPECT_EQ(description->status.status(), JobStatus::kCompleted)
        << description->status.ToJson().dump();
    EXPECT_EQ(description->exit_code, 0);
  }
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "model.tar.gz"));
  first.reset();
  second.reset();
  EXPECT_EQ(State("twice-followed")["status"]["status"], "Completed");
}

TEST_F(DetachedLocalExecutorTest, AJobThatEndedUnwatchedIsFinishedFromItsExitFile) {
  JobSpec spec = ShellJob("unwatched", "sleep 1; echo 'out of memory' >&2; exit 3");
  auto first = NewExecutor();
  StartJob(*first, spec);
  first.reset();
  ProcessIdentity wrapper = Wrapper("unwatched");
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (IsRunning(wrapper) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(IsRunning(wrapper));

  auto second = NewExecutor();
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  JobDescription description = WaitForEnd(*second, "unwatched");
  EXPECT_EQ(description.status.status(), JobStatus::kFailed);
  EXPECT_EQ(description.exit_code, 3);
  const std::string& reason = description.status.failure_reason();
  EXPECT_NE(reason.find("exit code: 3"), std::string::npos) << reason;
  EXPECT_NE(reason.find("out of memory"), std::string::npos) << reason;
  EXPECT_EQ(Seen(description).end()[-2], SecondaryStatus::kUploading);
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "training.log"));
}

TEST_F(DetachedLocalExecutorTest, StopWorksAfterAdoption) {
  JobSpec spec = ShellJob("adopted-stop", "echo kept > \"$SM_MODEL_DIR/partial\"; sleep 60");
  auto first = NewExecutor();
  StartJob(*first, spec);
  first.reset();
  ProcessIdentity wrapper = Wrapper("adopted-stop");

  auto second = NewExecutor();
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(second->Stop("adopted-stop").ok());
  JobDescription description = WaitForEnd(*second, "adopted-stop");
  EXPECT_EQ(description.status.secondary_status(), SecondaryStatus::kStopped);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_FALSE(IsRunning(wrapper));
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "model.tar.gz"));
}

TEST_F(DetachedLocalExecutorTest, MaxRuntimeCountsFromTheFirstStartAfterAdoption) {
  JobSpec spec = ShellJob("adopted-slow", "trap '' TERM; sleep 60");
  spec.definition.max_runtime_seconds = 2;
  auto first = NewExecutor();
  StartJob(*first, spec);
  first.reset();
  auto second = NewExecutor();
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  auto start = std::chrono::steady_clock::now();
  JobDescription description = WaitForEnd(*second, "adopted-slow");
  EXPECT_EQ(description.status.secondary_status(), SecondaryStatus::kMaxRuntimeExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 12s);
}

TEST(DetachedProcessTest, AReusedPidIsNotTheProcess) {
  auto start_time = ProcessStartTime(::getpid());
  ASSERT_TRUE(start_time.ok()) << start_time.status().ToString();
  EXPECT_TRUE(IsRunning({::getpid(), *start_time}));
  ProcessIdentity impostor{::getpid(), *start_time + 1};
  EXPECT_FALSE(IsRunning(impostor));
  EXPECT_FALSE(SignalProcessGroup(impostor, SIGKILL));  // and we are still here
  ProcessWaiter waiter(impostor);
  EXPECT_TRUE(waiter.WaitForExit(0ms));
  EXPECT_FALSE(ProcessStartTime(-1).ok());
}

TEST_F(DetachedLocalExecutorTest, AdoptionTreatsAReusedPidAsGoneAndForgetsUnstartedJobs) {
  // A state file naming a live pid (ours) with another start time: its wrapper is gone.
  auto start_time = ProcessStartTime(::getpid());
  ASSERT_TRUE(start_time.ok());
  for (const char* name : {"reused", "unstarted", "garbage", "unrecorded"}) {
    fs::create_directories(WorkDir() / name);
  }
  auto now = std::chrono::system_clock::now();
  core::JobStatusTracker training(now);
  ASSERT_TRUE(training.Transition(SecondaryStatus::kDownloading, now).ok());
  ASSERT_TRUE(training.Transition(SecondaryStatus::kTraining, now).ok());
  json state = {{"job_name", "reused"},
                {"artifact_dir", (dir_.path() / "out" / "reused").string()},
                {"stop_grace_period_ms", 1000},
                {"max_runtime_seconds", 3600},
                {"status", training.ToJson()},
                {"pid", ::getpid()},
                {"pid_start_time", *start_time + 1}};
  ASSERT_TRUE(WriteFileAtomic(WorkDir() / "reused" / "executor-state.json", state.dump()).ok());
  // Killed while copying its input: recorded, never launched.
  core::JobStatusTracker downloading(now);
  ASSERT_TRUE(downloading.Transition(SecondaryStatus::kDownloading, now).ok());
  state = {{"job_name", "unstarted"},
           {"artifact_dir", (dir_.path() / "out" / "unstarted").string()},
           {"stop_grace_period_ms", 1000},
           {"max_runtime_seconds", 3600},
           {"status", downloading.ToJson()}};
  ASSERT_TRUE(WriteFileAtomic(WorkDir() / "unstarted" / "executor-state.json", state.dump()).ok());
  ASSERT_TRUE(WriteFileAtomic(WorkDir() / "garbage" / "executor-state.json", "{").ok());
  // "unrecorded": killed before its first record; a half-written state file beside "unstarted".
  ASSERT_TRUE(WriteFileAtomic(WorkDir() / "unstarted" / "executor-state.json.tmp.1.1", "{").ok());

  auto executor = NewExecutor();
  ASSERT_TRUE(executor->AdoptRunningJobs().ok());
  JobDescription reused = WaitForEnd(*executor, "reused");
  EXPECT_EQ(reused.status.status(), JobStatus::kFailed);
  EXPECT_EQ(reused.exit_code, 137);  // no exit file: the wrapper was killed
  EXPECT_NE(reused.status.failure_reason().find("exit code: 137"), std::string::npos)
      << reused.status.failure_reason();
  // Nothing of "unstarted" and "unrecorded" ran: forgotten, so that they can be submitted again.
  EXPECT_EQ(executor->Describe("unstarted").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(executor->Describe("unrecorded").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(WorkDir() / "unstarted"));
  EXPECT_FALSE(fs::exists(WorkDir() / "unrecorded"));
  EXPECT_TRUE(executor->RemembersJobsAcrossRestarts());
  ASSERT_TRUE(executor->Submit(ShellJob("unstarted", "true")).ok());
  EXPECT_EQ(WaitForEnd(*executor, "unstarted").status.status(), JobStatus::kCompleted);
  // An unreadable state is left alone, not taken for a job that never ran.
  EXPECT_EQ(executor->Describe("garbage").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::exists(WorkDir() / "garbage" / "executor-state.json"));
  EXPECT_EQ(LocalExecutor(Options(WorkDir(), false)).AdoptRunningJobs().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(DetachedLocalExecutorTest, AWrapperLaunchedButNotYetRecordedIsAdoptedNotRunAgain) {
  fs::path runs = dir_.path() / "runs.txt";
  JobSpec spec = ShellJob("unrecorded-launch", "echo ran >> '" + runs.string() +
                                                   "'; sleep 1; echo weights > "
                                                   "\"$SM_MODEL_DIR/model.bin\"");
  auto first = NewExecutor();
  StartJob(*first, spec);
  first.reset();
  // As if the executor had died between launching the wrapper and recording its pid.
  json state = State("unrecorded-launch");
  ProcessIdentity wrapper{state.at("pid"), state.at("pid_start_time")};
  state.erase("pid");
  state.erase("pid_start_time");
  ASSERT_TRUE(
      WriteFileAtomic(WorkDir() / "unrecorded-launch" / "executor-state.json", state.dump()).ok());
  EXPECT_EQ(ReadFile(WorkDir() / "unrecorded-launch" / "launch-claim").value(),
            std::to_string(wrapper.pid));

  auto second = NewExecutor();
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  JobDescription description = WaitForEnd(*second, "unrecorded-launch");
  EXPECT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  EXPECT_EQ(description.exit_code, 0);
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "model.tar.gz"));
  EXPECT_EQ(ReadFile(runs).value(), "ran\n");  // once
}

TEST(DetachedProcessTest, ALaunchClaimLetsExactlyOneSideWin) {
  testing::TempDir dir;
  fs::path marker = dir.path() / "ran";
  std::vector<std::string> argv = {"/bin/sh", "-c", "echo ran >> '" + marker.string() + "'"};
  std::vector<std::string> environment = {"PATH=/usr/bin:/bin"};
  fs::path claim = dir.path() / "claim";
  auto launched = SpawnDetached(argv, environment, dir.path() / "console", claim);
  ASSERT_TRUE(launched.ok()) << launched.status().ToString();
  EXPECT_EQ(ReadFile(claim).value(), std::to_string(launched->pid));
  auto settled = FenceLaunch(claim);
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(*settled, std::optional<pid_t>(launched->pid));  // the launch won
  // A second launch with the same claim does not run.
  EXPECT_EQ(SpawnDetached(argv, environment, dir.path() / "console", claim).status().code(),
            StatusCode::kCancelled);

  // Fenced first: the launch never runs.
  fs::path fenced = dir.path() / "fenced";
  settled = FenceLaunch(fenced);
  ASSERT_TRUE(settled.ok());
  EXPECT_FALSE(settled->has_value());
  EXPECT_EQ(SpawnDetached(argv, environment, dir.path() / "console", fenced).status().code(),
            StatusCode::kCancelled);
  ProcessWaiter waiter(*launched);
  while (!waiter.WaitForExit(100ms)) {
  }
  EXPECT_EQ(ReadFile(marker).value(), "ran\n");
}

// The process is our child while we live: its waiter reaps it, so no zombie is left behind, and
// a refused launch leaves none either.
TEST(DetachedProcessTest, AnEndedProcessIsReapedByItsWaiter) {
  testing::TempDir dir;
  std::vector<std::string> environment = {"PATH=/usr/bin:/bin"};
  auto launched = SpawnDetached({"/bin/true"}, environment, dir.path() / "console");
  ASSERT_TRUE(launched.ok()) << launched.status().ToString();
  EXPECT_TRUE(launched->our_child);
  ProcessWaiter waiter(*launched);
  while (!waiter.WaitForExit(100ms)) {
  }
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(launched->pid)))
      << "process " << launched->pid << " was left a zombie";

  auto missing = SpawnDetached({(dir.path() / "no-such-program").string()}, environment,
                               dir.path() / "console");
  EXPECT_EQ(missing.status().code(), StatusCode::kInternal);
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos)
      << missing.status().ToString();
}

// The child starts as a fresh process would: in its own session and with nothing blocked,
// whatever the calling thread blocks. Each program reads its own /proc/self (a shell would show
// its own mask, which it changes around every fork).
TEST(DetachedProcessTest, TheChildHasItsOwnSessionAndNothingBlocked) {
  testing::TempDir dir;
  auto run = [&](std::vector<std::string> argv) {
    fs::path console = dir.path() / "console";
    auto launched = SpawnDetached(argv, {"PATH=/usr/bin:/bin"}, console);
    EXPECT_TRUE(launched.ok()) << launched.status().ToString();
    if (!launched.ok()) return std::make_pair(pid_t{-1}, std::string());
    ProcessWaiter waiter(*launched);
    while (!waiter.WaitForExit(100ms)) {
    }
    return std::make_pair(launched->pid, ReadFile(console).value());
  };
  sigset_t blocked, old_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR2);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &blocked, &old_mask), 0);
  auto [mask_pid, mask] = run({"/bin/grep", "^SigBlk", "/proc/self/status"});
  // Fields 1 and 6 of /proc/PID/stat: the pid and its session ("cut" has no space in its name).
  auto [stat_pid, stat] = run({"/usr/bin/cut", "-d ", "-f1,6", "/proc/self/stat"});
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  EXPECT_EQ(mask, "SigBlk:\t0000000000000000\n");
  EXPECT_EQ(stat, std::to_string(stat_pid) + " " + std::to_string(stat_pid) + "\n");
}

}  // namespace
}  // namespace trainyard::executor
