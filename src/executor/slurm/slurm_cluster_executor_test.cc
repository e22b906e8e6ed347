// The slurm executor against a real one-node Slurm cluster (tests/support/slurm_cluster.h): the
// executor conformance suite, Slurm's pending reasons, refusals at submit, and restarts of the
// executor at each step of a launch (a child process that dies there), after which every job
// runs exactly once. Each over both transports: Slurm's commands, and slurmrestd with a JWT
// minted from the cluster's key. Skips, saying why, where the cluster (or slurmrestd) cannot run.
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/files.h"
#include "executor/executor_conformance.h"
#include "executor/slurm/slurm_commands.h"
#include "executor/slurm/slurm_executor.h"
#include "executor/slurm/slurm_rest.h"
#include "support/slurm_cluster.h"

namespace trainyard::executor {
namespace {
namespace fs = std::filesystem;

std::string TextOf(const fs::path& file) {
  auto text = ReadFile(file);
  return text.ok() ? *text : "";
}
using core::JobStatus;
using core::SecondaryStatus;
using testing::SlurmCluster;
using namespace std::chrono_literals;

const auto* const kSlurmCluster =
    ::testing::AddGlobalTestEnvironment(new testing::SlurmClusterEnvironment);

SlurmExecutorOptions TestOptions(const fs::path& work_dir) {
  SlurmExecutorOptions options;
  options.work_dir = work_dir;
  options.wrapper_path = TRAINYARD_WRAP_PATH;
  options.job_environment = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  options.poll_interval = 200ms;
  options.progress_interval = 200ms;
  options.stop_margin = 2s;
  return options;
}

enum class Transport { kCommands, kRest };

std::string TransportName(Transport transport) {
  return transport == Transport::kCommands ? "Commands" : "Rest";
}

// The user this test runs as (root: slurmd needs it), whom the REST transport submits as.
std::string ThisUser() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry != nullptr ? entry->pw_name : "root";
}

// slurmrestd's client with tokens minted from the cluster's own key.
std::unique_ptr<SlurmRest> MakeRest(const std::filesystem::path& jwt_key_file) {
  auto tokens = SlurmTokenSource::Create({.jwt_key_file = jwt_key_file});
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  auto rest = SlurmRest::Create({.url = SlurmCluster::Get()->rest_url(),
                                 .user = ThisUser(),
                                 .tokens = *tokens,
                                 .environment = SlurmCluster::Get()->environment()});
  EXPECT_TRUE(rest.ok()) << rest.status().ToString();
  return std::move(rest).value();
}

SlurmTransportPtr MakeTransport(Transport transport) {
  if (transport == Transport::kRest) return MakeRest(SlurmCluster::Get()->jwt_key_file());
  auto commands = SlurmCommands::Create({.environment = SlurmCluster::Get()->environment()});
  EXPECT_TRUE(commands.ok()) << commands.status().ToString();
  return std::move(commands).value();
}

std::unique_ptr<SlurmExecutor> MakeExecutor(SlurmExecutorOptions options, Transport transport) {
  return std::make_unique<SlurmExecutor>(std::move(options), MakeTransport(transport));
}

std::string Unavailable(Transport transport) {
  if (!SlurmCluster::Get()) return SlurmCluster::UnavailableReason();
  if (transport == Transport::kRest) return SlurmCluster::Get()->RestUnavailableReason();
  return "";
}

ExecutorFactory SlurmFactory(Transport transport) {
  return {.name = "Slurm" + TransportName(transport),
          .make = [transport](const fs::path& work_dir) -> ExecutorPtr {
            return MakeExecutor(TestOptions(work_dir), transport);
          },
          .unavailable = [transport] { return Unavailable(transport); }};
}

INSTANTIATE_TEST_SUITE_P(Slurm, ExecutorConformanceTest,
                         ::testing::Values(SlurmFactory(Transport::kCommands),
                                           SlurmFactory(Transport::kRest)),
                         [](const auto& info) { return info.param.name; });

class SlurmExecutorTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    if (std::string why = Unavailable(GetParam()); !why.empty()) {
      GTEST_SKIP() << "Slurm cluster (" << TransportName(GetParam()) << ") unavailable: " << why;
    }
  }
  std::unique_ptr<SlurmExecutor> MakeExecutor(SlurmExecutorOptions options) {
    return executor::MakeExecutor(std::move(options), GetParam());
  }

  JobSpec CountingJob(const std::string& name, const std::string& script) {
    fs::create_directories(dir_.path() / "out");
    JobSpec spec;
    spec.definition.job_name = name;
    spec.command = {"sh", "-c", "echo ran >> '" + RunsFile(name).string() + "'; " + script};
    spec.artifact_dir = dir_.path() / "out" / name;
    spec.stop_grace_period = 2s;
    return spec;
  }
  fs::path RunsFile(const std::string& name) { return dir_.path() / (name + ".runs"); }
  int Runs(const std::string& name) {
    std::string text = TextOf(RunsFile(name));
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  JobDescription WaitForEnd(Executor& executor, const std::string& name,
                            std::chrono::seconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto description = executor.Describe(name);
      if (!description.ok()) {
        ADD_FAILURE() << description.status().ToString();
        return JobDescription{name, core::JobStatusTracker(std::chrono::system_clock::now())};
      }
      if (core::IsTerminal(description->status.status()) ||
          std::chrono::steady_clock::now() > deadline) {
        return *description;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  // Runs an executor in a child process that dies (as a killed server would) when its job
  // reaches `step`.
  void SubmitAndDieAt(const std::string& step, const JobSpec& spec) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      SlurmExecutorOptions options = TestOptions(dir_.path() / "work");
      options.detach_jobs = true;
      options.on_step = [step](std::string_view reached, std::string_view) {
        if (reached == step) ::_exit(0);
      };
      auto executor = MakeExecutor(options);
      if (!executor->Submit(spec).ok()) ::_exit(3);
      std::this_thread::sleep_for(60s);
      ::_exit(4);  // never reached the step
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0) << "the child did not die at " << step;
  }

  testing::TempDir dir_;
};

TEST_P(SlurmExecutorTest, PendingShowsSlurmsReasonAndStopCancelsIt) {
  SlurmExecutorOptions options = TestOptions(dir_.path() / "work");
  options.site.extra_sbatch_arguments = {"--begin=now+3600"};
  auto executor = MakeExecutor(options);
  ASSERT_TRUE(executor->Submit(CountingJob("pending-job", "true")).ok());
  std::string message;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < deadline;) {
    auto description = executor->Describe("pending-job");
    ASSERT_TRUE(description.ok());
    EXPECT_EQ(description->status.secondary_status(), SecondaryStatus::kStarting);
    message = description->status.transitions().back().message;
    if (message.find("Waiting in Slurm's queue") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(message.find("waiting for its start time"), std::string::npos) << message;
  ASSERT_TRUE(executor->Stop("pending-job").ok());
  JobDescription description = WaitForEnd(*executor, "pending-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kStopped);
  EXPECT_EQ(Runs("pending-job"), 0);
}

TEST_P(SlurmExecutorTest, AJobAskingMoreThanAnyNodeHasFailsWithSlurmsOwnReason) {
  auto executor = MakeExecutor(TestOptions(dir_.path() / "work"));
  JobSpec spec = CountingJob("huge-job", "true");
  spec.definition.resources.instance_type = "ml.p5.48xlarge";  // 192 CPUs, 2 TiB, 8 GPUs
  ASSERT_TRUE(executor->Submit(spec).ok());
  JobDescription description = WaitForEnd(*executor, "huge-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kFailed);
  const std::string& reason = description.status.failure_reason();
  EXPECT_EQ(reason.rfind("ClientError: Slurm refused the job: ", 0), 0u) << reason;
  EXPECT_EQ(Runs("huge-job"), 0);

  JobSpec unknown = CountingJob("odd-job", "true");
  unknown.definition.resources.instance_type = "ml.x99.huge";
  Status refused = executor->Submit(unknown);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("ml.x99.huge"), std::string::npos);
}

TEST_P(SlurmExecutorTest, ARestartedExecutorFollowsItsRunningJobByItsSlurmId) {
  JobSpec spec = CountingJob("restart-job", "sleep 3; echo done > \"$SM_MODEL_DIR/m\"");
  {
    SlurmExecutorOptions options = TestOptions(dir_.path() / "work");
    options.detach_jobs = true;
    auto first = MakeExecutor(options);
    ASSERT_TRUE(first->Submit(spec).ok());
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline && Runs("restart-job") == 0;) {
      std::this_thread::sleep_for(50ms);
    }
  }  // the executor goes; the job runs on in Slurm
  SlurmExecutorOptions options = TestOptions(dir_.path() / "work");
  options.detach_jobs = true;
  auto second = MakeExecutor(options);
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  JobDescription description = WaitForEnd(*second, "restart-job");
  EXPECT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  EXPECT_EQ(Runs("restart-job"), 1);
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "model.tar.gz"));
}

TEST_P(SlurmExecutorTest, AJobSubmittedButNotRecordedIsFoundInSlurmNotSubmittedAgain) {
  JobSpec spec = CountingJob("unrecorded-job", "sleep 1");
  SubmitAndDieAt("executor.launched", spec);  // sbatch answered; its id was never written
  EXPECT_FALSE(fs::exists(dir_.path() / "work" / "unrecorded-job" / "slurm-job-id"));
  SlurmExecutorOptions options = TestOptions(dir_.path() / "work");
  options.detach_jobs = true;
  auto executor = MakeExecutor(options);
  ASSERT_TRUE(executor->AdoptRunningJobs().ok());
  JobDescription description = WaitForEnd(*executor, "unrecorded-job");
  EXPECT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  EXPECT_EQ(Runs("unrecorded-job"), 1);
}

TEST_P(SlurmExecutorTest, AJobRecordedButNeverSubmittedIsForgottenAndRunsOnceWhenSubmittedAgain) {
  JobSpec spec = CountingJob("unsubmitted-job", "true");
  SubmitAndDieAt("executor.staged", spec);  // recorded and laid out, sbatch never ran
  SlurmExecutorOptions options = TestOptions(dir_.path() / "work");
  options.detach_jobs = true;
  auto executor = MakeExecutor(options);
  ASSERT_TRUE(executor->AdoptRunningJobs().ok());
  EXPECT_EQ(executor->Describe("unsubmitted-job").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(executor->Submit(spec).ok());
  JobDescription description = WaitForEnd(*executor, "unsubmitted-job");
  EXPECT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  EXPECT_EQ(Runs("unsubmitted-job"), 1);
}

INSTANTIATE_TEST_SUITE_P(Transports, SlurmExecutorTest,
                         ::testing::Values(Transport::kCommands, Transport::kRest),
                         [](const auto& info) { return TransportName(info.param); });

// A token slurmctld refuses (signed with another key): the job fails at submit with the
// transport, the user and Slurm's answer named, and never the token.
TEST(SlurmRestTokenTest, ARefusedTokenFailsTheJobWithSlurmsAnswerAndNoToken) {
  if (std::string why = Unavailable(Transport::kRest); !why.empty()) {
    GTEST_SKIP() << "slurmrestd unavailable: " << why;
  }
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "wrong.key", "not the cluster's key").ok());
  SlurmExecutor executor(TestOptions(dir.path() / "work"), MakeRest(dir.path() / "wrong.key"));
  JobSpec spec;
  spec.definition.job_name = "wrong-token-job";
  spec.command = {"true"};
  spec.artifact_dir = dir.path() / "out";
  ASSERT_TRUE(executor.Submit(spec).ok());
  std::optional<JobDescription> ended;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline;) {
    auto description = executor.Describe("wrong-token-job");
    ASSERT_TRUE(description.ok()) << description.status().ToString();
    if (core::IsTerminal(description->status.status())) {
      ended = *description;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(ended.has_value()) << "the job did not end within 30 s";
  EXPECT_EQ(ended->status.status(), JobStatus::kFailed);
  const std::string& reason = ended->status.failure_reason();
  EXPECT_NE(reason.find("Slurm REST transport: submit as user '" + ThisUser() + "'"),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("Zero Bytes were transmitted or received"), std::string::npos) << reason;
  EXPECT_NE(reason.find("token"), std::string::npos) << reason;
  // No token: every JWT starts with its header, {"alg":... in base64url.
  EXPECT_EQ(reason.find("eyJ"), std::string::npos) << reason;
}

}  // namespace
}  // namespace trainyard::executor
