// `trainyard server` killed with SIGKILL at each named step of a job's way (common/step_hook.h),
// and 20 times at random instants during a 50-job sweep: after the restarts every job ends
// Completed with its outputs, its code ran exactly once, and nothing is left behind (no job
// process, no work dir, no job root, no half-written state file). The same steps with the
// container executor and real podman: no container is left either (skips, saying why, where
// podman cannot run the test image). And `trainyard run` killed at each step, then --resume.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "server_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpAnswer;
using testing::JobProcesses;
using testing::ServerProcess;
using testing::WaitFor;
using trainyard::ReadFile;

// Every run of a job's code appends the job's executor name to `runs` (one short O_APPEND write:
// whole lines), trains for `seconds`, and writes a model.
json SweepBody(const std::string& dataset, const fs::path& runs, int jobs,
               const std::string& seconds) {
  std::string script = "echo \"$TRAINING_JOB_NAME\" >> '" + runs.string() + "'; sleep " + seconds +
                       "; echo weights > \"$SM_MODEL_DIR/model.bin\"; echo trained";
  json values = json::array();
  for (int i = 1; i <= jobs; ++i) values.push_back(i);
  return {{"name", "once"},
          {"trainer", {{"command", {"sh", "-c", script}}}},
          {"channels", {{"training", dataset}}},
          {"grid", {{"n", values}}},
          {"max_parallel", 2}};
}

std::map<std::string, int> RunsByJob(const fs::path& runs) {
  std::map<std::string, int> counts;
  std::ifstream file(runs);
  for (std::string line; std::getline(file, line);) counts[line] += 1;
  return counts;
}

// What must not remain once every job has ended: the scheduler's work dirs, the executor's job
// roots and half-written state files.
std::vector<std::string> Leftovers(const fs::path& data_dir, const std::string& jobs = "jobs") {
  std::vector<std::string> found;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(data_dir / "work", error)) {
    found.push_back(entry.path().string());
  }
  for (const fs::directory_entry& job : fs::directory_iterator(data_dir / jobs, error)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(job.path(), error)) {
      std::string name = entry.path().filename().string();
      if (name == "ml" || name.find(".tmp.") != std::string::npos) {
        found.push_back(entry.path().string());
      }
    }
  }
  return found;
}

void ExpectEveryJobCompletedOnce(ServerProcess& server, const std::string& sweep_id,
                                 const fs::path& runs, size_t jobs) {
  json page = server.Get("/api/v1/jobs?sweep=" + sweep_id + "&limit=100").Json();
  ASSERT_EQ(page["jobs"].size(), jobs) << page.dump();
  std::map<std::string, int> runs_by_job = RunsByJob(runs);
  for (const json& job : page["jobs"]) {
    std::string name = job["name"];
    EXPECT_EQ(job["status"], "Completed") << job.dump();
    EXPECT_EQ(job["attempt"], 0) << job.dump();
    EXPECT_EQ(runs_by_job[name], 1) << name << "'s code ran " << runs_by_job[name] << " times";
    HttpAnswer model = server.Get("/api/v1/jobs/" + name + "/artifacts/model");
    EXPECT_EQ(model.status, 200) << name << ": " << model.body;
    EXPECT_EQ(model.body.substr(0, 2), "\x1f\x8b") << name << ": model.tar.gz is not gzip";
    HttpAnswer log = server.Get("/api/v1/jobs/" + name + "/artifacts/log");
    EXPECT_NE(log.body.find("trained"), std::string::npos) << name << ": " << log.body;
  }
  EXPECT_EQ(runs_by_job.size(), jobs);  // no run under another name (a second attempt)
  const fs::path& data_dir = server.data_dir();
  EXPECT_TRUE(WaitFor([&] { return JobProcesses(data_dir).empty(); }, 10s))
      << "job processes left: " << JobProcesses(data_dir).size();
  EXPECT_TRUE(WaitFor([&] { return Leftovers(data_dir).empty(); }, 10s))
      << "left behind: " << json(Leftovers(data_dir)).dump();
}

class KillAtStepTest : public ::testing::TestWithParam<const char*> {
 protected:
  testing::TempDir dir_;
};

TEST_P(KillAtStepTest, EveryJobCompletesAndItsCodeRunsOnce) {
  constexpr int kJobs = 4;
  fs::path runs = dir_.path() / "runs.txt";
  ServerProcess server(dir_.path() / "data", {"--max-running", "2"},
                       {{"TRAINYARD_TEST_KILL_AT", GetParam()}});
  server.Start();
  std::string dataset = server.UploadExample("train.csv", "training");
  // With an idempotency key, as a client that may lose the answer sends it: the server can die
  // before it answers (the queue may reach the step first).
  json body = SweepBody(dataset, runs, kJobs, "0.5");
  body["idempotency_key"] = "kill-at-step";
  HttpAnswer created = server.Post("/api/v1/sweeps", body);
  ASSERT_TRUE(created.status == 201 || created.status == 0) << created.body;

  std::string output = server.WaitForExit(60s);
  ASSERT_NE(output.find(std::string("killed at ") + GetParam()), std::string::npos) << output;
  server.set_extra_environment({});
  server.Start();
  if (created.status == 0) created = server.Post("/api/v1/sweeps", body);  // the same sweep
  ASSERT_TRUE(created.status == 200 || created.status == 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server.WaitForSweepEnd(sweep_id, kJobs, 60s);
  EXPECT_EQ(sweep["counts"].value("Completed", 0), kJobs) << sweep.dump();
  ExpectEveryJobCompletedOnce(server, sweep_id, runs, kJobs);
}

// The steps of a job's way, for both executors.
const auto kSteps =
    ::testing::Values("scheduler.claimed", "executor.recorded", "executor.staged",
                      "executor.launched", "scheduler.submitted", "scheduler.running",
                      "executor.packed", "scheduler.storing", "scheduler.stored");

std::string StepName(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Steps, KillAtStepTest, kSteps, StepName);

// `trainyard run` as an entry of the same lifecycle: killed at each step of a job's way (the
// scheduler's, the executor's and its own two), then `trainyard run --resume`. Every job ends
// Completed with a model that unpacks to what its code wrote, its code ran exactly once, and
// nothing is left: no job process, no work dir, no object in the run's store, no staging dir,
// no half-written file.
class RunFaultTest : public ::testing::Test {
 protected:
  static std::string Trainyard() { return (testing::BuildDir() / "apps" / "trainyard").string(); }
  std::vector<std::string> Run(int jobs, const std::string& seconds) {
    std::string script = "echo \"$TRAINING_JOB_NAME\" >> '" + runs_.string() + "'; sleep " +
                         seconds + "; echo weights > \"$SM_MODEL_DIR/model.bin\"; echo trained";
    std::string values;
    for (int i = 1; i <= jobs; ++i) values += (i > 1 ? "," : "") + std::to_string(i);
    return {Trainyard(),  "run",         "--name",       "once", "--param", "n=" + values,
            "--parallel", "2",           "--stop-grace", "2",    "--train", train_.string(),
            "--out",      out_.string(), "--",           "sh",   "-c",      script};
  }

  // Regular files under `directory` (relative), or what lies there at all when `any` is set.
  static std::vector<std::string> FilesUnder(const fs::path& directory, bool any = false) {
    std::vector<std::string> found;
    std::error_code error;
    for (auto it = fs::recursive_directory_iterator(directory, error);
         it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (any || it->is_regular_file())
        found.push_back(fs::relative(it->path(), directory).string());
    }
    return found;
  }

  void ExpectEveryJobCompletedOnce(int jobs) {
    std::map<std::string, int> runs = RunsByJob(runs_);
    EXPECT_EQ(runs.size(), static_cast<size_t>(jobs)) << json(runs).dump();
    for (int i = 1; i <= jobs; ++i) {
      char name_buffer[16];
      std::snprintf(name_buffer, sizeof name_buffer, "once-%03d", i);  // core::MakeJobName
      const std::string name = name_buffer;
      EXPECT_EQ(runs[name], 1) << name << "'s code ran " << runs[name] << " times";
      const fs::path job = out_ / name;
      auto status = ReadFile(job / "status.json");
      ASSERT_TRUE(status.ok()) << name << ": " << status.status().ToString();
      json parsed = json::parse(*status, nullptr, false);
      EXPECT_EQ(parsed["status"], "Completed") << parsed.dump();
      EXPECT_EQ(parsed["hyperparameters"]["n"], std::to_string(i));
      auto model = testing::RunProcess(
          {"tar", "-xzOf", (job / "model.tar.gz").string(), "model.bin"}, {}, 30s);
      EXPECT_EQ(model.exit_code, 0) << name << ": " << model.output << "\nfiles of " << name << ": "
                                    << json(FilesUnder(job)).dump() << "\nthe last run printed:\n"
                                    << last_output_;
      EXPECT_EQ(model.output, "weights\n") << name << ": model.tar.gz is not whole";
      auto output = testing::RunProcess({"tar", "-tzf", (job / "output.tar.gz").string()}, {}, 30s);
      EXPECT_EQ(output.exit_code, 0) << name << ": " << output.output;
      auto log = ReadFile(job / "training.log");
      EXPECT_NE(log.ok() ? log->find("trained") : std::string::npos, std::string::npos) << name;
    }
    auto sweep = ReadFile(out_ / "sweep.json");
    ASSERT_TRUE(sweep.ok()) << sweep.status().ToString();
    json summary = json::parse(*sweep, nullptr, false);
    EXPECT_EQ(summary["jobs"].size(), static_cast<size_t>(jobs)) << summary.dump();
    EXPECT_TRUE(WaitFor([&] { return JobProcesses(out_).empty(); }, 10s))
        << "job processes left: " << JobProcesses(out_).size();
    EXPECT_FALSE(fs::exists(out_ / ".work"));
    EXPECT_EQ(FilesUnder(out_ / ".trainyard" / "store"), std::vector<std::string>())
        << "objects left in the run's store";
    EXPECT_EQ(FilesUnder(out_ / ".trainyard" / "staging", true), std::vector<std::string>())
        << "staging left";
    for (const std::string& file : FilesUnder(out_)) {
      EXPECT_EQ(file.find(".tmp"), std::string::npos) << "half-written: " << file;
    }
  }

  testing::TempDir dir_;
  std::string last_output_;  // of the run that finished, shown when a check fails
  fs::path out_ = dir_.path() / "out";
  fs::path runs_ = dir_.path() / "runs.txt";
  fs::path train_ = testing::SourceDir() / "examples" / "data" / "digits" / "train.csv";
};

class RunKillAtStepTest : public RunFaultTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(RunKillAtStepTest, ResumeCompletesEveryJobAndItsCodeRunsOnce) {
  constexpr int kJobs = 4;
  auto killed =
      testing::RunProcess(Run(kJobs, "0.5"), {{"TRAINYARD_TEST_KILL_AT", GetParam()}}, 60s);
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.output;
  ASSERT_NE(killed.output.find(std::string("killed at ") + GetParam()), std::string::npos)
      << killed.output;
  auto resumed = testing::RunProcess({Trainyard(), "run", "--resume", out_.string()}, {}, 60s);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  last_output_ = resumed.output;
  ExpectEveryJobCompletedOnce(kJobs);
}

INSTANTIATE_TEST_SUITE_P(Steps, RunKillAtStepTest,
                         ::testing::Values("scheduler.claimed", "executor.recorded",
                                           "executor.staged", "executor.launched",
                                           "scheduler.submitted", "scheduler.running",
                                           "executor.packed", "scheduler.storing",
                                           "scheduler.stored", "run.recorded", "run.summarizing"),
                         StepName);

// Ten kill -9s at random instants during a 20-job `trainyard run`: the run, then each resume,
// is killed in turn, until a resume is left to finish.
TEST_F(RunFaultTest, TenKillsAtRandomInstantsDuringATwentyJobRun) {
  constexpr int kJobs = 20;
  unsigned seed = std::random_device()();
  std::printf("kill instants from seed %u\n", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pause_ms(50, 700);
  const std::vector<std::string> resume = {Trainyard(), "run", "--resume", out_.string()};
  for (int kill = 0; kill < 10; ++kill) {
    testing::Process run(kill == 0 ? Run(kJobs, "0.1") : resume);
    // The first kill after run.json: before it there is no run to resume.
    if (kill == 0) {
      ASSERT_TRUE(WaitFor([&] { return fs::exists(out_ / "run.json"); }, 30s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
    run.Signal(SIGKILL);
    testing::ProcessResult result = run.Wait(30s);
    ASSERT_TRUE(result.exit_code == 128 + SIGKILL || result.exit_code == 0)
        << "seed " << seed << ": " << result.output;
  }
  auto finished = testing::RunProcess(resume, {}, 120s);
  ASSERT_EQ(finished.exit_code, 0) << "seed " << seed << ": " << finished.output;
  ExpectEveryJobCompletedOnce(kJobs);
}

// The container executor, with podman: each job a container of the test image
// (examples/container/build-image.sh) without its default command, so that it runs a script
// from its "code" channel as SageMaker's script mode does (SAGEMAKER_PROGRAM). The container sees
// only its /opt/ml, so each run of the code is counted twice over: the script appends the job's
// name to model/runs, which must reach model.tar.gz holding exactly one line, and podman's own
// event log must hold exactly one start of the job's container.
constexpr char kTestImage[] = "localhost/trainyard-example-trainer:test";
constexpr char kImage[] = "localhost/trainyard-script-mode:test";

// Empty when podman can run the test image here (and kImage is made from it); otherwise why not.
std::string PodmanUnavailable() {
  std::string unavailable = testing::BuildPodmanTestImage(kTestImage);
  if (!unavailable.empty()) return unavailable;
  // An empty TRAINYARD_COMMAND: trainyard-wrap runs SAGEMAKER_PROGRAM instead.
  std::string base = "trainyard-fault-test-" + std::to_string(::getpid());
  auto made = testing::RunProcess(
      {"/bin/sh", "-c",
       "podman create --name \"$1\" \"$2\" >/dev/null && "
       "podman commit -q --change 'ENV TRAINYARD_COMMAND=' \"$1\" \"$3\" >/dev/null; "
       "status=$?; podman rm \"$1\" >/dev/null; exit $status",
       "sh", base, kTestImage, kImage},
      {}, 120s);
  if (made.exit_code != 0) return "podman commit failed: " + made.output;
  return "";
}

// Lines of `podman ARGS...` (stdout and stderr).
std::vector<std::string> PodmanLines(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"podman"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  auto result = testing::RunProcess(argv, {}, 60s);
  std::vector<std::string> lines;
  std::istringstream output(result.output);
  for (std::string line; std::getline(output, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  if (result.exit_code != 0)
    lines.push_back("podman exited with " + std::to_string(result.exit_code));
  return lines;
}

// Processes whose environment names a job root under `directory`: the wrapper (local) or the
// `podman run` that starts a container (container executor).
std::vector<std::string> ProcessesFor(const fs::path& directory) {
  std::vector<std::string> found = JobProcesses(directory);
  const std::string marker = "TRAINYARD_CONTAINER_LAUNCH=" + directory.string();
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", error)) {
    auto environment = ReadFile(entry.path() / "environ");
    if (environment.ok() && environment->find(marker) != std::string::npos) {
      found.push_back(entry.path().filename().string());
    }
  }
  return found;
}

// A sweep of `jobs` container jobs through `server`, each running the script of the "code"
// channel, and the checks once they have all ended.
class ContainerSweep {
 public:
  ContainerSweep(ServerProcess& server, const fs::path& dir, int jobs, const std::string& seconds)
      : server_(server), dir_(dir), jobs_(jobs) {
    label_ = "label=trainyard.work-dir=" +
             fs::absolute(server.data_dir() / "container-jobs").lexically_normal().string();
    started_at_ = std::to_string(std::time(nullptr) - 1);
    fs::path script = dir / "train.sh";
    std::ofstream(script) << "echo \"$TRAINING_JOB_NAME\" >> \"$SM_MODEL_DIR/runs\"\n"
                          << "sleep " << seconds << "\n"
                          << "echo weights > \"$SM_MODEL_DIR/model.bin\"\n"
                          << "echo trained\n";
    auto uploaded = server.Cli(
        {"dataset", "upload", script.string(), "--kind", "training", "--output", "json"});
    EXPECT_EQ(uploaded.exit_code, 0) << uploaded.output;
    size_t brace = uploaded.output.find('{');
    json code = json::parse(brace == std::string::npos ? "" : uploaded.output.substr(brace),
                            nullptr, false);
    json values = json::array();
    for (int i = 1; i <= jobs; ++i) values.push_back(i);
    body_ = {{"name", "boxed-once"},
             {"executor", "container"},
             {"trainer", {{"image", kImage}}},
             {"environment", {{"SAGEMAKER_PROGRAM", "/opt/ml/input/data/code/train.sh"}}},
             {"channels",
              {{"training", server.UploadExample("train.csv", "training")},
               {"code", code.is_object() ? code.value("id", "") : ""}}},
             {"grid", {{"n", values}}},
             {"max_parallel", 2},
             {"idempotency_key", "container-sweep"}};
  }

  // Containers outlive the server: those of a test that failed half-way are removed here.
  ~ContainerSweep() {
    testing::RunProcess(
        {"/bin/sh", "-c", "podman ps --all --quiet --filter \"$1\" | xargs -r podman rm -f", "sh",
         label_},
        {}, 60s);
  }

  const json& body() const { return body_; }

  // Every job Completed at attempt 0 with its model and log; its container started once and its
  // model holds the one line its code appended; no container, process or file left.
  void ExpectEveryJobCompletedOnce(const std::string& sweep_id) {
    json page = server_.Get("/api/v1/jobs?sweep=" + sweep_id + "&limit=100").Json();
    ASSERT_EQ(page["jobs"].size(), static_cast<size_t>(jobs_)) << page.dump();
    std::map<std::string, int> starts;
    for (const std::string& line :
         PodmanLines({"events", "--stream=false", "--since", started_at_, "--filter", "event=start",
                      "--filter", label_, "--format", "{{.Name}}"})) {
      starts[line] += 1;
    }
    for (const json& job : page["jobs"]) {
      std::string name = job["name"];
      EXPECT_EQ(job["status"], "Completed") << job.dump();
      EXPECT_EQ(job["attempt"], 0) << job.dump();
      EXPECT_EQ(starts["trainyard-" + name], 1)
          << name << "'s container started " << starts["trainyard-" + name] << " times";
      HttpAnswer model = server_.Get("/api/v1/jobs/" + name + "/artifacts/model");
      ASSERT_EQ(model.status, 200) << name << ": " << model.body;
      fs::path archive = dir_ / (name + ".tar.gz");
      std::ofstream(archive, std::ios::binary) << model.body;
      auto runs = testing::RunProcess({"tar", "-xzOf", archive.string(), "runs"}, {}, 30s);
      EXPECT_EQ(runs.output, name + "\n") << name << "'s code ran more than once";
      auto listed = testing::RunProcess({"tar", "-tzf", archive.string()}, {}, 30s);
      EXPECT_NE(listed.output.find("model.bin"), std::string::npos)
          << name << ": " << listed.output;
      HttpAnswer log = server_.Get("/api/v1/jobs/" + name + "/artifacts/log");
      EXPECT_NE(log.body.find("trained"), std::string::npos) << name << ": " << log.body;
    }
    EXPECT_EQ(starts.size(), static_cast<size_t>(jobs_)) << json(starts).dump();

    const fs::path& data_dir = server_.data_dir();
    std::vector<std::string> containers;
    EXPECT_TRUE(WaitFor(
        [&] {
          containers = PodmanLines({"ps", "--all", "--filter", label_, "--format", "{{.Names}}"});
          return containers.empty();
        },
        20s))
        << "containers left: " << json(containers).dump();
    EXPECT_TRUE(WaitFor([&] { return ProcessesFor(data_dir).empty(); }, 10s))
        << "job processes left: " << ProcessesFor(data_dir).size();
    EXPECT_TRUE(WaitFor([&] { return Leftovers(data_dir, "container-jobs").empty(); }, 10s))
        << "left behind: " << json(Leftovers(data_dir, "container-jobs")).dump();
  }

 private:
  ServerProcess& server_;
  fs::path dir_;
  int jobs_;
  std::string label_, started_at_;
  json body_;
};

const std::vector<std::string> kContainerFlags = {
    "--max-running", "2", "--container-runtime", "podman", "--executor-limit", "container=2"};

class ContainerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static const std::string unavailable = PodmanUnavailable();
    if (!unavailable.empty()) GTEST_SKIP() << "podman unavailable: " << unavailable;
  }
  testing::TempDir dir_;
};

class ContainerKillAtStepTest : public ContainerFaultTest,
                                public ::testing::WithParamInterface<const char*> {};

TEST_P(ContainerKillAtStepTest, EveryJobCompletesAndItsCodeRunsOnce) {
  constexpr int kJobs = 4;
  ServerProcess server(dir_.path() / "data", kContainerFlags,
                       {{"TRAINYARD_TEST_KILL_AT", GetParam()}});
  server.Start();
  ContainerSweep sweep(server, dir_.path(), kJobs, "0.5");
  HttpAnswer created = server.Post("/api/v1/sweeps", sweep.body());
  ASSERT_TRUE(created.status == 201 || created.status == 0) << created.body;

  std::string output = server.WaitForExit(90s);
  ASSERT_NE(output.find(std::string("killed at ") + GetParam()), std::string::npos) << output;
  server.set_extra_environment({});
  server.Start();
  if (created.status == 0) created = server.Post("/api/v1/sweeps", sweep.body());  // the same
  ASSERT_TRUE(created.status == 200 || created.status == 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json ended = server.WaitForSweepEnd(sweep_id, kJobs, 120s);
  EXPECT_EQ(ended["counts"].value("Completed", 0), kJobs) << ended.dump();
  sweep.ExpectEveryJobCompletedOnce(sweep_id);
}

INSTANTIATE_TEST_SUITE_P(Steps, ContainerKillAtStepTest, kSteps, StepName);

// Eight kills at random instants during a 10-job container sweep.
TEST_F(ContainerFaultTest, EightKillsAtRandomInstantsDuringATenJobSweep) {
  constexpr int kJobs = 10;
  ServerProcess server(dir_.path() / "data", kContainerFlags);
  server.Start();
  ContainerSweep sweep(server, dir_.path(), kJobs, "0.2");
  HttpAnswer created = server.Post("/api/v1/sweeps", sweep.body());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];

  unsigned seed = std::random_device()();
  std::printf("kill instants from seed %u\n", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pause_ms(100, 1500);
  for (int kill = 0; kill < 8; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
    server.Kill9();
    server.Start();
  }
  json ended = server.WaitForSweepEnd(sweep_id, kJobs, 180s);
  EXPECT_EQ(ended["counts"].value("Completed", 0), kJobs)
      << "seed " << seed << ": " << ended.dump();
  sweep.ExpectEveryJobCompletedOnce(sweep_id);
}

TEST(ServerKillSoakTest, TwentyKillsAtRandomInstantsDuringAFiftyJobSweep) {
  constexpr int kJobs = 50;
  testing::TempDir dir;
  fs::path runs = dir.path() / "runs.txt";
  ServerProcess server(dir.path() / "data", {"--max-running", "2"});
  server.Start();
  std::string dataset = server.UploadExample("train.csv", "training");
  HttpAnswer created = server.Post("/api/v1/sweeps", SweepBody(dataset, runs, kJobs, "0.1"));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];

  unsigned seed = std::random_device()();
  std::printf("kill instants from seed %u\n", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pause_ms(20, 400);
  for (int kill = 0; kill < 20; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
    server.Kill9();
    server.Start();
  }
  json sweep = server.WaitForSweepEnd(sweep_id, kJobs, 120s);
  EXPECT_EQ(sweep["counts"].value("Completed", 0), kJobs)
      << "seed " << seed << ": " << sweep.dump();
  ExpectEveryJobCompletedOnce(server, sweep_id, runs, kJobs);
}

}  // namespace
}  // namespace trainyard
