// ContainerExecutor against a fake runtime: a shell script that records its argv and plays the
// container (writes into the mounted root, sleeps until stopped, fails like a missing image).
// No container runtime needed; the real one is in container_podman_test.cc.
#include "executor/container/container_executor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "common/files.h"
#include "executor/container/container_command.h"
#include "executor/container/registry_credentials.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;
using core::JobStatus;
using core::SecondaryStatus;
using namespace std::chrono_literals;

// $1 is the subcommand. `run --detach` records its argv (one per line) and the token it was
// given, finds the mounted root and plays the container by image name in the background: its
// state lives in containers/<name>/ (status, exit, pid), which `inspect`, `stop`, `rm` and `ps`
// read and change.
constexpr char kFakeRuntime[] = R"SH(#!/bin/sh
dir=$(dirname "$0")
for last in "$@"; do :; done
c="$dir/containers/$last"
case "$1" in
info) echo "9.9.9-fake"; exit 0 ;;
image)  # `image inspect`: every image is in the store, its id its name, but ECR's
  echo "$last" >> "$dir/image.argv"
  case "$last" in *.amazonaws.com/*) echo "Error: $last: image not known" >&2; exit 125 ;; esac
  echo "$last sha256:fake"; exit 0 ;;
stop) printf '%s\n' "$@" > "$dir/stop.argv"; kill -TERM "$(cat "$c/pid")"; exit 0 ;;
rm) printf '%s\n' "$@" >> "$dir/rm.argv"; rm -rf "$c"; exit 0 ;;
ps) ls "$dir/containers" 2>/dev/null; exit 0 ;;
inspect)
  if [ ! -d "$c" ]; then echo "Error: no such object: \"$last\"" >&2; exit 125; fi
  echo "$(cat "$c/status") $(cat "$c/exit" 2>/dev/null || echo 0) $(cat "$c/pid" 2>/dev/null || echo 0)"
  exit 0 ;;
run)
  printf '%s\n' "$@" > "$dir/run.argv"
  echo "token=$TRAINYARD_JOB_TOKEN" > "$dir/run.env"
  root=""; image=""; name=""; previous=""
  for argument in "$@"; do
    case "$previous" in --volume) root=${argument%:/opt/ml} ;; --name) name=$argument ;; esac
    case "$argument" in localhost/*) image=$argument ;; esac
    previous=$argument
  done
  case "$image" in
  localhost/missing) echo "Error: localhost/missing: image not known" >&2; exit 125 ;;
  esac
  c="$dir/containers/$name"
  mkdir -p "$c"
  echo running > "$c/status"
  (
    case "$image" in
    localhost/sleep)
      trap 'kill $sleeper; echo 143 > "$c/exit"; echo exited > "$c/status"; exit 0' TERM
      sleep 30 & sleeper=$!
      wait $sleeper ;;
    *)
      echo weights > "$root/model/model.bin"
      echo '{"exit_code": 0}' > "$root/output/trainyard-exit.json" ;;
    esac
    echo 0 > "$c/exit"; echo exited > "$c/status"
  ) < /dev/null > /dev/null 2>&1 &
  echo $! > "$c/pid"
  echo "$name"
  exit 0 ;;
esac
echo "unexpected $1" >&2; exit 2
)SH";

class ContainerExecutorFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = temp_.path() / "fake";
    fs::create_directories(fake_);
    std::ofstream(fake_ / "podman") << kFakeRuntime;
    ::chmod((fake_ / "podman").c_str(), 0755);
    options_.runtime = "podman";
    options_.runtime_path = fake_ / "podman";
    options_.runtime_environment = {{"PATH", "/usr/bin:/bin"}};
    options_.work_dir = temp_.path() / "work";
    options_.default_image = "localhost/trainer";
  }

  JobSpec Spec(const std::string& name) {
    JobSpec spec;
    spec.definition.job_name = name;
    spec.artifact_dir = temp_.path() / "out" / name;
    spec.stop_grace_period = 1s;
    return spec;
  }

  JobDescription WaitForEnd(Executor& executor, const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (true) {
      auto description = executor.Describe(name);
      EXPECT_TRUE(description.ok());
      if (core::IsTerminal(description->status.status()) ||
          std::chrono::steady_clock::now() > deadline) {
        return *description;
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  // The container and the root go just after the end is recorded (and reported).
  static bool WaitForGone(const fs::path& path) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (fs::exists(path) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    return !fs::exists(path);
  }

  std::vector<std::string> Lines(const fs::path& file) {
    std::vector<std::string> lines;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  testing::TempDir temp_;
  fs::path fake_;
  ContainerExecutorOptions options_;
};

TEST_F(ContainerExecutorFakeTest, HandsTheRuntimeTheExactArgvAndPacksTheOutputs) {
  auto executor = ContainerExecutor::Create(options_);
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  EXPECT_EQ((*executor)->runtime_version(), "9.9.9-fake");
  JobSpec spec = Spec("fake-ok");
  spec.command = {"trainyard-example-trainer"};
  spec.definition.environment["TRAINYARD_CALLBACK_URL"] = "http://127.0.0.1:1/cb";
  spec.secret_environment["TRAINYARD_JOB_TOKEN"] = "t0ken";
  ASSERT_TRUE((*executor)->Submit(spec).ok());
  JobDescription description = WaitForEnd(**executor, "fake-ok");
  EXPECT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  EXPECT_EQ(description.exit_code, 0);

  fs::path root = fs::absolute(options_.work_dir / "fake-ok" / "ml");
  std::vector<std::string> expected = ContainerRunArguments(options_, spec, root);
  expected.erase(expected.begin());  // the script sees its own path as $0
  EXPECT_EQ(Lines(fake_ / "run.argv"), expected);
  auto env = ReadFile(fake_ / "run.env");
  EXPECT_EQ(env.ok() ? *env : "", "token=t0ken\n");
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "model.tar.gz"));
  EXPECT_TRUE(fs::exists(spec.artifact_dir / "output.tar.gz"));
  // Removed once the end was recorded, with the job's root; the record stays.
  EXPECT_TRUE(WaitForGone(fake_ / "containers" / "trainyard-fake-ok"));
  EXPECT_EQ(Lines(fake_ / "rm.argv"), (std::vector<std::string>{"rm", "-f", "trainyard-fake-ok"}));
  EXPECT_TRUE(WaitForGone(root));
  auto state = ReadFile(options_.work_dir / "fake-ok" / "executor-state.json");
  ASSERT_TRUE(state.ok());
  EXPECT_NE(state->find("\"Completed\""), std::string::npos) << *state;
}

// A container job runs an image, which the executor runs itself over the /opt/ml mount.
TEST_F(ContainerExecutorFakeTest, DeclaresThatItsJobsRunImagesItRunsItself) {
  auto executor = ContainerExecutor::Create(options_);
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  EXPECT_EQ((*executor)->AcceptedTrainer(), TrainerKind::kImage);
  EXPECT_TRUE((*executor)->RunsImageItself());
  EXPECT_FALSE((*executor)->RemembersJobsAcrossRestarts());  // its jobs end with it
  options_.detach_jobs = true;
  auto detached = ContainerExecutor::Create(options_);
  ASSERT_TRUE(detached.ok());
  EXPECT_TRUE((*detached)->RemembersJobsAcrossRestarts());
}

TEST_F(ContainerExecutorFakeTest, StopRunsRuntimeStopWithTheGracePeriod) {
  auto executor = ContainerExecutor::Create(options_);
  ASSERT_TRUE(executor.ok());
  JobSpec spec = Spec("fake-stop");
  spec.definition.training_image = "localhost/sleep";
  ASSERT_TRUE((*executor)->Submit(spec).ok());
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!fs::exists(fake_ / "containers" / "trainyard-fake-stop" / "pid") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE((*executor)->Stop("fake-stop").ok());
  JobDescription description = WaitForEnd(**executor, "fake-stop");
  EXPECT_EQ(description.status.status(), JobStatus::kStopped);
  EXPECT_EQ(Lines(fake_ / "stop.argv"),
            (std::vector<std::string>{"stop", "-t", "6", "trainyard-fake-stop"}));
}

TEST_F(ContainerExecutorFakeTest, RuntimeFailureIsAClientErrorWithItsMessage) {
  auto executor = ContainerExecutor::Create(options_);
  ASSERT_TRUE(executor.ok());
  JobSpec spec = Spec("fake-missing");
  spec.definition.training_image = "localhost/missing";
  ASSERT_TRUE((*executor)->Submit(spec).ok());
  JobDescription description = WaitForEnd(**executor, "fake-missing");
  EXPECT_EQ(description.status.status(), JobStatus::kFailed);
  const std::string& reason = description.status.failure_reason();
  EXPECT_EQ(reason.rfind("ClientError: podman could not run the container (exit 125)", 0), 0u)
      << reason;
  EXPECT_NE(reason.find("image not known"), std::string::npos) << reason;
}

// Registry tokens that cannot be had: no AWS credentials, as ECR's token source says it.
class NoCredentialsTokenSource : public RegistryTokenSource {
 public:
  Result<RegistryToken> FetchToken(const std::string&) override {
    return Status(StatusCode::kUnauthenticated, "no AWS credentials found: environment: not set");
  }
};

TEST_F(ContainerExecutorFakeTest, AnEcrImageWithoutATokenFailsTheJobNamingTheImageAndTheCause) {
  options_.registry_credentials = std::make_shared<RegistryCredentials>(
      RegistryCredentialsOptions{.directory = temp_.path() / "registry-auth",
                                 .ecr_tokens = std::make_shared<NoCredentialsTokenSource>()});
  auto executor = ContainerExecutor::Create(options_);
  ASSERT_TRUE(executor.ok());
  JobSpec spec = Spec("fake-ecr");
  const std::string image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tl-training-model:1";
  spec.definition.training_image = image;
  ASSERT_TRUE((*executor)->Submit(spec).ok());
  JobDescription description = WaitForEnd(**executor, "fake-ecr");
  EXPECT_EQ(description.status.status(), JobStatus::kFailed);
  EXPECT_EQ(description.status.failure_reason(),
            "ClientError: unauthorized to pull the training image " + image +
                " (no token for 123456789012.dkr.ecr.eu-west-1.amazonaws.com: no AWS "
                "credentials found: environment: not set)");
  EXPECT_FALSE(fs::exists(fake_ / "run.argv")) << "no container was run";
}

// What a recovery meets after the executor went away: a container still running (followed
// again, and stoppable), a job recorded but not launched (forgotten, so that it runs again), a
// job whose `run` got past its launch claim and whose container ended meanwhile (finished from
// its exit file and packed), and a container of this work dir that belongs to no job (removed).
TEST_F(ContainerExecutorFakeTest, AnotherExecutorAdoptsWhatTheFirstLeft) {
  options_.detach_jobs = true;
  auto first = ContainerExecutor::Create(options_);
  ASSERT_TRUE(first.ok());
  JobSpec running = Spec("fake-running");
  running.definition.training_image = "localhost/sleep";
  ASSERT_TRUE((*first)->Submit(running).ok());
  fs::path container = fake_ / "containers" / "trainyard-fake-running";
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!fs::exists(container / "pid") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  first->reset();  // leaves the container running
  EXPECT_EQ(Lines(container / "status"), std::vector<std::string>{"running"});

  // Recorded and staged, but killed before its `run` was started.
  auto record = [&](const std::string& name) {
    core::JobStatusTracker status(std::chrono::system_clock::now());
    EXPECT_TRUE(
        status.Transition(SecondaryStatus::kDownloading, std::chrono::system_clock::now()).ok());
    EXPECT_TRUE(
        status.Transition(SecondaryStatus::kTraining, std::chrono::system_clock::now()).ok());
    fs::path job_dir = options_.work_dir / name;
    fs::create_directories(job_dir / "ml" / "model");
    fs::create_directories(job_dir / "ml" / "output" / "data");
    nlohmann::json state = {{"job_name", name},
                            {"artifact_dir", (temp_.path() / "out" / name).string()},
                            {"stop_grace_period_ms", 1000},
                            {"max_runtime_seconds", 3600},
                            {"status", status.ToJson()}};
    std::ofstream(job_dir / "executor-state.json") << state.dump();
    return job_dir;
  };
  fs::path unlaunched = record("fake-unlaunched");
  // Its `run` got past the claim (a pid long gone), and its container ended meanwhile.
  fs::path claimed = record("fake-claimed");
  std::ofstream(claimed / "launch-claim") << "999999999";
  std::ofstream(claimed / "ml" / "model" / "model.bin") << "weights";
  std::ofstream(claimed / "ml" / "output" / "trainyard-exit.json") << R"({"exit_code": 0})";
  std::ofstream(claimed / "executor-state.json.tmp.1234") << "{";  // a torn write
  for (const char* name : {"trainyard-fake-claimed", "trainyard-orphan"}) {
    fs::create_directories(fake_ / "containers" / name);
    std::ofstream(fake_ / "containers" / name / "status") << "exited\n";
    std::ofstream(fake_ / "containers" / name / "exit") << "0\n";
  }

  auto second = ContainerExecutor::Create(options_);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->AdoptRunningJobs().ok());
  EXPECT_EQ((*second)->Describe("fake-unlaunched").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(unlaunched));
  EXPECT_FALSE(fs::exists(fake_ / "containers" / "trainyard-orphan"));

  JobDescription finished = WaitForEnd(**second, "fake-claimed");
  EXPECT_EQ(finished.status.status(), JobStatus::kCompleted) << finished.status.ToJson().dump();
  EXPECT_TRUE(fs::exists(temp_.path() / "out" / "fake-claimed" / "model.tar.gz"));
  EXPECT_TRUE(WaitForGone(fake_ / "containers" / "trainyard-fake-claimed"));
  EXPECT_TRUE(WaitForGone(claimed / "ml"));
  EXPECT_FALSE(fs::exists(claimed / "executor-state.json.tmp.1234"));

  auto adopted = (*second)->Describe("fake-running");
  ASSERT_TRUE(adopted.ok());
  EXPECT_EQ(adopted->status.secondary_status(), SecondaryStatus::kTraining);
  ASSERT_TRUE((*second)->Stop("fake-running").ok());
  JobDescription stopped = WaitForEnd(**second, "fake-running");
  EXPECT_EQ(stopped.status.status(), JobStatus::kStopped);
  EXPECT_TRUE(WaitForGone(container));
}

// The first job of a sweep resolves its image's digest; every later job of that sweep (a retry,
// a job after a restart of the executor) asks for that digest, not for the tag.
TEST_F(ContainerExecutorFakeTest, JobsOfASweepRunTheDigestItsFirstJobResolved) {
  auto run = [&](const std::string& name, const std::string& sweep_id) {
    auto executor = ContainerExecutor::Create(options_);
    EXPECT_TRUE(executor.ok()) << executor.status().ToString();
    if (!executor.ok()) return std::string();
    JobSpec spec = Spec(name);
    spec.sweep_id = sweep_id;
    spec.definition.training_image = "localhost/trainer:v1";
    EXPECT_TRUE((*executor)->Submit(spec).ok());
    JobDescription description = WaitForEnd(**executor, name);
    EXPECT_EQ(description.status.status(), JobStatus::kCompleted);
    std::string message;
    for (const auto& transition : description.status.transitions()) {
      if (transition.status == SecondaryStatus::kTraining) message = transition.message;
    }
    return message;
  };
  EXPECT_EQ(run("first", "sw-1"),
            "Training image present: localhost/trainer@sha256:fake. Training in progress.");
  EXPECT_EQ(Lines(fake_ / "image.argv").back(), "localhost/trainer:v1");
  // Another executor on the same work dir (a restart) finds the sweep's digest.
  run("first-r1", "sw-1");
  EXPECT_EQ(Lines(fake_ / "image.argv").back(), "localhost/trainer@sha256:fake");
  EXPECT_EQ(Lines(fake_ / "run.argv").back(), "train");
  // Another sweep resolves the tag again.
  run("other", "sw-2");
  EXPECT_EQ(Lines(fake_ / "image.argv").back(), "localhost/trainer:v1");
}

// What a job ran is part of its description (image as requested, digest as run), and of its
// record: an executor started again on the same work dir still describes it.
TEST_F(ContainerExecutorFakeTest, DescribesTheImageAndTheDigestItRanAcrossARestart) {
  options_.detach_jobs = true;
  {
    auto executor = ContainerExecutor::Create(options_);
    ASSERT_TRUE(executor.ok()) << executor.status().ToString();
    JobSpec spec = Spec("digest");
    spec.sweep_id = "sw-1";
    spec.definition.training_image = "localhost/trainer:v1";
    auto before = (*executor)->Describe("digest");
    EXPECT_EQ(before.status().code(), StatusCode::kNotFound);
    ASSERT_TRUE((*executor)->Submit(spec).ok());
    JobDescription ended = WaitForEnd(**executor, "digest");
    EXPECT_EQ(ended.status.status(), JobStatus::kCompleted);
    EXPECT_EQ(ended.image, "localhost/trainer:v1");
    EXPECT_EQ(ended.image_digest, "localhost/trainer@sha256:fake");
  }
  auto again = ContainerExecutor::Create(options_);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->AdoptRunningJobs().ok());
  auto described = (*again)->Describe("digest");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->image, "localhost/trainer:v1");
  EXPECT_EQ(described->image_digest, "localhost/trainer@sha256:fake");
}

// image-pins.json keeps each pin's last use; the executor drops, when it starts, the pins unused
// for longer than image_pin_retention (the sweeps that still run touch theirs), and reads a pin
// of the older form (a bare reference) as used now.
TEST_F(ContainerExecutorFakeTest, DropsImagePinsUnusedForLongerThanTheRetention) {
  options_.image_pin_retention = std::chrono::hours(24 * 30);
  const auto now = std::chrono::system_clock::now();
  auto millis = [](std::chrono::system_clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  };
  fs::create_directories(options_.work_dir);
  nlohmann::json pins = {{"sw-old\nlocalhost/trainer:v1",
                          {{"reference", "localhost/trainer@sha256:old"},
                           {"last_used_ms", millis(now - std::chrono::hours(24 * 31))}}},
                         {"sw-recent\nlocalhost/trainer:v1",
                          {{"reference", "localhost/trainer@sha256:recent"},
                           {"last_used_ms", millis(now - std::chrono::hours(24 * 29))}}},
                         {"sw-legacy\nlocalhost/trainer:v1", "localhost/trainer@sha256:legacy"}};
  std::ofstream(options_.work_dir / "image-pins.json") << pins.dump();

  auto executor = ContainerExecutor::Create(options_);
  ASSERT_TRUE(executor.ok()) << executor.status().ToString();
  std::ifstream in(options_.work_dir / "image-pins.json");
  nlohmann::json kept = nlohmann::json::parse(in);
  EXPECT_FALSE(kept.contains("sw-old\nlocalhost/trainer:v1")) << kept.dump();
  ASSERT_TRUE(kept.contains("sw-recent\nlocalhost/trainer:v1")) << kept.dump();
  EXPECT_EQ(kept["sw-recent\nlocalhost/trainer:v1"]["reference"],
            "localhost/trainer@sha256:recent");
  ASSERT_TRUE(kept.contains("sw-legacy\nlocalhost/trainer:v1")) << kept.dump();
  EXPECT_GE(kept["sw-legacy\nlocalhost/trainer:v1"]["last_used_ms"].get<int64_t>(), millis(now));

  // The kept pin still decides what the sweep runs; the dropped one's sweep resolves the tag.
  auto run = [&](const std::string& name, const std::string& sweep_id) {
    JobSpec spec = Spec(name);
    spec.sweep_id = sweep_id;
    spec.definition.training_image = "localhost/trainer:v1";
    EXPECT_TRUE((*executor)->Submit(spec).ok());
    return WaitForEnd(**executor, name).image_digest;
  };
  EXPECT_EQ(run("recent-r1", "sw-recent"), "localhost/trainer@sha256:recent");
  EXPECT_EQ(Lines(fake_ / "image.argv").back(), "localhost/trainer@sha256:recent");
  EXPECT_EQ(run("old-r1", "sw-old"), "localhost/trainer@sha256:fake");
  EXPECT_EQ(Lines(fake_ / "image.argv").back(), "localhost/trainer:v1");
}

TEST_F(ContainerExecutorFakeTest, RefusesAJobWithoutAnImage) {
  options_.default_image.clear();
  auto executor = ContainerExecutor::Create(options_);
  ASSERT_TRUE(executor.ok());
  Status refused = (*executor)->Submit(Spec("no-image"));
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("no image"), std::string::npos) << refused.message();
}

TEST_F(ContainerExecutorFakeTest, StartCheckGivesClearErrors) {
  options_.runtime = "rkt";
  EXPECT_EQ(ContainerExecutor::Create(options_).status().code(), StatusCode::kInvalidArgument);

  options_.runtime = "podman";
  options_.runtime_path.clear();
  options_.runtime_environment = {{"PATH", (temp_.path() / "empty").string()}};
  Status missing = ContainerExecutor::Create(options_).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("container runtime 'podman' not found on PATH"),
            std::string::npos)
      << missing.message();

  std::ofstream(fake_ / "broken") << "#!/bin/sh\necho 'Error: cannot connect to runtime' >&2\n"
                                     "exit 125\n";
  ::chmod((fake_ / "broken").c_str(), 0755);
  options_.runtime_path = fake_ / "broken";
  Status broken = ContainerExecutor::Create(options_).status();
  EXPECT_EQ(broken.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(broken.message().find("cannot connect to runtime"), std::string::npos)
      << broken.message();
  EXPECT_NE(broken.message().find("cannot run containers"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::executor
