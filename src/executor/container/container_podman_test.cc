// ContainerExecutor with real podman over a tiny local image (examples/container/build-image.sh:
// this build's trainyard-wrap and example trainer, nothing pulled), podman configured by
// containers.conf here through CONTAINERS_CONF. Runs the executor conformance suite, then the
// example trainer reporting to a server on loopback. Every test skips, printing why, where
// podman cannot run a container.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <functional>

#include "archive/archive.h"
#include "common/environment.h"
#include "common/files.h"
#include "executor/container/container_executor.h"
#include "executor/container/runtime_process.h"
#include "executor/executor_conformance.h"
#include "support/http_test_server.h"
#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard::executor {
namespace {

namespace fs = std::filesystem;
using core::JobStatus;
using namespace std::chrono_literals;

constexpr char kTestImage[] = "localhost/trainyard-example-trainer:test";

struct Podman {
  std::string unavailable;  // why the tests skip; empty when podman runs containers
  ContainerExecutorOptions options;
};

// Checked once per test process: podman answers, the image builds, a container runs.
const Podman& PodmanHere() {
  static const Podman podman = [] {
    Podman result;
    ContainerExecutorOptions& options = result.options;
    options.runtime = "podman";
    options.runtime_environment = ParseEnvironment(environ);
    options.runtime_environment["CONTAINERS_CONF"] = CONTAINERS_CONF_PATH;
    options.default_image = kTestImage;
    options.pull = PullPolicy::kNever;
    auto podman_path = FindExecutable("podman", options.runtime_environment["PATH"]);
    if (podman_path) options.runtime_path = *podman_path;
    auto created = ContainerExecutor::Create(options);
    if (!created.ok()) {
      result.unavailable = created.status().ToString();
    } else {
      testing::ProcessResult built = testing::RunProcess(
          {"/bin/sh", BUILD_IMAGE_SCRIPT, TRAINYARD_WRAP_PATH, EXAMPLE_TRAINER_PATH, kTestImage},
          {{"CONTAINERS_CONF", CONTAINERS_CONF_PATH}}, 120s);
      if (built.exit_code != 0) {
        result.unavailable = "build-image.sh failed: " + built.output;
      } else {
        auto smoke = RunCommand({options.runtime_path.string(), "run", "--rm", "--pull", "never",
                                 "--network", "none", "--entrypoint", "/bin/true", kTestImage},
                                FormatEnvironment(options.runtime_environment), 60s);
        if (!smoke.ok()) {
          result.unavailable = "podman run: " + smoke.status().ToString();
        } else if (smoke->exit_code != 0) {
          result.unavailable = "podman cannot run a container here: " + smoke->output;
        }
      }
    }
    if (!result.unavailable.empty()) {
      std::fprintf(stderr, "[container tests] skipped: %s\n", result.unavailable.c_str());
    }
    return result;
  }();
  return podman;
}

// Object-store staging over an HTTP server of the test's own (on loopback, port 0): a job's
// input at /<job>/in/<path>, its outputs PUT to /<job>/out/<name>, a checkpoint's archive at
// /.checkpoints/<name>/checkpoints.tar.gz (kept by Remove), as the S3 endpoint's presigned URLs
// name them (app/object_store_staging.h is that staging, which the Slurm end-to-end tests run).
// What a bind mount would carry travels through it, and only that.
class HttpTestStaging : public JobStaging {
 public:
  HttpTestStaging()
      : server_([this](const testing::RecordedRequest& request) { return Answer(request); }) {}

  Result<std::string> Publish(const std::string& job_name, const std::vector<InputFile>& inputs,
                              std::chrono::seconds /*expires*/,
                              const CheckpointSpec& checkpoint) override {
    nlohmann::json manifest_inputs = nlohmann::json::array();
    for (const InputFile& input : inputs) {
      TY_ASSIGN_OR_RETURN(std::string bytes, ReadFile(input.source));
      const std::string path = "/" + job_name + "/in/" + input.path;
      // The digest the wrapper checks each download against (coreutils': no second copy here).
      testing::ProcessResult digest =
          testing::RunProcess({"sha256sum", input.source.string()}, {}, 30s);
      if (digest.exit_code != 0) return Internal("sha256sum: " + digest.output);
      manifest_inputs.push_back({{"path", input.path},
                                 {"url", server_.url(path)},
                                 {"size", bytes.size()},
                                 {"sha256", digest.output.substr(0, 64)}});
      std::lock_guard lock(mutex_);
      objects_[path] = std::move(bytes);
    }
    nlohmann::json outputs = nlohmann::json::object();
    for (const char* name :
         {"model.tar.gz", "output.tar.gz", "training.log", "trainyard-exit.json"}) {
      outputs[name] = server_.url("/" + job_name + "/out/" + name);
    }
    nlohmann::json manifest = {{"version", 1}, {"inputs", manifest_inputs}, {"outputs", outputs}};
    if (!checkpoint.name.empty()) {
      const std::string archive = server_.url(CheckpointPath(checkpoint.name));
      manifest["checkpoint"] = {{"get", archive}, {"put", archive}};
      if (!checkpoint.restore_from.empty()) {
        manifest["checkpoint"]["restore_from"] =
            server_.url(CheckpointPath(checkpoint.restore_from));
      }
    }
    return manifest.dump();
  }
  // Where the checkpoint `name` keeps its archive.
  static std::string CheckpointPath(const std::string& name) {
    return "/.checkpoints/" + name + "/checkpoints.tar.gz";
  }
  bool Holds(const std::string& path) {
    std::lock_guard lock(mutex_);
    return objects_.contains(path);
  }
  Status Fetch(const std::string& job_name, const std::string& name,
               const fs::path& target) override {
    std::string bytes;
    {
      std::lock_guard lock(mutex_);
      auto object = objects_.find("/" + job_name + "/out/" + name);
      if (object == objects_.end()) return NotFound(name + " of " + job_name + " never came");
      bytes = object->second;
    }
    TY_RETURN_IF_ERROR(MakeDirectories(target.parent_path()));
    return WriteFileAtomic(target, bytes);
  }
  Status Remove(const std::string& job_name) override {
    std::lock_guard lock(mutex_);
    std::erase_if(objects_, [&](const auto& object) {
      return object.first.starts_with("/" + job_name + "/");
    });
    return Status::Ok();
  }
  // How many of the job's objects are stored.
  size_t ObjectsOf(const std::string& job_name) {
    std::lock_guard lock(mutex_);
    return std::count_if(objects_.begin(), objects_.end(), [&](const auto& object) {
      return object.first.starts_with("/" + job_name + "/");
    });
  }

 private:
  testing::HttpTestResponse Answer(const testing::RecordedRequest& request) {
    std::lock_guard lock(mutex_);
    if (request.method == "PUT") {
      objects_[request.target] = request.body;
      return {};
    }
    auto object = objects_.find(request.target);
    if (request.method != "GET" || object == objects_.end()) return {.status = 404};
    return {.body = object->second};
  }

  std::mutex mutex_;
  std::map<std::string, std::string> objects_;  // by URL path
  testing::HttpTestServer server_;              // last: stopped before the objects go
};

std::shared_ptr<HttpTestStaging> TestStaging() {
  static const auto staging = std::make_shared<HttpTestStaging>();
  return staging;
}

std::unique_ptr<ContainerExecutor> MakePodmanExecutor(const fs::path& work_dir,
                                                      bool detach_jobs = false,
                                                      bool object_store = false) {
  ContainerExecutorOptions options = PodmanHere().options;
  if (object_store) {
    options.staging = StagingMode::kObjectStore;
    options.job_staging = TestStaging();
  }
  options.work_dir = work_dir;
  options.stop_margin = 2s;
  options.check_runtime = false;  // PodmanHere() checked it
  options.detach_jobs = detach_jobs;
  // Another test run on this machine may use the same job names at the same time.
  options.container_name_prefix = "trainyard-test-" + std::to_string(::getpid()) + "-";
  auto created = ContainerExecutor::Create(options);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? std::move(created).value() : nullptr;
}

ExecutorPtr MakePodman(const fs::path& work_dir) {
  return MakePodmanExecutor(work_dir);
}

// `podman inspect`'s State.Status of a test container ("running", "exited"), or "absent".
std::string ContainerStatus(const std::string& job_name) {
  const ContainerExecutorOptions& options = PodmanHere().options;
  auto output =
      RunCommand({options.runtime_path.string(), "inspect", "--format", "{{.State.Status}}",
                  "trainyard-test-" + std::to_string(::getpid()) + "-" + job_name},
                 FormatEnvironment(options.runtime_environment), 30s);
  if (!output.ok() || output->exit_code != 0) return "absent";
  std::string status = output->output;
  while (!status.empty() && std::isspace(static_cast<unsigned char>(status.back()))) {
    status.pop_back();
  }
  return status;
}

// The names of the containers labelled with `work_dir`, whatever their state.
std::string ContainersOf(const fs::path& work_dir) {
  const ContainerExecutorOptions& options = PodmanHere().options;
  auto output =
      RunCommand({options.runtime_path.string(), "ps", "--all", "--filter",
                  "label=trainyard.work-dir=" + fs::absolute(work_dir).lexically_normal().string(),
                  "--format", "{{.Names}}"},
                 FormatEnvironment(options.runtime_environment), 30s);
  return output.ok() ? output->output : "(podman ps failed)";
}

ExecutorPtr MakePodmanObjectStore(const fs::path& work_dir) {
  return MakePodmanExecutor(work_dir, /*detach_jobs=*/false, /*object_store=*/true);
}

INSTANTIATE_TEST_SUITE_P(
    Podman, ExecutorConformanceTest,
    ::testing::Values(
        ExecutorFactory{"container", MakePodman, [] { return PodmanHere().unavailable; }},
        ExecutorFactory{"container_object_store",
                        MakePodmanObjectStore,
                        [] { return PodmanHere().unavailable; },
                        {{"job.json",
                          "the wrapper writes it into the container's own /opt/ml, and no staged "
                          "output carries it"}}}),
    [](const auto& info) { return info.param.name; });

class ContainerPodmanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PodmanHere().unavailable.empty()) GTEST_SKIP() << PodmanHere().unavailable;
    executor_ = MakePodman(temp_.path() / "work");
    ASSERT_NE(executor_, nullptr);
  }

  JobDescription WaitForEnd(const std::string& name, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto description = executor_->Describe(name);
      EXPECT_TRUE(description.ok());
      if (core::IsTerminal(description->status.status()) ||
          std::chrono::steady_clock::now() > deadline) {
        return *description;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  testing::TempDir temp_;
  ExecutorPtr executor_;
};

// Two example-trainer jobs at once, as a sweep runs them: each completes with its model, and
// its progress reaches a server listening on 127.0.0.1 (through --network host) with its token.
TEST_F(ContainerPodmanTest, TwoTrainerJobsCompleteAndReportToTheServer) {
  testing::HttpTestServer server;
  std::vector<std::string> names = {"digits-lr-1", "digits-lr-2"};
  std::vector<JobSpec> specs;
  for (size_t i = 0; i < names.size(); ++i) {
    JobSpec spec;
    spec.definition.job_name = names[i];
    spec.definition.hyperparameters = {
        {"learning_rate", i == 0 ? "0.1" : "0.05"}, {"batch_size", "32"}, {"iterations", "40"}};
    spec.definition.channels = {{"training"}, {"evaluation"}};
    spec.channel_sources = {{"training", fs::path(EXAMPLE_DIGITS_DIR) / "train.csv"},
                            {"evaluation", fs::path(EXAMPLE_DIGITS_DIR) / "eval.csv"}};
    spec.definition.environment["TRAINYARD_CALLBACK_URL"] =
        server.url("/api/v1/jobs/" + names[i] + "/progress");
    spec.secret_environment["TRAINYARD_JOB_TOKEN"] = "token-" + names[i];
    spec.artifact_dir = temp_.path() / "out" / names[i];
    ASSERT_TRUE(executor_->Submit(spec).ok());
    specs.push_back(spec);
  }
  for (const JobSpec& spec : specs) {
    const std::string& name = spec.definition.job_name;
    JobDescription description = WaitForEnd(name, 60s);
    ASSERT_EQ(description.status.status(), JobStatus::kCompleted)
        << description.status.ToJson().dump() << "\n"
        << (ReadFile(spec.artifact_dir / "training.log").ok()
                ? *ReadFile(spec.artifact_dir / "training.log")
                : "(no log)");
    fs::path unpacked = temp_.path() / "unpacked" / name;
    fs::create_directories(unpacked);
    auto files = archive::Unpack(spec.artifact_dir / "model.tar.gz", unpacked);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    EXPECT_EQ(*files, std::vector<std::string>{"model.json"});
    EXPECT_TRUE(fs::exists(spec.artifact_dir / "output.tar.gz"));
    EXPECT_FALSE(description.metrics.empty());
  }
  ASSERT_TRUE(server.WaitForRequests(2, 10s));
  for (const std::string& name : names) {
    bool reported = false;
    for (const testing::RecordedRequest& request : server.requests()) {
      if (request.method == "POST" && request.target == "/api/v1/jobs/" + name + "/progress") {
        EXPECT_EQ(request.headers.at("authorization"), "Bearer token-" + name);
        reported = true;
      }
    }
    EXPECT_TRUE(reported) << name << " never reached the server";
  }
}

// Containers outlive a detached executor: a second one on the same work dir adopts them (one
// still running, one that ended while no executor ran), finishes both, each run once, and
// removes their containers and roots; an executor on another work dir keeps its own container
// meanwhile (adoption goes by the work-dir label).
TEST_F(ContainerPodmanTest, ASecondExecutorAdoptsTheContainersTheFirstLeft) {
  fs::path work = temp_.path() / "adopted", other_work = temp_.path() / "other";
  // Each job's code runs once it finds `go` in its root, which the test makes when it wants.
  auto spec = [&](const std::string& name) {
    JobSpec job;
    job.definition.job_name = name;
    job.command = {"sh", "-c",
                   "echo ran >> \"$SM_MODEL_DIR/runs\"; while [ ! -e /opt/ml/go ]; do sleep 0.1; "
                   "done; echo weights > \"$SM_MODEL_DIR/model.bin\""};
    job.artifact_dir = temp_.path() / "out" / name;
    return job;
  };
  auto go = [](const fs::path& work_dir, const std::string& name) {
    std::ofstream(work_dir / name / "ml" / "go") << "go\n";
  };
  auto wait_for = [](const std::function<bool()>& done, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
    }
    return done();
  };
  auto ended = [](ContainerExecutor& executor, const std::string& name) {
    auto description = executor.Describe(name);
    return description.ok() && core::IsTerminal(description->status.status());
  };

  // Detached containers outlive a test that fails half-way: removed whatever happens.
  struct RemoveContainers {
    ~RemoveContainers() {
      const ContainerExecutorOptions& options = PodmanHere().options;
      for (const char* name : {"adopt-short", "adopt-long", "adopt-other"}) {
        (void)RunCommand({options.runtime_path.string(), "rm", "-f",
                          "trainyard-test-" + std::to_string(::getpid()) + "-" + name},
                         FormatEnvironment(options.runtime_environment), 30s);
      }
    }
  } remove_containers;
  auto first = MakePodmanExecutor(work, /*detach_jobs=*/true);
  auto other = MakePodmanExecutor(other_work);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(first->Submit(spec("adopt-short")).ok());
  ASSERT_TRUE(first->Submit(spec("adopt-long")).ok());
  ASSERT_TRUE(other->Submit(spec("adopt-other")).ok());
  for (const char* name : {"adopt-short", "adopt-long", "adopt-other"}) {
    ASSERT_TRUE(wait_for([&] { return ContainerStatus(name) == "running"; }, 30s)) << name;
  }
  first.reset();  // leaves its containers running
  EXPECT_EQ(ContainerStatus("adopt-long"), "running");
  go(work, "adopt-short");  // ends while no executor follows it
  ASSERT_TRUE(wait_for([] { return ContainerStatus("adopt-short") == "exited"; }, 30s));

  auto second = MakePodmanExecutor(work, /*detach_jobs=*/true);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->AdoptRunningJobs().ok());
  EXPECT_EQ(ContainerStatus("adopt-other"), "running");  // not this work dir's
  EXPECT_EQ(ContainerStatus("adopt-long"), "running");
  go(work, "adopt-long");
  go(other_work, "adopt-other");
  for (const char* name : {"adopt-short", "adopt-long"}) {
    ASSERT_TRUE(wait_for([&] { return ended(*second, name); }, 60s)) << name;
    auto description = second->Describe(name);
    EXPECT_EQ(description->status.status(), JobStatus::kCompleted)
        << name << ": " << description->status.ToJson().dump();
    EXPECT_EQ(description->exit_code, 0);
    fs::path unpacked = temp_.path() / "unpacked" / name;
    fs::create_directories(unpacked);
    auto files = archive::Unpack(temp_.path() / "out" / name / "model.tar.gz", unpacked);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    auto runs = ReadFile(unpacked / "runs");
    EXPECT_EQ(runs.ok() ? *runs : "", "ran\n") << name << "'s code ran more than once";
  }
  EXPECT_TRUE(wait_for([&] { return ContainersOf(work).empty(); }, 20s)) << ContainersOf(work);
  EXPECT_TRUE(wait_for([&] { return !fs::exists(work / "adopt-long" / "ml"); }, 20s));
  EXPECT_FALSE(fs::exists(work / "adopt-short" / "ml"));

  ASSERT_TRUE(wait_for([&] { return ended(*other, "adopt-other"); }, 60s));
  EXPECT_EQ(other->Describe("adopt-other")->status.status(), JobStatus::kCompleted);
}

// Object-store staging: the running container has nothing of this machine mounted (neither the
// work dir nor anything at /opt/ml), its input came through the staging's URLs, and its outputs
// came back the same way; its staging objects are gone once its end is recorded.
TEST_F(ContainerPodmanTest, ObjectStoreStagingMountsNothingOfTheWorkDir) {
  fs::path work = temp_.path() / "staged";
  executor_ = MakePodmanExecutor(work, /*detach_jobs=*/false, /*object_store=*/true);
  ASSERT_NE(executor_, nullptr);
  fs::path data = temp_.path() / "data" / "train.csv";
  fs::create_directories(data.parent_path());
  std::ofstream(data) << "1,2,3\n";
  JobSpec spec;
  spec.definition.job_name = "staged-job";
  spec.definition.channels = {{"training"}};
  spec.channel_sources = {{"training", data}};
  spec.command = {"sh", "-c",
                  "cat \"$SM_CHANNEL_TRAINING/train.csv\" > \"$SM_MODEL_DIR/train.csv\"; "
                  "while [ ! -e \"$SM_MODEL_DIR/train.csv\" ] || [ ! -e /tmp/go ]; do sleep 0.1; "
                  "done"};
  spec.artifact_dir = temp_.path() / "out";
  ASSERT_TRUE(executor_->Submit(spec).ok());
  const ContainerExecutorOptions& options = PodmanHere().options;
  const std::string container = "trainyard-test-" + std::to_string(::getpid()) + "-staged-job";
  auto podman = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), options.runtime_path.string());
    auto output = RunCommand(arguments, FormatEnvironment(options.runtime_environment), 30s);
    return output.ok() && output->exit_code == 0 ? output->output : std::string();
  };
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (ContainerStatus("staged-job") != "running" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(ContainerStatus("staged-job"), "running");
  std::string mounts = podman({"inspect", "--format", "{{json .Mounts}}", container});
  EXPECT_EQ(mounts.find(fs::absolute(work).string()), std::string::npos) << mounts;
  EXPECT_EQ(mounts.find("/opt/ml"), std::string::npos) << mounts;
  EXPECT_GT(TestStaging()->ObjectsOf("staged-job"), 0u);
  podman({"exec", container, "/bin/dash", "-c", "echo > /tmp/go"});
  JobDescription description = WaitForEnd("staged-job", 60s);
  ASSERT_EQ(description.status.status(), JobStatus::kCompleted)
      << description.status.ToJson().dump();
  fs::path unpacked = temp_.path() / "unpacked";
  fs::create_directories(unpacked);
  auto files = archive::Unpack(spec.artifact_dir / "model.tar.gz", unpacked);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto copied = ReadFile(unpacked / "train.csv");
  EXPECT_EQ(copied.ok() ? *copied : "", "1,2,3\n");
  executor_.reset();  // waits for the job's end to be recorded and its staging removed
  EXPECT_EQ(TestStaging()->ObjectsOf("staged-job"), 0u);
}

// Object-store staging keeps a job's checkpoint behind the manifest's URLs, apart from its
// staging objects (docs/checkpoints.md): the first attempt stores what it wrote and fails; its
// retry, another job with the same checkpoint name, has it restored before its command starts.
TEST_F(ContainerPodmanTest, ObjectStoreStagingKeepsTheCheckpointForTheRetry) {
  executor_ = MakePodmanExecutor(temp_.path() / "staged-checkpoint", /*detach_jobs=*/false,
                                 /*object_store=*/true);
  ASSERT_NE(executor_, nullptr);
  JobSpec first;
  first.definition.job_name = "staged-ck";
  first.checkpoint.name = "staged-ck";
  first.command = {"sh", "-c", "echo 7 > /opt/ml/checkpoints/iteration; exit 1"};
  first.artifact_dir = temp_.path() / "out-first";
  ASSERT_TRUE(executor_->Submit(first).ok());
  JobDescription ended = WaitForEnd("staged-ck", 60s);
  ASSERT_EQ(ended.status.status(), JobStatus::kFailed) << ended.status.ToJson().dump();
  EXPECT_TRUE(TestStaging()->Holds(HttpTestStaging::CheckpointPath("staged-ck")));

  JobSpec retry = first;
  retry.definition.job_name = "staged-ck-r1";
  retry.command = {"sh", "-c", "echo resumed at $(cat /opt/ml/checkpoints/iteration)"};
  retry.artifact_dir = temp_.path() / "out-retry";
  ASSERT_TRUE(executor_->Submit(retry).ok());
  ended = WaitForEnd("staged-ck-r1", 60s);
  ASSERT_EQ(ended.status.status(), JobStatus::kCompleted) << ended.status.ToJson().dump();
  auto log = ReadFile(retry.artifact_dir / "training.log");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_NE(log->find("resumed at 7"), std::string::npos) << *log;
  executor_.reset();  // waits for the jobs' ends to be recorded and their staging removed
  EXPECT_EQ(TestStaging()->ObjectsOf("staged-ck"), 0u);
  EXPECT_TRUE(TestStaging()->Holds(HttpTestStaging::CheckpointPath("staged-ck")));
}

// With the pull policy "never" (these tests' options): refused before any `run`, naming it.
TEST_F(ContainerPodmanTest, MissingImageFailsNamingTheImageAndThePolicy) {
  JobSpec spec;
  spec.definition.job_name = "no-image-job";
  spec.definition.training_image = "localhost/trainyard-no-such-image:none";
  spec.artifact_dir = temp_.path() / "out";
  ASSERT_TRUE(executor_->Submit(spec).ok());
  JobDescription description = WaitForEnd("no-image-job", 30s);
  EXPECT_EQ(description.status.status(), JobStatus::kFailed);
  EXPECT_EQ(description.status.failure_reason(),
            "ClientError: training image localhost/trainyard-no-such-image:none is not on this "
            "host and the pull policy is never (--container-pull never)");
  EXPECT_EQ(ContainerStatus("no-image-job"), "absent");  // no `run` was tried
}

}  // namespace
}  // namespace trainyard::executor
